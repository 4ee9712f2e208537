// Group commit: transitions submitted while a commit is in flight share the next commit, and
// every submitter still gets its own outcome.

#include "store/store_writer.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/component/store/conformance.hpp"

namespace sluice::test {
namespace {

using scheduler::task_state;
using sluice::store::store_writer;

// Forwards to a real store, counting apply() calls. apply() can be held at a gate so a test
// decides what queues up behind an in-flight commit, and a batch holding a "poison" event fails.
class counting_store final : public scheduler::run_store {
public:
    explicit counting_store(scheduler::run_store& inner) : inner_(inner) {}

    std::atomic<int> applies{0};
    std::atomic<std::size_t> largest_batch{0};

    void close_gate() {
        std::lock_guard lock(mutex_);
        gate_open_ = false;
    }
    void open_gate() {
        {
            std::lock_guard lock(mutex_);
            gate_open_ = true;
        }
        gate_.notify_all();
    }
    // Waits until an apply() is held at the closed gate.
    void wait_until_held() {
        std::unique_lock lock(mutex_);
        gate_.wait(lock, [&] { return held_ > 0; });
    }

    core::result<std::vector<scheduler::transition_outcome>> apply(
        std::span<const scheduler::transition> batch) override {
        {
            std::unique_lock lock(mutex_);
            ++held_;
            gate_.notify_all();
            gate_.wait(lock, [&] { return gate_open_; });
            --held_;
        }
        ++applies;
        std::size_t seen = largest_batch.load();
        while (batch.size() > seen && !largest_batch.compare_exchange_weak(seen, batch.size())) {
        }
        for (const auto& t : batch) {
            if (const auto* e = std::get_if<scheduler::new_event>(&t); e && e->kind == "poison") {
                return core::error::permanent("poisoned batch");
            }
        }
        return inner_.apply(batch);
    }

    core::result<void> migrate() override { return inner_.migrate(); }
    core::result<int> schema_version() override { return inner_.schema_version(); }
    core::result<scheduler::job_record> upsert_job(std::string_view n, std::string_view h,
                                                   bool p) override {
        return inner_.upsert_job(n, h, p);
    }
    core::result<bool> set_paused(std::string_view n, bool p) override {
        return inner_.set_paused(n, p);
    }
    core::result<std::optional<scheduler::job_record>> get_job(std::string_view n) override {
        return inner_.get_job(n);
    }
    core::result<std::vector<scheduler::job_record>> list_jobs() override {
        return inner_.list_jobs();
    }
    core::result<scheduler::create_run_result> create_run(const scheduler::new_run& r) override {
        return inner_.create_run(r);
    }
    core::result<std::optional<scheduler::run_record>> get_run(core::run_id id) override {
        return inner_.get_run(id);
    }
    core::result<scheduler::run_page> list_runs(const scheduler::run_filter& f) override {
        return inner_.list_runs(f);
    }
    core::result<std::vector<scheduler::task_instance_record>> list_task_instances(
        core::run_id r) override {
        return inner_.list_task_instances(r);
    }
    core::result<std::vector<scheduler::attempt_record>> list_task_attempts(
        core::run_id r) override {
        return inner_.list_task_attempts(r);
    }
    core::result<std::optional<scheduler::task_instance_record>> get_task_instance(
        core::task_instance_id id) override {
        return inner_.get_task_instance(id);
    }
    core::result<std::vector<scheduler::run_record>> list_unfinished_runs() override {
        return inner_.list_unfinished_runs();
    }
    core::result<std::vector<scheduler::task_instance_record>> list_tasks_of_unfinished_runs()
        override {
        return inner_.list_tasks_of_unfinished_runs();
    }
    core::result<void> append_task_log(core::task_instance_id t, int n,
                                       std::span<const scheduler::log_line> l) override {
        return inner_.append_task_log(t, n, l);
    }
    core::result<void> put_running_metrics(core::task_instance_id t, int n,
                                           std::string_view m) override {
        return inner_.put_running_metrics(t, n, m);
    }
    core::result<std::vector<scheduler::stored_log_line>> read_task_log(core::task_instance_id t,
                                                                        std::int64_t a,
                                                                        std::size_t l) override {
        return inner_.read_task_log(t, a, l);
    }
    core::result<std::int64_t> append_event(const scheduler::new_event& e) override {
        return inner_.append_event(e);
    }
    core::result<std::vector<scheduler::event_record>> read_events(
        std::int64_t a, std::optional<std::string_view> k, std::size_t l) override {
        return inner_.read_events(a, k, l);
    }
    core::result<std::vector<scheduler::event_record>> read_events_before(
        std::optional<std::int64_t> b, std::optional<std::string_view> k, std::size_t l) override {
        return inner_.read_events_before(b, k, l);
    }
    core::result<std::int64_t> last_event_id() override { return inner_.last_event_id(); }
    core::result<scheduler::grid_page> job_grid(std::string_view j, std::size_t l,
                                                std::optional<core::run_id> b) override {
        return inner_.job_grid(j, l, b);
    }
    core::result<std::optional<scheduler::variable_record>> get_variable(
        std::string_view k) override {
        return inner_.get_variable(k);
    }
    core::result<void> put_variable(const scheduler::variable_record& v) override {
        return inner_.put_variable(v);
    }
    core::result<bool> delete_variable(std::string_view k) override {
        return inner_.delete_variable(k);
    }
    core::result<std::vector<scheduler::variable_record>> list_variables() override {
        return inner_.list_variables();
    }
    core::result<std::optional<std::string>> get_checkpoint(std::string_view j, std::string_view t,
                                                            std::string_view k) override {
        return inner_.get_checkpoint(j, t, k);
    }
    core::result<void> put_checkpoint(std::string_view j, std::string_view t, std::string_view k,
                                      std::string_view v, core::time_point a) override {
        return inner_.put_checkpoint(j, t, k, v, a);
    }
    core::result<void> register_instance(const scheduler::instance_record& i) override {
        return inner_.register_instance(i);
    }
    core::result<bool> heartbeat_instance(std::string_view id, core::time_point a) override {
        return inner_.heartbeat_instance(id, a);
    }
    core::result<std::vector<scheduler::instance_record>> list_instances() override {
        return inner_.list_instances();
    }

private:
    scheduler::run_store& inner_;
    std::mutex mutex_;
    std::condition_variable gate_;
    bool gate_open_ = true;
    int held_ = 0;
};

// One run with `n` pending task instances; returns their ids.
std::vector<core::task_instance_id> make_tasks(scheduler::run_store& store, int n) {
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) {
        names.push_back("t" + std::to_string(i));
    }
    auto run = ok(store.create_run(make_run("fanout", "k", names)));
    std::vector<core::task_instance_id> ids;
    for (const auto& t : ok(store.list_task_instances(run.id))) {
        ids.push_back(t.id);
    }
    return ids;
}

STORE_TEST("group commit: concurrent submitters share commits and each gets its own outcome",
           "[store][store_writer]") {
    TestType db;
    auto real = open_migrated(db.url());
    counting_store store(*real);
    constexpr int submitters = 100;
    auto tasks = make_tasks(store, submitters);

    std::vector<std::future<core::result<scheduler::transition_outcome>>> futures(submitters);
    {
        store_writer writer(store);
        // Hold the first commit in flight so the others queue up behind it, as they do under
        // load when a commit takes a disk flush or a network round trip.
        store.close_gate();
        futures[0] =
            writer.submit(task_move(tasks[0], task_state::pending, 0, task_state::queued, at(1)));
        store.wait_until_held();
        std::vector<std::thread> threads;
        for (int i = 1; i < submitters; ++i) {
            threads.emplace_back([&, i] {
                // Every third submitter is stale (wrong epoch) and must see its own conflict.
                std::int64_t epoch = i % 3 == 0 ? 5 : 0;
                futures[i] = writer.submit(
                    task_move(tasks[i], task_state::pending, epoch, task_state::queued, at(1)));
            });
        }
        for (auto& t : threads) {
            t.join();
        }
        store.open_gate();
        for (int i = 0; i < submitters; ++i) {
            auto outcome = futures[i].get();
            REQUIRE(outcome.has_value());
            CHECK(*outcome == (i % 3 == 0 && i != 0 ? conflict : applied));
        }
    }
    CHECK(store.applies.load() == 2);  // the held commit, then everyone who queued behind it
    CHECK(store.largest_batch.load() == submitters - 1);
    for (int i = 0; i < submitters; ++i) {
        auto t = ok(store.get_task_instance(tasks[i]));
        CHECK(t->state == (i % 3 == 0 && i != 0 ? task_state::pending : task_state::queued));
    }
}

TEST_CASE("group commit: batches respect the bound and a submission stays in one commit",
          "[store][store_writer]") {
    sqlite_database db;
    auto real = open_migrated(db.url());
    counting_store store(*real);
    constexpr int n = 1200;
    auto tasks = make_tasks(store, n);
    std::vector<std::future<core::result<store_writer::outcomes>>> futures;
    {
        store_writer writer(store);
        store.close_gate();
        futures.push_back(writer.submit(std::vector<scheduler::transition>{
            task_move(tasks[0], task_state::pending, 0, task_state::queued, at(1))}));
        store.wait_until_held();
        // Pairs: queue then start the same task; the pair must commit together, in order.
        for (int i = 1; i + 1 < n; i += 2) {
            futures.push_back(writer.submit(std::vector<scheduler::transition>{
                task_move(tasks[i], task_state::pending, 0, task_state::queued, at(1)),
                task_move(tasks[i], task_state::queued, 0, task_state::running, at(2))}));
        }
        store.open_gate();
        for (auto& f : futures) {
            auto r = f.get();
            REQUIRE(r.has_value());
            for (auto o : *r) {
                CHECK(o == applied);
            }
        }
    }
    CHECK(store.largest_batch.load() <= store_writer::max_batch_transitions);
    CHECK(store.applies.load() >= 3);  // 1198 transitions cannot fit one bounded batch
    CHECK(store.applies.load() <= 1 + (n / int(store_writer::max_batch_transitions)) + 1);
    CHECK(ok(store.get_task_instance(tasks[1]))->state == task_state::running);
}

TEST_CASE("group commit: a poisoned submission fails alone and shutdown drains the queue",
          "[store][store_writer]") {
    sqlite_database db;
    auto real = open_migrated(db.url());
    counting_store store(*real);
    auto tasks = make_tasks(store, 4);
    std::vector<std::future<core::result<scheduler::transition_outcome>>> futures;
    {
        store_writer writer(store);
        store.close_gate();
        futures.push_back(
            writer.submit(task_move(tasks[0], task_state::pending, 0, task_state::queued, at(1))));
        store.wait_until_held();
        futures.push_back(
            writer.submit(task_move(tasks[1], task_state::pending, 0, task_state::queued, at(1))));
        futures.push_back(writer.submit(scheduler::new_event{
            at(1), "poison", std::nullopt, std::nullopt, std::nullopt, "{}", "test"}));
        futures.push_back(
            writer.submit(task_move(tasks[2], task_state::pending, 0, task_state::queued, at(1))));
        store.open_gate();
        // The writer is destroyed here with work possibly still queued: it must finish it.
    }
    REQUIRE(futures[0].get().has_value());
    REQUIRE(futures[1].get().has_value());
    auto poisoned = futures[2].get();
    REQUIRE_FALSE(poisoned.has_value());
    CHECK(poisoned.error().message == "poisoned batch");
    REQUIRE(futures[3].get().has_value());
    CHECK(ok(store.get_task_instance(tasks[1]))->state == task_state::queued);
    CHECK(ok(store.get_task_instance(tasks[2]))->state == task_state::queued);
}

}  // namespace
}  // namespace sluice::test
