#pragma once

#include <optional>
#include <string>
#include <string_view>

// Encoders and decoders shared by the connectors: the tab-separated text of PostgreSQL COPY and
// ClickHouse TabSeparated, hex and base64 for bytes, and the canonical forms of floats and
// timestamps (column_type.hpp).
namespace sluice::connectors {

// Appends `v` escaped for a tab-separated field: backslash, tab, newline and carriage return
// become \\ \t \n \r; with `escape_nul` (ClickHouse) a zero byte becomes \0.
void append_tsv_escaped(std::string& out, std::string_view v, bool escape_nul);

// Appends the unescaped value of one tab-separated field (\b \f \n \r \t \v \\ \0 \' and
// PostgreSQL's \ooo octal and \xhh). False on a dangling backslash.
bool append_tsv_unescaped(std::string& out, std::string_view field);

void append_hex(std::string& out, std::string_view bytes);  // lower-case, two digits a byte
bool append_unhex(std::string& out, std::string_view hex);  // false on odd length or a non-digit
void append_base64(std::string& out, std::string_view bytes);
bool append_unbase64(std::string& out, std::string_view text);  // false on bad input

// The shortest text that parses back to the same value; "NaN", "Infinity", "-Infinity".
std::string format_float64(double v);
std::string format_float32(float v);
// Parses the canonical text (also "nan", "inf", "+inf", "-inf" as ClickHouse prints them).
std::optional<double> parse_float(std::string_view text);

// "YYYY-MM-DD HH:MM:SS[.ffffff]" with trailing zeros of the fraction removed (and the '.' when
// nothing is left); a 'T' separator becomes a space; a trailing "Z", "+00", "+00:00" is
// dropped. Anything else is returned unchanged.
std::string canonical_timestamp(std::string_view text);

// Whole seconds since 1970-01-01 00:00:00 UTC of a canonical timestamp (read as UTC; a
// fraction is dropped, toward the past); nullopt when the text is not one.
std::optional<long long> epoch_seconds(std::string_view timestamp);

// The canonical boolean of "t"/"f", "1"/"0", "true"/"false" (any case); nullopt otherwise.
std::optional<bool> parse_boolean(std::string_view text);

}  // namespace sluice::connectors
