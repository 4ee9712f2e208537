#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "store/sql/sql_engine.hpp"

namespace sluice::store {

// Times are stored as integer microseconds since the Unix epoch (UTC) on both engines.
inline std::int64_t to_micros(core::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
inline core::time_point from_micros(std::int64_t us) {
    return core::time_point{std::chrono::microseconds{us}};
}

inline sql_value opt_micros(const std::optional<core::time_point>& t) {
    return t ? sql_value{to_micros(*t)} : sql_value{nullptr};
}
inline sql_value opt_text(const std::optional<std::string>& s) {
    return s ? sql_value{*s} : sql_value{nullptr};
}
inline sql_value opt_int(std::optional<std::int64_t> n) {
    if (n) {
        return sql_value{*n};
    }
    return sql_value{nullptr};
}
inline sql_value text(std::string_view s) {
    return sql_value{std::string(s)};
}
inline sql_value flag(bool b) {
    return sql_value{std::int64_t{b ? 1 : 0}};
}

// Reads the columns of one row in order; a malformed value is a permanent store_failure (the
// schema is ours, so it means corruption or a bug).
class row_reader {
public:
    explicit row_reader(const sql_row& row) : row_(row) {}

    bool is_null() const { return !current(); }

    std::optional<std::string> opt_text() { return next(); }
    std::string text() { return required(next(), "text"); }

    std::optional<std::int64_t> opt_int() {
        auto v = next();
        if (!v) {
            return std::nullopt;
        }
        std::int64_t n = 0;
        auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec != std::errc{} || end != v->data() + v->size()) {
            throw store_failure(core::error::permanent("store: column " +
                                                       std::to_string(index_ - 1) + " holds '" +
                                                       *v + "', expected an integer"));
        }
        return n;
    }
    std::int64_t integer() { return required(opt_int(), "integer"); }

    std::optional<core::time_point> opt_time() {
        auto n = opt_int();
        return n ? std::optional(from_micros(*n)) : std::nullopt;
    }
    core::time_point time() { return from_micros(integer()); }

    // SQLite stores 0/1, PostgreSQL returns t/f.
    bool boolean() {
        std::string v = text();
        return v == "1" || v == "t" || v == "true";
    }

private:
    const std::optional<std::string>& current() const { return row_.at(index_); }
    std::optional<std::string> next() { return row_.at(index_++); }

    template <class T>
    T required(std::optional<T> v, const char* what) {
        if (!v) {
            throw store_failure(core::error::permanent(
                "store: column " + std::to_string(index_ - 1) + " is NULL, expected " + what));
        }
        return std::move(*v);
    }

    const sql_row& row_;
    std::size_t index_ = 0;
};

}  // namespace sluice::store
