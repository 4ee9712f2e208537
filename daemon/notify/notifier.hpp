#pragma once

// Notifications (docs/operations.md#notifications): turns the engine's events
// into `failure`, `success`, `retry` and `sla_miss` notifications for the jobs whose `notify`
// asks for them, and delivers each one to the job's webhook and/or mail address.
//
// Nothing here blocks the control loop: observe() only looks at the event and posts work to the
// notifier's own small thread pool, which reads the run from the store, renders the message and
// delivers it. A failed try is retried after a delay (retry_delay, doubled per try, capped) on a
// loop timer, up to `notifications.max_attempts` tries; the outcome of every notification is
// counted (`sluice_notifications_total{channel,event,result}`) and failures are logged. At most
// `notifications.queue_limit` notifications wait at once; more are dropped and counted.
//
// SLA: a run of a job with `sla` is watched from its creation. Its deadline is its logical
// (scheduled) time plus the SLA for scheduled runs, its creation time plus the SLA for manual
// ones; backfill runs have no SLA. When the deadline passes and the store still says the run is
// not finished, `sla_miss` is raised once for the run (logged and counted even when the job does
// not ask to be notified of it). After a restart the runs left unfinished are watched again, so
// a run that missed its SLA before the restart is reported once more.
//
// Threads: every member is called on the loop thread. Destroy after the loop stopped running:
// notifications still waiting for a try are dropped then (a try in progress finishes).

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "config/spec.hpp"
#include "core/clock.hpp"
#include "scheduler/run_store.hpp"

namespace boost::asio {
class io_context;
}

namespace sluice::daemon::notify {

// Outcome of one notification on one channel: "delivered", "failed" (tries used up or a
// permanent error) or "dropped" (the queue was full).
using outcome_counter =
    std::function<void(std::string_view channel, std::string_view event, std::string_view result)>;

struct notifier_dependencies {
    const config::sluice_config& config;
    scheduler::run_store& store;  // blocking: only called on the notifier's pool
    const core::clock& clock;
    boost::asio::io_context& loop;
    // Links to runs are link_base + "/api/v1/runs/ID"; "" = no link.
    std::string link_base;
    // Links for people: page_base + "/runs/ID", the admin page's run view; "" = no page (a
    // headless build, docs/ui.md).
    std::string page_base;
    outcome_counter count;                               // may be empty
    std::function<void(const std::string&)> sla_missed;  // job; may be empty
};

class notifier {
public:
    // `threads`: the pool that reads the store and delivers (a slow webhook holds one thread for
    // up to `notifications.timeout`).
    explicit notifier(notifier_dependencies deps, int threads = 2);
    ~notifier();
    notifier(const notifier&) = delete;
    notifier& operator=(const notifier&) = delete;

    // An engine event, after it committed (route engine::set_event_observer here).
    void observe(const scheduler::new_event& e);
    // Once the engine started: watches the SLAs of the runs left unfinished by a previous
    // process.
    void start();
    // Loop thread: a reloaded configuration (SIGHUP): its jobs' notify and sla settings apply to
    // events from now on. The `notifications:` section keeps its startup values.
    void reconfigure(std::shared_ptr<const config::sluice_config> next);

    class impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace sluice::daemon::notify
