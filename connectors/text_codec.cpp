#include "connectors/text_codec.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/hex.hpp"

namespace sluice::connectors {

namespace {

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

template <class Float>
std::string format_float(Float v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "Infinity" : "-Infinity";
    }
    std::array<char, 64> buf{};
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    return std::string(buf.data(), ec == std::errc() ? end : buf.data());
}

}  // namespace

void append_tsv_escaped(std::string& out, std::string_view v, bool escape_nul) {
    for (const char c : v) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\0':
                if (escape_nul) {
                    out += "\\0";
                } else {
                    out += c;
                }
                break;
            default:
                out += c;
        }
    }
}

bool append_tsv_unescaped(std::string& out, std::string_view field) {
    for (std::size_t i = 0; i < field.size(); ++i) {
        const char c = field[i];
        if (c != '\\') {
            out += c;
            continue;
        }
        if (++i == field.size()) {
            return false;
        }
        const char e = field[i];
        switch (e) {
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'v':
                out += '\v';
                break;
            case 'x': {
                int value = 0;
                int digits = 0;
                while (digits < 2 && i + 1 < field.size() && core::hex_digit(field[i + 1]) >= 0) {
                    value = value * 16 + core::hex_digit(field[++i]);
                    ++digits;
                }
                if (digits == 0) {
                    out += 'x';
                } else {
                    out += static_cast<char>(value);
                }
                break;
            }
            default:
                if (e >= '0' && e <= '7') {
                    // PostgreSQL: up to three octal digits; ClickHouse's \0 is the one-digit case.
                    int value = e - '0';
                    int digits = 1;
                    while (digits < 3 && i + 1 < field.size() && field[i + 1] >= '0' &&
                           field[i + 1] <= '7') {
                        value = value * 8 + (field[++i] - '0');
                        ++digits;
                    }
                    out += static_cast<char>(value);
                } else {
                    out += e;  // \\ \' and any other character stand for themselves
                }
        }
    }
    return true;
}

void append_hex(std::string& out, std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
}

bool append_unhex(std::string& out, std::string_view hex) {
    if (hex.size() % 2 != 0) {
        return false;
    }
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = core::hex_digit(hex[i]);
        const int lo = core::hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out += static_cast<char>(hi * 16 + lo);
    }
    return true;
}

void append_base64(std::string& out, std::string_view bytes) {
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                           static_cast<unsigned char>(bytes[i + 1]) << 8 |
                           static_cast<unsigned char>(bytes[i + 2]);
        out += base64_alphabet[v >> 18];
        out += base64_alphabet[(v >> 12) & 63];
        out += base64_alphabet[(v >> 6) & 63];
        out += base64_alphabet[v & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        out += base64_alphabet[v >> 18];
        out += base64_alphabet[(v >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                           static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += base64_alphabet[v >> 18];
        out += base64_alphabet[(v >> 12) & 63];
        out += base64_alphabet[(v >> 6) & 63];
        out += '=';
    }
}

bool append_unbase64(std::string& out, std::string_view text) {
    unsigned buffer = 0;
    int bits = 0;
    std::size_t padding = 0;
    for (const char c : text) {
        if (c == '=') {
            ++padding;
            continue;
        }
        if (padding != 0) {
            return false;  // data after padding
        }
        const auto pos = base64_alphabet.find(c);
        if (pos == std::string_view::npos) {
            return false;
        }
        buffer = (buffer << 6) | static_cast<unsigned>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xff);
        }
    }
    return padding <= 2;
}

std::string format_float64(double v) {
    return format_float(v);
}
std::string format_float32(float v) {
    return format_float(v);
}

std::optional<double> parse_float(std::string_view text) {
    if (iequals(text, "nan") || iequals(text, "-nan") || iequals(text, "+nan")) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    if (iequals(text, "infinity") || iequals(text, "inf") || iequals(text, "+inf") ||
        iequals(text, "+infinity")) {
        return std::numeric_limits<double>::infinity();
    }
    if (iequals(text, "-infinity") || iequals(text, "-inf")) {
        return -std::numeric_limits<double>::infinity();
    }
    if (!text.empty() && text.front() == '+') {
        text.remove_prefix(1);
    }
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return v;
}

std::string canonical_timestamp(std::string_view text) {
    std::string out(text);
    if (out.size() >= 11 && out[10] == 'T') {
        out[10] = ' ';
    }
    for (std::string_view suffix : {"+00:00", "+00", "Z", "z"}) {
        if (out.size() > suffix.size() + 10 &&
            std::string_view(out).substr(out.size() - suffix.size()) == suffix) {
            out.resize(out.size() - suffix.size());
            break;
        }
    }
    const auto dot = out.find('.', 10);
    if (dot != std::string::npos) {
        while (out.size() > dot + 1 && out.back() == '0') {
            out.pop_back();
        }
        if (out.size() == dot + 1) {
            out.pop_back();
        }
    }
    return out;
}

std::optional<long long> epoch_seconds(std::string_view ts) {
    // "YYYY-MM-DD HH:MM:SS", optionally followed by a fraction.
    if (ts.size() < 19 || ts[4] != '-' || ts[7] != '-' || (ts[10] != ' ' && ts[10] != 'T') ||
        ts[13] != ':' || ts[16] != ':' || (ts.size() > 19 && ts[19] != '.')) {
        return std::nullopt;
    }
    auto number = [&](std::size_t at, std::size_t len) -> std::optional<int> {
        int v = 0;
        const auto [end, ec] = std::from_chars(ts.data() + at, ts.data() + at + len, v);
        if (ec != std::errc() || end != ts.data() + at + len) {
            return std::nullopt;
        }
        return v;
    };
    const auto y = number(0, 4);
    const auto m = number(5, 2);
    const auto d = number(8, 2);
    const auto hh = number(11, 2);
    const auto mm = number(14, 2);
    const auto ss = number(17, 2);
    if (!y || !m || !d || !hh || !mm || !ss || *m < 1 || *m > 12 || *d < 1 || *d > 31) {
        return std::nullopt;
    }
    // Days from civil (Howard Hinnant's algorithm), proleptic Gregorian.
    const long long year = *y - (*m <= 2 ? 1 : 0);
    const long long era = (year >= 0 ? year : year - 399) / 400;
    const long long yoe = year - era * 400;
    const long long doy = (153LL * (*m + (*m > 2 ? -3 : 9)) + 2) / 5 + *d - 1;
    const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const long long days = era * 146097 + doe - 719468;
    return days * 86400 + *hh * 3600LL + *mm * 60LL + *ss;
}

std::optional<bool> parse_boolean(std::string_view text) {
    if (iequals(text, "t") || iequals(text, "true") || text == "1") {
        return true;
    }
    if (iequals(text, "f") || iequals(text, "false") || text == "0") {
        return false;
    }
    return std::nullopt;
}

}  // namespace sluice::connectors
