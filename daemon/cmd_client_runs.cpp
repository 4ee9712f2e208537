// `sluice trigger`, `sluice runs list|show|cancel|retry` and `sluice logs` over the HTTP API.
#include <chrono>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon/api_client.hpp"
#include "daemon/client_output.hpp"
#include "daemon/commands.hpp"

namespace sluice::daemon {
namespace {}  // namespace

int run_trigger(const client_options& client, const trigger_options& options) {
    auto params = params_object(options.params);
    if (!params) {
        return exit_usage;
    }
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    std::vector<std::pair<std::string, std::string>> headers;
    if (!options.idempotency_key.empty()) {
        headers.emplace_back("Idempotency-Key", options.idempotency_key);
    }
    auto created = api->call("POST", "/api/v1/jobs/" + encode_segment(options.job) + "/runs",
                             nlohmann::json{{"params", *params}}, failure, headers);
    if (!created) {
        return report_failure(failure);
    }
    const auto run_id = created->body.value("run_id", std::int64_t{0});
    if (!options.wait) {
        if (client.json) {
            std::cout << created->body.dump(2) << "\n";
        } else {
            std::cout << "run " << run_id << " of job " << options.job
                      << (created->body.value("created", true) ? " created"
                                                               : " exists (same idempotency key)")
                      << "\n";
        }
        return exit_ok;
    }
    if (!client.json) {
        std::cerr << "run " << run_id << " of job " << options.job << " triggered; waiting\n";
    }
    return wait_until_finished(*api, "/api/v1/runs/" + std::to_string(run_id), client.json,
                               std::chrono::milliseconds(options.poll_ms), print_remote_run);
}

int run_remote_runs_list(const client_options& client, const remote_runs_options& options) {
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    std::string target = "/api/v1/runs?limit=" + std::to_string(options.limit);
    if (!options.job.empty()) {
        target += "&job=" + encode_segment(options.job);
    }
    if (!options.state.empty()) {
        target += "&state=" + encode_segment(options.state);
    }
    auto page = api->call("GET", target, std::nullopt, failure);
    if (!page) {
        return report_failure(failure);
    }
    if (client.json) {
        std::cout << page->body.dump(2) << "\n";
        return exit_ok;
    }
    print_table(page->body.value("runs", nlohmann::json::array()),
                {"id", "job", "state", "trigger", "created_at", "finished_at"}, std::cout);
    return exit_ok;
}

int run_remote_runs_show(const client_options& client, const remote_runs_options& options) {
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    auto run =
        api->call("GET", "/api/v1/runs/" + std::to_string(options.run_id), std::nullopt, failure);
    if (!run) {
        return report_failure(failure);
    }
    if (client.json) {
        std::cout << run->body.dump(2) << "\n";
    } else {
        print_remote_run(run->body, std::cout);
    }
    return exit_ok;
}

int run_remote_runs_action(const client_options& client, const remote_runs_options& options,
                           const std::string& action) {
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    auto done = api->call("POST", "/api/v1/runs/" + std::to_string(options.run_id) + "/" + action,
                          nlohmann::json::object(), failure);
    if (!done) {
        return report_failure(failure);
    }
    if (client.json) {
        std::cout << done->body.dump(2) << "\n";
    } else {
        std::cout << "run " << options.run_id << ": " << action << " requested";
        if (done->body.contains("tasks") && done->body["tasks"].is_array()) {
            std::cout << " (tasks:";
            for (const auto& t : done->body["tasks"]) {
                std::cout << " " << cell(t);
            }
            std::cout << ")";
        }
        std::cout << "\n";
    }
    return exit_ok;
}

int run_logs(const client_options& client, const logs_options& options) {
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    const std::string target = "/api/v1/runs/" + std::to_string(options.run_id) + "/tasks/" +
                               encode_segment(options.task) + "/logs";
    if (!options.follow) {
        auto text = api->call("GET", target, std::nullopt, failure);
        if (!text) {
            return report_failure(failure);
        }
        std::cout << text->text << std::flush;
        return exit_ok;
    }
    bool ended = false;
    const bool streamed = api->stream_events(
        target + "?follow=1",
        [&](const std::string& event, const std::string& data) {
            const auto j = nlohmann::json::parse(data, nullptr, false);
            if (event == "line") {
                if (client.json) {
                    std::cout << data << "\n" << std::flush;
                } else if (j.is_object()) {
                    std::cout << j.value("text", std::string()) << "\n" << std::flush;
                }
            } else if (event == "end") {
                ended = true;
                if (!client.json && j.is_object()) {
                    std::cerr << "task " << options.task
                              << " ended: " << cell(j.value("state", nlohmann::json(nullptr)))
                              << "\n";
                }
                return false;
            } else if (event == "error") {
                std::cerr << "sluice: the server reported: "
                          << (j.is_object() ? j.value("message", data) : data) << "\n";
            }
            return true;
        },
        failure);
    if (!streamed) {
        return report_failure(failure);
    }
    if (!ended) {
        std::cerr << "sluice: the log stream closed before the task ended (server stopping?)\n";
        return exit_unavailable;
    }
    return exit_ok;
}

}  // namespace sluice::daemon
