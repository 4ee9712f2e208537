#include "etl/sql_task.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

#include "connectors/sql_script.hpp"
#include "connectors/sql_session.hpp"
#include "etl/attempt_stop.hpp"
#include "etl/task_values.hpp"

namespace sluice::etl {

namespace {

using steady = std::chrono::steady_clock;

core::result<std::string> read_script(const config::sql_spec& spec) {
    if (spec.sql) {
        return *spec.sql;
    }
    if (!spec.file) {
        return core::error::permanent("the task has neither 'sql' nor 'file'");
    }
    std::ifstream in(*spec.file, std::ios::binary);
    if (!in) {
        return core::error::permanent("cannot read SQL file '" + spec.file->string() +
                                      "': " + std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string where(std::size_t index, std::size_t count, const connectors::sql_statement& st) {
    return "statement " + std::to_string(index + 1) + " of " + std::to_string(count) + " (line " +
           std::to_string(st.line) + ")";
}

bool same_name(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// The task's `outputs` from the last statement's rows: exactly one row holding every listed
// column (names compared without case; a NULL publishes ""). Anything else is a permanent
// failure: a retry would read the same rows.
core::result<std::vector<std::pair<std::string, std::string>>> outputs_from(
    const config::sql_spec& spec, const connectors::sql_rows& rows, const std::string& where) {
    if (rows.columns.empty()) {
        return core::error::permanent(where +
                                      " returned no rows, but the task's 'outputs' are "
                                      "read from the single row of its last statement");
    }
    if (rows.rows.size() != 1) {
        return core::error::permanent(
            where + " returned " +
            (rows.more ? "more than " + std::to_string(rows.rows.size()) + " rows"
                       : std::to_string(rows.rows.size()) + " rows") +
            "; the task's 'outputs' are read from exactly one row");
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& name : spec.outputs) {
        const auto column = std::find_if(rows.columns.begin(), rows.columns.end(),
                                         [&](const std::string& c) { return same_name(c, name); });
        if (column == rows.columns.end()) {
            std::string columns;
            for (const auto& c : rows.columns) {
                columns += (columns.empty() ? "" : ", ") + c;
            }
            return core::error::permanent(where + " has no column '" + name +
                                          "' (listed in 'outputs'); its columns: " + columns);
        }
        const auto& value =
            rows.rows.front()[static_cast<std::size_t>(column - rows.columns.begin())];
        out.emplace_back(name, value.value_or(""));
    }
    return out;
}

}  // namespace

scheduler::task_outcome sql_task::run(const scheduler::task_context& context) {
    using scheduler::task_outcome;
    const auto* spec = std::get_if<config::sql_spec>(&context.task.kind);
    if (spec == nullptr) {
        return task_outcome::failure(core::error_class::permanent,
                                     "task '" + context.task.name + "' is not a sql task");
    }
    if (auto stopped = stopped_outcome(context)) {
        return *stopped;
    }
    const auto conn = context.config.connections.find(spec->connection);
    if (conn == context.config.connections.end()) {
        return task_outcome::failure(core::error_class::permanent,
                                     "connection '" + spec->connection + "' is not defined");
    }
    const auto dialect = connectors::dialect_of(conn->second.type);
    if (!dialect) {
        return task_outcome::failure(
            core::error_class::permanent,
            "sql tasks run on postgres, mysql, sqlite and clickhouse connections; '" +
                spec->connection + "' is a " + std::string(config::to_string(conn->second.type)) +
                " connection");
    }
    auto script = read_script(*spec);
    if (!script) {
        return task_outcome::failure(script.error().cls, script.error().message);
    }
    auto statements = connectors::parse_sql_script(*script, *dialect);
    if (!statements) {
        return task_outcome::failure(statements.error().cls, statements.error().message);
    }
    // Every name is checked before anything runs: a typo fails the attempt untouched.
    const auto values = task_bind_values(context);
    std::vector<std::vector<connectors::sql_value>> bound;
    for (std::size_t i = 0; i < statements->size(); ++i) {
        auto b = connectors::bind_statement((*statements)[i], values, i + 1);
        if (!b) {
            return task_outcome::failure(b.error().cls, b.error().message);
        }
        bound.push_back(std::move(*b));
    }
    auto session = connectors::open_sql_session(
        conn->second, [&context](std::string notice) { log_system(context, "server: " + notice); });
    if (!session) {
        return task_outcome::failure(session.error().cls, session.error().message);
    }
    log_system(context, "connected to " + std::string(config::to_string(conn->second.type)) +
                            " connection '" + spec->connection + "'; running " +
                            std::to_string(statements->size()) + " statement(s)");
    // The statement in flight is canceled on the server when the attempt must stop, and again
    // every cancel_interval until it returns.
    connectors::sql_session& open = **session;
    stop_watch watch(
        context, [&open] { open.cancel(); }, options_.poll_interval, options_.cancel_interval);
    const std::size_t count = statements->size();
    std::vector<std::pair<std::string, std::string>> outputs;
    for (std::size_t i = 0; i < count; ++i) {
        const auto& st = (*statements)[i];
        const auto start = steady::now();
        core::result<void> done;
        if (i + 1 == count && !spec->outputs.empty()) {
            // Two rows are enough to tell "exactly one" from "more".
            auto rows = (*session)->query(st.text, bound[i], 2);
            if (rows) {
                auto read = outputs_from(*spec, *rows, where(i, count, st));
                if (!read) {
                    watch.finish();
                    return task_outcome::failure(read.error().cls, read.error().message);
                }
                outputs = std::move(*read);
            } else {
                done = rows.error();
            }
        } else {
            done = (*session)->execute(st.text, bound[i]);
        }
        if (!done) {
            watch.finish();
            if (const auto cause = watch.cause()) {
                return stop_outcome(*cause, where(i, count, st) + " was canceled on the server");
            }
            return task_outcome::failure(done.error().cls,
                                         where(i, count, st) + " failed: " + done.error().message);
        }
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start).count();
        log_system(context, where(i, count, st) + " done in " + std::to_string(ms) + " ms");
    }
    auto ok = task_outcome::ok();
    ok.outputs = std::move(outputs);
    return ok;
}

}  // namespace sluice::etl
