#include <csignal>
#include <iostream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "core/logging.hpp"
#include "core/time.hpp"
#include "daemon/commands.hpp"
#include "daemon/load_config.hpp"
#include "daemon/run_report.hpp"
#include "daemon/service.hpp"

namespace sluice::daemon {

int run_once(const run_options& options) {
    const auto log = core::component_logger("daemon");
    const auto cfg = load_config_or_report(options.config_file, options.environment);
    if (!cfg) {
        return exit_invalid;
    }
    if (cfg->find_job(options.job) == nullptr) {
        std::cerr << "sluice: " << cfg->unknown_job_message(options.job) << " in "
                  << options.config_file << "\n";
        return exit_usage;
    }
    std::map<std::string, std::string> params;
    for (const auto& kv : options.params) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
            std::cerr << "sluice: --param takes NAME=VALUE, got '" << kv << "'\n";
            return exit_usage;
        }
        params[kv.substr(0, eq)] = kv.substr(eq + 1);
    }

    // The same engine and store as `serve`, without the schedule timers: only this run executes.
    auto svc = service::open(
        *cfg, service_options{
                  .run_schedules = false, .role = "sluice run " + options.job, .instance_id = {}});
    if (!svc) {
        log->critical("cannot open the store: {}", svc.error().message);
        return exit_invalid;
    }
    auto& loop = (*svc)->loop();
    auto& engine = (*svc)->engine();
    auto work = boost::asio::make_work_guard(loop);
    std::thread loop_thread([&] { loop.run(); });
    const auto stop_loop = [&] {
        work.reset();
        loop.stop();
        loop_thread.join();
    };

    if (auto started = engine.start(); !started) {
        log->critical("cannot start the scheduler: {}", started.error().message);
        stop_loop();
        return exit_invalid;
    }
    scheduler::trigger_request request;
    request.job = options.job;
    request.params = params;
    request.actor = "cli";
    auto triggered = engine.trigger(std::move(request));
    if (!triggered) {
        std::cerr << "sluice: " << triggered.error().message << "\n";
        engine.shutdown();
        stop_loop();
        return triggered.error().code == scheduler::trigger_errc::bad_params ? exit_usage
                                                                             : exit_invalid;
    }
    const core::run_id run = triggered->run;
    log->info("job={} run={} started", options.job, run.value);

    // Ctrl-C / SIGTERM cancels the run; the wait below then returns its canceled state.
    boost::asio::signal_set signals(loop, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec) {
            log->warn("job={} run={} canceling on signal", options.job, run.value);
            engine.async_cancel(run, "cli", [](core::result<bool>) {});
        }
    });

    const auto finished = engine.wait_run(run);
    boost::asio::post(loop, [&] { signals.cancel(); });
    int code = exit_invalid;
    if (finished) {
        print_run_report((*svc)->store(), *finished, std::cout, options.show_logs);
        code = finished->state == scheduler::run_state::success ? exit_ok : exit_invalid;
    } else {
        log->error("job={} run={} could not be followed: {}", options.job, run.value,
                   finished.error().message);
    }
    engine.shutdown();
    stop_loop();
    return code;
}

}  // namespace sluice::daemon
