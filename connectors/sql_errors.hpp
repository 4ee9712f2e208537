#pragma once

#include <string_view>

#include "core/error.hpp"

// Which database errors are worth retrying (docs/etl.md#errors): connection loss, deadlock,
// serialization failure, lock or statement timeout and server shutdown are transient; syntax
// errors, denied permissions, missing objects and anything not known to be transient are permanent.
namespace sluice::connectors {

// By PostgreSQL SQLSTATE: class 08 (connection), 40001, 40P01, 55P03, 57014 (query canceled:
// statement_timeout), 57P01-57P03 (shutdown, cannot connect now), class 53 (insufficient
// resources: too many connections, out of memory or disk) are transient.
core::error_class classify_sqlstate(std::string_view sqlstate);

// By MySQL/MariaDB error number: 2002/2003/2006/2013/2055 (cannot connect, server gone, lost),
// 1040 (too many connections), 1053 (shutdown), 1205 (lock wait timeout), 1213 (deadlock),
// 1317/1927 (interrupted, connection killed), 1969/3024 (statement timeout) are transient.
core::error_class classify_mysql_errno(unsigned int code);

// By SQLite primary result code: SQLITE_BUSY, SQLITE_LOCKED, SQLITE_INTERRUPT, SQLITE_IOERR,
// SQLITE_PROTOCOL are transient.
core::error_class classify_sqlite_code(int code);

}  // namespace sluice::connectors
