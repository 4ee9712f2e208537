#pragma once

#include <chrono>
#include <cstddef>

#include "scheduler/task_runner.hpp"

namespace sluice::etl {

struct http_task_options {
    // Bound on reaching the server (resolve, TCP connect, TLS handshake).
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
    // Bound on each socket read or write; the task's `timeout` bounds the whole request.
    std::chrono::milliseconds io_timeout{std::chrono::minutes(5)};
    // The response body is read up to this many bytes and copied to the task log; the rest is
    // not read (the connection is closed), so a huge response costs neither memory nor time.
    std::size_t max_logged_body = 64 * 1024;
    // How often the stop signal and the deadline are checked while the request runs.
    std::chrono::milliseconds poll_interval{20};
};

// `type: http`: sends one request (`method`, `url`, `headers`, `body`; a mapping or sequence
// body is sent as JSON with Content-Type application/json unless a header says otherwise) and
// succeeds when the status is in `expected_status` (default: any 2xx). Otherwise: 5xx, 429
// (Too Many Requests), 408 (Request Timeout) and failures to reach the server or read its
// answer are transient (retried per the task's retry policy); every other status is permanent.
// https verifies the server's certificate against the system CA store and its host name.
//
// The response body (up to max_logged_body) goes to the task log line by line. The url is
// logged with its password redacted, and not at all (only host and port) when it is secret
// (url_is_secret: interpolated, or it holds a password); secret headers and a secret request
// body are never logged. `${env:...}` and `${file:...}` are expanded when the config loads;
// `{{ ... }}` placeholders (upstream outputs, params, variables, the run's values) when the
// attempt runs, encoded for where they stand (etl/task_values.hpp, render_placeholders). On stop
// or deadline the connection is closed, which abandons the request.
class http_task final : public scheduler::task_runner {
public:
    explicit http_task(http_task_options options = {}) : options_(options) {}

    scheduler::task_outcome run(const scheduler::task_context& context) override;

private:
    http_task_options options_;
};

}  // namespace sluice::etl
