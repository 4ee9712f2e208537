#include "tests/component/scheduler/fake_runner.hpp"

#include <thread>

#include "scheduler/task_runner.hpp"

namespace sluice::test {

void fake_script::set(const std::string& task, std::vector<fake_step> steps) {
    std::lock_guard lock(mutex_);
    steps_[task] = std::move(steps);
}

fake_step fake_script::step_for(const std::string& task, int try_number) const {
    std::lock_guard lock(mutex_);
    auto it = steps_.find(task);
    if (it == steps_.end() || it->second.empty()) {
        return fake_step::ok();
    }
    std::size_t i = static_cast<std::size_t>(std::max(1, try_number) - 1);
    return it->second[std::min(i, it->second.size() - 1)];
}

void fake_script::record_start() {
    std::lock_guard lock(mutex_);
    ++running_;
    max_running_ = std::max(max_running_, running_);
}

void fake_script::record(fake_attempt a) {
    std::lock_guard lock(mutex_);
    --running_;
    attempts_.push_back(std::move(a));
}

std::vector<fake_attempt> fake_script::attempts() const {
    std::lock_guard lock(mutex_);
    return attempts_;
}

std::vector<fake_attempt> fake_script::attempts_of(const std::string& task) const {
    std::vector<fake_attempt> out;
    for (fake_attempt& a : attempts()) {
        if (a.task == task) {
            out.push_back(std::move(a));
        }
    }
    return out;
}

int fake_script::max_concurrent() const {
    std::lock_guard lock(mutex_);
    return max_running_;
}

int fake_script::running() const {
    std::lock_guard lock(mutex_);
    return running_;
}

namespace {

const char* reason_name(scheduler::stop_signal::reason r) {
    switch (r) {
        case scheduler::stop_signal::reason::none:
            return "";
        case scheduler::stop_signal::reason::canceled:
            return "canceled";
        case scheduler::stop_signal::reason::timed_out:
            return "timed_out";
        case scheduler::stop_signal::reason::shutdown:
            return "shutdown";
    }
    return "";
}

class fake_runner final : public scheduler::task_runner {
public:
    explicit fake_runner(std::shared_ptr<fake_script> script) : script_(std::move(script)) {}

    scheduler::task_outcome run(const scheduler::task_context& ctx) override {
        using scheduler::task_outcome;
        script_->record_start();
        fake_attempt a;
        a.job = ctx.job.name;
        a.task = ctx.task.name;
        a.run = ctx.run.value;
        a.try_number = ctx.try_number;
        a.params = ctx.params;
        a.had_deadline = ctx.deadline.has_value();
        a.started = std::chrono::steady_clock::now();
        ctx.on_log({ctx.clock.now(), scheduler::output_line::stream::out,
                    "try " + std::to_string(ctx.try_number) + " of " + ctx.task.name});
        ctx.on_metric("rows", 42);
        fake_step step = script_->step_for(ctx.task.name, ctx.try_number);
        task_outcome outcome = task_outcome::ok();
        auto stopped = [&] {
            if (!ctx.stop.requested()) {
                return false;
            }
            outcome.result = ctx.stop.why() == scheduler::stop_signal::reason::timed_out
                                 ? task_outcome::status::timed_out
                                 : task_outcome::status::canceled;
            outcome.message = std::string("stopped: ") + reason_name(ctx.stop.why());
            return true;
        };
        switch (step.what) {
            case fake_step::kind::succeed:
                break;
            case fake_step::kind::fail_transient:
                outcome = task_outcome::failure(core::error_class::transient, "connection reset");
                break;
            case fake_step::kind::fail_permanent:
                outcome = task_outcome::failure(core::error_class::permanent, "syntax error");
                break;
            case fake_step::kind::sleep: {
                auto until = std::chrono::steady_clock::now() + step.sleep;
                while (std::chrono::steady_clock::now() < until) {
                    if (!step.ignore_stop && stopped()) {
                        break;
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                }
                break;
            }
            case fake_step::kind::hang:
                while (!stopped()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                }
                break;
        }
        a.ended = std::chrono::steady_clock::now();
        a.stop_reason = reason_name(ctx.stop.why());
        switch (outcome.result) {
            case task_outcome::status::success:
                a.outcome = "success";
                break;
            case task_outcome::status::failed:
                a.outcome = "failed";
                break;
            case task_outcome::status::timed_out:
                a.outcome = "timed_out";
                break;
            case task_outcome::status::canceled:
                a.outcome = "canceled";
                break;
        }
        script_->record(std::move(a));
        return outcome;
    }

private:
    std::shared_ptr<fake_script> script_;
};

}  // namespace

std::shared_ptr<scheduler::task_runner> make_fake_runner(std::shared_ptr<fake_script> script) {
    return std::make_shared<fake_runner>(std::move(script));
}

}  // namespace sluice::test
