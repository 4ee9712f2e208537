#include "connectors/files/csv_format.hpp"

namespace sluice::connectors {

core::result<bool> csv_splitter::next(std::vector<field>& out) {
    out.clear();
    record_.clear();
    spans_.clear();
    std::size_t start = 0;
    bool quoted = false;
    bool in_quotes = false;
    bool any = false;
    for (;;) {
        if (pos_ == len_) {
            if (!fill()) {
                break;
            }
        }
        const char c = buf_[pos_++];
        any = true;
        if (in_quotes) {
            if (c == '"') {
                if (pos_ == len_ && !fill()) {
                    in_quotes = false;
                    continue;
                }
                if (buf_[pos_] == '"') {
                    record_ += '"';
                    ++pos_;
                } else {
                    in_quotes = false;
                }
            } else {
                record_ += c;
            }
        } else if (c == '"') {
            in_quotes = true;
            quoted = true;
        } else if (c == ',') {
            spans_.push_back({start, record_.size(), quoted});
            start = record_.size();
            quoted = false;
        } else if (c == '\n') {
            break;
        } else if (c == '\r') {
            // CRLF ends the record at the LF; a bare CR is dropped
        } else {
            record_ += c;
        }
        if (record_.size() > max_record_bytes) {
            return core::error::permanent("a CSV record is longer than " +
                                          std::to_string(max_record_bytes) +
                                          " bytes (an unclosed quote?)");
        }
    }
    if (!any) {
        return false;
    }
    spans_.push_back({start, record_.size(), quoted});
    for (const auto& s : spans_) {
        out.push_back({std::string_view(record_).substr(s.begin, s.end - s.begin), s.quoted});
    }
    return true;
}

bool csv_splitter::fill() {
    in_.read(buf_, sizeof buf_);
    len_ = static_cast<std::size_t>(in_.gcount());
    pos_ = 0;
    return len_ > 0;
}

void append_csv_field(std::string& out, std::string_view v) {
    const bool quote = v.empty() || v.find_first_of(",\"\r\n") != std::string_view::npos;
    if (!quote) {
        out += v;
        return;
    }
    out += '"';
    for (const char c : v) {
        if (c == '"') {
            out += '"';
        }
        out += c;
    }
    out += '"';
}

}  // namespace sluice::connectors
