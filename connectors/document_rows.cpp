#include "connectors/document_rows.hpp"

#include <charconv>

#include "connectors/text_codec.hpp"
#include "core/json_depth.hpp"

namespace sluice::connectors {

core::result<nlohmann::ordered_json> parse_document(std::string_view text) {
    if (!core::json_depth_within(text)) {
        return core::error::permanent("the JSON nests arrays or objects deeper than " +
                                      std::to_string(core::max_json_depth) + " levels");
    }
    auto parsed = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
        return core::error::permanent("not valid JSON");
    }
    return core::result<nlohmann::ordered_json>(boost::system::in_place_value, std::move(parsed));
}

void add_document_text(row_batch& out, std::string_view text, column_type type) {
    switch (type) {
        case column_type::bytes: {
            std::string& arena = out.begin_cell();
            const std::size_t start = arena.size();
            if (!append_unbase64(arena, text)) {
                arena.resize(start);
                arena.append(text);
            }
            out.end_cell();
            return;
        }
        case column_type::boolean:
            if (auto b = parse_boolean(text)) {
                out.add(*b ? "true" : "false");
                return;
            }
            break;
        case column_type::timestamp:
        case column_type::timestamp_tz:
            out.add(canonical_timestamp(text));
            return;
        default:
            break;
    }
    out.add(text);
}

void add_json_value(row_batch& out, const nlohmann::ordered_json& value, column_type type) {
    if (value.is_null()) {
        out.add_null();
    } else if (type == column_type::json) {
        out.add(value.dump());  // a JSON column holds any JSON value, strings included
    } else if (value.is_string()) {
        add_document_text(out, value.get_ref<const std::string&>(), type);
    } else if (value.is_boolean()) {
        out.add(value.get<bool>() ? "true" : "false");
    } else if (value.is_number_float()) {
        out.add(format_float64(value.get<double>()));
    } else {
        out.add(value.dump());  // integers exactly; objects and arrays as JSON text
    }
}

nlohmann::ordered_json json_value_of(std::string_view cell, column_type type) {
    switch (type) {
        case column_type::boolean:
            return parse_boolean(cell).value_or(false);
        case column_type::int16:
        case column_type::int32:
        case column_type::int64: {
            std::int64_t n = 0;
            const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), n);
            if (ec == std::errc() && end == cell.data() + cell.size()) {
                return n;
            }
            break;
        }
        case column_type::float32:
        case column_type::float64: {
            auto d = parse_float(cell);
            if (d && std::isfinite(*d)) {
                return *d;
            }
            break;  // NaN and infinities have no JSON number: their text
        }
        case column_type::bytes: {
            std::string encoded;
            append_base64(encoded, cell);
            return encoded;
        }
        case column_type::json: {
            if (auto parsed = parse_document(cell)) {
                return std::move(*parsed);
            }
            break;
        }
        default:
            break;
    }
    return std::string(cell);
}

schema schema_of_object(const nlohmann::ordered_json& object,
                        const std::optional<schema>& expected) {
    schema out;
    for (const auto& [key, value] : object.items()) {
        column c;
        c.name = key;
        if (expected) {
            if (auto i = expected->index_of(key)) {
                c = expected->columns[*i];
                out.columns.push_back(c);
                continue;
            }
        }
        if (value.is_number_integer()) {
            c.type = column_type::int64;
        } else if (value.is_number_float()) {
            c.type = column_type::float64;
        } else if (value.is_boolean()) {
            c.type = column_type::boolean;
        } else if (value.is_object() || value.is_array()) {
            c.type = column_type::json;
        } else {
            c.type = column_type::text;
        }
        out.columns.push_back(c);
    }
    return out;
}

namespace {

// Exact comparison of plain decimal numbers ("-12.50", "7"); nullopt when either is not one.
std::optional<int> compare_decimal_text(std::string_view a, std::string_view b) {
    struct parts {
        bool negative = false;
        std::string_view whole;
        std::string_view fraction;
    };
    auto split = [](std::string_view v) -> std::optional<parts> {
        parts p;
        if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
            p.negative = v[0] == '-';
            v.remove_prefix(1);
        }
        const auto dot = v.find('.');
        p.whole = v.substr(0, dot);
        p.fraction = dot == std::string_view::npos ? std::string_view() : v.substr(dot + 1);
        if (p.whole.empty() && p.fraction.empty()) {
            return std::nullopt;
        }
        for (std::string_view s : {p.whole, p.fraction}) {
            for (const char c : s) {
                if (c < '0' || c > '9') {
                    return std::nullopt;
                }
            }
        }
        while (!p.whole.empty() && p.whole.front() == '0') {
            p.whole.remove_prefix(1);
        }
        while (!p.fraction.empty() && p.fraction.back() == '0') {
            p.fraction.remove_suffix(1);
        }
        if (p.whole.empty() && p.fraction.empty()) {
            p.negative = false;  // -0 == 0
        }
        return p;
    };
    const auto x = split(a);
    const auto y = split(b);
    if (!x || !y) {
        return std::nullopt;
    }
    if (x->negative != y->negative) {
        return x->negative ? -1 : 1;
    }
    int magnitude = 0;
    if (x->whole.size() != y->whole.size()) {
        magnitude = x->whole.size() < y->whole.size() ? -1 : 1;
    } else if (int c = x->whole.compare(y->whole); c != 0) {
        magnitude = c < 0 ? -1 : 1;
    } else if (int f = x->fraction.compare(y->fraction); f != 0) {
        magnitude = f < 0 ? -1 : 1;
    }
    return x->negative ? -magnitude : magnitude;
}

}  // namespace

int compare_canonical(std::string_view a, std::string_view b, column_type type) {
    switch (type) {
        case column_type::int16:
        case column_type::int32:
        case column_type::int64:
        case column_type::decimal:
            if (auto c = compare_decimal_text(a, b)) {
                return *c;
            }
            [[fallthrough]];
        case column_type::float32:
        case column_type::float64: {
            const auto x = parse_float(a);
            const auto y = parse_float(b);
            if (x && y) {
                return *x < *y ? -1 : (*y < *x ? 1 : 0);
            }
            break;
        }
        default:
            break;
    }
    return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

bool passes_after(const read_request& request, const schema& columns, const row_batch& rows,
                  std::size_t row) {
    if (!request.after || request.after->values.empty()) {
        return true;
    }
    const auto& a = *request.after;
    const std::size_t n = std::min(a.columns.size(), a.values.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto col = columns.index_of(a.columns[i]);
        if (!col) {
            return false;
        }
        if (rows.is_null(row, *col)) {
            return false;  // NULL sorts first: never after a bound
        }
        const int c =
            compare_canonical(rows.at(row, *col), a.values[i], columns.columns[*col].type);
        if (c != 0) {
            return c > 0;
        }
    }
    return a.inclusive;
}

}  // namespace sluice::connectors
