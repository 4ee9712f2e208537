#include "store/open_store.hpp"

#include <string>

#include "core/redact.hpp"
#include "store/postgres_store.hpp"
#include "store/sqlite_store.hpp"

namespace sluice::store {

core::result<std::unique_ptr<scheduler::run_store>> open_store(std::string_view url,
                                                               const store_options& options) {
    if (url.starts_with("sqlite://")) {
        return open_sqlite_store(url);
    }
    if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
        return open_postgres_store(url, options.pool_size, options.timeout);
    }
    return core::error::permanent("store url '" + core::redact_url(url) +
                                  "': unsupported scheme; use sqlite://PATH or "
                                  "postgresql://USER@HOST:PORT/DB");
}

}  // namespace sluice::store
