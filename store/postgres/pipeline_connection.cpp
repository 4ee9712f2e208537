#include "store/postgres/pipeline_connection.hpp"

#include <cerrno>
#include <cstdlib>
#include <libpq-fe.h>
#include <optional>
#include <poll.h>
#include <set>

#include "store/postgres/socket_watchdog.hpp"
#include "store/postgres/update_merge.hpp"
#include "store/postgres_store.hpp"

namespace sluice::store::postgres {

namespace {

using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string trimmed(const char* message) {
    std::string s = message != nullptr ? message : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

}  // namespace

struct pipeline_connection::result_handle {
    result_ptr res{nullptr, &PQclear};
};

core::result<std::unique_ptr<pipeline_connection>> pipeline_connection::connect(
    const std::string& conninfo, std::string where, socket_watchdog& watchdog) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
        // libpq's connect errors name host and port, never the password.
        std::string message = conn != nullptr ? trimmed(PQerrorMessage(conn)) : "out of memory";
        PQfinish(conn);
        return core::error::transient(where + "cannot connect: " + message);
    }
    // This connection runs single-row UPDATEs by primary key and INSERTs only: generic plans
    // (no planning per execution) that look rows up by index, also for the merged UPDATEs,
    // whose row count a generic plan cannot know.
    auto guard = watchdog.watch(PQsocket(conn));
    result_ptr set(PQexec(conn,
                          "SET plan_cache_mode = force_generic_plan; "
                          "SET enable_seqscan = off; SET enable_hashjoin = off; "
                          "SET enable_mergejoin = off"),
                   &PQclear);
    if (guard.release()) {
        PQfinish(conn);
        return core::error::transient(where +
                                      "cannot set up the connection: " + watchdog.describe_limit());
    }
    if (!set || PQresultStatus(set.get()) != PGRES_COMMAND_OK) {
        std::string message = trimmed(PQerrorMessage(conn));
        PQfinish(conn);
        return core::error::transient(where + "cannot set up the connection: " + message);
    }
    // Non-blocking, so that a large batch never deadlocks with the server's replies (libpq's
    // advice for pipeline mode): flush() reads while it writes.
    if (PQsetnonblocking(conn, 1) != 0) {
        std::string message = trimmed(PQerrorMessage(conn));
        PQfinish(conn);
        return core::error::transient(where + "cannot set up the connection: " + message);
    }
    return std::unique_ptr<pipeline_connection>(new pipeline_connection(conn, std::move(where)));
}

pipeline_connection::~pipeline_connection() {
    PQfinish(conn_);
}

int pipeline_connection::socket() const {
    return PQsocket(conn_);
}

bool pipeline_connection::broken() {
    if (!broken_) {
        // Between batches the server sends nothing unless it is closing the connection (its
        // FATAL message, then the end of the stream): anything to read means connect again.
        pollfd p{PQsocket(conn_), POLLIN, 0};
        broken_ = PQstatus(conn_) != CONNECTION_OK || poll(&p, 1, 0) != 0;
    }
    return broken_;
}

core::error pipeline_connection::lost(const std::string& what) {
    broken_ = true;
    return core::error::transient(where_ + what + ": " + trimmed(PQerrorMessage(conn_)));
}

bool pipeline_connection::flush() {
    while (true) {
        const int r = PQflush(conn_);
        if (r == 0) {
            return true;
        }
        if (r < 0) {
            return false;
        }
        pollfd p{PQsocket(conn_), POLLIN | POLLOUT, 0};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) {
            return false;
        }
        if ((p.revents & POLLIN) != 0 && PQconsumeInput(conn_) == 0) {
            return false;
        }
    }
}

bool pipeline_connection::next_result(result_handle& out) {
    while (PQisBusy(conn_) != 0) {
        pollfd p{PQsocket(conn_), POLLIN, 0};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) {
            return false;
        }
        if (PQconsumeInput(conn_) == 0) {
            return false;
        }
    }
    out.res.reset(PQgetResult(conn_));
    return true;
}

const pipeline_connection::merge_form* pipeline_connection::merge_form_of(const std::string& sql) {
    if (auto known = merge_forms_.find(sql); known != merge_forms_.end()) {
        return known->second.get();
    }
    std::unique_ptr<merge_form>& slot = merge_forms_[sql];
    auto shape = shape_of_update(sql);
    if (!shape) {
        return nullptr;
    }
    // Blocking calls, outside any pipeline; the parameter types come from the single-row form.
    PQsetnonblocking(conn_, 0);
    const auto ok = [](const result_ptr& r) {
        return r && PQresultStatus(r.get()) == PGRES_COMMAND_OK;
    };
    std::string single;
    if (auto known = prepared_.find(sql); known != prepared_.end()) {
        single = known->second;
    } else {
        single = "sluice_batch_" + std::to_string(next_name_++);
        if (ok(result_ptr(PQprepare(conn_, single.c_str(), sql.c_str(), 0, nullptr), &PQclear))) {
            prepared_.emplace(sql, single);
        } else {
            single.clear();
        }
    }
    std::vector<Oid> types;
    if (!single.empty()) {
        result_ptr described(PQdescribePrepared(conn_, single.c_str()), &PQclear);
        if (ok(described) &&
            static_cast<std::size_t>(PQnparams(described.get())) == shape->params) {
            for (int i = 0; i < PQnparams(described.get()); ++i) {
                if (auto array = array_type_of(PQparamtype(described.get(), i))) {
                    types.push_back(*array);
                }
            }
        }
    }
    auto form = std::make_unique<merge_form>();
    form->name = "sluice_batch_" + std::to_string(next_name_++);
    const bool prepared =
        !types.empty() && types.size() == shape->params &&
        ok(result_ptr(PQprepare(conn_, form->name.c_str(), shape->merged_sql.c_str(),
                                static_cast<int>(types.size()), types.data()),
                      &PQclear));
    PQsetnonblocking(conn_, 1);
    if (!prepared) {
        return nullptr;
    }
    form->shape = std::move(*shape);
    slot = std::move(form);
    return slot.get();
}

const update_shape* pipeline_connection::shape_for(std::string_view sql) {
    auto it = shapes_.find(std::string(sql));
    if (it == shapes_.end()) {
        it = shapes_.emplace(std::string(sql), shape_of_update(sql)).first;
    }
    return it->second ? &*it->second : nullptr;
}

std::vector<pipeline_connection::command> pipeline_connection::plan(
    std::span<const sql_statement> statements) {
    // Merging reorders UPDATEs (a group runs where its first member was): safe only when every
    // UPDATE of the batch is a single-row one by id and no row is updated twice.
    std::vector<const merge_form*> form(statements.size(), nullptr);
    std::unordered_map<std::string_view, std::vector<std::size_t>> groups;
    std::set<std::pair<std::string, std::int64_t>> rows;
    bool mergeable = statements.size() > 1;
    for (std::size_t i = 0; mergeable && i < statements.size(); ++i) {
        const sql_statement& s = statements[i];
        if (!s.sql.starts_with("UPDATE ")) {
            continue;
        }
        const update_shape* shape = shape_for(s.sql);
        const auto* id = shape && s.prepare && shape->id_param < s.params.size()
                             ? std::get_if<std::int64_t>(&s.params[shape->id_param])
                             : nullptr;
        mergeable = id != nullptr && rows.emplace(shape->table, *id).second;
        if (mergeable) {
            groups[s.sql].push_back(i);
        }
    }
    if (mergeable) {
        for (const auto& [sql, members] : groups) {
            if (members.size() < 2) {
                continue;
            }
            if (const merge_form* f = merge_form_of(std::string(sql))) {
                for (std::size_t m : members) {
                    form[m] = f;
                }
            }
        }
    }
    std::vector<command> commands;
    std::vector<bool> placed(statements.size(), false);
    for (std::size_t i = 0; i < statements.size(); ++i) {
        if (placed[i]) {
            continue;
        }
        command c;
        c.merged = form[i];
        for (std::size_t j = i; j < statements.size(); ++j) {
            if (j == i || (c.merged != nullptr && form[j] == c.merged)) {
                c.members.push_back(j);
                placed[j] = true;
            }
        }
        commands.push_back(std::move(c));
    }
    return commands;
}

core::result<std::vector<sql_result>> pipeline_connection::run(
    std::span<const sql_statement> statements) {
    if (statements.empty()) {
        return std::vector<sql_result>{};
    }
    const std::vector<command> commands = plan(statements);
    if (PQenterPipelineMode(conn_) != 1) {
        return lost("cannot enter pipeline mode");
    }
    // Statements this batch prepares: their Parse is answered before their first execution.
    struct parse_sent {
        std::string sql;
        std::string name;
    };
    std::vector<std::optional<parse_sent>> parses(commands.size());
    std::unordered_map<std::string, std::string> batch_names;  // prepared by this batch
    std::vector<std::string> texts;
    std::vector<const char*> values;
    std::vector<const sql_value*> column;
    for (std::size_t c = 0; c < commands.size(); ++c) {
        const command& cmd = commands[c];
        const sql_statement& s = statements[cmd.members.front()];
        texts.clear();
        values.clear();
        if (cmd.merged != nullptr) {
            // Parameter N of the array form: the members' N-th values.
            for (std::size_t p = 0; p < s.params.size(); ++p) {
                column.clear();
                for (std::size_t m : cmd.members) {
                    column.push_back(&statements[m].params[p]);
                }
                texts.push_back(array_literal(column));
            }
        } else {
            for (const sql_value& v : s.params) {
                if (const auto* n = std::get_if<std::int64_t>(&v)) {
                    texts.push_back(std::to_string(*n));
                } else if (const auto* t = std::get_if<std::string>(&v)) {
                    texts.push_back(*t);
                } else {
                    texts.emplace_back();
                }
            }
        }
        for (std::size_t p = 0; p < s.params.size(); ++p) {
            const bool null =
                cmd.merged == nullptr && std::holds_alternative<std::nullptr_t>(s.params[p]);
            values.push_back(null ? nullptr : texts[p].c_str());
        }
        const int count = static_cast<int>(values.size());
        int sent = 0;
        if (cmd.merged != nullptr) {
            sent = PQsendQueryPrepared(conn_, cmd.merged->name.c_str(), count, values.data(),
                                       nullptr, nullptr, 0);
        } else if (!s.prepare) {
            const std::string sql(s.sql);
            sent = PQsendQueryParams(conn_, sql.c_str(), count, nullptr, values.data(), nullptr,
                                     nullptr, 0);
        } else {
            std::string sql(s.sql);
            const std::string* name = nullptr;
            if (auto known = prepared_.find(sql); known != prepared_.end()) {
                name = &known->second;
            } else if (auto ours = batch_names.find(sql); ours != batch_names.end()) {
                name = &ours->second;
            } else {
                std::string fresh = "sluice_batch_" + std::to_string(next_name_++);
                if (PQsendPrepare(conn_, fresh.c_str(), sql.c_str(), count, nullptr) != 1) {
                    return lost("cannot send a statement");
                }
                parses[c] = parse_sent{sql, fresh};
                name = &batch_names.emplace(std::move(sql), std::move(fresh)).first->second;
            }
            sent = PQsendQueryPrepared(conn_, name->c_str(), count, values.data(), nullptr, nullptr,
                                       0);
        }
        if (sent != 1) {
            return lost("cannot send a statement");
        }
    }
    if (PQpipelineSync(conn_) != 1 || !flush()) {
        return lost("connection lost while sending a transaction");
    }

    // One result (then a null) per command in order, then the sync point. After a failure the
    // server skips the rest (PGRES_PIPELINE_ABORTED) and rolls the transaction back at the sync.
    std::vector<sql_result> affected(statements.size());
    std::optional<std::string> failure;
    std::string sqlstate;
    result_handle r;
    std::set<std::int64_t> returned;
    std::vector<sql_row> rows;
    // Reads one command's result and the null after it; false when the connection failed.
    // `returned` gets the ids a merged UPDATE returned.
    const auto read_command = [&](bool& ok, std::int64_t& count) -> bool {
        if (!next_result(r) || !r.res) {
            return false;
        }
        const ExecStatusType status = PQresultStatus(r.res.get());
        ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
        if (status == PGRES_FATAL_ERROR && !failure) {
            failure = trimmed(PQresultErrorMessage(r.res.get()));
            const char* state = PQresultErrorField(r.res.get(), PG_DIAG_SQLSTATE);
            sqlstate = state != nullptr ? state : "";
        }
        const char* tuples = ok ? PQcmdTuples(r.res.get()) : "";
        count = *tuples != '\0' ? std::atoll(tuples) : 0;
        returned.clear();
        rows.clear();
        if (status == PGRES_TUPLES_OK) {
            const PGresult* res = r.res.get();
            const int columns = PQnfields(res);
            for (int row = 0; row < PQntuples(res); ++row) {
                returned.insert(std::atoll(PQgetvalue(res, row, 0)));
                sql_row& values = rows.emplace_back();
                values.reserve(static_cast<std::size_t>(columns));
                for (int c = 0; c < columns; ++c) {
                    if (PQgetisnull(res, row, c) != 0) {
                        values.emplace_back();
                    } else {
                        values.emplace_back(
                            std::string(PQgetvalue(res, row, c),
                                        static_cast<std::size_t>(PQgetlength(res, row, c))));
                    }
                }
            }
        }
        result_handle end;
        return next_result(end) && !end.res && PQstatus(conn_) != CONNECTION_BAD;
    };
    for (std::size_t c = 0; c < commands.size(); ++c) {
        const command& cmd = commands[c];
        bool ok = false;
        std::int64_t count = 0;
        if (parses[c]) {
            if (!read_command(ok, count)) {
                return lost("connection lost, commit outcome unknown");
            }
            if (ok) {
                prepared_.emplace(parses[c]->sql, parses[c]->name);
            }
        }
        if (!read_command(ok, count)) {
            return lost("connection lost, commit outcome unknown");
        }
        if (cmd.merged == nullptr) {
            affected[cmd.members.front()].affected = count;
            affected[cmd.members.front()].rows = std::move(rows);
            rows = {};
            continue;
        }
        for (std::size_t m : cmd.members) {
            const auto id =
                std::get<std::int64_t>(statements[m].params[cmd.merged->shape.id_param]);
            affected[m].affected = returned.contains(id) ? 1 : 0;
        }
    }
    if (!next_result(r) || !r.res || PQresultStatus(r.res.get()) != PGRES_PIPELINE_SYNC) {
        return lost("connection lost, commit outcome unknown");
    }
    if (PQexitPipelineMode(conn_) != 1) {
        return lost("cannot leave pipeline mode");
    }
    if (failure) {
        return core::error{
            classify_sqlstate(sqlstate),
            where_ + *failure + (sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")")};
    }
    return affected;
}

}  // namespace sluice::store::postgres
