#include "connectors/postgres/postgres_session.hpp"

#include <pqxx/connection>
#include <pqxx/errorhandler>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/prepared_statement>

#include "connectors/bounded_cancel.hpp"
#include "connectors/connection_url.hpp"
#include "connectors/sql_errors.hpp"
#include "core/redact.hpp"

namespace sluice::connectors {

namespace {

std::string trim_message(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

// libpq counts whole seconds; 0 would mean "wait forever".
std::chrono::seconds connect_seconds(core::duration timeout) {
    return std::chrono::seconds(
        std::max<long long>(2, std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
}

std::string with_connect_timeout(const std::string& url, core::duration timeout) {
    if (url.find("connect_timeout=") != std::string::npos) {
        return url;
    }
    return url + (url.find('?') == std::string::npos ? "?" : "&") +
           "connect_timeout=" + std::to_string(connect_seconds(timeout).count());
}

// libpqxx 6.4 drops the SQLSTATE of some errors it maps to its own exception types.
std::string sqlstate_of(const pqxx::sql_error& e) {
    if (!e.sqlstate().empty()) {
        return e.sqlstate();
    }
    if (dynamic_cast<const pqxx::insufficient_privilege*>(&e) != nullptr) {
        return "42501";
    }
    if (dynamic_cast<const pqxx::undefined_table*>(&e) != nullptr) {
        return "42P01";
    }
    if (dynamic_cast<const pqxx::undefined_column*>(&e) != nullptr) {
        return "42703";
    }
    if (dynamic_cast<const pqxx::syntax_error*>(&e) != nullptr) {
        return "42601";
    }
    if (dynamic_cast<const pqxx::insufficient_resources*>(&e) != nullptr) {
        return "53000";
    }
    return "";
}

}  // namespace

// Forwards notices to the sink instead of libpqxx's default (stderr).
class notice_forwarder final : public pqxx::errorhandler {
public:
    notice_forwarder(pqxx::connection_base& conn, notice_sink sink)
        : pqxx::errorhandler(conn), sink_(std::move(sink)) {}

    bool operator()(const char msg[]) noexcept override {
        if (sink_) {
            try {
                sink_(trim_message(msg));
            } catch (const std::exception&) {
                return false;  // a failing log sink must not break the statement
            }
        }
        return false;
    }

private:
    notice_sink sink_;
};

// The connection and its notice handler; the handler is destroyed first.
struct postgres_session::connection_holder {
    connection_holder(const std::string& options, notice_sink sink)
        : conn(options), notices(conn, std::move(sink)) {}
    pqxx::connection conn;
    notice_forwarder notices;
};

postgres_session::postgres_session(std::shared_ptr<connection_holder> conn,
                                   std::optional<std::string> password,
                                   std::chrono::seconds cancel_wait)
    : conn_(std::move(conn)),
      cancel_(std::make_unique<bounded_cancel>(conn_->conn.sock(), cancel_wait)),
      password_(std::move(password)) {}

postgres_session::~postgres_session() = default;

core::result<std::unique_ptr<postgres_session>> postgres_session::open(
    const std::string& url, core::duration connect_timeout, notice_sink notices) {
    auto parsed = parse_connection_url(url);
    if (!parsed) {
        return parsed.error();
    }
    try {
        auto conn = std::make_shared<connection_holder>(with_connect_timeout(url, connect_timeout),
                                                        std::move(notices));
        return std::unique_ptr<postgres_session>(new postgres_session(
            std::move(conn), parsed->password, connect_seconds(connect_timeout)));
    } catch (const pqxx::broken_connection& e) {
        // Refused credentials come back as a broken connection too; libpq says which.
        const std::string message = trim_message(scrub_secret(e.what(), parsed->password));
        const bool auth = message.find("authentication failed") != std::string::npos ||
                          message.find("does not exist") != std::string::npos;
        return core::error{
            auth ? core::error_class::permanent : core::error_class::transient,
            "cannot connect to PostgreSQL at " + core::redact_url(url) + ": " + message};
    } catch (const std::exception& e) {
        return core::error::permanent("cannot connect to PostgreSQL at " + core::redact_url(url) +
                                      ": " +
                                      trim_message(scrub_secret(e.what(), parsed->password)));
    }
}

core::result<void> postgres_session::execute(const std::string& statement,
                                             const std::vector<sql_value>& params) {
    auto done = run(statement, params, nullptr, 0);
    if (!done) {
        return done.error();
    }
    return {};
}

core::result<sql_rows> postgres_session::query(const std::string& statement,
                                               const std::vector<sql_value>& params,
                                               std::size_t max_rows) {
    sql_rows rows;
    auto done = run(statement, params, &rows, max_rows);
    if (!done) {
        return done.error();
    }
    return rows;
}

core::result<void> postgres_session::run(const std::string& statement,
                                         const std::vector<sql_value>& params, sql_rows* out,
                                         std::size_t max_rows) {
    if (canceled_.load()) {
        return core::error::transient("canceled before the statement started");
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) {
        values.push_back(p ? p->c_str() : nullptr);  // nullptr binds NULL
    }
    try {
        pqxx::nontransaction tx(conn_->conn);
        const pqxx::result result =
            tx.exec_params(statement, pqxx::prepare::make_dynamic_params(values));
        if (out != nullptr) {
            for (pqxx::row::size_type c = 0; c < result.columns(); ++c) {
                out->columns.emplace_back(result.column_name(c));
            }
            for (std::size_t r = 0; r < result.size() && r < max_rows; ++r) {
                auto& row = out->rows.emplace_back();
                for (const auto& field : result[static_cast<pqxx::result::size_type>(r)]) {
                    row.push_back(field.is_null()
                                      ? sql_value()
                                      : sql_value(std::string(field.c_str(), field.size())));
                }
            }
            out->more = result.size() > max_rows;
        }
        return {};
    } catch (const pqxx::transaction_rollback& e) {
        // Serialization failure (40001), deadlock (40P01), unknown completion (40003): in 6.4
        // these are not sql_errors and carry no SQLSTATE.
        return core::error::transient("PostgreSQL rolled the statement back: " +
                                      trim_message(scrub_secret(e.what(), password_)));
    } catch (const pqxx::sql_error& e) {
        const std::string state = sqlstate_of(e);
        return core::error{classify_sqlstate(state),
                           "PostgreSQL error " + (state.empty() ? std::string("?") : state) + ": " +
                               trim_message(scrub_secret(e.what(), password_))};
    } catch (const pqxx::broken_connection& e) {
        return core::error::transient("lost the PostgreSQL connection: " +
                                      trim_message(scrub_secret(e.what(), password_)));
    } catch (const pqxx::in_doubt_error& e) {
        return core::error::transient("PostgreSQL connection lost during commit: " +
                                      trim_message(scrub_secret(e.what(), password_)));
    } catch (const std::exception& e) {
        return core::error::permanent("PostgreSQL statement failed: " +
                                      trim_message(scrub_secret(e.what(), password_)));
    }
}

void postgres_session::cancel() {
    canceled_.store(true);
    (*cancel_)([conn = conn_] {
        try {
            conn->conn.cancel_query();
        } catch (const std::exception&) {
            // The cancel request is best effort (the server may be gone); the caller keeps
            // calling and the statement's own error reports what happened.
        }
    });
}

}  // namespace sluice::connectors
