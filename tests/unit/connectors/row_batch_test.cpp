#include "connectors/row_batch.hpp"

#include <catch2/catch.hpp>

namespace sluice::connectors {

TEST_CASE("a row batch keeps NULL apart from the empty string and reuses its memory",
          "[connectors][batch]") {
    row_batch b(3);
    b.add("a");
    b.add_null();
    b.add("");
    std::string& arena = b.begin_cell();
    arena += std::string("x\0y", 3);
    b.end_cell();
    b.add_optional(std::nullopt);
    b.add_optional(std::string("z"));
    REQUIRE(b.row_count() == 2);
    CHECK(b.at(0, 0) == "a");
    CHECK(b.is_null(0, 1));
    CHECK(!b.is_null(0, 2));
    CHECK(b.at(0, 2).empty());
    CHECK(b.at(1, 0) == std::string_view("x\0y", 3));
    CHECK(!b.value(1, 1));
    CHECK(b.value(1, 2) == "z");

    b.add("partial");
    b.drop_partial_row();
    CHECK(b.row_count() == 2);

    const std::size_t before = b.byte_size();
    CHECK(before > 0);
    b.clear();
    CHECK(b.empty());
    CHECK(b.byte_size() == 0);
}

TEST_CASE("batch limits stop at rows or bytes, whichever comes first", "[connectors][batch]") {
    batch_limits limits{2, 1 << 20};
    row_batch b(1);
    b.add("1");
    CHECK(!limits.reached(b));
    b.add("2");
    CHECK(limits.reached(b));
    batch_limits tiny{1000, 16};
    row_batch big(1);
    big.add(std::string(100, 'x'));
    CHECK(tiny.reached(big));
}

}  // namespace sluice::connectors
