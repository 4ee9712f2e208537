#include "daemon/notify/run_summary.hpp"

#include <deque>

namespace sluice::daemon::notify {

namespace {

task_summary summary_of(const scheduler::task_instance_record& t) {
    task_summary s;
    s.task = t.task;
    s.state = t.state;
    s.try_number = t.try_number;
    s.max_tries = t.max_tries;
    s.error_cls = t.error_cls;
    s.error_message = t.error_message;
    s.started_at = t.started_at;
    s.finished_at = t.finished_at;
    s.next_attempt_at = t.next_attempt_at;
    return s;
}

bool listed(const raised& r, const scheduler::run_record& run,
            const scheduler::task_instance_record& t) {
    using scheduler::task_state;
    switch (r.event) {
        case config::notify_event::failure:
            // A run that timed out stopped its tasks: they ended canceled.
            return t.state == task_state::failed || (run.state == scheduler::run_state::timed_out &&
                                                     t.state == task_state::canceled);
        case config::notify_event::sla_miss:
            return !scheduler::is_terminal(t.state);
        case config::notify_event::retry:
            return r.task && t.task == *r.task;
        case config::notify_event::success:
            return false;
    }
    return false;
}

}  // namespace

core::result<std::vector<std::string>> read_log_tail(scheduler::run_store& store,
                                                     core::task_instance_id task, int try_number) {
    std::deque<std::string> tail;
    std::int64_t after = 0;
    for (std::size_t page = 0; page < max_log_pages; ++page) {
        auto lines = store.read_task_log(task, after, log_page_lines);
        if (!lines) {
            return lines.error();
        }
        for (const scheduler::stored_log_line& l : *lines) {
            after = l.seq;
            if (l.try_number == try_number) {
                tail.push_back(clip_log_line(l.line.text));
                if (tail.size() > log_tail_lines) {
                    tail.pop_front();
                }
            }
        }
        if (lines->size() < log_page_lines) {
            return std::vector<std::string>(tail.begin(), tail.end());
        }
    }
    // Scanning further would cost the pool more than a notification is worth.
    return std::vector<std::string>{"[sluice: the log is longer than " +
                                    std::to_string(log_page_lines * max_log_pages) +
                                    " lines; read its end with `sluice logs RUN TASK`]"};
}

notification read_notification(scheduler::run_store& store, const raised& r) {
    notification n;
    n.event = r.event;
    n.run = r.run;
    n.sla = r.sla;
    n.sla_deadline = r.sla_deadline;
    n.run_url = r.run_url;
    n.page_url = r.page_url;
    n.raised_at = r.at;
    auto problem = [&n](const core::error& e) {
        if (!n.problem) {
            n.problem = e.message;
        }
    };
    if (auto run = store.get_run(r.run.id); !run) {
        problem(run.error());
    } else if (*run) {
        n.run = **run;
    }
    if (r.event == config::notify_event::success) {
        return n;
    }
    auto tasks = store.list_task_instances(r.run.id);
    if (!tasks) {
        problem(tasks.error());
        if (r.event == config::notify_event::retry && r.task) {
            task_summary s;
            s.task = *r.task;
            s.state = scheduler::task_state::up_for_retry;
            s.try_number = r.try_number;
            s.error_message = r.error;
            n.tasks.push_back(std::move(s));
        }
        return n;
    }
    for (const scheduler::task_instance_record& t : *tasks) {
        if (!listed(r, n.run, t)) {
            continue;
        }
        if (n.tasks.size() == max_listed_tasks) {
            ++n.tasks_not_listed;
            continue;
        }
        task_summary s = summary_of(t);
        int log_try = t.try_number;
        if (r.event == config::notify_event::retry) {
            // The next try may have started already: describe the one that failed.
            s.state = scheduler::task_state::up_for_retry;
            s.try_number = r.try_number;
            log_try = r.try_number;
            if (r.error) {
                s.error_message = r.error;
            }
            if (t.state != scheduler::task_state::up_for_retry) {
                s.next_attempt_at.reset();
            }
        }
        if (log_try > 0 && t.state != scheduler::task_state::pending) {
            if (auto tail = read_log_tail(store, t.id, log_try); tail) {
                s.log_tail = std::move(*tail);
            } else {
                problem(tail.error());
            }
        }
        n.tasks.push_back(std::move(s));
    }
    return n;
}

}  // namespace sluice::daemon::notify
