// `sluice backfill JOB --from --to ...` and `sluice backfills list|show|pause|resume|cancel`
// over the HTTP API.
#include <chrono>
#include <iostream>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/range_bound.hpp"
#include "daemon/api_client.hpp"
#include "daemon/client_output.hpp"
#include "daemon/commands.hpp"

namespace sluice::daemon {
namespace {

void print_backfill(const nlohmann::json& b, std::ostream& out) {
    const auto counts = b.value("counts", nlohmann::json::object());
    out << "backfill " << cell(b.value("id", nlohmann::json(nullptr))) << " of job "
        << cell(b.value("job", nlohmann::json(nullptr))) << ": "
        << cell(b.value("state", nlohmann::json(nullptr))) << "\n"
        << "  range       " << cell(b.value("start", nlohmann::json(nullptr))) << " .. "
        << cell(b.value("end", nlohmann::json(nullptr))) << " ("
        << cell(b.value("order", nlohmann::json(nullptr))) << ", max_active_runs "
        << cell(b.value("max_active_runs", nlohmann::json(nullptr))) << ", reprocess "
        << cell(b.value("reprocess", nlohmann::json(nullptr))) << ")\n"
        << "  intervals   " << cell(counts.value("planned", nlohmann::json(0))) << " planned, "
        << cell(counts.value("done", nlohmann::json(0))) << " done, "
        << cell(counts.value("skipped", nlohmann::json(0))) << " skipped\n"
        << "  runs        " << cell(counts.value("created", nlohmann::json(0))) << " created, "
        << cell(counts.value("succeeded", nlohmann::json(0))) << " succeeded, "
        << cell(counts.value("failed", nlohmann::json(0))) << " failed, "
        << cell(counts.value("running", nlohmann::json(0))) << " running, "
        << cell(counts.value("queued", nlohmann::json(0))) << " queued, "
        << cell(counts.value("canceled", nlohmann::json(0))) << " canceled\n"
        << "  cursor      " << cell(b.value("cursor", nlohmann::json(nullptr))) << "\n";
    if (const auto params = b.value("params", nlohmann::json::object()); !params.empty()) {
        out << "  params      ";
        const char* separator = "";
        for (const auto& [name, value] : params.items()) {
            out << separator << name << "=" << cell(value);
            separator = " ";
        }
        out << "\n";
    }
}

}  // namespace

int run_backfill(const client_options& client, const backfill_options& options) {
    auto params = params_object(options.params);
    if (!params) {
        return exit_usage;
    }
    // Checked here for the syntax only (a malformed argument is a usage error, exit 2); the
    // daemon resolves a date alone to midnight in the job's time zone (docs/cli.md).
    for (const auto& [flag, text] : {std::pair{"--from", &options.from}, {"--to", &options.to}}) {
        if (auto t = core::parse_instant_or_date(*text, nullptr); !t) {
            std::cerr << "sluice: " << flag << ": " << t.error().message
                      << " or a date alone (2026-12-06)\n";
            return exit_usage;
        }
    }
    nlohmann::json body{{"start", options.from},
                        {"end", options.to},
                        {"order", options.order},
                        {"max_active_runs", options.max_active_runs},
                        {"reprocess", options.reprocess},
                        {"dry_run", options.dry_run},
                        {"params", *params}};
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    auto created = api->call("POST", "/api/v1/jobs/" + encode_segment(options.job) + "/backfills",
                             body, failure);
    if (!created) {
        return report_failure(failure);
    }
    if (options.dry_run) {
        if (client.json) {
            std::cout << created->body.dump(2) << "\n";
            return exit_ok;
        }
        const auto runs = created->body.value("runs", nlohmann::json::array());
        // The copy task kind adds the bounds each task would read (a "tasks" member per run).
        print_table(
            runs,
            {"logical_time", "data_interval_start", "data_interval_end", "existing", "action"},
            std::cout);
        for (const auto& r : runs) {
            if (r.contains("tasks")) {
                for (const auto& t : r["tasks"]) {
                    std::cout << cell(r["logical_time"]) << "  " << cell(t.value("task", "")) << " "
                              << t.value("bounds", nlohmann::json(nullptr)).dump() << "\n";
                }
            }
        }
        std::cout << cell(created->body.value("would_run", nlohmann::json(0)))
                  << " run(s) would be created, "
                  << cell(created->body.value("would_skip", nlohmann::json(0)))
                  << " interval(s) skipped (dry run: nothing was created)\n";
        return exit_ok;
    }
    const auto id = created->body.value("id", std::int64_t{0});
    if (!options.wait) {
        if (client.json) {
            std::cout << created->body.dump(2) << "\n";
        } else {
            std::cout << "backfill " << id << " of job " << options.job << " created: "
                      << cell(created->body["counts"].value("planned", nlohmann::json(0)))
                      << " interval(s)\n";
        }
        return exit_ok;
    }
    if (!client.json) {
        std::cerr << "backfill " << id << " of job " << options.job << " created; waiting\n";
    }
    return wait_until_finished(*api, "/api/v1/backfills/" + std::to_string(id), client.json,
                               std::chrono::milliseconds(options.poll_ms), print_backfill);
}

int run_backfills_list(const client_options& client, const backfills_options& options) {
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    std::string target = "/api/v1/backfills?limit=" + std::to_string(options.limit);
    if (!options.job.empty()) {
        target += "&job=" + encode_segment(options.job);
    }
    auto list = api->call("GET", target, std::nullopt, failure);
    if (!list) {
        return report_failure(failure);
    }
    if (client.json) {
        std::cout << list->body.dump(2) << "\n";
        return exit_ok;
    }
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& b : list->body.value("backfills", nlohmann::json::array())) {
        nlohmann::json row = b;
        const auto counts = b.value("counts", nlohmann::json::object());
        row["done"] = std::to_string(counts.value("done", 0)) + "/" +
                      std::to_string(counts.value("planned", 0));
        row["failed"] = counts.value("failed", 0);
        rows.push_back(row);
    }
    print_table(rows, {"id", "job", "state", "order", "start", "end", "done", "failed"}, std::cout);
    return exit_ok;
}

int run_backfills_show(const client_options& client, const backfills_options& options) {
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    auto b = api->call("GET", "/api/v1/backfills/" + std::to_string(options.backfill_id),
                       std::nullopt, failure);
    if (!b) {
        return report_failure(failure);
    }
    if (client.json) {
        std::cout << b->body.dump(2) << "\n";
    } else {
        print_backfill(b->body, std::cout);
    }
    return exit_ok;
}

int run_backfills_action(const client_options& client, const backfills_options& options,
                         const std::string& action) {
    api_failure failure;
    auto api = api_client::connect(client, failure);
    if (!api) {
        return report_failure(failure);
    }
    auto done =
        api->call("POST", "/api/v1/backfills/" + std::to_string(options.backfill_id) + "/" + action,
                  nlohmann::json::object(), failure);
    if (!done) {
        return report_failure(failure);
    }
    if (client.json) {
        std::cout << done->body.dump(2) << "\n";
    } else {
        std::cout << "backfill " << options.backfill_id << ": "
                  << cell(done->body.value("state", nlohmann::json(nullptr))) << "\n";
    }
    return exit_ok;
}

}  // namespace sluice::daemon
