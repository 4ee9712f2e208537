// GET /api/v1/schedule against the real binary (docs/api.md#jobs): every job's fires in the next
// hours, in time order, bounded.

#include "http_api_support.hpp"

namespace sluice::test {

TEST_CASE("the schedule lists every job's fires of the next hours in time order, bounded",
          "[e2e][http][schedule]") {
    http_daemon d(R"(server:
  listen: "127.0.0.1:0"
store:
  url: "sqlite://var/e2e.db"
shutdown_grace: 1s
jobs:
  hourly:
    schedule: "0 * * * *"
    tasks: {t: {type: noop}}
  daily:
    schedule: "30 2 * * *"
    timezone: Europe/Paris
    tasks: {t: {type: noop}}
  manual:
    tasks: {t: {type: noop}}
  often:
    schedule: "* * * * *"
    tasks: {t: {type: noop}}
)");
    INFO(d.log());
    REQUIRE(d.port() != 0);

    auto r = http_call(d.port(), "GET", "/api/v1/schedule?hours=3");
    INFO(r.body);
    REQUIRE(r.status == 200);
    json s = body_of(r);
    CHECK(s["from"].is_string());
    CHECK(s["to"].is_string());
    CHECK(s["truncated"] == false);
    std::map<std::string, int> per_job;
    std::string previous;
    for (const auto& f : s["fires"]) {
        per_job[f["job"].get<std::string>()]++;
        const auto at = f["at"].get<std::string>();
        CHECK(at >= previous);  // RFC 3339 in UTC sorts as text
        previous = at;
    }
    CHECK(per_job["hourly"] == 3);
    CHECK(per_job["often"] >= 179);
    CHECK(per_job["often"] <= 180);
    CHECK_FALSE(per_job.contains("manual"));
    CHECK(per_job["daily"] <= 1);

    // A week of an every-minute job is more than one answer lists: the earliest, and truncated.
    s = body_of(http_call(d.port(), "GET", "/api/v1/schedule?hours=168"));
    CHECK(s["truncated"] == true);
    CHECK(s["fires"].size() == 2000);
    per_job.clear();
    for (const auto& f : s["fires"]) {
        per_job[f["job"].get<std::string>()]++;
    }
    // The 2,000 fires hold the hourly and daily ones too: about 1,967 minutes, so 32 or 33
    // hourly fires, depending on the minute the test starts at.
    CHECK(per_job["hourly"] >= 32);
    CHECK(per_job["hourly"] <= 33);
    CHECK(per_job["often"] + per_job["hourly"] + per_job["daily"] == 2000);
    CHECK(per_job["daily"] >= 1);

    // The default is 24 hours.
    s = body_of(http_call(d.port(), "GET", "/api/v1/schedule"));
    per_job.clear();
    for (const auto& f : s["fires"]) {
        per_job[f["job"].get<std::string>()]++;
    }
    CHECK(per_job["daily"] == 1);
    CHECK(per_job["hourly"] == 24);
    CHECK(s["truncated"] == false);

    for (const char* bad : {"0", "169", "x", "-1"}) {
        INFO(bad);
        CHECK(http_call(d.port(), "GET", std::string("/api/v1/schedule?hours=") + bad).status ==
              400);
    }
}

}  // namespace sluice::test
