#include "connectors/sql_errors.hpp"

#include <algorithm>
#include <array>

#include <sqlite3.h>

namespace sluice::connectors {

core::error_class classify_sqlstate(std::string_view sqlstate) {
    static constexpr std::array<std::string_view, 7> transient{"40001", "40P01", "55P03", "57014",
                                                               "57P01", "57P02", "57P03"};
    const bool known = std::find(transient.begin(), transient.end(), sqlstate) != transient.end();
    const bool transient_class = sqlstate.substr(0, 2) == "08" || sqlstate.substr(0, 2) == "53";
    return known || transient_class ? core::error_class::transient : core::error_class::permanent;
}

core::error_class classify_mysql_errno(unsigned int code) {
    static constexpr std::array<unsigned int, 13> transient{
        2002, 2003, 2006, 2013, 2055, 1040, 1053, 1205, 1213, 1317, 1927, 1969, 3024};
    return std::find(transient.begin(), transient.end(), code) != transient.end()
               ? core::error_class::transient
               : core::error_class::permanent;
}

core::error_class classify_sqlite_code(int code) {
    switch (code & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_INTERRUPT:
        case SQLITE_IOERR:
        case SQLITE_PROTOCOL:
            return core::error_class::transient;
        default:
            return core::error_class::permanent;
    }
}

}  // namespace sluice::connectors
