#include "config/document.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include "config/root_comma.hpp"

namespace sluice::config {

const map_entry* node::find(std::string_view key) const {
    for (const auto& e : entries) {
        if (e.key == key) {
            return &e;
        }
    }
    return nullptr;
}

map_entry* node::find(std::string_view key) {
    for (auto& e : entries) {
        if (e.key == key) {
            return &e;
        }
    }
    return nullptr;
}

void diagnostic_sink::error(const position& pos, std::string message) {
    if (entries_.size() >= max_diagnostics) {
        throw diagnostic_limit_reached{};
    }
    entries_.push_back({pos, false, std::move(message)});
}

void diagnostic_sink::file_error(int file, std::string message) {
    position pos;
    pos.file = file;
    entries_.push_back({pos, true, std::move(message)});
}

std::vector<diagnostic> diagnostic_sink::take(const std::vector<source_file>& files) {
    auto key = [](const entry& e) {
        return std::make_tuple(e.pos.file, e.whole_file ? 0 : e.pos.line,
                               e.whole_file ? 0 : e.pos.column);
    };
    std::stable_sort(entries_.begin(), entries_.end(),
                     [&](const entry& a, const entry& b) { return key(a) < key(b); });
    std::vector<diagnostic> out;
    for (const auto& e : entries_) {
        diagnostic d;
        const auto index = static_cast<std::size_t>(e.pos.file);
        d.file = index < files.size() ? files[index].name : std::string("<config>");
        d.line = e.whole_file ? 0 : e.pos.line;
        d.column = e.whole_file ? 0 : e.pos.column;
        d.message = e.message;
        const bool duplicate = !out.empty() && out.back().file == d.file &&
                               out.back().line == d.line && out.back().column == d.column &&
                               out.back().message == d.message;
        if (!duplicate) {
            out.push_back(std::move(d));
        }
    }
    entries_.clear();
    return out;
}

std::optional<position> find_root_comma(const std::string& s, int file_index) {
    int flow_depth = 0;
    char quote = 0;         // the open quote of a scalar spanning lines
    int block_parent = -1;  // >= 0: inside a block scalar whose parent line had this indent
    int root_indent = -1;   // indentation of the first content line
    std::size_t line_start = 0;
    for (int line = 1; line_start <= s.size(); ++line) {
        std::size_t end = s.find('\n', line_start);
        if (end == std::string::npos) {
            end = s.size();
        }
        const std::string_view text(s.data() + line_start, end - line_start);
        const std::size_t first = text.find_first_not_of(" \t\r");
        const std::size_t spaces = text.find_first_not_of(' ');
        const int indent =
            static_cast<int>(spaces == std::string_view::npos ? text.size() : spaces);
        if (block_parent >= 0 && (first == std::string_view::npos || indent > block_parent)) {
            line_start = end + 1;
            continue;
        }
        block_parent = -1;
        std::size_t i = first == std::string_view::npos ? text.size() : first;
        if (quote == 0 && flow_depth == 0 && i < text.size() && text[i] != '#') {
            if (root_indent < 0) {
                root_indent = indent;
            }
            std::size_t token = i;
            if (text.substr(i, 3) == "---") {
                token = text.find_first_not_of(" \t", i + 3);
            }
            if (token != std::string_view::npos && token < text.size() && text[token] == ',' &&
                indent <= root_indent) {
                return position{file_index, line, static_cast<int>(token) + 1, line_start + token};
            }
        }
        char last_token = 0;  // the last significant character outside quotes and comments
        bool token_start = true;
        for (; i < text.size(); ++i) {
            const char c = text[i];
            if (quote == '"') {
                if (c == '\\') {
                    ++i;
                } else if (c == '"') {
                    quote = 0;
                }
                continue;
            }
            if (quote == '\'') {
                if (c == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
                    ++i;
                } else if (c == '\'') {
                    quote = 0;
                }
                continue;
            }
            if (c == ' ' || c == '\t') {
                token_start = true;
                continue;
            }
            if (c == '#' && token_start) {
                break;
            }
            if ((c == '"' || c == '\'') &&
                (token_start || last_token == '[' || last_token == '{' || last_token == ',')) {
                quote = c;
            } else if (c == '[' || c == '{') {
                ++flow_depth;
            } else if ((c == ']' || c == '}') && flow_depth > 0) {
                --flow_depth;
            }
            last_token = c;
            token_start = c == '[' || c == '{' || c == ',';
        }
        // "key: |", "- >-", "key: |2 # note": the lines that follow are block text.
        if (quote == 0 && flow_depth == 0) {
            const std::string_view code = text.substr(0, text.find(" #"));
            const std::size_t last = code.find_last_not_of(" \t\r");
            if (last != std::string_view::npos) {
                const std::size_t word = code.find_last_of(" \t", last);
                const std::size_t begin = word == std::string_view::npos ? 0 : word + 1;
                const std::string_view tail = code.substr(begin, last + 1 - begin);
                if (!tail.empty() && (tail[0] == '|' || tail[0] == '>') &&
                    tail.find_first_not_of("|>+-0123456789") == std::string_view::npos) {
                    block_parent = indent;
                }
            }
        }
        line_start = end + 1;
    }
    return std::nullopt;
}

void merge_into(node& base, const node& overlay) {
    if (overlay.is_null()) {
        return;
    }
    if (!base.is_mapping() || !overlay.is_mapping()) {
        base = overlay;
        return;
    }
    for (const auto& e : overlay.entries) {
        map_entry* existing = base.find(e.key);
        if (existing == nullptr) {
            base.entries.push_back(e);
        } else if (existing->value.is_mapping() && e.value.is_mapping()) {
            merge_into(existing->value, e.value);
        } else {
            existing->value = e.value;
        }
    }
}

namespace {

int hex_value(std::string_view s) {
    int v = 0;
    for (char c : s) {
        v *= 16;
        if (c >= '0' && c <= '9') {
            v += c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v += c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v += c - 'A' + 10;
        } else {
            return -1;
        }
    }
    return v;
}

std::size_t utf8_length(int code_point) {
    if (code_point < 0x80) {
        return 1;
    }
    if (code_point < 0x800) {
        return 2;
    }
    return code_point < 0x10000 ? 3 : 4;
}

// The file offset of decoded byte `offset` of a quoted or plain scalar starting at `begin`, or
// nullopt where the mapping is not exact.
std::optional<std::size_t> file_offset(const std::string& s, std::size_t begin, scalar_style style,
                                       std::size_t offset) {
    std::size_t j = begin;
    if (style == scalar_style::single_quoted || style == scalar_style::double_quoted) {
        ++j;
    }
    std::size_t k = 0;
    while (k < offset) {
        if (j >= s.size() || s[j] == '\n' || s[j] == '\r') {
            return std::nullopt;
        }
        const char c = s[j];
        if (style == scalar_style::single_quoted && c == '\'') {
            if (j + 1 < s.size() && s[j + 1] == '\'') {
                j += 2;
                ++k;
                continue;
            }
            return std::nullopt;
        }
        if (style == scalar_style::double_quoted && c == '"') {
            return std::nullopt;
        }
        if (style == scalar_style::double_quoted && c == '\\') {
            if (j + 1 >= s.size()) {
                return std::nullopt;
            }
            const char e = s[j + 1];
            const std::size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
            if (e == '\n' || e == '\r') {
                return std::nullopt;
            }
            if (digits == 0) {
                j += 2;
                ++k;
                continue;
            }
            if (j + 2 + digits > s.size()) {
                return std::nullopt;
            }
            const int cp = hex_value(std::string_view(s).substr(j + 2, digits));
            j += 2 + digits;
            k += (e == 'x' || cp < 0) ? 1 : utf8_length(cp);
            continue;
        }
        ++j;
        ++k;
    }
    return j;
}

// The position of decoded byte `offset` of a literal block scalar (`|`, `|-`, `|+`) whose
// header starts at `begin`: its lines are the file's lines after the header with their
// indentation removed. nullopt for a folded one (`>` joins lines) or an explicit indentation
// indicator.
std::optional<position> literal_block_position(const std::string& s, const node& scalar,
                                               std::size_t offset) {
    const std::size_t begin = scalar.pos.offset;
    if (s[begin] != '|') {
        return std::nullopt;
    }
    const auto header_end = s.find('\n', begin);
    if (header_end == std::string::npos) {
        return std::nullopt;
    }
    const auto header = std::string_view(s).substr(begin, header_end - begin);
    if (header.find_first_of("123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    // The indentation of the first line that is not blank.
    std::size_t indent = 0;
    for (std::size_t line = header_end + 1; line < s.size();) {
        const auto text = s.find_first_not_of(' ', line);
        if (text == std::string::npos) {
            return std::nullopt;
        }
        if (s[text] != '\n' && s[text] != '\r') {
            indent = text - line;
            break;
        }
        line = text + 1;
    }
    const auto before = std::string_view(scalar.text).substr(0, offset);
    const auto lines = std::count(before.begin(), before.end(), '\n');
    const auto eol = before.rfind('\n');
    const std::size_t column = offset - (eol == std::string_view::npos ? 0 : eol + 1);
    position pos = scalar.pos;
    pos.line += 1 + static_cast<int>(lines);
    pos.column = static_cast<int>(indent + column) + 1;
    return pos;
}

}  // namespace

position position_in_scalar(const std::vector<source_file>& files, const node& scalar,
                            std::size_t offset) {
    const auto index = static_cast<std::size_t>(scalar.pos.file);
    if (!scalar.is_scalar() || index >= files.size()) {
        return scalar.pos;
    }
    if (scalar.style == scalar_style::block) {
        if (scalar.pos.offset >= files[index].text.size() || offset > scalar.text.size()) {
            return scalar.pos;
        }
        return literal_block_position(files[index].text, scalar, offset).value_or(scalar.pos);
    }
    const std::string& text = files[index].text;
    if (scalar.pos.offset >= text.size()) {
        return scalar.pos;
    }
    const auto j = file_offset(text, scalar.pos.offset, scalar.style, offset);
    if (!j) {
        return scalar.pos;
    }
    position pos = scalar.pos;
    pos.column += static_cast<int>(*j - scalar.pos.offset);
    pos.offset = *j;
    return pos;
}

std::string_view describe_kind(const node& n) {
    switch (n.kind) {
        case node_kind::scalar:
            return "a scalar";
        case node_kind::sequence:
            return "a sequence";
        case node_kind::mapping:
            return "a mapping";
        case node_kind::null:
            break;
    }
    return "nothing (null)";
}

}  // namespace sluice::config
