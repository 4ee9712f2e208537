#include "etl/http_task.hpp"

#include <algorithm>
#include <cctype>

#include "connectors/http_client.hpp"
#include "core/redact.hpp"
#include "etl/attempt_stop.hpp"
#include "etl/output_lines.hpp"
#include "etl/task_values.hpp"

namespace sluice::etl {

namespace {

using steady = std::chrono::steady_clock;

// How much of an unexpected response's body goes into the failure message (all of it, up to
// max_logged_body, is in the log).
constexpr std::size_t max_body_in_message = 512;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

bool has_header(const std::vector<std::pair<std::string, std::string>>& headers,
                std::string_view name) {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& h) { return iequals(h.first, name); });
}

// What the log and messages call the request: never the secret parts.
std::string describe(const config::http_spec& spec, const std::string& url,
                     const connectors::http_location& where) {
    if (spec.url_is_secret) {
        return spec.method + " " + (where.endpoint.tls ? "https://" : "http://") +
               where.endpoint.host + ":" + std::to_string(where.endpoint.port) +
               "/... (url is secret)";
    }
    return spec.method + " " + core::redact_url(url);
}

// True for statuses worth retrying: the server is overloaded, down or asked to come back.
bool transient_status(int status) {
    return status >= 500 || status == 429 || status == 408;
}

bool expected(const config::http_spec& spec, int status) {
    if (spec.expected_status.empty()) {
        return status >= 200 && status < 300;
    }
    return std::find(spec.expected_status.begin(), spec.expected_status.end(), status) !=
           spec.expected_status.end();
}

std::string expected_text(const config::http_spec& spec) {
    if (spec.expected_status.empty()) {
        return "2xx";
    }
    std::string out;
    for (int s : spec.expected_status) {
        out += (out.empty() ? "" : ", ") + std::to_string(s);
    }
    return out;
}

}  // namespace

scheduler::task_outcome http_task::run(const scheduler::task_context& context) {
    using scheduler::task_outcome;
    const auto* spec = std::get_if<config::http_spec>(&context.task.kind);
    if (spec == nullptr) {
        return task_outcome::failure(core::error_class::permanent,
                                     "task '" + context.task.name + "' is not an http task");
    }
    if (auto stopped = stopped_outcome(context)) {
        return *stopped;
    }
    // Placeholders take the run's values and upstream outputs, encoded for where they land.
    auto url = render_placeholders(spec->url, context, placeholder_encoding::url);
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<std::string> body_sent;
    core::result<void> rendered;
    for (const auto& [name, value] : spec->headers) {
        auto one = render_placeholders(value, context, placeholder_encoding::header);
        if (!one) {
            rendered = core::error::permanent("header '" + name + "': " + one.error().message);
            break;
        }
        headers.emplace_back(name, std::move(*one));
    }
    if (spec->body && rendered) {
        auto one = render_placeholders(*spec->body, context, placeholder_encoding::json);
        if (one) {
            body_sent = std::move(*one);
        } else {
            rendered = core::error::permanent("body: " + one.error().message);
        }
    }
    if (url && !rendered) {
        url = rendered.error();
    }
    if (!url) {
        return task_outcome::failure(url.error().cls, url.error().message);
    }
    auto where = connectors::locate_http_url(*url);
    if (!where) {
        return task_outcome::failure(
            core::error_class::permanent,
            spec->url_is_secret ? "invalid url (not shown: it is secret)" : where.error().message);
    }
    const std::string request_name = describe(*spec, *url, *where);

    if (where->authorization && !has_header(headers, "Authorization")) {
        headers.emplace_back("Authorization", *where->authorization);
    }
    if (body_sent && !has_header(headers, "Content-Type")) {
        headers.emplace_back("Content-Type", "application/json");
    }
    std::string shown_headers;
    for (std::size_t i = 0; i < spec->headers.size(); ++i) {  // the task's own, not ours
        const auto& [name, value] = headers[i];
        const bool secret = spec->secret_headers.count(name) != 0;
        shown_headers += (shown_headers.empty() ? "" : ", ") + name + ": " +
                         (secret ? std::string("***") : value);
    }
    log_system(context,
               request_name + (shown_headers.empty() ? "" : " [" + shown_headers + "]") +
                   (body_sent ? " with a " + std::to_string(body_sent->size()) + "-byte body" +
                                    (spec->body_is_secret ? " (secret)" : "")
                              : ""));

    connectors::http_client client(where->endpoint, options_.connect_timeout, options_.io_timeout);
    // Closing the client's connection when the attempt must stop makes a blocked read return.
    stop_watch watch(
        context, [&client] { client.abort(); }, options_.poll_interval);
    const auto started = steady::now();
    auto head = client.send(spec->method, where->target, headers, body_sent.value_or(""));
    std::string body;
    bool truncated = false;
    core::result<void> read = core::result<void>();
    if (head && spec->method != "HEAD") {
        char chunk[16384];
        while (body.size() < options_.max_logged_body) {
            const std::size_t want = std::min(sizeof chunk, options_.max_logged_body - body.size());
            auto n = client.read_body_some(chunk, want);
            if (!n) {
                read = n.error();
                break;
            }
            if (*n == 0) {
                break;
            }
            body.append(chunk, *n);
        }
        if (read && body.size() >= options_.max_logged_body) {
            // One more byte tells whether the body went on past the limit.
            char probe = 0;
            auto n = client.read_body_some(&probe, 1);
            truncated = !n || *n > 0;
        }
    }
    watch.finish();
    client.abort();  // the rest of a long body is not read
    if (const auto cause = watch.cause()) {
        return stop_outcome(*cause, request_name + " abandoned");
    }
    if (!head) {
        return task_outcome::failure(head.error().cls,
                                     request_name + " failed: " + head.error().message);
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started).count();
    const int status = head->status;
    log_system(context, request_name + " answered " + std::to_string(status) + " in " +
                            std::to_string(ms) + " ms");
    line_splitter lines([&context](std::string line) {
        if (context.on_log) {
            context.on_log(scheduler::output_line{
                context.clock.now(), scheduler::output_line::stream::out, std::move(line)});
        }
    });
    lines.feed(body);
    lines.finish();
    if (truncated) {
        log_system(context, "response body cut after " + std::to_string(body.size()) + " bytes");
    }
    if (!expected(*spec, status)) {
        std::string excerpt = body.substr(0, max_body_in_message);
        std::replace_if(
            excerpt.begin(), excerpt.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
        return task_outcome::failure(
            transient_status(status) ? core::error_class::transient : core::error_class::permanent,
            request_name + " answered " + std::to_string(status) + " (expected " +
                expected_text(*spec) + ")" + (excerpt.empty() ? "" : ": " + excerpt));
    }
    if (!read) {
        // The status was fine but the body broke off: the server may not have finished.
        return task_outcome::failure(
            read.error().cls,
            request_name + ": reading the response failed: " + read.error().message);
    }
    return task_outcome::ok();
}

}  // namespace sluice::etl
