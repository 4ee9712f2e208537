#pragma once

#include <chrono>

#include "scheduler/task_runner.hpp"

namespace sluice::etl {

struct sql_task_options {
    // How often the stop signal and the deadline are checked while a statement runs.
    std::chrono::milliseconds poll_interval{20};
    // After a stop, how often the cancel is repeated until the statement returns: a cancel that
    // races with the start of a statement can miss it.
    std::chrono::milliseconds cancel_interval{250};
};

// `type: sql`: runs `sql` (or the file `file`, read when the attempt starts) on a postgres,
// mysql, sqlite or clickhouse connection, one statement after another in autocommit mode (a script
// that wants one transaction says BEGIN ... COMMIT; a failure leaves it uncommitted and the closed
// connection rolls it back). Named parameters (connectors/sql_script.hpp) take the task values
// (etl/task_values.hpp): :job, :task, :run_id, :try_number, :logical_time,
// :data_interval_start, :data_interval_end, :param_<name>, :var_<key>. On stop or deadline the
// running statement is canceled on the server.
class sql_task final : public scheduler::task_runner {
public:
    explicit sql_task(sql_task_options options = {}) : options_(options) {}

    scheduler::task_outcome run(const scheduler::task_context& context) override;

private:
    sql_task_options options_;
};

}  // namespace sluice::etl
