#include "config/decode_context.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

namespace sluice::config {

decode_context::decode_context(const std::vector<source_file>& files, const load_options& options,
                               diagnostic_sink& sink)
    : files_(files), options_(options), sink_(sink) {}

void decode_context::error(const position& pos, std::string message) {
    sink_.error(pos, std::move(message));
}

void decode_context::error_in(const node& scalar, std::size_t offset, std::string message) {
    sink_.error(position_in_scalar(files_, scalar, offset), std::move(message));
}

position decode_context::position_in(const node& scalar, std::size_t offset) const {
    return position_in_scalar(files_, scalar, offset);
}

std::filesystem::path decode_context::base_dir(const node& n) const {
    const auto index = static_cast<std::size_t>(n.pos.file);
    return index < files_.size() ? files_[index].dir : std::filesystem::path();
}

source_position decode_context::where(const position& pos) const {
    const auto index = static_cast<std::size_t>(pos.file);
    return {index < files_.size() ? files_[index].name : std::string(), pos.line, pos.column};
}

std::string decode_context::show(const scalar_value& v) {
    if (v.interpolated && v.source != nullptr) {
        return "from " + v.source->text;
    }
    return "'" + v.text + "'";
}

bool decode_context::expect(const node& n, node_kind kind, std::string_view what,
                            std::string_view expected_type) {
    if (n.kind == kind) {
        return true;
    }
    std::string expected(expected_type);
    switch (expected.empty() ? kind : node_kind::null) {
        case node_kind::scalar:
            expected = "a string";
            break;
        case node_kind::sequence:
            expected = "a sequence";
            break;
        case node_kind::mapping:
            expected = "a mapping";
            break;
        case node_kind::null:
            break;
    }
    error(n.pos, "expected " + expected + " for '" + std::string(what) + "', got " +
                     std::string(describe_kind(n)));
    return false;
}

std::optional<scalar_value> decode_context::scalar(const node& n, std::string_view what,
                                                   std::string_view expected) {
    if (!expect(n, node_kind::scalar, what, expected)) {
        return std::nullopt;
    }
    if (!needs_interpolation(n.text)) {
        return scalar_value{n.text, false, &n};
    }
    interpolation_source source;
    source.getenv = options_.getenv;
    if (!source.getenv) {
        source.getenv = [](const std::string& name) -> std::optional<std::string> {
            const char* v = std::getenv(name.c_str());
            return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
        };
    }
    source.base_dir = base_dir(n);
    source.files = &file_cache_;
    source.max_output_bytes =
        max_interpolated_bytes - std::min(interpolated_bytes_, max_interpolated_bytes);
    interpolation_result r = interpolate(n.text, source);
    interpolated_bytes_ += r.text.size();
    if (!r.errors.empty()) {
        for (auto& e : r.errors) {
            error_in(n, e.offset, std::move(e.message));
        }
        return std::nullopt;
    }
    return scalar_value{std::move(r.text), r.interpolated, &n};
}

std::optional<std::string> decode_context::string(const node& n, std::string_view what) {
    auto v = scalar(n, what);
    if (!v) {
        return std::nullopt;
    }
    return std::move(v->text);
}

std::optional<std::string> decode_context::nonempty_string(const node& n, std::string_view what) {
    auto v = scalar(n, what);
    if (!v) {
        return std::nullopt;
    }
    if (v->text.empty()) {
        error(n.pos, "'" + std::string(what) + "' must not be empty" +
                         (v->interpolated ? " (it expands " + show(*v) + ")" : std::string()));
        return std::nullopt;
    }
    return std::move(v->text);
}

std::optional<std::int64_t> decode_context::integer(const node& n, std::string_view what,
                                                    std::int64_t min, std::int64_t max) {
    const auto v = scalar(n, what, "an integer");
    if (!v) {
        return std::nullopt;
    }
    std::string_view text = v->text;
    if (!text.empty() && text[0] == '+') {
        text.remove_prefix(1);
    }
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
        const bool overflow = ec == std::errc::result_out_of_range;
        error(n.pos,
              (overflow ? "integer " + show(*v) + " is too large" : "invalid integer " + show(*v)) +
                  " for '" + std::string(what) + "'");
        return std::nullopt;
    }
    if (value < min || value > max) {
        error(n.pos, "'" + std::string(what) + "' must be between " + std::to_string(min) +
                         " and " + std::to_string(max) + ", got " +
                         (v->interpolated ? "a value " + show(*v) : std::to_string(value)));
        return std::nullopt;
    }
    return value;
}

std::optional<int> decode_context::small_integer(const node& n, std::string_view what, int min,
                                                 int max) {
    const auto v = integer(n, what, min, max);
    if (!v) {
        return std::nullopt;
    }
    return static_cast<int>(*v);
}

std::optional<double> decode_context::number(const node& n, std::string_view what, double min,
                                             double max) {
    const auto v = scalar(n, what, "a number");
    if (!v) {
        return std::nullopt;
    }
    const std::string& text = v->text;
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() ||
        !std::isfinite(value)) {
        error(n.pos, "invalid number " + show(*v) + " for '" + std::string(what) + "'");
        return std::nullopt;
    }
    if (value < min || value > max) {
        auto fmt = [](double d) {
            std::string s = std::to_string(d);
            s.erase(s.find_last_not_of('0') + 1);
            if (!s.empty() && s.back() == '.') {
                s.pop_back();
            }
            return s;
        };
        error(n.pos, "'" + std::string(what) + "' must be between " + fmt(min) + " and " +
                         fmt(max) + ", got " + (v->interpolated ? "a value " + show(*v) : text));
        return std::nullopt;
    }
    return value;
}

std::optional<bool> decode_context::boolean(const node& n, std::string_view what) {
    const auto v = scalar(n, what, "a boolean (true or false)");
    if (!v) {
        return std::nullopt;
    }
    if (v->text == "true" || v->text == "True" || v->text == "TRUE") {
        return true;
    }
    if (v->text == "false" || v->text == "False" || v->text == "FALSE") {
        return false;
    }
    error(n.pos,
          "invalid boolean " + show(*v) + " for '" + std::string(what) + "': use true or false");
    return std::nullopt;
}

std::optional<core::duration> decode_context::duration(const node& n, std::string_view what,
                                                       core::duration min) {
    const auto v = scalar(n, what, "a duration");
    if (!v) {
        return std::nullopt;
    }
    const auto parsed = core::parse_duration(v->text);
    if (!parsed) {
        // core's message quotes the text; it may be secret, so the message is built here.
        const bool too_large = parsed.error().message.find("too large") != std::string::npos;
        error(n.pos, "invalid duration " + show(*v) + " for '" + std::string(what) + "': " +
                         (too_large ? std::string("too large")
                                    : "expected a duration such as 500ms, 90s, 15m, 2h, 1d or "
                                      "1h30m"));
        return std::nullopt;
    }
    if (*parsed < min) {
        error(n.pos, "'" + std::string(what) + "' must be at least " + core::format_duration(min));
        return std::nullopt;
    }
    return *parsed;
}

std::optional<std::size_t> decode_context::byte_size(const node& n, std::string_view what) {
    const auto v = scalar(n, what, "a size");
    if (!v) {
        return std::nullopt;
    }
    const std::string& text = v->text;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    static constexpr std::pair<std::string_view, std::uint64_t> units[] = {
        {"", 1},
        {"B", 1},
        {"KiB", 1ULL << 10},
        {"MiB", 1ULL << 20},
        {"GiB", 1ULL << 30},
        {"KB", 1000},
        {"MB", 1000000},
        {"GB", 1000000000},
    };
    if (ec == std::errc{} && end != text.data()) {
        const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
        for (const auto& [name, scale] : units) {
            if (unit == name) {
                if (value > std::numeric_limits<std::uint64_t>::max() / scale / 2) {
                    break;
                }
                return static_cast<std::size_t>(value * scale);
            }
        }
    }
    error(n.pos, "invalid size " + show(*v) + " for '" + std::string(what) +
                     "': expected a number of bytes or a size such as 512KiB, 1MiB or 10MB");
    return std::nullopt;
}

std::optional<std::vector<std::string>> decode_context::string_list(const node& n,
                                                                    std::string_view what,
                                                                    bool allow_single) {
    if (allow_single && n.is_scalar()) {
        auto one = nonempty_string(n, what);
        if (!one) {
            return std::nullopt;
        }
        return std::vector<std::string>{std::move(*one)};
    }
    if (!n.is_sequence()) {
        error(n.pos, "expected " + std::string(allow_single ? "a string or " : "") +
                         "a sequence of strings for '" + std::string(what) + "', got " +
                         std::string(describe_kind(n)));
        return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (const node& item : n.items) {
        auto s = nonempty_string(item, what);
        if (s) {
            out.push_back(std::move(*s));
        } else {
            ok = false;
        }
    }
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

std::optional<std::vector<decode_context::string_pair>> decode_context::string_map(
    const node& n, std::string_view what) {
    if (!expect(n, node_kind::mapping, what)) {
        return std::nullopt;
    }
    std::vector<string_pair> out;
    bool ok = true;
    for (const auto& e : n.entries) {
        auto v = scalar(e.value, e.key);
        if (!v) {
            ok = false;
            continue;
        }
        out.push_back({e.key, std::move(v->text), v->interpolated, &e});
    }
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

void decode_context::report_bad_choice(const scalar_value& v, std::string_view what,
                                       std::span<const std::string_view> valid) {
    // Spelling hints would hint at a secret value, so interpolated values get the list only.
    const std::string hint = v.interpolated ? std::string() : did_you_mean(v.text, valid);
    error(v.source != nullptr ? v.source->pos : position{},
          "invalid value " + show(v) + " for '" + std::string(what) + "': expected one of " +
              join_names(valid) + hint);
}

map_reader::map_reader(decode_context& ctx, const node& n, std::string what, position owner)
    : ctx_(ctx), what_(std::move(what)), owner_(owner) {
    if (n.is_mapping()) {
        node_ = &n;
    } else {
        ctx_.error(n.pos,
                   "expected a mapping for " + what_ + ", got " + std::string(describe_kind(n)));
    }
}

const std::vector<map_entry>& map_reader::entries() const {
    static const std::vector<map_entry> none;
    return node_ != nullptr ? node_->entries : none;
}

void map_reader::allow(std::initializer_list<std::string_view> allowed) {
    allow(std::span<const std::string_view>(allowed.begin(), allowed.size()));
}

void map_reader::allow(std::span<const std::string_view> allowed) {
    for (const auto& e : entries()) {
        if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) {
            continue;
        }
        const std::string hint = did_you_mean(e.key, allowed);
        ctx_.error(e.key_pos, "unknown key '" + e.key + "' in " + what_ +
                                  (hint.empty() ? "; valid keys: " + join_names(allowed) : hint));
    }
}

const map_entry* map_reader::entry(std::string_view key) const {
    return node_ != nullptr ? node_->find(key) : nullptr;
}

const node* map_reader::get(std::string_view key) const {
    const map_entry* e = entry(key);
    return e != nullptr ? &e->value : nullptr;
}

const node* map_reader::require(std::string_view key) const {
    const node* n = get(key);
    if (n == nullptr && node_ != nullptr) {
        ctx_.error(owner_, "missing required key '" + std::string(key) + "' in " + what_);
    }
    return n;
}

namespace {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), ignoring case.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    auto lower = [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    };
    const std::size_t n = a.size();
    const std::size_t m = b.size();
    std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
    for (std::size_t i = 0; i <= n; ++i) {
        d[i][0] = i;
    }
    for (std::size_t j = 0; j <= m; ++j) {
        d[0][j] = j;
    }
    for (std::size_t i = 1; i <= n; ++i) {
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1])) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[n][m];
}

}  // namespace

std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates) {
    // Bounded so that hostile input (a huge key) stays cheap.
    if (word.empty() || word.size() > 256) {
        return std::nullopt;
    }
    const std::size_t limit = word.size() <= 3 ? 1 : word.size() <= 6 ? 2 : 3;
    std::optional<std::string_view> best;
    std::size_t best_distance = limit + 1;
    for (const auto& c : candidates) {
        if (c.size() > word.size() + limit || word.size() > c.size() + limit) {
            continue;
        }
        const std::size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

std::string join_names(std::span<const std::string_view> names) {
    std::string out;
    for (const auto& n : names) {
        if (!out.empty()) {
            out += ", ";
        }
        out += n;
    }
    return out;
}

std::string join_names(const std::vector<std::string>& names) {
    std::vector<std::string_view> views(names.begin(), names.end());
    return join_names(views);
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
    const auto match = closest_match(word, candidates);
    return match ? "; did you mean '" + std::string(*match) + "'?" : std::string();
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
    std::vector<std::string_view> views(candidates.begin(), candidates.end());
    return did_you_mean(word, views);
}

bool is_valid_name(std::string_view name) {
    if (name.empty() || name.size() > 128) {
        return false;
    }
    const unsigned char first = static_cast<unsigned char>(name[0]);
    if (!std::isalnum(first) && first != '_') {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return std::isalnum(u) || c == '_' || c == '-' || c == '.';
    });
}

std::vector<const node*> list_items(const node& n) {
    std::vector<const node*> items;
    if (n.is_sequence()) {
        for (const node& item : n.items) {
            items.push_back(&item);
        }
    } else {
        items.push_back(&n);
    }
    return items;
}

bool is_variable_key(std::string_view key) {
    return !key.empty() && key.size() <= 128 && std::all_of(key.begin(), key.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return std::isalnum(u) || c == '_' || c == '-' || c == '.';
    });
}

bool is_identifier(std::string_view name) {
    if (name.empty() || name.size() > 128 || std::isdigit(static_cast<unsigned char>(name[0]))) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

}  // namespace sluice::config
