#include "core/clock.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;

TEST_CASE("manual clock moves only when told", "[clock]") {
    const sluice::core::time_point start{std::chrono::seconds{1'700'000'000}};
    sluice::core::manual_clock clock(start);
    CHECK(clock.now() == start);
    CHECK(clock.now() == start);
    clock.advance(90s);
    CHECK(clock.now() == start + 90s);
    clock.set(start);
    CHECK(clock.now() == start);
}

TEST_CASE("system clock is close to std::chrono::system_clock", "[clock]") {
    sluice::core::system_clock clock;
    const auto delta = clock.now() - std::chrono::system_clock::now();
    CHECK(delta < 5s);
    CHECK(delta > -5s);
}
