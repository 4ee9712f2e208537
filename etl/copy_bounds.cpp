#include "etl/copy_bounds.hpp"

#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "core/time.hpp"

namespace sluice::etl {

namespace {

bool names(const std::string& query, const char* parameter) {
    return query.find(parameter) != std::string::npos;
}

}  // namespace

std::vector<scheduler::task_read_bounds> copy_read_bounds(const config::job_spec& job,
                                                          const scheduler::backfill_interval& at) {
    std::vector<scheduler::task_read_bounds> out;
    for (const config::task_spec& task : job.tasks) {
        const auto* copy = std::get_if<config::copy_spec>(&task.kind);
        if (copy == nullptr) {
            continue;
        }
        nlohmann::ordered_json b;
        const std::string source =
            copy->source.table
                ? "table " + *copy->source.table
                : (copy->source.query ? "query" : "path " + copy->source.path.value_or(""));
        b["source"] = copy->source.connection + ": " + source;
        const std::string query = copy->source.query.value_or("");
        const bool interval = names(query, ":data_interval_start") ||
                              names(query, ":data_interval_end") || names(query, ":logical_time");
        if (interval) {
            b["data_interval_start"] = core::format_rfc3339_utc(at.data_interval_start);
            b["data_interval_end"] = core::format_rfc3339_utc(at.data_interval_end);
            b["logical_time"] = core::format_rfc3339_utc(at.logical_time);
        }
        if (!copy->source.cursor.empty()) {
            b["cursor"] = copy->source.cursor;
            b["reads"] = interval ? "the query's rows for this interval after the stored mark"
                                  : "rows after the stored mark (incremental: not bounded by "
                                    "the interval; trigger with full_refresh to start over)";
            if (copy->source.lookback) {
                b["lookback"] = core::format_duration(*copy->source.lookback);
            }
        } else {
            b["reads"] =
                interval ? "the query's rows for this interval" : "every row of the source";
        }
        b["sink"] = copy->sink.connection + ": " +
                    copy->sink.table.value_or(copy->sink.path.value_or("")) + " (" +
                    std::string(config::to_string(copy->sink.mode)) + ")";
        out.push_back({task.name, b.dump()});
    }
    return out;
}

}  // namespace sluice::etl
