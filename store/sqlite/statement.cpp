#include "store/sqlite/statement.hpp"

#include <utility>

#include <sqlite3.h>

#include "store/sql/sql_engine.hpp"
#include "store/sqlite/connection.hpp"

namespace sluice::store::sqlite {

statement::statement(statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      slots_(std::move(other.slots_)),
      slots_read_(std::exchange(other.slots_read_, false)) {}

statement& statement::operator=(statement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(stmt_);
        stmt_ = std::exchange(other.stmt_, nullptr);
        slots_ = std::move(other.slots_);
        slots_read_ = std::exchange(other.slots_read_, false);
    }
    return *this;
}

statement::~statement() {
    sqlite3_finalize(stmt_);
}

int statement::index_of(std::size_t number) {
    if (!slots_read_) {
        slots_read_ = true;
        const int count = sqlite3_bind_parameter_count(stmt_);
        for (int i = 1; i <= count; ++i) {
            const char* name = sqlite3_bind_parameter_name(stmt_, i);
            if (name == nullptr || name[0] != '$') {
                continue;
            }
            std::size_t n = 0;
            for (const char* c = name + 1; *c >= '0' && *c <= '9'; ++c) {
                n = n * 10 + static_cast<std::size_t>(*c - '0');
            }
            if (n >= slots_.size()) {
                slots_.resize(n + 1, 0);
            }
            slots_[n] = i;
        }
    }
    return number < slots_.size() ? slots_[number] : 0;
}

void statement::bind_null(std::size_t number) {
    if (int i = index_of(number); i > 0) {
        sqlite3_bind_null(stmt_, i);
    }
}

void statement::bind_int64(std::size_t number, long long value) {
    if (int i = index_of(number); i > 0) {
        sqlite3_bind_int64(stmt_, i, value);
    }
}

void statement::bind_text(std::size_t number, std::string_view value) {
    if (int i = index_of(number); i > 0) {
        sqlite3_bind_text64(stmt_, i, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    }
}

bool statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    throw store_failure(classify(sqlite3_db_handle(stmt_), rc, sqlite3_sql(stmt_)));
}

int statement::column_count() const {
    return sqlite3_column_count(stmt_);
}

std::optional<std::string> statement::column_text(int index) const {
    if (sqlite3_column_type(stmt_, index) == SQLITE_NULL) {
        return std::nullopt;
    }
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
    int size = sqlite3_column_bytes(stmt_, index);
    return std::string(text, static_cast<std::size_t>(size));
}

void statement::reset() noexcept {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

}  // namespace sluice::store::sqlite
