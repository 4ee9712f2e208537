#include "connectors/clickhouse/clickhouse_session.hpp"
#include "connectors/mysql/mysql_session.hpp"
#include "connectors/postgres/postgres_session.hpp"
#include "connectors/sql_session.hpp"
#include "connectors/sqlite/sqlite_session.hpp"

namespace sluice::connectors {

core::result<std::unique_ptr<sql_session>> open_sql_session(const config::connection_spec& spec,
                                                            notice_sink notices) {
    const auto dialect = dialect_of(spec.type);
    if (!dialect) {
        return core::error::permanent("connection '" + spec.name + "' is a " +
                                      std::string(config::to_string(spec.type)) +
                                      " connection; SQL statements run on postgres, mysql, "
                                      "sqlite and clickhouse connections");
    }
    auto named = [&](core::error e) {
        e.message = "connection '" + spec.name + "': " + e.message;
        return e;
    };
    switch (*dialect) {
        case sql_dialect::sqlite: {
            auto s = sqlite_session::open(spec.local_path, spec.connect_timeout);
            if (!s) {
                return named(s.error());
            }
            return std::unique_ptr<sql_session>(std::move(*s));
        }
        case sql_dialect::postgres: {
            auto s = postgres_session::open(spec.url, spec.connect_timeout, std::move(notices));
            if (!s) {
                return named(s.error());
            }
            return std::unique_ptr<sql_session>(std::move(*s));
        }
        case sql_dialect::clickhouse: {
            // ch_link names the connection in its messages itself.
            auto s = clickhouse_session::open(spec);
            if (!s) {
                return s.error();
            }
            return std::unique_ptr<sql_session>(std::move(*s));
        }
        case sql_dialect::mysql: {
            auto s = mysql_session::open(spec.url, spec.connect_timeout);
            if (!s) {
                return named(s.error());
            }
            return std::unique_ptr<sql_session>(std::move(*s));
        }
    }
    return core::error::permanent("unsupported connection type");
}

}  // namespace sluice::connectors
