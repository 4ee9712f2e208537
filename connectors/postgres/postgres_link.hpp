#pragma once

// Internal to the PostgreSQL connector (postgres_link.cpp, postgres_source.cpp,
// postgres_sink.cpp): the connection, type mapping and quoting they share.

#include <atomic>
#include <chrono>
#include <libpq-fe.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/spec.hpp"
#include "connectors/bounded_cancel.hpp"
#include "connectors/column_type.hpp"
#include "connectors/connection_url.hpp"
#include "connectors/row_batch.hpp"
#include "connectors/select_statement.hpp"
#include "connectors/sql_errors.hpp"
#include "connectors/text_codec.hpp"
#include "core/redact.hpp"

namespace sluice::connectors::postgres_detail {

// Lines handed to PQputCopyData at once: large enough to amortize the call, small enough that
// a batch never doubles its memory.
constexpr std::size_t copy_chunk_bytes = 1 << 20;

// Creates sluice_checkpoints when missing. Two sessions running CREATE TABLE IF NOT EXISTS at
// once can both miss the table and one then fails on pg_type's unique index (two copy tasks
// into one database, first batches in parallel), so the creation is serialized by a
// transaction-scoped advisory lock; once the table exists, no lock is taken.
constexpr const char* checkpoint_ddl =
    "DO $sluice$ BEGIN IF to_regclass('sluice_checkpoints') IS NULL THEN "
    "PERFORM pg_advisory_xact_lock(hashtext('sluice_checkpoints')); "
    "CREATE TABLE IF NOT EXISTS sluice_checkpoints (key text PRIMARY KEY, value text NOT NULL, "
    "updated_at timestamptz NOT NULL DEFAULT now()); END IF; END $sluice$";

// Drops trailing newlines and spaces from a driver message.
std::string trimmed(std::string text);
// Double-quoted names, standard '' literals.
const sql_quoting& pg_quoting();
// The portable column of a result column (type oid and modifier).
column column_of(const std::string& name, Oid oid, int mod);
// The PostgreSQL declaration of a portable column.
std::string pg_type_of(const column& c);

// One libpq connection with the session settings the canonical text forms rely on (UTC,
// ISO dates, extra_float_digits 3, hex bytea). One statement at a time; cancel() is thread-safe.
class pg_link {
public:
    ~pg_link() {
        if (conn_ != nullptr) {
            PQfinish(conn_);
        }
    }

    static core::result<std::unique_ptr<pg_link>> open(const config::connection_spec& spec) {
        auto parsed = parse_connection_url(spec.url);
        if (!parsed) {
            return parsed.error();
        }
        auto link = std::unique_ptr<pg_link>(new pg_link());
        link->password_ = parsed->password;
        link->name_ = spec.name;
        std::string url = spec.url;
        const auto seconds = std::max<long long>(
            2, std::chrono::duration_cast<std::chrono::seconds>(spec.connect_timeout).count());
        if (url.find("connect_timeout=") == std::string::npos) {
            url += (url.find('?') == std::string::npos ? "?" : "&") +
                   std::string("connect_timeout=") + std::to_string(seconds);
        }
        link->conn_ = PQconnectdb(url.c_str());
        if (link->conn_ == nullptr || PQstatus(link->conn_) != CONNECTION_OK) {
            const std::string message =
                link->conn_ == nullptr
                    ? "out of memory"
                    : trimmed(scrub_secret(PQerrorMessage(link->conn_), parsed->password));
            const bool auth = message.find("authentication failed") != std::string::npos ||
                              message.find("does not exist") != std::string::npos;
            return core::error{auth ? core::error_class::permanent : core::error_class::transient,
                               "connection '" + spec.name + "': cannot connect to PostgreSQL at " +
                                   core::redact_url(spec.url) + ": " + message};
        }
        PQsetNoticeProcessor(
            link->conn_, [](void*, const char*) {}, nullptr);
        if (PGcancel* request = PQgetCancel(link->conn_); request != nullptr) {
            link->cancel_ = std::shared_ptr<PGcancel>(request, PQfreeCancel);
        }
        link->bounded_ =
            std::make_unique<bounded_cancel>(PQsocket(link->conn_), std::chrono::seconds(seconds));
        auto set = link->exec(
            "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; "
            "SET IntervalStyle = 'iso_8601'; SET bytea_output = 'hex'");
        if (!set) {
            return set.error();
        }
        return link;
    }

    PGconn* conn() { return conn_; }

    // The error of a failed result (or of the connection when `res` is null), classified.
    core::error failure(PGresult* res, const std::string& what) const {
        std::string state;
        std::string message;
        if (res != nullptr) {
            const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            state = s != nullptr ? s : "";
            message = PQresultErrorMessage(res);
        }
        if (message.empty()) {
            message = PQerrorMessage(conn_);
        }
        core::error_class cls = classify_sqlstate(state);
        if (state.empty() && PQstatus(conn_) != CONNECTION_OK) {
            cls = core::error_class::transient;
        }
        return core::error{cls, "connection '" + name_ + "': " + what + ": PostgreSQL error " +
                                    (state.empty() ? std::string("?") : state) + ": " +
                                    trimmed(scrub_secret(message, password_))};
    }

    // Runs statements whose results carry no rows we need.
    core::result<void> exec(const std::string& sql) {
        PGresult* res = PQexec(conn_, sql.c_str());
        const auto status = PQresultStatus(res);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            auto e = failure(res, "statement failed");
            PQclear(res);
            return e;
        }
        PQclear(res);
        return {};
    }

    // Runs one statement with text parameters and returns its result (the caller PQclears).
    core::result<PGresult*> query(const std::string& sql,
                                  const std::vector<std::optional<std::string>>& params) {
        std::vector<const char*> values;
        for (const auto& p : params) {
            values.push_back(p ? p->c_str() : nullptr);
        }
        PGresult* res = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                     values.data(), nullptr, nullptr, 0);
        const auto status = PQresultStatus(res);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            auto e = failure(res, "query failed");
            PQclear(res);
            return e;
        }
        return res;
    }

    // The columns `sql` would return, without running it.
    core::result<schema> describe(const std::string& sql) {
        PGresult* prepared = PQprepare(conn_, "", sql.c_str(), 0, nullptr);
        if (PQresultStatus(prepared) != PGRES_COMMAND_OK) {
            auto e = failure(prepared, "cannot describe the query");
            PQclear(prepared);
            return e;
        }
        PQclear(prepared);
        PGresult* res = PQdescribePrepared(conn_, "");
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            auto e = failure(res, "cannot describe the query");
            PQclear(res);
            return e;
        }
        schema out;
        for (int i = 0; i < PQnfields(res); ++i) {
            out.columns.push_back(column_of(PQfname(res, i), PQftype(res, i), PQfmod(res, i)));
        }
        PQclear(res);
        return out;
    }

    // Ends the statement in flight: a cancel request, bounded by the connect timeout, after
    // which the connection is shut down (bounded_cancel). Thread-safe.
    void cancel() {
        canceled_.store(true);
        if (cancel_ == nullptr || bounded_ == nullptr) {
            return;
        }
        (*bounded_)([request = cancel_] {
            char buf[256];
            PQcancel(request.get(), buf, sizeof buf);
        });
    }
    bool canceled() const { return canceled_.load(); }
    const std::string& name() const { return name_; }

private:
    pg_link() = default;
    PGconn* conn_ = nullptr;
    // Shared with a cancel request that may outlive the link.
    std::shared_ptr<PGcancel> cancel_;
    std::unique_ptr<bounded_cancel> bounded_;
    std::optional<std::string> password_;
    std::string name_;
    std::atomic<bool> canceled_{false};
};

// Appends one COPY text field as the canonical text of `type`.
}  // namespace sluice::connectors::postgres_detail
