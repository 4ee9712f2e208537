#include "connectors/mysql/mysql_session.hpp"

#include <algorithm>

#include <mysql.h>

#include "config/spec.hpp"
#include "connectors/bounded_cancel.hpp"
#include "connectors/mysql/mysql_link.hpp"
#include "connectors/sql_errors.hpp"
#include "core/redact.hpp"

namespace sluice::connectors {

namespace {

core::result<MYSQL*> connect(const connection_url& url, core::duration timeout,
                             const std::string& shown_url) {
    return mysql_detail::connect_mysql(url, timeout, shown_url);
}

// The cancel path's own bound: short, so a dead server cannot hold it long.
core::duration cancel_timeout(core::duration connect_timeout) {
    return std::min<core::duration>(connect_timeout, std::chrono::seconds(5));
}

// The rows of an executed statement as text: each column is fetched at its own length
// (a first fetch into empty buffers reports the lengths). False on a fetch error.
bool fetch_rows(MYSQL_STMT* stmt, unsigned int n, sql_rows& out, std::size_t max_rows) {
    std::vector<MYSQL_BIND> binds(n);
    std::vector<unsigned long> lengths(n);
    std::vector<my_bool> nulls(n);
    std::vector<my_bool> errors(n);
    for (unsigned int c = 0; c < n; ++c) {
        binds[c] = MYSQL_BIND{};
        binds[c].buffer_type = MYSQL_TYPE_STRING;
        binds[c].length = &lengths[c];
        binds[c].is_null = &nulls[c];
        binds[c].error = &errors[c];
    }
    if (mysql_stmt_bind_result(stmt, binds.data()) != 0) {
        return false;
    }
    for (;;) {
        const int rc = mysql_stmt_fetch(stmt);
        if (rc == MYSQL_NO_DATA) {
            return true;
        }
        if (rc == 1) {
            return false;
        }
        if (out.rows.size() >= max_rows) {
            out.more = true;
            continue;
        }
        auto& row = out.rows.emplace_back();
        for (unsigned int c = 0; c < n; ++c) {
            if (nulls[c]) {
                row.emplace_back();
                continue;
            }
            std::string value(lengths[c], '\0');
            if (!value.empty()) {
                MYSQL_BIND one{};
                one.buffer_type = MYSQL_TYPE_STRING;
                one.buffer = value.data();
                one.buffer_length = value.size();
                unsigned long got = 0;
                one.length = &got;
                if (mysql_stmt_fetch_column(stmt, &one, c, 0) != 0) {
                    return false;
                }
            }
            row.emplace_back(std::move(value));
        }
    }
}

}  // namespace

mysql_session::mysql_session(MYSQL* conn, connection_url url, std::string shown_url,
                             core::duration connect_timeout)
    : conn_(conn),
      url_(std::move(url)),
      shown_url_(std::move(shown_url)),
      connect_timeout_(connect_timeout),
      thread_id_(mysql_thread_id(conn)),
      bounded_(std::make_unique<bounded_cancel>(
          static_cast<int>(mysql_get_socket(conn)),
          std::chrono::seconds(std::max<long long>(
              1, std::chrono::duration_cast<std::chrono::seconds>(cancel_timeout(connect_timeout))
                     .count())))) {}

mysql_session::~mysql_session() {
    mysql_close(conn_);
}

core::result<std::unique_ptr<mysql_session>> mysql_session::open(const std::string& url,
                                                                 core::duration connect_timeout) {
    auto parsed = parse_connection_url(url);
    if (!parsed) {
        return parsed.error();
    }
    const std::string shown = core::redact_url(url);
    auto conn = connect(*parsed, connect_timeout, shown);
    if (!conn) {
        return conn.error();
    }
    return std::unique_ptr<mysql_session>(
        new mysql_session(*conn, std::move(*parsed), shown, connect_timeout));
}

core::result<void> mysql_session::execute(const std::string& statement,
                                          const std::vector<sql_value>& params) {
    if (canceled_.load()) {
        return core::error::transient("canceled before the statement started");
    }
    return params.empty() ? execute_text(statement, nullptr, 0)
                          : execute_prepared(statement, params, nullptr, 0);
}

core::result<sql_rows> mysql_session::query(const std::string& statement,
                                            const std::vector<sql_value>& params,
                                            std::size_t max_rows) {
    if (canceled_.load()) {
        return core::error::transient("canceled before the statement started");
    }
    sql_rows rows;
    auto done = params.empty() ? execute_text(statement, &rows, max_rows)
                               : execute_prepared(statement, params, &rows, max_rows);
    if (!done) {
        return done.error();
    }
    return rows;
}

core::result<void> mysql_session::execute_text(const std::string& statement, sql_rows* out,
                                               std::size_t max_rows) {
    auto failed = [&] {
        const unsigned int code = mysql_errno(conn_);
        return core::error{classify_mysql_errno(code),
                           "MySQL error " + std::to_string(code) + ": " +
                               scrub_secret(mysql_error(conn_), url_.password)};
    };
    if (mysql_real_query(conn_, statement.data(), statement.size()) != 0) {
        return failed();
    }
    // Read every result set; the last one that has columns is the statement's rows.
    for (;;) {
        if (MYSQL_RES* rows = mysql_store_result(conn_)) {
            if (out != nullptr) {
                *out = sql_rows{};
                const unsigned int n = mysql_num_fields(rows);
                const MYSQL_FIELD* fields = mysql_fetch_fields(rows);
                for (unsigned int c = 0; c < n; ++c) {
                    out->columns.emplace_back(fields[c].name, fields[c].name_length);
                }
                while (MYSQL_ROW row = mysql_fetch_row(rows)) {
                    if (out->rows.size() >= max_rows) {
                        out->more = true;
                        break;
                    }
                    const unsigned long* lengths = mysql_fetch_lengths(rows);
                    auto& values = out->rows.emplace_back();
                    for (unsigned int c = 0; c < n; ++c) {
                        values.push_back(row[c] == nullptr
                                             ? sql_value()
                                             : sql_value(std::string(row[c], lengths[c])));
                    }
                }
            }
            mysql_free_result(rows);
        } else if (mysql_field_count(conn_) != 0) {
            return failed();
        }
        const int more = mysql_next_result(conn_);
        if (more > 0) {
            return failed();
        }
        if (more < 0) {
            return {};
        }
    }
}

core::result<void> mysql_session::execute_prepared(const std::string& statement,
                                                   const std::vector<sql_value>& params,
                                                   sql_rows* out, std::size_t max_rows) {
    MYSQL_STMT* stmt = mysql_stmt_init(conn_);
    if (stmt == nullptr) {
        return core::error::transient("cannot allocate a MySQL statement handle");
    }
    struct closer {
        MYSQL_STMT* s;
        ~closer() { mysql_stmt_close(s); }
    } guard{stmt};
    auto failed = [&] {
        const unsigned int code = mysql_stmt_errno(stmt);
        return core::error{classify_mysql_errno(code),
                           "MySQL error " + std::to_string(code) + ": " +
                               scrub_secret(mysql_stmt_error(stmt), url_.password)};
    };
    if (mysql_stmt_prepare(stmt, statement.data(), statement.size()) != 0) {
        return failed();
    }
    if (mysql_stmt_param_count(stmt) != params.size()) {
        return core::error::permanent("the statement has " +
                                      std::to_string(mysql_stmt_param_count(stmt)) +
                                      " placeholders but " + std::to_string(params.size()) +
                                      " values are bound (a literal '?' outside quotes?)");
    }
    std::vector<MYSQL_BIND> binds(params.size());
    std::vector<my_bool> nulls(params.size());
    std::vector<unsigned long> lengths(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        MYSQL_BIND& b = binds[i];
        b = MYSQL_BIND{};
        b.buffer_type = MYSQL_TYPE_STRING;
        nulls[i] = params[i] ? 0 : 1;
        b.is_null = &nulls[i];
        if (params[i]) {
            b.buffer = const_cast<char*>(params[i]->data());
            lengths[i] = params[i]->size();
            b.buffer_length = lengths[i];
            b.length = &lengths[i];
        }
    }
    if (mysql_stmt_bind_param(stmt, binds.data()) != 0 || mysql_stmt_execute(stmt) != 0) {
        return failed();
    }
    if (MYSQL_RES* meta = mysql_stmt_result_metadata(stmt)) {
        const unsigned int n = mysql_num_fields(meta);
        if (out != nullptr) {
            const MYSQL_FIELD* fields = mysql_fetch_fields(meta);
            for (unsigned int c = 0; c < n; ++c) {
                out->columns.emplace_back(fields[c].name, fields[c].name_length);
            }
        }
        mysql_free_result(meta);
        if (mysql_stmt_store_result(stmt) != 0) {
            return failed();
        }
        if (out != nullptr) {
            if (!fetch_rows(stmt, n, *out, max_rows)) {
                return failed();
            }
        }
        mysql_stmt_free_result(stmt);
    }
    return {};
}

void mysql_session::cancel() {
    canceled_.store(true);
    // The request runs on its own thread (bounded_cancel) and may outlive the session: it
    // works on copies.
    (*bounded_)([url = url_, timeout = cancel_timeout(connect_timeout_), shown = shown_url_,
                 thread = thread_id_] {
        auto killer = connect(url, timeout, shown);
        if (!killer) {
            return;  // the server is unreachable: the statement's own error will say so
        }
        const std::string kill = "KILL QUERY " + std::to_string(thread);
        mysql_real_query(*killer, kill.data(), kill.size());
        mysql_close(*killer);
    });
}

}  // namespace sluice::connectors
