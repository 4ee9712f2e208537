// `sluice reload`: what ExecReload runs. systemd 252 (bookworm) has no Type=notify-reload, so
// `systemctl reload` returns when ExecReload exits; this command makes that mean "the daemon
// has applied the file, or rejected it". It validates the file (the errors are printed and no
// signal is sent), reads the daemon's reload count from /livez, sends SIGHUP and waits until
// the count moves on, then reports the outcome the daemon recorded.

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <signal.h>
#include <thread>

#include "daemon/api_client.hpp"
#include "daemon/client_output.hpp"
#include "daemon/commands.hpp"
#include "daemon/load_config.hpp"
#include "web/auth.hpp"

namespace sluice::daemon {
namespace {

struct reload_status {
    std::int64_t reloads = 0;
    std::string last;  // "applied", "rejected" or "" before the first reload
};

std::optional<reload_status> read_status(api_client& api, api_failure& failure) {
    auto reply = api.call("GET", "/livez", std::nullopt, failure);
    if (!reply) {
        return std::nullopt;
    }
    const nlohmann::json& body = reply->body;
    if (!body.is_object() || !body.contains("config") || !body["config"].is_object() ||
        !body["config"].value("reloads", nlohmann::json()).is_number_integer()) {
        failure = {exit_unavailable, "the server at " + api.base_url() +
                                         " did not report its reloads on /livez (is it a sluice "
                                         "daemon of this version?)"};
        return std::nullopt;
    }
    const nlohmann::json& config = body["config"];
    reload_status status;
    status.reloads = config["reloads"].get<std::int64_t>();
    if (config.value("last_reload", nlohmann::json()).is_string()) {
        status.last = config["last_reload"].get<std::string>();
    }
    return status;
}

}  // namespace

int run_reload(const client_options& client, const reload_options& options) {
    const auto loaded = load_config_or_report(client.config_file, client.environment);
    if (!loaded) {
        std::cerr << "sluice: reload not sent: " << client.config_file
                  << " has errors; the daemon keeps its running config\n";
        return exit_invalid;
    }
    if (auto policy = web::check_listen_policy(loaded->server); !policy) {
        std::cerr << client.config_file << ": error: " << policy.error().message
                  << "\nsluice: reload not sent; the daemon keeps its running config\n";
        return exit_invalid;
    }
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    const auto before = read_status(*api, failure);
    if (!before) {
        failure.message += "; reload not sent (a changed server.listen needs a restart)";
        return report_failure(failure);
    }
    if (::kill(options.pid, SIGHUP) != 0) {
        const int e = errno;
        std::cerr << "sluice: cannot signal process " << options.pid << ": " << std::strerror(e)
                  << "\n";
        return exit_unavailable;
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(options.timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        api_failure transient;
        const auto now = read_status(*api, transient);
        if (!now || now->reloads <= before->reloads) {
            continue;  // still loading (or briefly unreachable): keep asking until the deadline
        }
        if (now->last == "applied") {
            std::cout << "reload applied\n";
            return exit_ok;
        }
        std::cerr << "sluice: reload rejected: the daemon keeps its running config; its log "
                     "names every error (journalctl -u sluice)\n";
        return exit_invalid;
    }
    std::cerr << "sluice: SIGHUP sent to " << options.pid << " but no reload finished within "
              << options.timeout_s << "s\n";
    return exit_unavailable;
}

}  // namespace sluice::daemon
