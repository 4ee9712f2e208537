#include <csignal>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "core/logging.hpp"
#include "daemon/commands.hpp"
#include "daemon/load_config.hpp"
#include "daemon/service.hpp"

namespace sluice::daemon {

int run_serve(const serve_options& options) {
    const auto log = core::component_logger("daemon");
    const auto cfg = load_config_or_report(options.config_file, options.environment);
    if (!cfg) {
        return exit_invalid;
    }
    auto svc = service::open(*cfg, service_options{.run_schedules = true, .instance_id = {}});
    if (!svc) {
        log->critical("cannot open the store: {}", svc.error().message);
        return exit_invalid;
    }
    auto& loop = (*svc)->loop();
    auto& engine = (*svc)->engine();

    bool start_failed = false;
    bool draining = false;
    boost::asio::signal_set signals(loop, SIGINT, SIGTERM);
    // The first signal drains (running attempts get shutdown_grace); a second one is logged and
    // ignored so an impatient Ctrl-C cannot leave half-written state: the drain is bounded.
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int signo) {
            if (ec) {
                return;
            }
            if (!draining) {
                draining = true;
                log->info("received {}, stopping intake and draining running tasks",
                          signo == SIGTERM ? "SIGTERM" : "SIGINT");
                engine.async_shutdown([&] {
                    log->info("shutdown complete");
                    loop.stop();
                });
            } else {
                log->warn("shutdown already in progress (bounded by shutdown_grace)");
            }
            signals.async_wait(on_signal);
        };
    signals.async_wait(on_signal);

    engine.async_start([&](core::result<void> started) {
        if (!started) {
            log->critical("cannot start the scheduler: {}", started.error().message);
            start_failed = true;
            loop.stop();
            return;
        }
        log->info("sluice serving {} job(s) from {} (store {})", cfg->jobs.size(),
                  options.config_file,
                  cfg->store.kind == config::store_kind::sqlite ? cfg->store.sqlite_path.string()
                                                                : std::string("postgresql"));
    });
    loop.run();
    return start_failed ? exit_invalid : exit_ok;
}

}  // namespace sluice::daemon
