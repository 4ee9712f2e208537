#include "scheduler/engine.hpp"

#include <future>

#include "scheduler/engine_impl.hpp"

namespace sluice::scheduler {

void throw_exception_from_error(const trigger_error& e, const boost::source_location&) {
    throw std::runtime_error(e.message);
}

void throw_exception_from_error(const backfill_error& e, const boost::source_location&) {
    throw std::runtime_error(e.message);
}

namespace {

// Runs an async_ member and waits for its completion (never call from the loop thread).
template <class T, class Start>
T wait_for(Start start) {
    auto promise = std::make_shared<std::promise<T>>();
    std::future<T> future = promise->get_future();
    start([promise](T value) { promise->set_value(std::move(value)); });
    return future.get();
}

}  // namespace

engine::engine(engine_dependencies deps, engine_options options)
    : impl_(std::make_shared<impl>(std::move(deps), std::move(options))) {}

engine::~engine() {
    impl_->abandon();
}

void engine::set_event_observer(std::function<void(const new_event&)> observer) {
    impl_->observer_ = std::move(observer);
}

void engine::async_start(std::function<void(core::result<void>)> done) {
    impl_->on_loop(
        [i = impl_.get(), done = std::move(done)]() mutable { i->start(std::move(done)); });
}

core::result<void> engine::start() {
    return wait_for<core::result<void>>([this](auto done) { async_start(std::move(done)); });
}

void engine::async_shutdown(std::function<void()> done) {
    impl_->on_loop(
        [i = impl_.get(), done = std::move(done)]() mutable { i->shutdown(std::move(done)); });
}

void engine::shutdown() {
    auto promise = std::make_shared<std::promise<void>>();
    std::future<void> future = promise->get_future();
    async_shutdown([promise] { promise->set_value(); });
    future.get();
}

void engine::async_trigger(trigger_request request, std::function<void(trigger_result)> done) {
    impl_->on_loop(
        [i = impl_.get(), request = std::move(request), done = std::move(done)]() mutable {
            i->trigger(std::move(request), std::move(done));
        });
}

trigger_result engine::trigger(trigger_request request) {
    return wait_for<trigger_result>(
        [&](auto done) { async_trigger(std::move(request), std::move(done)); });
}

void engine::async_cancel(core::run_id run, std::string actor,
                          std::function<void(core::result<bool>)> done) {
    impl_->on_loop(
        [i = impl_.get(), run, actor = std::move(actor), done = std::move(done)]() mutable {
            i->cancel(run, std::move(actor), std::move(done));
        });
}

core::result<bool> engine::cancel(core::run_id run, std::string actor) {
    return wait_for<core::result<bool>>(
        [&](auto done) { async_cancel(run, std::move(actor), std::move(done)); });
}

void engine::async_set_paused(std::string job, bool paused, std::string actor,
                              std::function<void(core::result<bool>)> done) {
    impl_->on_loop([i = impl_.get(), job = std::move(job), paused, actor = std::move(actor),
                    done = std::move(done)]() mutable {
        i->set_paused(std::move(job), paused, std::move(actor), std::move(done));
    });
}

core::result<bool> engine::set_paused(const std::string& job, bool paused, std::string actor) {
    return wait_for<core::result<bool>>(
        [&](auto done) { async_set_paused(job, paused, std::move(actor), std::move(done)); });
}

void engine::async_wait_run(core::run_id run, std::function<void(core::result<run_record>)> done) {
    impl_->on_loop([i = impl_.get(), run, done = std::move(done)]() mutable {
        i->wait_run(run, std::move(done));
    });
}

core::result<run_record> engine::wait_run(core::run_id run) {
    return wait_for<core::result<run_record>>(
        [&](auto done) { async_wait_run(run, std::move(done)); });
}

void engine::cluster_beat(std::optional<scheduler_grant> grant) {
    impl_->on_loop([i = impl_.get(), grant] { i->cluster_beat(grant); });
}

void engine::async_jobs(std::function<void(std::vector<job_status>)> done) {
    impl_->on_loop([i = impl_.get(), done = std::move(done)] { done(i->job_statuses()); });
}

std::vector<job_status> engine::jobs() {
    return wait_for<std::vector<job_status>>([&](auto done) { async_jobs(std::move(done)); });
}

void engine::async_create_backfill(backfill_request request,
                                   std::function<void(backfill_result)> done) {
    impl_->on_loop(
        [i = impl_.get(), request = std::move(request), done = std::move(done)]() mutable {
            i->create_backfill(std::move(request), std::move(done));
        });
}

backfill_result engine::create_backfill(backfill_request request) {
    return wait_for<backfill_result>(
        [&](auto done) { async_create_backfill(std::move(request), std::move(done)); });
}

void engine::async_backfill_action(core::backfill_id id, backfill_action action, std::string actor,
                                   std::function<void(core::result<run_op_status>)> done) {
    impl_->on_loop(
        [i = impl_.get(), id, action, actor = std::move(actor), done = std::move(done)]() mutable {
            i->backfill_act(id, action, std::move(actor), std::move(done));
        });
}

core::result<run_op_status> engine::backfill_action_now(core::backfill_id id,
                                                        backfill_action action, std::string actor) {
    return wait_for<core::result<run_op_status>>(
        [&](auto done) { async_backfill_action(id, action, std::move(actor), std::move(done)); });
}

}  // namespace sluice::scheduler
