#include "etl/output_lines.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace sluice::etl;

namespace {

std::vector<std::string> split(const std::vector<std::string>& chunks, std::size_t bound) {
    std::vector<std::string> lines;
    line_splitter splitter([&](std::string line) { lines.push_back(std::move(line)); }, bound);
    for (const auto& chunk : chunks) {
        splitter.feed(chunk);
    }
    splitter.finish();
    return lines;
}

}  // namespace

TEST_CASE("output lines: lines are joined across reads and split on newlines", "[etl][lines]") {
    CHECK(split({"he", "llo\nwor", "ld\n"}, 100) == std::vector<std::string>{"hello", "world"});
    CHECK(split({"a\r\n\nb"}, 100) == std::vector<std::string>{"a", "", "b"});
    CHECK(split({""}, 100).empty());
}

TEST_CASE("output lines: a line longer than the bound is cut into pieces", "[etl][lines]") {
    CHECK(split({"abcdefgh\n"}, 3) == std::vector<std::string>{"abc", "def", "gh"});
    CHECK(split({"ab", "cd", "ef", "\n"}, 3) == std::vector<std::string>{"abc", "def"});
    CHECK(split({"abc\n"}, 3) == std::vector<std::string>{"abc"});
    CHECK(max_line_bytes == 64 * 1024);
}

TEST_CASE("output lines: metric lines are parsed", "[etl][lines]") {
    auto m = parse_metric_line("::sluice metric record_count=1250");
    REQUIRE(m);
    CHECK(m->name == "record_count");
    CHECK(m->value == 1250.0);
    m = parse_metric_line("  ::sluice metric lag.seconds = -1.5e2  ");
    REQUIRE(m);
    CHECK(m->name == "lag.seconds");
    CHECK(m->value == -150.0);
    m = parse_metric_line("::sluice metric _x-y=0.25");
    REQUIRE(m);
    CHECK(m->name == "_x-y");
}

TEST_CASE("output lines: malformed metric lines are told apart from other lines", "[etl][lines]") {
    for (const char* line : {"::sluice metric x=abc", "::sluice metric =1", "::sluice metric 9x=1",
                             "::sluice metric x=nan", "::sluice metric x=inf",
                             "::sluice metric x=0x10", "::sluice metric x", "::sluice metric x=",
                             "::sluice metric a b=1", "::sluice metric x=1e999"}) {
        INFO(line);
        CHECK_FALSE(parse_metric_line(line));
        CHECK(is_metric_line(line));
    }
    for (const char* line : {"echo ::sluice metric x=1", "::sluice metrics x=1", "::sluice x=1"}) {
        INFO(line);
        CHECK_FALSE(parse_metric_line(line));
        CHECK_FALSE(is_metric_line(line));
    }
}
