#pragma once

// Blocking delivery of one notification over one channel: the notifier runs these on its own
// pool, never on the control loop. Errors are transient when a later try may succeed (network
// failures, 408, 429, 5xx, sendmail's EX_TEMPFAIL) and permanent otherwise. Messages name the
// webhook only by config::redact_webhook_url: its path is a secret.

#include <filesystem>
#include <string>

#include "core/duration.hpp"
#include "core/error.hpp"

namespace sluice::daemon::notify {

// The most of a webhook's answer quoted in an error (Slack explains refusals in the body).
inline constexpr std::size_t max_quoted_answer = 200;
// Output of sendmail kept for an error message.
inline constexpr std::size_t max_sendmail_output = 4096;

// POSTs `json_body` to `url` (http or https) with Content-Type application/json; any 2xx is
// delivered. `timeout` bounds the connect and each socket operation.
core::result<void> post_webhook(const std::string& url, const std::string& json_body,
                                core::duration timeout);

// Runs `program -t -i` (the sendmail interface: recipients from the To: header, a lone "." is
// not the end) with `message` on its standard input; exit status 0 is delivered. A run longer
// than `timeout` is killed.
core::result<void> run_sendmail(const std::filesystem::path& program, const std::string& message,
                                core::duration timeout);

}  // namespace sluice::daemon::notify
