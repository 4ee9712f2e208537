#pragma once

#include <cstddef>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

// CSV as RFC 4180 has it: records split on LF or CRLF outside quotes, fields on commas, '"'
// quoting with doubled quotes inside.
namespace sluice::connectors {

// Splits a byte stream into CSV records. Fields are views into the record buffer, with a flag
// for "was quoted" (an empty unquoted field is NULL for the file source). A record longer than
// `max_record_bytes` is an error (an unclosed quote would otherwise read the whole file).
class csv_splitter {
public:
    static constexpr std::size_t read_chunk_bytes = 256 * 1024;
    static constexpr std::size_t max_record_bytes = 64 * 1024 * 1024;

    explicit csv_splitter(std::ifstream& in) : in_(in) {}

    struct field {
        std::string_view text;
        bool quoted = false;
    };

    // The next record's fields; false at the end of the file.
    core::result<bool> next(std::vector<field>& out);

private:
    struct span {
        std::size_t begin;
        std::size_t end;
        bool quoted;
    };

    bool fill();

    std::ifstream& in_;
    char buf_[read_chunk_bytes];
    std::size_t pos_ = 0;
    std::size_t len_ = 0;
    std::string record_;
    std::vector<span> spans_;
};

// Appends `v` as one CSV field, quoted when it is empty or holds a comma, quote, CR or LF.
void append_csv_field(std::string& out, std::string_view v);

}  // namespace sluice::connectors
