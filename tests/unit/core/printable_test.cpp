#include "core/printable.hpp"

#include <catch2/catch.hpp>

using sluice::core::printable;

TEST_CASE("printable keeps ordinary text and UTF-8 as they are") {
    CHECK(printable("/api/v1/jobs/load-orders/runs") == "/api/v1/jobs/load-orders/runs");
    CHECK(printable("Zürich → 東京 😀") == "Zürich → 東京 😀");
    CHECK(printable("") == "");
}

TEST_CASE("printable escapes what could forge or garble a log line") {
    // A decoded %0A in a request path must not start a second log line.
    CHECK(printable("/api/v1/jobs/x\naudit: admin DELETE /api/v1/variables/k -> 204") ==
          "/api/v1/jobs/x\\x0aaudit: admin DELETE /api/v1/variables/k -> 204");
    CHECK(printable(std::string_view("a\0b\r\t\x1b[31m\x7f", 11)) ==
          "a\\x00b\\x0d\\x09\\x1b[31m\\x7f");
    CHECK(printable("back\\slash") == "back\\\\slash");
}

TEST_CASE("printable escapes each byte of invalid UTF-8") {
    CHECK(printable("type\xff"
                    "d") == "type\\xffd");
    CHECK(printable("\xc3") == "\\xc3");                             // truncated sequence
    CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");                    // overlong '/'
    CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");           // a UTF-16 surrogate
    CHECK(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
    CHECK(printable("\xe2\x82") == "\\xe2\\x82");
}
