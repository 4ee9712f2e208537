#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::connectors {

// A bounded block of rows in one arena: every cell is NULL or the canonical text of its column's
// type (column_type.hpp). Row-major; cells are appended left to right, and a row is complete when
// it has as many cells as the batch has columns. Reused between reads (clear() keeps capacity), so
// a steady copy allocates nothing per batch.
class row_batch {
public:
    explicit row_batch(std::size_t columns = 0) : columns_(columns) {}

    // Drops every row and sets the column count; capacity is kept.
    void reset(std::size_t columns) {
        columns_ = columns;
        clear();
    }
    void clear() {
        arena_.clear();
        cells_.clear();
    }

    std::size_t column_count() const { return columns_; }
    std::size_t row_count() const { return columns_ == 0 ? 0 : cells_.size() / columns_; }
    bool empty() const { return cells_.empty(); }
    // Bytes of cell data held (the bound a reader checks against batch_bytes).
    std::size_t byte_size() const { return arena_.size() + cells_.size() * sizeof(cell_ref); }

    // Appends one cell to the current row.
    void add(std::string_view value) {
        cells_.push_back(
            {static_cast<std::uint32_t>(arena_.size()), static_cast<std::int32_t>(value.size())});
        arena_.append(value);
    }
    void add_null() { cells_.push_back({static_cast<std::uint32_t>(arena_.size()), -1}); }
    void add_optional(const std::optional<std::string>& value) {
        if (value) {
            add(std::string_view(*value));
        } else {
            add_null();
        }
    }
    // Starts a cell whose bytes the caller appends to arena() (decoders write in place), then
    // closes it with end_cell().
    std::string& begin_cell() {
        open_ = arena_.size();
        return arena_;
    }
    void end_cell() {
        cells_.push_back(
            {static_cast<std::uint32_t>(open_), static_cast<std::int32_t>(arena_.size() - open_)});
    }
    // Removes the cells of an incomplete last row (a reader that hit an error mid-row).
    void drop_partial_row() {
        if (columns_ != 0) {
            cells_.resize(cells_.size() - cells_.size() % columns_);
        }
    }

    bool is_null(std::size_t row, std::size_t col) const {
        return cells_[row * columns_ + col].length < 0;
    }
    // The cell's text; empty for NULL (check is_null()).
    std::string_view at(std::size_t row, std::size_t col) const {
        const cell_ref c = cells_[row * columns_ + col];
        return c.length < 0
                   ? std::string_view()
                   : std::string_view(arena_.data() + c.offset, static_cast<std::size_t>(c.length));
    }
    std::optional<std::string> value(std::size_t row, std::size_t col) const {
        if (is_null(row, col)) {
            return std::nullopt;
        }
        return std::string(at(row, col));
    }

private:
    struct cell_ref {
        std::uint32_t offset;
        std::int32_t length;  // -1 = NULL
    };
    std::size_t columns_ = 0;
    std::size_t open_ = 0;
    std::string arena_;
    std::vector<cell_ref> cells_;
};

// How big one batch may grow: a reader stops filling at whichever bound it reaches first (a
// single row larger than max_bytes still makes a batch of one row).
struct batch_limits {
    std::size_t max_rows = 10000;
    std::size_t max_bytes = 64 * 1024 * 1024;

    bool reached(const row_batch& b) const {
        return b.row_count() >= max_rows || b.byte_size() >= max_bytes;
    }
};

}  // namespace sluice::connectors
