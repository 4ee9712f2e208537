#include "config/document.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include <yaml-cpp/yaml.h>

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

namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

class converter {
public:
    converter(const source_file& file, int file_index, diagnostic_sink& sink)
        : file_(file), file_index_(file_index), sink_(sink) {}

    node convert(const YAML::Node& y, int depth, const position& fallback) {
        node out;
        out.pos = fallback;
        if (depth > max_document_depth) {
            if (!too_deep_) {
                too_deep_ = true;
                sink_.error(fallback, "values are nested more than " +
                                          std::to_string(max_document_depth) +
                                          " levels deep (or an alias refers to itself)");
            }
            return out;
        }
        if (++count_ > max_document_nodes) {
            if (!too_big_) {
                too_big_ = true;
                sink_.error(fallback, "the document holds more than " +
                                          std::to_string(max_document_nodes) +
                                          " values once aliases are expanded");
            }
            return out;
        }
        switch (y.Type()) {
            case YAML::NodeType::Scalar:
                if (!within_byte_budget(y.Scalar().size(), fallback)) {
                    return out;
                }
                out.kind = node_kind::scalar;
                out.text = y.Scalar();
                out.pos = scalar_start(at(y.Mark(), fallback), out.style);
                break;
            case YAML::NodeType::Sequence: {
                out.kind = node_kind::sequence;
                out.pos = at(y.Mark(), fallback);
                for (auto it = y.begin(); it != y.end(); ++it) {
                    out.items.push_back(convert(*it, depth + 1, out.pos));
                }
                break;
            }
            case YAML::NodeType::Map:
                out.kind = node_kind::mapping;
                out.pos = at(y.Mark(), fallback);
                convert_mapping(y, depth, out);
                break;
            default:  // Null and Undefined
                break;
        }
        return out;
    }

private:
    // Aliases repeat text without repeating it in the file: bound the expanded total.
    bool within_byte_budget(std::size_t size, const position& pos) {
        bytes_ += size;
        if (bytes_ <= max_document_bytes) {
            return true;
        }
        if (!too_long_) {
            too_long_ = true;
            sink_.error(pos, "the document holds more than " +
                                 std::to_string(max_document_bytes / (1024 * 1024)) +
                                 " MiB of text once aliases are expanded");
        }
        return false;
    }

    position at(const YAML::Mark& m, const position& fallback) const {
        if (m.is_null() || m.line < 0 || m.column < 0 || m.pos < 0) {
            return fallback;
        }
        return position{file_index_, m.line + 1, m.column + 1, static_cast<std::size_t>(m.pos)};
    }

    // yaml-cpp marks a tagged or anchored scalar at its tag/anchor: move to the scalar itself
    // (when it is on the same line) and read its style from the first character.
    position scalar_start(position pos, scalar_style& style) const {
        const std::string& s = file_.text;
        std::size_t i = pos.offset;
        while (i < s.size() && (s[i] == '!' || s[i] == '&')) {
            while (i < s.size() && !is_blank(s[i]) && s[i] != '\n' && s[i] != '\r') {
                ++i;
            }
            while (i < s.size() && is_blank(s[i])) {
                ++i;
            }
        }
        if (i >= s.size() || s[i] == '\n' || s[i] == '\r') {
            i = pos.offset;
        }
        pos.column += static_cast<int>(i - pos.offset);
        pos.offset = i;
        style = scalar_style::plain;
        if (i < s.size()) {
            switch (s[i]) {
                case '"':
                    style = scalar_style::double_quoted;
                    break;
                case '\'':
                    style = scalar_style::single_quoted;
                    break;
                case '|':
                case '>':
                    style = scalar_style::block;
                    break;
                default:
                    break;
            }
        }
        return pos;
    }

    void convert_mapping(const YAML::Node& y, int depth, node& out) {
        std::map<std::string, int, std::less<>> first_line;
        std::vector<node> merges;  // values of "<<" merge keys, applied after explicit keys
        for (auto it = y.begin(); it != y.end(); ++it) {
            // Copies: `it->` yields a temporary proxy, so references into it would dangle.
            const YAML::Node k = it->first;
            const YAML::Node v = it->second;
            const position key_pos = at(k.Mark(), out.pos);
            if (!k.IsScalar()) {
                sink_.error(key_pos, "a mapping key must be a plain string, not " +
                                         std::string(k.IsNull() ? "null" : "a collection"));
                continue;
            }
            const std::string& key = k.Scalar();
            if (!within_byte_budget(key.size(), key_pos)) {
                continue;
            }
            const auto [seen, inserted] = first_line.emplace(key, key_pos.line);
            if (!inserted) {
                sink_.error(key_pos, "duplicate key '" + key + "' (first defined at line " +
                                         std::to_string(seen->second) + ")");
                continue;
            }
            node value = convert(v, depth + 1, key_pos);
            if (key == "<<" && k.Tag() == "?") {
                merges.push_back(std::move(value));
                continue;
            }
            out.entries.push_back(map_entry{key, key_pos, std::move(value)});
        }
        for (const node& m : merges) {
            if (m.is_mapping()) {
                apply_merge(out, m);
            } else if (m.is_sequence() &&
                       std::all_of(m.items.begin(), m.items.end(),
                                   [](const node& n) { return n.is_mapping(); })) {
                for (const node& item : m.items) {
                    apply_merge(out, item);
                }
            } else {
                sink_.error(m.pos, "a '<<' merge key needs a mapping or a list of mappings");
            }
        }
    }

    // YAML merge keys: keys already present win over merged ones, earlier merges over later.
    static void apply_merge(node& out, const node& source) {
        for (const auto& e : source.entries) {
            if (out.find(e.key) == nullptr) {
                out.entries.push_back(e);
            }
        }
    }

    const source_file& file_;
    int file_index_;
    diagnostic_sink& sink_;
    std::size_t count_ = 0;
    std::size_t bytes_ = 0;
    bool too_deep_ = false;
    bool too_big_ = false;
    bool too_long_ = false;
};

// yaml-cpp 0.7 never returns (allocating without bound) on a ',' at the root level of a
// document ("," or "- [a]\n,"), found by the fuzzer. In valid YAML a ',' cannot start a value
// there: it is an error, found here before yaml-cpp sees the text. Tracks just enough (quotes,
// flow depth, block scalars, comments) never to flag a ',' that YAML allows.
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

}  // namespace

std::optional<node> parse_document(const source_file& file, int file_index, diagnostic_sink& sink) {
    position origin{file_index, 1, 1, 0};
    if (const auto comma = find_root_comma(file.text, file_index)) {
        sink.error(*comma, "invalid YAML: a ',' cannot start a value outside [ ] or { }");
        return std::nullopt;
    }
    try {
        const std::vector<YAML::Node> docs = YAML::LoadAll(file.text);
        if (docs.empty()) {
            node empty;
            empty.pos = origin;
            return empty;
        }
        if (docs.size() > 1) {
            const YAML::Mark m = docs[1].Mark();
            position second = origin;
            if (!m.is_null() && m.line >= 0) {
                second = position{file_index, m.line + 1, m.column + 1,
                                  static_cast<std::size_t>(std::max(m.pos, 0))};
            }
            sink.error(second,
                       "a configuration file holds one YAML document, but a second one starts "
                       "here (remove the '---' separator)");
        }
        converter c(file, file_index, sink);
        return c.convert(docs.front(), 0, origin);
    } catch (const YAML::Exception& e) {
        position pos = origin;
        if (!e.mark.is_null() && e.mark.line >= 0 && e.mark.column >= 0) {
            pos.line = e.mark.line + 1;
            pos.column = e.mark.column + 1;
        }
        sink.error(pos, "invalid YAML: " + e.msg);
        return std::nullopt;
    }
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
