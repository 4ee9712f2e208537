// The exactly-once half of a copy attempt (docs/etl.md, "Exactly once"): a batch and its mark
// commit in one sink transaction, or go through the batch ledger (intent, insert, mark) on
// sinks without transactions, whose open intent the next attempt replays with the same bounds.

#include <nlohmann/json.hpp>

#include "etl/copy_attempt.hpp"

namespace sluice::etl {

namespace {

// The store checkpoint (beside the mirrored mark) that says why an attempt left its open batch
// uncommitted; absent or stale, the attempt did not get to say it: the process died.
constexpr const char* open_batch_key = "open_batch";

}  // namespace

void copy_attempt::note_open_batch(const std::string& why) {
    if (!intent_written_ || !checkpoint_.intent || context_.checkpoints == nullptr) {
        return;
    }
    const nlohmann::json note{
        {"hi", values_json(checkpoint_.intent->hi)}, {"try", context_.try_number}, {"why", why}};
    (void)context_.checkpoints->put(open_batch_key, note.dump());
}

std::string copy_attempt::open_batch_origin(const batch_bounds& bounds) {
    if (context_.checkpoints == nullptr) {
        return "left open by an earlier attempt that did not finish";
    }
    auto stored = context_.checkpoints->get(open_batch_key);
    if (stored && *stored) {
        const auto note = nlohmann::json::parse(**stored, nullptr, false);
        if (note.is_object() && note.value("hi", "") == values_json(bounds.hi)) {
            return "left open by an earlier attempt (try " + std::to_string(note.value("try", 0)) +
                   "), which " + note.value("why", std::string("did not finish"));
        }
    }
    return "after a crash";
}

core::result<bool> copy_attempt::intent_landed(const batch_bounds& bounds) {
    if (sink_conn_->type != config::connection_type::clickhouse ||
        !connectors_.has_source(sink_conn_->type)) {
        return false;
    }
    auto probe = connectors_.open_source(*sink_conn_);
    if (!probe) {
        return probe.error();
    }
    connectors::read_request r;
    r.table = sink_table_;
    r.columns = spec_.source.cursor;
    r.after = bounds.lo;
    r.until = connectors::cursor_bound{spec_.source.cursor, bounds.hi, true};
    r.limit = 1;
    auto reader = (*probe)->read(r);
    if (!reader) {
        return reader.error();
    }
    connectors::row_batch rows;
    auto more = (*reader)->next(rows);
    if (!more) {
        return more.error();
    }
    return !rows.empty();
}

core::result<void> copy_attempt::replay_intent() {
    if (!checkpoint_.intent) {
        return {};
    }
    const batch_bounds bounds = *checkpoint_.intent;
    const std::string origin = open_batch_origin(bounds);
    const std::string token = batch_token(context_.job.name, context_.task.name, bounds);
    bool landed = false;
    if (mode_ == connectors::write_mode::append) {
        auto l = intent_landed(bounds);
        if (!l) {
            return with_context(l.error(), "checking the open batch in the sink");
        }
        landed = *l;
    }
    std::uint64_t rows = 0;
    if (!landed) {
        connectors::read_request r = base_;
        r.after = bounds.lo;
        if (config::is_database(source_conn_->type)) {
            r.until = connectors::cursor_bound{spec_.source.cursor, bounds.hi, true};
        } else {
            r.limit = bounds.rows;
        }
        auto reader = source_->read(r);
        if (!reader) {
            return with_context(reader.error(), "replaying the open batch");
        }
        std::vector<connectors::row_batch> chunk(1);
        for (;;) {
            auto more = (*reader)->next(chunk.front());
            if (!more) {
                return with_context(more.error(), "replaying the open batch");
            }
            if (!*more) {
                break;
            }
            rows += chunk.front().row_count();
            progress_.reread(chunk.front().row_count(), chunk.front().byte_size());
            auto w = write_rows(chunk, token);
            if (!w) {
                return w;
            }
        }
    }
    if (!checkpoint_.mark || compare_cursor(cursor_types_, *checkpoint_.mark, bounds.hi) < 0) {
        checkpoint_.mark = bounds.hi;
    }
    checkpoint_.intent.reset();
    auto marked = write_mark(false);
    if (!marked) {
        return marked;
    }
    log_system(context_, landed ? "the open batch up to " + values_json(bounds.hi) +
                                      " had landed; its mark is committed (" + origin + ")"
                                : "replayed the open batch up to " + values_json(bounds.hi) + " (" +
                                      std::to_string(rows) + " row(s)) " + origin);
    if (context_.checkpoints != nullptr) {
        // Replayed: the note of why it was open is spent.
        (void)context_.checkpoints->put(open_batch_key, "{}");
    }
    return {};
}

core::result<void> copy_attempt::load_batch(const extracted_batch& batch) {
    const batch_bounds& bounds = *batch.bounds;
    copy_checkpoint next = checkpoint_;
    if (!next.mark || compare_cursor(cursor_types_, *next.mark, bounds.hi) < 0) {
        next.mark = bounds.hi;
    }
    next.intent.reset();
    if (sink_->transactional()) {
        // Rows and mark commit together: a crash leaves both or neither.
        if (auto b = sink_->begin(); !b) {
            return with_context(b.error(),
                                "starting a transaction in '" + spec_.sink.connection + "'");
        }
        if (auto w = write_rows(batch.chunks, std::nullopt); !w) {
            return w;
        }
        checkpoint_ = next;
        if (auto m = write_mark(true); !m) {
            return m;
        }
        if (auto c = sink_->commit(); !c) {
            return with_context(c.error(),
                                "committing the batch in '" + spec_.sink.connection + "'");
        }
        mirror_mark();
    } else {
        // The ledger: the intent with its bounds first, so a crash after the insert replays
        // exactly this batch (docs/etl.md, "Exactly once").
        checkpoint_.intent = bounds;
        if (auto m = write_mark(false); !m) {
            return m;
        }
        intent_written_ = true;
        const std::string token = batch_token(context_.job.name, context_.task.name, bounds);
        if (auto w = write_rows(batch.chunks, token); !w) {
            return w;
        }
        if (options_.crash_after_insert && options_.crash_after_insert(batches_loaded_ + 1)) {
            return core::error::transient("simulated crash after the insert of batch " +
                                          std::to_string(batches_loaded_ + 1) + " (test hook)");
        }
        checkpoint_ = next;
        if (auto m = write_mark(false); !m) {
            return m;
        }
        intent_written_ = false;
    }
    ++batches_loaded_;
    progress_.batch_done(values_json(*checkpoint_.mark), batch.lag_seconds);
    return {};
}

}  // namespace sluice::etl
