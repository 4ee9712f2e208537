#pragma once

// Turns a batch of scheduler transitions into the SQL statements that apply it (the group-commit
// hot path). Pairs and triples the engine submits for every attempt (ready + lease + start,
// lease + start, end + release) become one UPDATE each with every fence kept, and the batch's
// events become multi-row INSERTs of a few fixed sizes (each prepared once); one statement per
// transition otherwise, in batch order.

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "scheduler/run_store.hpp"
#include "store/sql/sql_engine.hpp"

namespace sluice::store {

struct compiled_batch {
    std::vector<sql_statement> statements;
    // For each transition of the batch, the statement whose affected-row count is its outcome
    // (unused for events, which always apply).
    std::vector<std::size_t> statement_of;
};

compiled_batch compile_transitions(std::span<const scheduler::transition> batch);

}  // namespace sluice::store
