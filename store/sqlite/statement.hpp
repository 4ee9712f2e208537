#pragma once

#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace sluice::store::sqlite {

// One prepared statement (RAII over sqlite3_stmt). Not thread-safe: it belongs to one connection.
class statement {
public:
    statement() = default;
    statement(sqlite3_stmt* stmt) noexcept : stmt_(stmt) {}
    statement(statement&& other) noexcept;
    statement& operator=(statement&& other) noexcept;
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    ~statement();

    sqlite3_stmt* get() const noexcept { return stmt_; }

    // Binds by placeholder name ("$1"); a name the statement does not use is ignored.
    void bind_null(const char* name);
    void bind_int64(const char* name, long long value);
    void bind_text(const char* name, std::string_view value);

    // Steps once; true while a row is available. Throws store_failure on an error.
    bool step();
    int column_count() const;
    std::optional<std::string> column_text(int index) const;
    // Resets for reuse and clears the bindings.
    void reset() noexcept;

private:
    int index_of(const char* name) const;

    sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace sluice::store::sqlite
