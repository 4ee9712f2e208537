#include "store/postgres/pipeline_connection.hpp"

#include <cerrno>
#include <cstdlib>
#include <libpq-fe.h>
#include <optional>
#include <poll.h>

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
    const std::string& conninfo, std::string where) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
        // libpq's connect errors name host and port, never the password.
        std::string message = conn != nullptr ? trimmed(PQerrorMessage(conn)) : "out of memory";
        PQfinish(conn);
        return core::error::transient(where + "cannot connect: " + message);
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

core::result<std::vector<std::int64_t>> pipeline_connection::run(
    std::span<const sql_statement> statements) {
    if (statements.empty()) {
        return std::vector<std::int64_t>{};
    }
    if (PQenterPipelineMode(conn_) != 1) {
        return lost("cannot enter pipeline mode");
    }
    // Statements this batch prepares: their Parse is answered before their first execution.
    struct parse_sent {
        std::string sql;
        std::string name;
    };
    std::vector<std::optional<parse_sent>> parses(statements.size());
    std::unordered_map<std::string, std::string> batch_names;  // prepared by this batch
    std::vector<std::string> texts;
    std::vector<const char*> values;
    for (std::size_t i = 0; i < statements.size(); ++i) {
        const sql_statement& s = statements[i];
        texts.clear();
        texts.reserve(s.params.size());
        values.clear();
        for (const sql_value& v : s.params) {
            if (const auto* n = std::get_if<std::int64_t>(&v)) {
                texts.push_back(std::to_string(*n));
            } else if (const auto* t = std::get_if<std::string>(&v)) {
                texts.push_back(*t);
            } else {
                texts.emplace_back();
            }
        }
        for (std::size_t p = 0; p < s.params.size(); ++p) {
            const bool null = std::holds_alternative<std::nullptr_t>(s.params[p]);
            values.push_back(null ? nullptr : texts[p].c_str());
        }
        const int count = static_cast<int>(values.size());
        int sent = 0;
        if (!s.prepare) {
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
                    PQexitPipelineMode(conn_);
                    return lost("cannot send a statement");
                }
                parses[i] = parse_sent{sql, fresh};
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
    std::vector<std::int64_t> affected;
    affected.reserve(statements.size());
    std::optional<std::string> failure;
    std::string sqlstate;
    result_handle r;
    // Reads one command's result and the null after it; false when the connection failed.
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
        result_handle end;
        return next_result(end) && !end.res && PQstatus(conn_) != CONNECTION_BAD;
    };
    for (std::size_t i = 0; i < statements.size(); ++i) {
        bool ok = false;
        std::int64_t count = 0;
        if (parses[i]) {
            if (!read_command(ok, count)) {
                return lost("connection lost, commit outcome unknown");
            }
            if (ok) {
                prepared_.emplace(parses[i]->sql, parses[i]->name);
            }
        }
        if (!read_command(ok, count)) {
            return lost("connection lost, commit outcome unknown");
        }
        affected.push_back(count);
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
