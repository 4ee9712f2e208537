#include "etl/shell_task.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <map>
#include <poll.h>
#include <signal.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "config/task_outputs.hpp"
#include "etl/attempt_stop.hpp"
#include "etl/child_process.hpp"
#include "etl/inherited_environment.hpp"
#include "etl/output_lines.hpp"
#include "etl/task_values.hpp"

namespace sluice::etl {

namespace {

using steady = std::chrono::steady_clock;

// The base variables and the job's `inherit_env` from the daemon's environment, then the task's
// `env`, then the SLUICE_* values; later wins (docs/task-kinds.md#environment).
std::vector<std::string> child_environment(const scheduler::task_context& context,
                                           const config::shell_spec& spec) {
    auto vars = inherited_environment(context.job.inherit_env);
    for (const auto& [key, value] : spec.env) {
        vars[key] = value;
    }
    for (auto& [key, value] : task_environment(context)) {
        vars[key] = std::move(value);
    }
    return environment_entries(vars);
}

std::string describe(const config::shell_spec& spec) {
    if (spec.command) {
        return "command";
    }
    return "program '" + (spec.argv.empty() ? std::string() : spec.argv.front()) + "'";
}

scheduler::task_outcome exit_outcome(const config::shell_spec& spec, int status) {
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        return scheduler::task_outcome::failure(
            core::error_class::transient, describe(spec) + " was killed by " + signal_name(sig) +
                                              " (" + std::to_string(sig) + ")");
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
    if (code == 0) {
        auto ok = scheduler::task_outcome::ok();
        ok.exit_code = 0;
        return ok;
    }
    const auto& retry = spec.retry_on_exit_codes;
    const bool transient =
        retry.empty() || std::find(retry.begin(), retry.end(), code) != retry.end();
    auto out = scheduler::task_outcome::failure(
        transient ? core::error_class::transient : core::error_class::permanent,
        describe(spec) + " exited with code " + std::to_string(code) +
            (transient ? "" : " (not in retry_on_exit_codes: not retried)"));
    out.exit_code = code;
    return out;
}

// The values a shell task publishes with `::sluice output NAME=VALUE` lines on either stream,
// bounded as config/task_outputs.hpp says; the first problem fails the task when it exits.
class published_outputs {
public:
    void add(std::string_view line) {
        auto parsed = parse_output_line(line);
        if (!parsed || error_) {
            return;
        }
        if (parsed->error) {
            error_ = std::move(parsed->error);
            return;
        }
        // Not a structured binding: clang 14 (make fuzz) refuses one captured by a lambda.
        std::string& name = parsed->value->name;
        std::string& value = parsed->value->value;
        const auto same = std::find_if(values_.begin(), values_.end(),
                                       [&](const auto& kv) { return kv.first == name; });
        if (same != values_.end()) {
            same->second = std::move(value);  // the last value of a name wins
        } else if (values_.size() == config::max_outputs_per_task) {
            error_ = "the task published more than " +
                     std::to_string(config::max_outputs_per_task) + " outputs";
        } else {
            values_.emplace_back(std::move(name), std::move(value));
        }
    }
    const std::optional<std::string>& error() const { return error_; }
    std::vector<std::pair<std::string, std::string>> take() { return std::move(values_); }

private:
    std::vector<std::pair<std::string, std::string>> values_;
    std::optional<std::string> error_;
};

// Reads one stream of the child into lines; metric lines also become metrics, output lines
// published values (both are logged as written).
class output_reader {
public:
    output_reader(const scheduler::task_context& context, scheduler::output_line::stream source,
                  published_outputs& outputs)
        : context_(context),
          outputs_(outputs),
          splitter_([this, source](std::string line) { deliver(source, std::move(line)); },
                    max_line_bytes, output_prefix, max_output_line_bytes) {}

    // Reads what is available; false at end of stream (or on a read error).
    bool read_available(int fd) {
        std::array<char, 16 * 1024> buf{};
        for (;;) {
            const ssize_t n = ::read(fd, buf.data(), buf.size());
            if (n > 0) {
                splitter_.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                return true;
            }
            splitter_.finish();
            return false;
        }
    }

private:
    void deliver(scheduler::output_line::stream source, std::string line) {
        if (is_metric_line(line)) {
            if (auto metric = parse_metric_line(line)) {
                if (context_.on_metric) {
                    context_.on_metric(metric->name, metric->value);
                }
            } else {
                log_system(context_,
                           "ignored a malformed metric line: expected '::sluice metric "
                           "NAME=VALUE' with a decimal number");
            }
        }
        outputs_.add(line);
        if (context_.on_log) {
            context_.on_log(scheduler::output_line{context_.clock.now(), source, std::move(line)});
        }
    }

    const scheduler::task_context& context_;
    published_outputs& outputs_;
    line_splitter splitter_;
};

}  // namespace

scheduler::task_outcome shell_task::run(const scheduler::task_context& context) {
    const auto* spec = std::get_if<config::shell_spec>(&context.task.kind);
    if (spec == nullptr) {
        return scheduler::task_outcome::failure(
            core::error_class::permanent, "task '" + context.task.name + "' is not a shell task");
    }
    if (auto stopped = stopped_outcome(context)) {
        return *stopped;
    }
    for (const auto& key : spec->secrets) {
        if (!context.variables.contains(key)) {
            return scheduler::task_outcome::failure(
                core::error_class::permanent,
                "the variable '" + key +
                    "' named in 'secrets' does not exist in the store (set it with sluice vars "
                    "set, or PUT /api/v1/variables/" +
                    key + ")");
        }
    }
    child_spec what;
    if (spec->command) {
        what.argv = {"/bin/sh", "-c", *spec->command};
    } else {
        what.argv = spec->argv;
    }
    what.environment = child_environment(context, *spec);
    what.cwd = spec->cwd;
    auto spawned = child_process::spawn(what);
    if (!spawned) {
        return scheduler::task_outcome::failure(spawned.error().cls, spawned.error().message);
    }
    child_process& child = **spawned;
    const core::duration grace = options_.kill_grace.value_or(spec->kill_grace);

    published_outputs outputs;
    output_reader out(context, scheduler::output_line::stream::out, outputs);
    output_reader err(context, scheduler::output_line::stream::err, outputs);
    std::optional<stop_cause> stopped;
    std::optional<steady::time_point> term_sent;
    bool killed = false;
    std::optional<steady::time_point> drain_until;
    std::optional<int> status;

    for (;;) {
        if (!stopped && !status) {
            stopped = pending_stop(context);
            if (stopped) {
                child.signal_group(SIGTERM);
                term_sent = steady::now();
                log_system(context, "stopping: sent SIGTERM to process group " +
                                        std::to_string(child.pid()) + "; SIGKILL follows in " +
                                        core::format_duration(grace));
            }
        }
        if (term_sent && !killed && !status && steady::now() - *term_sent >= grace) {
            child.signal_group(SIGKILL);
            killed = true;
            log_system(context, "the process group outlived the grace period: sent SIGKILL");
        }
        if (!status) {
            status = child.try_reap();
            if (status) {
                // Whatever the main process left behind in its group must not outlive it.
                child.signal_group(SIGKILL);
                drain_until = steady::now() + options_.drain_bound;
            }
        }
        const bool open = child.stdout_fd() >= 0 || child.stderr_fd() >= 0;
        if (status && (!open || steady::now() >= *drain_until)) {
            break;
        }
        // The exit descriptor wakes the loop when the child exits; without it (old kernels), and
        // with both pipes closed, the exit is checked often.
        const int exit_fd = status ? -1 : child.exit_fd();
        std::array<pollfd, 3> fds{pollfd{child.stdout_fd(), POLLIN, 0},
                                  pollfd{child.stderr_fd(), POLLIN, 0}, pollfd{exit_fd, POLLIN, 0}};
        const int timeout =
            open || exit_fd >= 0 ? static_cast<int>(options_.poll_interval.count()) : 5;
        const int ready = ::poll(fds.data(), fds.size(), timeout);
        if (ready < 0 && errno != EINTR) {
            break;  // cannot happen with valid descriptors; the destructor still kills the group
        }
        if (ready > 0) {
            if (fds[0].revents != 0 && !out.read_available(child.stdout_fd())) {
                child.close_stdout();
            }
            if (fds[1].revents != 0 && !err.read_available(child.stderr_fd())) {
                child.close_stderr();
            }
        }
    }
    if (!status || child.status_lost()) {
        return scheduler::task_outcome::failure(
            core::error_class::transient,
            "lost the exit status of the child process (is SIGCHLD ignored in the daemon?)");
    }
    if (stopped) {
        std::string detail =
            killed ? "killed with SIGKILL after a grace period of " + core::format_duration(grace)
                   : "stopped with SIGTERM";
        auto outcome = stop_outcome(*stopped, detail);
        if (WIFEXITED(*status)) {
            outcome.exit_code = WEXITSTATUS(*status);
        }
        return outcome;
    }
    auto outcome = exit_outcome(*spec, *status);
    if (outcome.result == scheduler::task_outcome::status::success) {
        if (outputs.error()) {
            // Downstream tasks must not run on values the task meant to publish but did not.
            auto failed = scheduler::task_outcome::failure(
                core::error_class::permanent,
                describe(*spec) + " exited 0, but " + *outputs.error() + "; not retried");
            failed.exit_code = 0;
            return failed;
        }
        outcome.outputs = outputs.take();
    }
    return outcome;
}

}  // namespace sluice::etl
