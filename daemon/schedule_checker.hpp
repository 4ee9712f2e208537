#pragma once

#include "config/loader.hpp"

namespace sluice::daemon {

// Wires the scheduler's cron parser into config validation; config/ cannot depend on
// scheduler/ (dependencies point down), so the composition root joins them here.
config::schedule_checker make_schedule_checker();

}  // namespace sluice::daemon
