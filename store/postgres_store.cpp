#include "store/postgres_store.hpp"

#include <pqxx/pqxx>

#include "core/redact.hpp"
#include "store/postgres/connection_pool.hpp"
#include "store/postgres/pipeline_connection.hpp"
#include "store/postgres/socket_watchdog.hpp"
#include "store/sql_run_store.hpp"

namespace sluice::store {

namespace {

class postgres_tx final : public sql_tx {
public:
    postgres_tx(pqxx::work& work, postgres::pooled_connection& conn) : work_(work), conn_(conn) {}
    using sql_tx::exec;

    // The whole batch in one round trip: each statement becomes `EXECUTE name('literal', ...)`
    // of its prepared form, and a libpqxx pipeline sends them together and reads one result
    // per statement (its affected-row count). Parameters are quoted by the connection
    // (PQescapeStringConn), never spliced raw.
    std::vector<std::int64_t> exec_batch(std::span<const sql_statement> statements) override {
        if (statements.size() == 1 && statements.front().prepare) {
            return sql_tx::exec_batch(statements);
        }
        pqxx::pipeline pipeline(work_);
        pipeline.retain(static_cast<int>(statements.size()));
        std::vector<pqxx::pipeline::query_id> ids;
        ids.reserve(statements.size());
        std::string query;
        for (const sql_statement& s : statements) {
            if (!s.prepare) {
                ids.push_back(pipeline.insert(inline_params(s.sql, s.params)));
                continue;
            }
            query = "EXECUTE ";
            query += prepared_name(s.sql, /*now=*/true);
            if (!s.params.empty()) {
                query += '(';
                for (std::size_t i = 0; i < s.params.size(); ++i) {
                    if (i > 0) {
                        query += ", ";
                    }
                    query += literal(s.params[i]);
                }
                query += ')';
            }
            ids.push_back(pipeline.insert(query));
        }
        pipeline.complete();
        std::vector<std::int64_t> affected;
        affected.reserve(ids.size());
        for (const auto id : ids) {
            affected.push_back(static_cast<std::int64_t>(pipeline.retrieve(id).affected_rows()));
        }
        return affected;
    }

    sql_result exec(std::string_view sql, std::span<const sql_value> params) override {
        const std::string& name = prepared_name(sql, /*now=*/false);
        std::vector<std::string> texts;
        texts.reserve(params.size());
        for (const sql_value& v : params) {
            if (const auto* n = std::get_if<std::int64_t>(&v)) {
                texts.push_back(std::to_string(*n));
            } else if (const auto* s = std::get_if<std::string>(&v)) {
                texts.push_back(*s);
            } else {
                texts.emplace_back();
            }
        }
        std::vector<const char*> pointers;
        pointers.reserve(params.size());
        for (std::size_t i = 0; i < params.size(); ++i) {
            bool null = std::holds_alternative<std::nullptr_t>(params[i]);
            pointers.push_back(null ? nullptr : texts[i].c_str());
        }
        pqxx::result r = work_.exec_prepared(name, pqxx::prepare::make_dynamic_params(pointers));
        sql_result out;
        out.affected = static_cast<std::int64_t>(r.affected_rows());
        out.rows.reserve(r.size());
        for (const auto& row : r) {
            sql_row values;
            values.reserve(row.size());
            for (const auto& field : row) {
                if (field.is_null()) {
                    values.emplace_back();
                } else {
                    values.emplace_back(std::string(field.c_str(), field.size()));
                }
            }
            out.rows.push_back(std::move(values));
        }
        return out;
    }

private:
    // A parameter as an SQL literal: quoted text (the server coerces it to the parameter's
    // type), escaped by the connection, or NULL.
    std::string literal(const sql_value& v) const {
        if (const auto* n = std::get_if<std::int64_t>(&v)) {
            return '\'' + std::to_string(*n) + '\'';
        }
        if (const auto* t = std::get_if<std::string>(&v)) {
            return work_.quote(*t);
        }
        return "NULL";
    }

    // `sql` with each $N replaced by the literal of params[N-1]. Our statements have no '$'
    // anywhere else (no dollar quoting, no '$' inside string constants).
    std::string inline_params(std::string_view sql, std::span<const sql_value> params) const {
        std::string out;
        out.reserve(sql.size() + params.size() * 16);
        for (std::size_t i = 0; i < sql.size(); ++i) {
            if (sql[i] != '$' || i + 1 >= sql.size() || sql[i + 1] < '0' || sql[i + 1] > '9') {
                out += sql[i];
                continue;
            }
            std::size_t n = 0;
            while (i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
                n = n * 10 + static_cast<std::size_t>(sql[++i] - '0');
            }
            if (n == 0 || n > params.size()) {
                throw store_failure(core::error::permanent("statement parameter $" +
                                                           std::to_string(n) + " has no value"));
            }
            out += literal(params[n - 1]);
        }
        return out;
    }

    // Statements are prepared once per connection: the hot path (transitions) then skips
    // parsing and planning. `now`: prepare on the server at once (EXECUTE needs it there);
    // otherwise libpqxx prepares at the first exec_prepared.
    const std::string& prepared_name(std::string_view sql, bool now) {
        std::string key(sql);
        auto it = conn_.prepared.find(key);
        if (it == conn_.prepared.end()) {
            std::string name = "sluice_" + std::to_string(conn_.prepared.size());
            conn_.conn->prepare(name, key);
            it = conn_.prepared.emplace(std::move(key), std::move(name)).first;
        }
        if (now) {
            conn_.conn->prepare_now(it->second);
        }
        return it->second;
    }

    pqxx::work& work_;
    postgres::pooled_connection& conn_;
};

bool connection_lost(std::string_view sqlstate) {
    return sqlstate.starts_with("08") || sqlstate.starts_with("57P");
}

}  // namespace

core::error_class classify_sqlstate(std::string_view sqlstate) {
    static constexpr std::string_view transient[] = {"40001", "40P01", "55P03", "57014",
                                                     "57P01", "57P02", "57P03", "53300"};
    if (sqlstate.starts_with("08")) {
        return core::error_class::transient;
    }
    for (std::string_view s : transient) {
        if (sqlstate == s) {
            return core::error_class::transient;
        }
    }
    return core::error_class::permanent;
}

postgres_engine::postgres_engine(std::unique_ptr<postgres::connection_pool> pool,
                                 std::string conninfo,
                                 std::unique_ptr<postgres::socket_watchdog> watchdog)
    : watchdog_(std::move(watchdog)), pool_(std::move(pool)), conninfo_(std::move(conninfo)) {}

postgres_engine::~postgres_engine() = default;

core::result<std::unique_ptr<postgres_engine>> postgres_engine::open(
    std::string_view url, std::size_t pool_size, std::chrono::milliseconds timeout) {
    const std::string conninfo = postgres::bounded_conninfo(std::string(url), timeout);
    auto pool =
        std::make_unique<postgres::connection_pool>(conninfo, core::redact_url(url), pool_size);
    {
        auto first = pool->acquire();  // back to the pool at the end of this scope
        if (!first) {
            return first.error();
        }
    }
    return std::unique_ptr<postgres_engine>(new postgres_engine(
        std::move(pool), conninfo, std::make_unique<postgres::socket_watchdog>(timeout)));
}

core::result<void> postgres_engine::transact(tx_mode mode,
                                             const std::function<void(sql_tx&)>& body) {
    auto lease = pool_->acquire();
    if (!lease) {
        return lease.error();
    }
    const std::string where = "postgres store " + pool_->redacted() + ": ";
    // READ COMMITTED serves reads and writes (reads take one consistent statement each); every
    // mode but a migration's is bounded in time.
    auto guard =
        mode == tx_mode::schema ? watchdog_->watch(-1) : watchdog_->watch((*lease)->conn->sock());
    // Released before any discard: the watchdog must never see the descriptor after it closed.
    const auto timed_out = [&] {
        if (guard.release()) {
            lease->discard();
            return true;
        }
        return false;
    };
    try {
        pqxx::work work(*(*lease)->conn);
        postgres_tx tx(work, **lease);
        body(tx);
        work.commit();
        // Committed; had the deadline passed just then, timed_out() drops the connection.
        timed_out();
        return {};
    } catch (const pqxx::broken_connection& e) {
        if (timed_out()) {
            return core::error::transient(where + watchdog_->describe_limit());
        }
        lease->discard();
        return core::error::transient(where + "connection lost: " + e.what());
    } catch (const pqxx::in_doubt_error& e) {
        if (timed_out()) {
            return core::error::transient(where + "commit outcome unknown (" +
                                          watchdog_->describe_limit() + ")");
        }
        lease->discard();
        return core::error::transient(where +
                                      "commit outcome unknown (connection lost): " + e.what());
    } catch (const pqxx::transaction_rollback& e) {
        timed_out();
        return core::error::transient(where + "transaction rolled back, retry: " + e.what());
    } catch (const pqxx::sql_error& e) {
        if (timed_out()) {
            return core::error::transient(where + watchdog_->describe_limit());
        }
        if (connection_lost(e.sqlstate())) {
            lease->discard();
        }
        return core::error{classify_sqlstate(e.sqlstate()),
                           where + e.what() + " (SQLSTATE " + e.sqlstate() + ")"};
    } catch (const store_failure& f) {
        timed_out();
        core::error err = f.err();
        err.message = where + err.message;
        return err;
    } catch (const std::exception& e) {
        if (timed_out()) {
            return core::error::transient(where + watchdog_->describe_limit());
        }
        if (!(*lease)->conn->is_open()) {
            lease->discard();
            return core::error::transient(where + "connection lost: " + e.what());
        }
        return core::error::permanent(where + e.what());
    }
}

core::result<std::vector<sql_result>> postgres_engine::transact_batch(
    std::span<const sql_statement> statements) {
    std::lock_guard lock(batch_mutex_);
    if (batch_conn_ && batch_conn_->broken()) {
        batch_conn_.reset();
    }
    if (!batch_conn_) {
        auto connected = postgres::pipeline_connection::connect(
            conninfo_, "postgres store " + pool_->redacted() + ": ", *watchdog_);
        if (!connected) {
            return connected.error();
        }
        batch_conn_ = std::move(*connected);
    }
    auto guard = watchdog_->watch(batch_conn_->socket());
    auto result = batch_conn_->run(statements);
    if (guard.release()) {
        // Shut down at the deadline: whatever the batch returned, the connection is gone.
        batch_conn_.reset();
        if (!result) {
            return core::error::transient("postgres store " + pool_->redacted() +
                                          ": commit outcome unknown (" +
                                          watchdog_->describe_limit() + ")");
        }
    }
    return result;
}

core::result<std::unique_ptr<scheduler::run_store>> open_postgres_store(
    std::string_view url, std::size_t pool_size, std::chrono::milliseconds timeout) {
    auto engine = postgres_engine::open(url, pool_size, timeout);
    if (!engine) {
        return engine.error();
    }
    return std::unique_ptr<scheduler::run_store>(
        std::make_unique<sql_run_store>(std::move(*engine)));
}

}  // namespace sluice::store
