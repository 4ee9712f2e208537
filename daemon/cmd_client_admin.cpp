// `sluice jobs list|pause|unpause`, `sluice nodes` and `sluice vars get|set|rm` over the HTTP API.
#include <cstdio>
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

namespace {

// "850ms", "3.4s", "12m": how stale a heartbeat is, at a glance.
std::string age_text(std::int64_t ms) {
    char buf[32];
    if (ms < 1000) {
        std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
    } else if (ms < 60'000) {
        std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
    } else if (ms < 3'600'000) {
        std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(ms / 60'000));
    } else {
        std::snprintf(buf, sizeof buf, "%lldh", static_cast<long long>(ms / 3'600'000));
    }
    return buf;
}

}  // namespace

int run_nodes_list(const client_options& client) {
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    auto nodes = api->call("GET", "/api/v1/nodes", std::nullopt, failure);
    if (!nodes) {
        return report_failure(failure);
    }
    if (client.json) {
        std::cout << nodes->body.dump(2) << "\n";
        return exit_ok;
    }
    // The node that answered is marked, and the scheduler named in its role; the hash is cut
    // to what tells files apart by eye.
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& n : nodes->body.value("nodes", nlohmann::json::array())) {
        rows.push_back(
            {{"name", n.value("name", "") + (n.value("self", false) ? " *" : "")},
             {"state", n.value("state", "")},
             {"role", n.value("scheduler", false) ? "scheduler" : "-"},
             {"running", n.value("running_attempts", 0)},
             {"heartbeat", age_text(n.value("heartbeat_age_ms", std::int64_t{0})) + " ago"},
             {"version", n.value("version", "")},
             {"config", n.value("config_hash", "").substr(0, 12)},
             {"started_at", n.value("started_at", nlohmann::json(nullptr))}});
    }
    print_table(
        rows, {"name", "state", "role", "running", "heartbeat", "version", "config", "started_at"},
        std::cout);
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
