#include "connectors/text_codec.hpp"

#include <cmath>

#include <catch2/catch.hpp>

#include "connectors/document_rows.hpp"

namespace sluice::connectors {

TEST_CASE("tab-separated escaping round-trips every byte", "[connectors][codec]") {
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all += static_cast<char>(i);
    }
    for (bool nul : {false, true}) {
        std::string escaped;
        append_tsv_escaped(escaped, all, nul);
        CHECK(escaped.find('\t') == std::string::npos);
        CHECK(escaped.find('\n') == std::string::npos);
        CHECK((escaped.find('\0') == std::string::npos) == nul);
        std::string back;
        REQUIRE(append_tsv_unescaped(back, escaped));
        CHECK(back == all);
    }
}

TEST_CASE("tab-separated unescaping reads PostgreSQL octal and hex escapes",
          "[connectors][codec]") {
    std::string out;
    REQUIRE(append_tsv_unescaped(out, R"(a\101\x42\0c\'\\)"));
    CHECK(out == std::string("aAB\0c'\\", 7));
    out.clear();
    CHECK(!append_tsv_unescaped(out, "dangling\\"));
}

TEST_CASE("hex and base64 round-trip bytes with zeros", "[connectors][codec]") {
    const std::string bytes("\0\1\xff\x80 z", 6);
    std::string hex;
    append_hex(hex, bytes);
    CHECK(hex == "0001ff80207a");
    std::string back;
    REQUIRE(append_unhex(back, hex));
    CHECK(back == bytes);
    CHECK(!append_unhex(back, "abc"));
    CHECK(!append_unhex(back, "zz"));
    for (std::string_view v : {std::string_view(""), std::string_view("f"), std::string_view("fo"),
                               std::string_view("foo"), std::string_view(bytes)}) {
        std::string b64;
        append_base64(b64, v);
        CHECK(b64.size() % 4 == 0);
        std::string decoded;
        REQUIRE(append_unbase64(decoded, b64));
        CHECK(decoded == v);
    }
    std::string b64;
    append_base64(b64, "foobar");
    CHECK(b64 == "Zm9vYmFy");
    std::string bad;
    CHECK(!append_unbase64(bad, "Zm9v!"));
}

TEST_CASE("floats print the shortest text that reads back exactly", "[connectors][codec]") {
    CHECK(format_float64(0.1) == "0.1");
    CHECK(format_float64(1.7976931348623157e308) == "1.7976931348623157e+308");
    CHECK(format_float32(0.1f) == "0.1");
    CHECK(format_float32(16777216.0f) == "16777216");
    CHECK(format_float64(std::nan("")) == "NaN");
    CHECK(format_float64(-INFINITY) == "-Infinity");
    CHECK(parse_float("inf") == INFINITY);
    CHECK(parse_float("-Infinity") == -INFINITY);
    CHECK(std::isnan(*parse_float("nan")));
    CHECK(parse_float("+1.5") == 1.5);
    CHECK(!parse_float("1.5x"));
    CHECK(!parse_float(""));
}

TEST_CASE("timestamps become canonical: space separator, UTC suffix and zero fraction dropped",
          "[connectors][codec]") {
    CHECK(canonical_timestamp("2026-01-02T03:04:05Z") == "2026-01-02 03:04:05");
    CHECK(canonical_timestamp("2026-01-02 03:04:05+00") == "2026-01-02 03:04:05");
    CHECK(canonical_timestamp("2026-01-02 03:04:05.500000") == "2026-01-02 03:04:05.5");
    CHECK(canonical_timestamp("2026-01-02 03:04:05.000000+00:00") == "2026-01-02 03:04:05");
    CHECK(canonical_timestamp("2026-01-02") == "2026-01-02");
}

TEST_CASE("booleans parse from every engine's spelling", "[connectors][codec]") {
    CHECK(parse_boolean("t") == true);
    CHECK(parse_boolean("TRUE") == true);
    CHECK(parse_boolean("1") == true);
    CHECK(parse_boolean("f") == false);
    CHECK(parse_boolean("0") == false);
    CHECK(!parse_boolean("yes"));
}

TEST_CASE("canonical values compare by their type", "[connectors][codec]") {
    CHECK(compare_canonical("9", "10", column_type::int64) < 0);
    CHECK(compare_canonical("-2.5", "-10", column_type::decimal) > 0);
    CHECK(compare_canonical("2026-01-01 10:00:00", "2026-01-01 09:00:00", column_type::timestamp) >
          0);
    CHECK(compare_canonical("b", "b", column_type::text) == 0);
    CHECK(compare_canonical("9223372036854775806", "9223372036854775807", column_type::int64) < 0);
    CHECK(compare_canonical("99999999999999999999.0000000001", "99999999999999999999",
                            column_type::decimal) > 0);
    CHECK(compare_canonical("-0.50", "-0.5", column_type::decimal) == 0);
    CHECK(compare_canonical("-1", "0.1", column_type::decimal) < 0);
    CHECK(compare_canonical("1e3", "999", column_type::float64) > 0);
}

}  // namespace sluice::connectors

namespace sluice::connectors {

TEST_CASE("canonical timestamps convert to Unix seconds as UTC", "[connectors][codec]") {
    CHECK(epoch_seconds("1970-01-01 00:00:00") == 0);
    CHECK(epoch_seconds("2026-01-01 12:00:00") == 1767268800);
    CHECK(epoch_seconds("2024-02-29 12:34:56.789") == 1709210096);
    CHECK(epoch_seconds("2105-12-31 23:59:59") == 4291747199);
    CHECK(epoch_seconds("1969-12-31 23:59:59") == -1);
    CHECK(!epoch_seconds("2026-01-01"));
    CHECK(!epoch_seconds("2026-13-01 00:00:00"));
    CHECK(!epoch_seconds("2026-01-01 00:00:00+02"));
}

}  // namespace sluice::connectors
