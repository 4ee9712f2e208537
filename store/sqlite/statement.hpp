#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

    // Binds placeholder $number ($1, $2, ...); a number the statement does not use is ignored.
    void bind_null(std::size_t number);
    void bind_int64(std::size_t number, long long value);
    void bind_text(std::size_t number, std::string_view value);

    // Steps once; true while a row is available. Throws store_failure on an error.
    bool step();
    int column_count() const;
    std::optional<std::string> column_text(int index) const;
    // Resets for reuse and clears the bindings.
    void reset() noexcept;

private:
    int index_of(std::size_t number);

    sqlite3_stmt* stmt_ = nullptr;
    // $N -> SQLite's parameter index (0: not used), read once: looking a name up is a linear
    // scan, which a multi-row statement with hundreds of parameters paid at every bind.
    std::vector<int> slots_;
    bool slots_read_ = false;
};

}  // namespace sluice::store::sqlite
