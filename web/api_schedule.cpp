// GET /api/v1/schedule?hours=N: every scheduled job's fires in the next N hours, in time order,
// for the admin page's timeline (docs/api.md#jobs). Computed from the served configuration's
// cron expressions in each job's zone, like a job's next_fire_times.

#include "web/api_schedule.hpp"

#include <algorithm>

#include "core/time.hpp"
#include "scheduler/cron/cron_expression.hpp"

namespace sluice::web {

namespace {

constexpr std::int64_t default_schedule_hours = 24;
constexpr std::int64_t max_schedule_hours = 168;
// The most fires one answer lists (an every-minute job alone fires 1,440 times a day); the
// earliest are kept and `truncated` says more would follow.
constexpr std::size_t max_schedule_fires = 2000;

struct fire {
    std::chrono::sys_seconds at;
    const config::job_spec* job;
};

}  // namespace

void add_schedule_routes(api::impl& api) {
    api.routes.add(
        "GET", "/api/v1/schedule", access::viewer,
        [impl = &api](request_context& ctx, responder done) {
            std::int64_t hours = default_schedule_hours;
            if (auto it = ctx.request.query.find("hours"); it != ctx.request.query.end()) {
                auto h = parse_id(it->second);
                if (!h || *h > max_schedule_hours) {
                    return done(error_response(400, "bad_request", "hours must be 1-168"));
                }
                hours = *h;
            }
            const auto from =
                std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
            const auto to = from + std::chrono::hours(hours);
            std::vector<fire> fires;
            bool truncated = false;
            for (const auto& job : impl->jobs_config().jobs) {
                if (!job.schedule) {
                    continue;
                }
                auto cron = scheduler::cron_expression::parse(*job.schedule);
                auto zone = core::find_time_zone(job.timezone);
                if (!cron || !zone) {
                    continue;
                }
                // Each job lists at most the bound: whatever it adds beyond could not be
                // among the earliest max_schedule_fires of all.
                std::size_t mine = 0;
                for (auto t = cron->next(from, *zone); t && *t <= to; t = cron->next(*t, *zone)) {
                    if (++mine > max_schedule_fires) {
                        truncated = true;
                        break;
                    }
                    fires.push_back({*t, &job});
                }
            }
            std::stable_sort(fires.begin(), fires.end(),
                             [](const fire& a, const fire& b) { return a.at < b.at; });
            if (fires.size() > max_schedule_fires) {
                fires.resize(max_schedule_fires);
                truncated = true;
            }
            nlohmann::json list = nlohmann::json::array();
            for (const auto& f : fires) {
                list.push_back({{"job", f.job->name},
                                {"at", core::format_rfc3339_utc(f.at)},
                                {"timezone", f.job->timezone}});
            }
            done(json_response(200, {{"from", core::format_rfc3339_utc(from)},
                                     {"to", core::format_rfc3339_utc(to)},
                                     {"fires", std::move(list)},
                                     {"truncated", truncated}}));
        });
}

}  // namespace sluice::web
