#include "daemon/notify/notifier.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string_view>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/duration.hpp"
#include "core/logging.hpp"
#include "core/time.hpp"
#include "daemon/notify/delivery.hpp"
#include "daemon/notify/run_summary.hpp"
#include "daemon/process_identity.hpp"

namespace sluice::daemon::notify {

namespace asio = boost::asio;

namespace {

constexpr std::string_view webhook_channel = "webhook";
constexpr std::string_view email_channel = "email";

bool wants(const config::job_spec& job, config::notify_event event) {
    return job.notify &&
           std::find(job.notify->on.begin(), job.notify->on.end(), event) != job.notify->on.end();
}

}  // namespace

class notifier::impl : public std::enable_shared_from_this<impl> {
public:
    impl(notifier_dependencies d, int threads)
        : deps_(std::move(d)),
          settings_(deps_.config.notifications),
          from_(settings_.from.empty() ? "sluice@" + host_name() : settings_.from),
          log_(core::component_logger("notify")),
          threads_(static_cast<std::size_t>(std::max(1, threads))) {
        index_jobs();
    }

    void observe(const scheduler::new_event& e);
    void start();
    void reconfigure(std::shared_ptr<const config::sluice_config> next) {
        current_ = next.get();
        reloaded_.push_back(std::move(next));
        index_jobs();
    }
    // Loop stopped: no new work; timers go now, the pool after the try in progress.
    void shutdown();

private:
    struct delivery {
        std::string_view channel;
        config::notify_event event = config::notify_event::failure;
        std::string job;
        std::int64_t run = 0;
        std::string destination;  // the webhook URL (secret) or the mail address
        std::string shown;        // what logs say of the destination
        std::string payload;
        int tries = 0;
        std::unique_ptr<asio::steady_timer> timer;
    };

    // Runs `work` (blocking) on the pool and `then(result)` back on the loop, unless stopped.
    template <class Work, class Then>
    void blocking(Work work, Then then) {
        asio::post(pool(), [self = shared_from_this(), work = std::move(work),
                            then = std::move(then)]() mutable {
            if (self->stopped_) {
                return;  // stopping: what waits in the queue is dropped, fast
            }
            auto result = work();
            asio::post(self->deps_.loop,
                       [self, result = std::move(result), then = std::move(then)]() mutable {
                           if (!self->stopped_) {
                               then(std::move(result));
                           }
                       });
        });
    }

    std::string run_url(std::int64_t run) const {
        return deps_.link_base.empty() ? ""
                                       : deps_.link_base + "/api/v1/runs/" + std::to_string(run);
    }
    std::size_t pending() const { return gathering_ + deliveries_.size(); }
    void count(std::string_view channel, config::notify_event event, std::string_view result) {
        if (deps_.count) {
            deps_.count(channel, config::to_string(event), result);
        }
    }

    void on_run_state(const scheduler::new_event& e, const nlohmann::json& payload,
                      const config::job_spec& job);
    void watch_sla(const config::job_spec& job, core::run_id run);
    void arm_sla(const config::job_spec& job, const scheduler::run_record& run);
    void sla_deadline_passed(const config::job_spec& job, core::run_id run,
                             core::time_point deadline);
    void raise(const config::job_spec& job, raised r);
    void attempt(std::uint64_t id);
    void on_attempt(std::uint64_t id, const core::result<void>& outcome);

    notifier_dependencies deps_;
    const config::notifications_spec& settings_;  // the startup config's: restart to change
    // The jobs notified about: the startup config, or the newest reload's. Every reloaded config
    // is kept (a few KB each) because SLA timers and deliveries in flight hold job_spec
    // references into the one they started with.
    const config::sluice_config* current_ = &deps_.config;
    std::vector<std::shared_ptr<const config::sluice_config>> reloaded_;
    const std::string from_;
    std::shared_ptr<spdlog::logger> log_;
    // Started on the first notification or SLA read: a daemon that never notifies (the common
    // case) keeps no idle threads for it (docs/operations.md, "Threads").
    std::unique_ptr<asio::thread_pool> pool_;
    std::size_t threads_;
    // Jobs of current_ by name: every run and task event looks its job up.
    std::unordered_map<std::string_view, const config::job_spec*> jobs_;

    asio::thread_pool& pool() {
        if (!pool_) {
            pool_ = std::make_unique<asio::thread_pool>(threads_);
        }
        return *pool_;
    }
    void index_jobs() {
        jobs_.clear();
        jobs_.reserve(current_->jobs.size());
        for (const config::job_spec& j : current_->jobs) {
            jobs_.emplace(j.name, &j);
        }
    }
    const config::job_spec* find_job(std::string_view name) const {
        const auto it = jobs_.find(name);
        return it == jobs_.end() ? nullptr : it->second;
    }
    std::atomic<bool> stopped_{false};  // read by pool threads
    std::size_t gathering_ = 0;         // notifications whose store reads are in flight
    std::uint64_t next_id_ = 0;
    std::map<std::uint64_t, delivery> deliveries_;
    // Runs whose SLA is watched: the timer is null while the run's times are being read.
    std::map<std::int64_t, std::unique_ptr<asio::steady_timer>> sla_;
};

void notifier::impl::observe(const scheduler::new_event& e) {
    if (stopped_ || !e.job || !e.run || (e.kind != "run.state" && e.kind != "task.state")) {
        return;
    }
    const config::job_spec* job = find_job(*e.job);
    if (job == nullptr) {
        return;
    }
    const auto payload = nlohmann::json::parse(e.payload_json, nullptr, false);
    if (!payload.is_object()) {
        return;
    }
    if (e.kind == "run.state") {
        on_run_state(e, payload, *job);
        return;
    }
    if (payload.value("to", "") != "up_for_retry" || !e.task ||
        !wants(*job, config::notify_event::retry)) {
        return;
    }
    raised r;
    r.event = config::notify_event::retry;
    r.run.id = *e.run;
    r.run.job = job->name;
    r.run.state = scheduler::run_state::running;
    r.task = e.task;
    r.try_number = payload.value("try", 0);
    if (payload.contains("error") && payload["error"].is_string()) {
        r.error = payload["error"].get<std::string>();
    }
    r.at = e.at;
    raise(*job, std::move(r));
}

void notifier::impl::on_run_state(const scheduler::new_event& e, const nlohmann::json& payload,
                                  const config::job_spec& job) {
    const auto to = scheduler::parse_run_state(payload.value("to", ""));
    if (!to) {
        return;
    }
    // A run's creation event names its trigger; a retried run goes back to queued without one.
    if (*to == scheduler::run_state::queued && payload.contains("trigger")) {
        if (job.sla && payload.value("trigger", "") != "backfill") {
            watch_sla(job, *e.run);
        }
        return;
    }
    if (!scheduler::is_terminal(*to)) {
        return;
    }
    sla_.erase(e.run->value);  // the timer's wait ends with operation_aborted
    config::notify_event event = config::notify_event::failure;
    if (*to == scheduler::run_state::success) {
        event = config::notify_event::success;
    } else if (*to != scheduler::run_state::failed && *to != scheduler::run_state::timed_out) {
        return;  // canceled: someone asked for it
    }
    if (!wants(job, event)) {
        return;
    }
    raised r;
    r.event = event;
    r.run.id = *e.run;
    r.run.job = job.name;
    r.run.state = *to;
    r.at = e.at;
    raise(job, std::move(r));
}

void notifier::impl::start() {
    const bool any_sla = std::any_of(current_->jobs.begin(), current_->jobs.end(),
                                     [](const config::job_spec& j) { return j.sla.has_value(); });
    if (!any_sla) {
        return;
    }
    blocking([&store = deps_.store] { return store.list_unfinished_runs(); },
             [this](core::result<std::vector<scheduler::run_record>> runs) {
                 if (!runs) {
                     log_->error("cannot read the unfinished runs to watch their SLA: {}",
                                 runs.error().message);
                     return;
                 }
                 for (const scheduler::run_record& run : *runs) {
                     const config::job_spec* job = find_job(run.job);
                     if (job != nullptr && job->sla &&
                         run.trigger != scheduler::trigger_kind::backfill &&
                         !sla_.contains(run.id.value)) {
                         sla_[run.id.value] = nullptr;
                         arm_sla(*job, run);
                     }
                 }
             });
}

void notifier::impl::watch_sla(const config::job_spec& job, core::run_id run) {
    if (sla_.contains(run.value)) {
        return;
    }
    sla_[run.value] = nullptr;
    // The deadline counts from the logical time, which the event does not carry.
    blocking([&store = deps_.store, run] { return store.get_run(run); },
             [this, &job, run](core::result<std::optional<scheduler::run_record>> record) {
                 if (!sla_.contains(run.value)) {
                     return;  // finished meanwhile
                 }
                 if (!record || !*record) {
                     log_->error("job={} run={}: cannot read the run to watch its SLA: {}",
                                 job.name, run.value,
                                 record ? std::string("not found") : record.error().message);
                     sla_.erase(run.value);
                     return;
                 }
                 arm_sla(job, **record);
             });
}

void notifier::impl::arm_sla(const config::job_spec& job, const scheduler::run_record& run) {
    if (scheduler::is_terminal(run.state)) {
        sla_.erase(run.id.value);
        return;
    }
    const core::time_point from =
        run.trigger == scheduler::trigger_kind::scheduled && run.logical_time ? *run.logical_time
                                                                              : run.created_at;
    const core::time_point deadline = from + *job.sla;
    auto wait = deadline - deps_.clock.now();
    auto timer = std::make_unique<asio::steady_timer>(deps_.loop);
    timer->expires_after(
        std::max(std::chrono::steady_clock::duration::zero(),
                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait)));
    timer->async_wait([self = shared_from_this(), &job, id = run.id,
                       deadline](const boost::system::error_code& ec) {
        if (ec || self->stopped_) {
            return;
        }
        self->sla_deadline_passed(job, id, deadline);
    });
    sla_[run.id.value] = std::move(timer);
}

void notifier::impl::sla_deadline_passed(const config::job_spec& job, core::run_id run,
                                         core::time_point deadline) {
    sla_.erase(run.value);
    // The run may have finished while its last event was on its way: the store decides.
    blocking([&store = deps_.store, run] { return store.get_run(run); },
             [this, &job, run, deadline](core::result<std::optional<scheduler::run_record>> r) {
                 if (!r) {
                     log_->error("job={} run={}: cannot read the run at its SLA deadline: {}",
                                 job.name, run.value, r.error().message);
                     return;
                 }
                 if (!*r || scheduler::is_terminal((*r)->state)) {
                     return;
                 }
                 log_->warn("job={} run={}: SLA missed: not finished {} after {} (state {})",
                            job.name, run.value, core::format_duration(*job.sla),
                            (*r)->trigger == scheduler::trigger_kind::scheduled
                                ? "its scheduled time"
                                : "its creation",
                            scheduler::to_string((*r)->state));
                 if (deps_.sla_missed) {
                     deps_.sla_missed(job.name);
                 }
                 if (!wants(job, config::notify_event::sla_miss)) {
                     return;
                 }
                 raised n;
                 n.event = config::notify_event::sla_miss;
                 n.run = **r;
                 n.sla = job.sla;
                 n.sla_deadline = deadline;
                 n.at = deps_.clock.now();
                 raise(job, std::move(n));
             });
}

void notifier::impl::raise(const config::job_spec& job, raised r) {
    const config::notify_spec& spec = *job.notify;
    const config::notify_event event = r.event;
    if (pending() >= static_cast<std::size_t>(settings_.queue_limit)) {
        log_->error(
            "job={} run={}: {} notification dropped: {} notifications are waiting already "
            "(notifications.queue_limit)",
            job.name, r.run.id.value, config::to_string(event), pending());
        if (spec.webhook) {
            count(webhook_channel, event, "dropped");
        }
        if (spec.email) {
            count(email_channel, event, "dropped");
        }
        return;
    }
    r.run_url = run_url(r.run.id.value);
    if (!deps_.page_base.empty()) {
        r.page_url = deps_.page_base + "/runs/" + std::to_string(r.run.id.value);
    }
    const std::int64_t run = r.run.id.value;
    ++gathering_;
    struct rendered {
        bool skip = false;
        std::string webhook;
        std::string mail;
        std::optional<std::string> problem;
    };
    blocking(
        [&store = deps_.store, r = std::move(r), &spec, from = from_] {
            rendered out;
            const notification n = read_notification(store, r);
            // An SLA miss raced with the run's end: the store says it finished in time.
            if (n.event == config::notify_event::sla_miss && scheduler::is_terminal(n.run.state)) {
                out.skip = true;
                return out;
            }
            out.problem = n.problem;
            if (spec.webhook) {
                out.webhook = webhook_body(n);
            }
            if (spec.email) {
                out.mail = mail_message(n, from, *spec.email);
            }
            return out;
        },
        [this, &job, &spec, event, run](rendered out) {
            --gathering_;
            if (out.skip) {
                return;
            }
            if (out.problem) {
                log_->warn("job={} run={}: {} notification without details: {}", job.name, run,
                           config::to_string(event), *out.problem);
            }
            auto add = [&](std::string_view channel, std::string destination, std::string shown,
                           std::string payload) {
                const std::uint64_t id = ++next_id_;
                delivery& d = deliveries_[id];
                d.channel = channel;
                d.event = event;
                d.job = job.name;
                d.run = run;
                d.destination = std::move(destination);
                d.shown = std::move(shown);
                d.payload = std::move(payload);
                attempt(id);
            };
            if (spec.webhook) {
                add(webhook_channel, *spec.webhook, config::redact_webhook_url(*spec.webhook),
                    std::move(out.webhook));
            }
            if (spec.email) {
                add(email_channel, *spec.email, *spec.email, std::move(out.mail));
            }
        });
}

void notifier::impl::attempt(std::uint64_t id) {
    auto it = deliveries_.find(id);
    if (it == deliveries_.end()) {
        return;
    }
    delivery& d = it->second;
    ++d.tries;
    const bool webhook = d.channel == webhook_channel;
    blocking(
        [webhook, destination = d.destination, payload = d.payload, timeout = settings_.timeout,
         program = settings_.sendmail] {
            return webhook ? post_webhook(destination, payload, timeout)
                           : run_sendmail(program, payload, timeout);
        },
        [this, id](core::result<void> outcome) { on_attempt(id, outcome); });
}

void notifier::impl::on_attempt(std::uint64_t id, const core::result<void>& outcome) {
    auto it = deliveries_.find(id);
    if (it == deliveries_.end()) {
        return;
    }
    delivery& d = it->second;
    const std::string_view event = config::to_string(d.event);
    if (outcome) {
        log_->info("job={} run={}: {} notification delivered by {} to {} (try {})", d.job, d.run,
                   event, d.channel, d.shown, d.tries);
        count(d.channel, d.event, "delivered");
        deliveries_.erase(it);
        return;
    }
    const core::error& err = outcome.error();
    if (err.cls == core::error_class::transient && d.tries < settings_.max_attempts) {
        auto delay = settings_.retry_delay;
        for (int i = 1; i < d.tries && delay < settings_.max_retry_delay; ++i) {
            delay *= 2;
        }
        delay = std::min(delay, settings_.max_retry_delay);
        log_->warn(
            "job={} run={}: {} notification by {} to {}: try {}/{} failed: {}; next try in {}",
            d.job, d.run, event, d.channel, d.shown, d.tries, settings_.max_attempts, err.message,
            core::format_duration(delay));
        d.timer = std::make_unique<asio::steady_timer>(deps_.loop, delay);
        d.timer->async_wait([self = shared_from_this(), id](const boost::system::error_code& ec) {
            if (!ec && !self->stopped_) {
                self->attempt(id);
            }
        });
        return;
    }
    log_->error("job={} run={}: {} notification by {} to {} not delivered after {} tr{}: {}", d.job,
                d.run, event, d.channel, d.shown, d.tries, d.tries == 1 ? "y" : "ies", err.message);
    count(d.channel, d.event, "failed");
    deliveries_.erase(it);
}

void notifier::impl::shutdown() {
    stopped_ = true;
    if (!deliveries_.empty() || gathering_ > 0) {
        log_->warn("{} notification(s) not delivered: the daemon is stopping", pending());
    }
    deliveries_.clear();
    sla_.clear();
    // Tries in progress finish (each bounded by notifications.timeout); queued work sees
    // stopped_ and returns at once.
    if (pool_) {
        pool_->join();
    }
}

notifier::notifier(notifier_dependencies deps, int threads)
    : impl_(std::make_shared<impl>(std::move(deps), threads)) {}

notifier::~notifier() {
    impl_->shutdown();
}

void notifier::observe(const scheduler::new_event& e) {
    impl_->observe(e);
}

void notifier::reconfigure(std::shared_ptr<const config::sluice_config> next) {
    impl_->reconfigure(std::move(next));
}

void notifier::start() {
    impl_->start();
}

}  // namespace sluice::daemon::notify
