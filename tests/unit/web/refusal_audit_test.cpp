#include "web/refusal_audit.hpp"

#include <catch2/catch.hpp>

using namespace sluice::web;
using namespace std::chrono_literals;

// One record per refused call let an anonymous client fill the disk: the first of a minute is
// recorded, the repeats become one summary.
TEST_CASE("refused calls: the first per client and path per minute, then one summary",
          "[web][audit]") {
    refusal_audit a;
    const auto t0 = refusal_audit::clock::time_point{} + 1000s;
    CHECK(a.admit("10.0.0.9", "POST", "/api/v1/jobs/x/runs", 401, "api:anonymous", t0));
    for (int i = 0; i < 10'000; ++i) {
        CHECK_FALSE(
            a.admit("10.0.0.9", "POST", "/api/v1/jobs/x/runs", 401, "api:anonymous", t0 + 1s));
    }
    // Another client or path is recorded on its own.
    CHECK(a.admit("10.0.0.8", "POST", "/api/v1/jobs/x/runs", 401, "api:anonymous", t0 + 2s));
    CHECK(a.admit("10.0.0.9", "POST", "/api/v1/jobs/y/runs", 401, "api:anonymous", t0 + 2s));
    CHECK(a.take_finished(t0 + 59s).empty());
    const auto done = a.take_finished(t0 + 62s);
    REQUIRE(done.size() == 1);  // windows without repeats leave no summary
    CHECK(done[0].client == "10.0.0.9");
    CHECK(done[0].path == "/api/v1/jobs/x/runs");
    CHECK(done[0].repeats == 10'000);
    CHECK(done[0].status == 401);
    // A new minute records its first refusal again.
    CHECK(a.admit("10.0.0.9", "POST", "/api/v1/jobs/x/runs", 401, "api:anonymous", t0 + 63s));
}

TEST_CASE("refused calls: long paths are cut and the number of keys is bounded", "[web][audit]") {
    const std::string long_path = "/api/v1/jobs/" + std::string(100'000, 'x') + "/runs";
    CHECK(refusal_audit::cut_path(long_path).size() == refusal_audit::max_path_bytes + 3);
    CHECK(refusal_audit::cut_path("/short") == "/short");
    refusal_audit a;
    const auto t0 = refusal_audit::clock::time_point{} + 1000s;
    for (std::size_t i = 0; i < refusal_audit::max_keys; ++i) {
        CHECK(a.admit("c", "POST", "/p/" + std::to_string(i), 401, "api:anonymous", t0));
    }
    // Beyond the bound, every new key shares one: its first refusal is recorded, the rest
    // counted.
    CHECK(a.admit("c", "POST", "/other/1", 401, "api:anonymous", t0));
    CHECK_FALSE(a.admit("c", "POST", "/other/2", 401, "api:anonymous", t0));
    CHECK_FALSE(a.admit("d", "POST", "/other/3", 401, "api:anonymous", t0));
    const auto done = a.take_finished(t0 + 60s);
    REQUIRE(done.size() == 1);
    CHECK(done[0].client == "*");
    CHECK(done[0].repeats == 2);
}
