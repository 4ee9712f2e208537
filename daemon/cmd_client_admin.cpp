// `sluice jobs list|pause|unpause` and `sluice vars get|set|rm` over the HTTP API.
#include <iostream>

#include <nlohmann/json.hpp>

#include "daemon/api_client.hpp"
#include "daemon/client_output.hpp"
#include "daemon/commands.hpp"

namespace sluice::daemon {

int run_jobs_list(const client_options& client) {
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    auto jobs = api->call("GET", "/api/v1/jobs", std::nullopt, failure);
    if (!jobs) {
        return report_failure(failure);
    }
    if (client.json) {
        std::cout << jobs->body.dump(2) << "\n";
        return exit_ok;
    }
    print_table(
        jobs->body.value("jobs", nlohmann::json::array()),
        {"name", "schedule", "timezone", "paused", "next_fire", "active_runs", "waiting_runs"},
        std::cout);
    return exit_ok;
}

int run_jobs_pause(const client_options& client, const name_options& options, bool pause) {
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    auto done = api->call(
        "POST", "/api/v1/jobs/" + encode_segment(options.name) + (pause ? "/pause" : "/unpause"),
        nlohmann::json::object(), failure);
    if (!done) {
        return report_failure(failure);
    }
    if (client.json) {
        std::cout << done->body.dump(2) << "\n";
    } else {
        std::cout << "job " << options.name << (pause ? " paused" : " unpaused") << "\n";
    }
    return exit_ok;
}

int run_vars_get(const client_options& client, const name_options& options) {
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    auto got = api->call("GET", "/api/v1/variables/" + encode_segment(options.name), std::nullopt,
                         failure);
    if (!got) {
        return report_failure(failure);
    }
    if (client.json) {
        std::cout << got->body.dump(2) << "\n";
    } else if (got->body.value("secret", false)) {
        std::cerr << "sluice: variable " << options.name
                  << " is secret: its value cannot be read back\n";
    } else {
        std::cout << cell(got->body.value("value", nlohmann::json(nullptr))) << "\n";
    }
    return exit_ok;
}

int run_vars_set(const client_options& client, const name_options& options) {
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    std::string value = options.value;
    if (value == "-") {
        // From stdin, so a secret never shows in the process list or shell history.
        value.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
            value.pop_back();
        }
    }
    auto set = api->call("PUT", "/api/v1/variables/" + encode_segment(options.name),
                         nlohmann::json{{"value", value}, {"secret", options.secret}}, failure);
    if (!set) {
        return report_failure(failure);
    }
    if (client.json) {
        std::cout << set->body.dump(2) << "\n";
    } else {
        std::cout << "variable " << options.name << " set" << (options.secret ? " (secret)" : "")
                  << "\n";
    }
    return exit_ok;
}

int run_vars_rm(const client_options& client, const name_options& options) {
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    auto removed = api->call("DELETE", "/api/v1/variables/" + encode_segment(options.name),
                             std::nullopt, failure);
    if (!removed) {
        return report_failure(failure);
    }
    std::cout << "variable " << options.name << " removed\n";
    return exit_ok;
}

}  // namespace sluice::daemon
