#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace spdlog {
class logger;
}

namespace sluice::core {

enum class log_format { text, json };

// Where log lines go: the daemon logs to stdout (journald and container runtimes collect it);
// one-shot commands keep stdout for their results and log to stderr.
enum class log_stream { stderr_stream, stdout_stream };

struct log_options {
    log_format format = log_format::text;
    std::string level = "info";  // trace | debug | info | warn | error | critical | off
    log_stream stream = log_stream::stderr_stream;
};

// Parses "text" | "json".
result<log_format> parse_log_format(std::string_view text);

// Installs the process-wide sink (stderr or stdout, flushed per line) and level; call from main
// before logging. Calling it again (serve switches to stdout) re-points every logger. Fails on
// an unknown level name.
result<void> setup_logging(const log_options& options);

// The named logger of one component ("scheduler", "config", ...), created on first use with the
// sinks set up above. Messages carry job=, run=, task= fields in their text.
std::shared_ptr<spdlog::logger> component_logger(const std::string& component);

}  // namespace sluice::core
