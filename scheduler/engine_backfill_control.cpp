// Pause, resume and cancel of a backfill (docs/api.md, backfills): each is one store state change
// fenced on the backfill's state, then the live backfill follows it; canceling also cancels the
// backfill's queued and running runs. Split from engine_backfills.cpp, which creates and pumps
// them.

#include <spdlog/spdlog.h>

#include "scheduler/engine_impl.hpp"

namespace sluice::scheduler {

void engine::impl::backfill_act(core::backfill_id id, backfill_action action, std::string actor,
                                std::function<void(core::result<run_op_status>)> done) {
    using code = run_op_status::code_t;
    std::vector<backfill_state> from;
    backfill_state to = backfill_state::paused;
    switch (action) {
        case backfill_action::pause:
            from = {backfill_state::running};
            to = backfill_state::paused;
            break;
        case backfill_action::resume:
            from = {backfill_state::paused};
            to = backfill_state::running;
            break;
        case backfill_action::cancel:
            from = {backfill_state::running, backfill_state::paused};
            to = backfill_state::canceled;
            break;
    }
    if (shutting_down_ && action == backfill_action::resume) {
        done(run_op_status{code::conflict, "the scheduler is shutting down", {}});
        return;
    }
    struct outcome {
        bool moved = false;
        std::optional<backfill_record> record;  // read when the move did not apply
    };
    on_store(
        [self = shared_from_this(), id, from, to]() -> core::result<outcome> {
            auto moved = self->deps_.store.set_backfill_state(id, from, to, self->now());
            if (!moved) {
                return moved.error();
            }
            outcome o{*moved, std::nullopt};
            if (!*moved) {
                auto rec = self->deps_.store.get_backfill(id);
                if (!rec) {
                    return rec.error();
                }
                o.record = std::move(*rec);
            }
            return o;
        },
        [self = shared_from_this(), id, to, action, actor = std::move(actor),
         done = std::move(done)](core::result<outcome> r) {
            if (!r) {
                done(r.error());
                return;
            }
            const std::string name = "backfill " + id.to_string();
            if (!r->moved) {
                if (!r->record) {
                    done(run_op_status{
                        code::not_found, "no backfill with id " + id.to_string(), {}});
                    return;
                }
                done(run_op_status{
                    code::conflict,
                    name + " is " + std::string(to_string(r->record->state)) +
                        (is_terminal(r->record->state) ? "; a finished backfill cannot change"
                                                       : ""),
                    {}});
                return;
            }
            auto it = self->backfills_.find(id);
            std::string from_name;
            if (it != self->backfills_.end()) {
                live_backfill& bf = it->second;
                from_name = std::string(to_string(bf.record.state));
                bf.record.state = to;
                self->log_->info("job={} backfill={}: {} by {}", bf.record.job, id.value,
                                 to_string(to), actor);
                self->write({self->backfill_event(bf, from_name, to_string(to), actor)},
                            [](bool, const std::vector<transition_outcome>&) {});
                if (action == backfill_action::resume) {
                    self->pump_backfill(bf);
                } else if (action == backfill_action::cancel) {
                    std::vector<core::run_id> victims;
                    for (auto& [run_id, run] : self->runs_) {
                        if (run->backfill == id) {
                            victims.push_back(run_id);
                        }
                    }
                    for (core::run_id v : victims) {
                        if (live_run* run = self->find_run(v)) {
                            self->end_run(*run, run_ending::cancel, actor);
                        }
                    }
                    // Its runs end on their own now; nothing of the backfill acts any more.
                    if (!bf.stepping && !bf.finishing) {
                        self->backfills_.erase(id);
                    }
                }
            } else {
                // Known to the store only (its job left the configuration): the state changed.
                self->log_->info("backfill={}: {} by {}", id.value, to_string(to), actor);
            }
            done(run_op_status{code::ok, std::string(to_string(to)), {}});
        });
}

}  // namespace sluice::scheduler
