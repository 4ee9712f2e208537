#include "store/sqlite_store.hpp"

#include <exception>
#include <filesystem>
#include <system_error>

#include <sqlite3.h>

#include "store/sql_run_store.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/private_files.hpp"

namespace sluice::store {

namespace {

class sqlite_tx final : public sql_tx {
public:
    explicit sqlite_tx(sqlite::connection& conn) : conn_(conn) {}
    using sql_tx::exec;

    sql_result exec(std::string_view sql, std::span<const sql_value> params) override {
        sqlite::statement& stmt = conn_.prepare(sql);
        for (std::size_t i = 0; i < params.size(); ++i) {
            const sql_value& v = params[i];
            if (std::holds_alternative<std::nullptr_t>(v)) {
                stmt.bind_null(i + 1);
            } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
                stmt.bind_int64(i + 1, *n);
            } else {
                stmt.bind_text(i + 1, std::get<std::string>(v));
            }
        }
        sql_result result;
        while (stmt.step()) {
            sql_row row;
            int columns = stmt.column_count();
            row.reserve(static_cast<std::size_t>(columns));
            for (int c = 0; c < columns; ++c) {
                row.push_back(stmt.column_text(c));
            }
            result.rows.push_back(std::move(row));
        }
        result.affected = conn_.changes();
        stmt.reset();
        return result;
    }

private:
    sqlite::connection& conn_;
};

}  // namespace

sqlite_engine::sqlite_engine(std::unique_ptr<sqlite::connection> conn) : conn_(std::move(conn)) {}

sqlite_engine::~sqlite_engine() = default;

core::result<std::unique_ptr<sqlite_engine>> sqlite_engine::open(const std::string& path) {
    std::filesystem::path file(path);
    if (file.has_parent_path()) {
        if (const auto ec = sqlite::create_private_directories(file.parent_path())) {
            return core::error::permanent("sqlite store: cannot create directory '" +
                                          file.parent_path().string() + "': " + ec.message());
        }
    }
    if (path != ":memory:") {
        if (const auto ec = sqlite::create_private_file(file)) {
            return core::error::permanent("sqlite store: cannot create '" + path +
                                          "': " + ec.message());
        }
    }
    auto conn = sqlite::connection::open(path);
    if (!conn) {
        core::error e = conn.error();
        e.message = "sqlite store '" + path + "': " + e.message;
        return e;
    }
    return std::unique_ptr<sqlite_engine>(new sqlite_engine(std::move(*conn)));
}

core::result<void> sqlite_engine::transact(tx_mode mode, const std::function<void(sql_tx&)>& body) {
    std::lock_guard lock(mutex_);
    // IMMEDIATE takes the write lock up front, so a writing transaction never fails half-way on
    // a lock upgrade; reads use a deferred transaction for a consistent snapshot.
    const char* begin = mode == tx_mode::read ? "BEGIN" : "BEGIN IMMEDIATE";
    core::error failure;
    try {
        conn_->exec(begin);
    } catch (const store_failure& f) {
        return f.err();
    }
    try {
        sqlite_tx tx(*conn_);
        body(tx);
        conn_->exec("COMMIT");
        return {};
    } catch (const store_failure& f) {
        failure = f.err();
    } catch (const std::exception& e) {
        failure = core::error::permanent(std::string("sqlite store: ") + e.what());
    }
    try {
        conn_->exec("ROLLBACK");
    } catch (const store_failure& f) {
        // The transaction may already be gone (SQLite rolls back on some errors by itself);
        // the original failure is what the caller needs.
        failure.message += "; rollback: " + f.err().message;
    }
    return failure;
}

core::result<std::string> sqlite_path_from_url(std::string_view url) {
    constexpr std::string_view scheme = "sqlite://";
    if (!url.starts_with(scheme) || url.size() == scheme.size()) {
        return core::error::permanent("store url '" + std::string(url) +
                                      "': expected sqlite://PATH");
    }
    return std::string(url.substr(scheme.size()));
}

core::result<std::unique_ptr<scheduler::run_store>> open_sqlite_store(std::string_view url) {
    auto path = sqlite_path_from_url(url);
    if (!path) {
        return path.error();
    }
    auto engine = sqlite_engine::open(*path);
    if (!engine) {
        return engine.error();
    }
    return std::unique_ptr<scheduler::run_store>(
        std::make_unique<sql_run_store>(std::move(*engine)));
}

}  // namespace sluice::store
