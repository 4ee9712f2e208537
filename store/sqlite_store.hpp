#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "scheduler/run_store.hpp"
#include "store/sql/sql_engine.hpp"

namespace sluice::store {

namespace sqlite {
class connection;
}

// The embedded engine: one SQLite file in WAL mode and one connection for reads and writes.
// Thread-safety: transact() may be called from any thread; a mutex serializes transactions on the
// single connection (SQLite has one writer anyway), so calls block while another is in flight.
class sqlite_engine final : public sql_engine {
public:
    // Opens (creating the file and its parent directory) the database at `path`.
    static core::result<std::unique_ptr<sqlite_engine>> open(const std::string& path);
    ~sqlite_engine() override;

    sql_dialect dialect() const override { return sql_dialect::sqlite; }
    core::result<void> transact(tx_mode mode, const std::function<void(sql_tx&)>& body) override;

private:
    explicit sqlite_engine(std::unique_ptr<sqlite::connection> conn);

    std::mutex mutex_;  // guards conn_: one transaction at a time
    std::unique_ptr<sqlite::connection> conn_;
};

// "sqlite://PATH" -> PATH ("sqlite:///abs/file.db" is absolute, "sqlite://var/x.db" is relative
// to the working directory). Errors name the URL.
core::result<std::string> sqlite_path_from_url(std::string_view url);

// Opens the SQLite store at a sqlite:// URL (not migrated yet: call migrate()).
core::result<std::unique_ptr<scheduler::run_store>> open_sqlite_store(std::string_view url);

}  // namespace sluice::store
