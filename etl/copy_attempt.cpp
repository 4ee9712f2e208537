#include "etl/copy_attempt.hpp"

#include <utility>

#include "config/task_outputs.hpp"
#include "connectors/write_modes.hpp"
#include "etl/copy_request.hpp"
#include "etl/task_values.hpp"

namespace sluice::etl {

namespace {

using scheduler::task_outcome;

// The key of the mark in the store's checkpoints of (job, task).
constexpr const char* store_key = "mark";

connectors::write_mode write_mode_of(config::sink_mode mode) {
    switch (mode) {
        case config::sink_mode::upsert:
            return connectors::write_mode::upsert;
        case config::sink_mode::scd2:
            return connectors::write_mode::scd2;
        case config::sink_mode::append:
        case config::sink_mode::replace:
            break;
    }
    return connectors::write_mode::append;
}

bool is_time_type(connectors::column_type t) {
    using connectors::column_type;
    return t == column_type::date || t == column_type::timestamp || t == column_type::timestamp_tz;
}

}  // namespace

copy_attempt::copy_attempt(const scheduler::task_context& context, const config::copy_spec& spec,
                           const connectors::connector_registry& connectors,
                           const copy_task_options& options)
    : context_(context),
      spec_(spec),
      connectors_(connectors),
      options_(options),
      progress_(context, options.progress_interval) {}

std::string copy_attempt::location() const {
    return "copy " + spec_.source.connection + " -> " + spec_.sink.connection + "." + sink_table_;
}

task_outcome copy_attempt::run() {
    auto opened = open();
    if (!opened) {
        return finish(opened);
    }
    // From here on a stop cancels whatever statement runs on either side.
    watch_ = std::make_unique<copy_stop_watch>(context_, [this] {
        source_->cancel();
        sink_->cancel();
        if (sink_keys_) {
            sink_keys_->cancel();
        }
    });
    core::result<void> done = prepare_sink_table();
    if (done) {
        done = load_checkpoint();
    }
    if (done) {
        done = replay_intent();
    }
    if (done) {
        done = prepare_deletes();
    }
    if (done) {
        if (spec_.source.cursor.empty()) {
            done = copy_full();
        } else {
            done = copy_incremental();
        }
    }
    if (done && spec_.deletes == config::deletes_policy::detect && !watch_->cause() &&
        !pending_stop(context_)) {
        done = detect_deletes();
    }
    return finish(std::move(done));
}

task_outcome copy_attempt::finish(core::result<void> done) {
    std::optional<stop_cause> cause;
    if (watch_) {
        watch_->finish();
        cause = watch_->cause();
    }
    progress_.report(true);
    const auto p = progress_.snapshot();
    const std::string summary =
        std::to_string(p.rows_read) + " row(s) read" +
        (p.rows_reread > 0 ? " (and " + std::to_string(p.rows_reread) + " read again)" : "") +
        ", " + std::to_string(p.rows_written) + " written in " + std::to_string(p.batches) +
        " batch(es)" +
        (spec_.deletes == config::deletes_policy::detect
             ? ", " + std::to_string(p.rows_deleted) + " deleted"
             : std::string());
    if (!cause) {
        cause = pending_stop(context_);
    }
    if (cause) {
        if (sink_) {
            (void)sink_->rollback();  // best effort: closing the connection rolls back too
        }
        note_open_batch("was stopped");
        return stop_outcome(*cause, summary + "; the mark stays at the last committed batch");
    }
    if (!done) {
        if (sink_) {
            (void)sink_->rollback();
        }
        note_open_batch("failed: " + done.error().message);
        return task_outcome::failure(done.error().cls, done.error().message);
    }
    log_system(context_, summary + (p.mark ? "; mark " + *p.mark : ""));
    // Published for downstream tasks: the mark is the one after the run, "" without one.
    auto ok = task_outcome::ok();
    ok.outputs = {{std::string(config::copy_rows_written_output), std::to_string(p.rows_written)},
                  {std::string(config::copy_mark_output),
                   checkpoint_.mark ? values_json(*checkpoint_.mark) : std::string()}};
    return ok;
}

core::result<void> copy_attempt::open() {
    const auto find = [this](const std::string& name) -> const config::connection_spec* {
        const auto it = context_.config.connections.find(name);
        return it == context_.config.connections.end() ? nullptr : &it->second;
    };
    source_conn_ = find(spec_.source.connection);
    sink_conn_ = find(spec_.sink.connection);
    if (source_conn_ == nullptr || sink_conn_ == nullptr) {
        return core::error::permanent(
            "connection '" +
            (source_conn_ == nullptr ? spec_.source.connection : spec_.sink.connection) +
            "' is not defined");
    }
    sink_table_ = spec_.sink.table.value_or(spec_.sink.path.value_or(""));
    // The sink table is part of the key: pointing a task at another table (or another sink
    // table at the same task name) starts from the beginning instead of from a stranger's mark.
    checkpoint_key_ = context_.job.name + "/" + context_.task.name + "/" + sink_table_;
    mode_ = write_mode_of(spec_.sink.mode);
    auto base = base_request(spec_, task_bind_values(context_), source_conn_->type, base_);
    if (!base) {
        return base.error();
    }
    auto source = connectors_.open_source(*source_conn_);
    if (!source) {
        return with_context(source.error(), "opening source '" + spec_.source.connection + "'");
    }
    source_ = std::move(*source);
    auto sink = connectors_.open_sink(*sink_conn_);
    if (!sink) {
        return with_context(sink.error(), "opening sink '" + spec_.sink.connection + "'");
    }
    sink_ = std::move(*sink);
    if (spec_.deletes == config::deletes_policy::detect &&
        connectors_.has_source(sink_conn_->type)) {
        auto keys = connectors_.open_source(*sink_conn_);
        if (!keys) {
            return with_context(keys.error(),
                                "opening sink '" + spec_.sink.connection + "' to read its keys");
        }
        sink_keys_ = std::move(*keys);
    }
    // replace is refused by begin_replace where unsupported.
    if (spec_.sink.mode != config::sink_mode::replace && !sink_->supports(mode_)) {
        return core::error::permanent(
            "the " + std::string(config::to_string(sink_conn_->type)) + " sink '" +
            spec_.sink.connection +
            "' does not support mode: " + std::string(config::to_string(spec_.sink.mode)));
    }
    return {};
}

core::result<void> copy_attempt::prepare_sink_table() {
    auto existing = sink_->describe_table(sink_table_);
    if (!existing) {
        return with_context(existing.error(), "describing sink table '" + sink_table_ + "'");
    }
    if (*existing) {
        // Sources without declared types (files, HTTP) decode into the sink's types.
        base_.expected = **existing;
    }
    auto described = source_->describe(base_);
    if (!described) {
        return with_context(described.error(), "reading the source's columns");
    }
    schema_ = std::move(*described);
    for (const std::string& c : spec_.source.cursor) {
        const auto i = schema_.index_of(c);
        if (!i) {
            return core::error::permanent("cursor column '" + c +
                                          "' is not among the columns the source reads; a cursor "
                                          "column must be copied under its own name");
        }
        cursor_index_.push_back(*i);
        cursor_types_.push_back(schema_.columns[*i].type);
    }
    if (spec_.source.lookback && !is_time_type(cursor_types_.front())) {
        return core::error::permanent(
            "'lookback' needs a date or timestamp as the first cursor "
            "column; '" +
            spec_.source.cursor.front() + "' is " +
            std::string(connectors::to_string(cursor_types_.front())));
    }
    if (*existing || spec_.sink.mode == config::sink_mode::replace) {
        return {};
    }
    if (spec_.create_table != config::create_table_policy::if_missing) {
        return core::error::permanent("sink table '" + sink_table_ + "' does not exist in '" +
                                      spec_.sink.connection +
                                      "'; create it, or set create_table: if_missing");
    }
    // The sink's layout for the mode: _deleted for change events, valid_from/valid_to/
    // is_current for history, the key (scd2: key + sequence) and a ClickHouse version column.
    const connectors::write_request w = write_request_for(sink_table_);
    auto table_schema = connectors::sink_table_schema(schema_, w);
    if (!table_schema) {
        return table_schema.error();
    }
    if (spec_.deletes == config::deletes_policy::detect &&
        sink_conn_->type == config::connection_type::clickhouse &&
        !table_schema->index_of(connectors::deleted_column)) {
        // ClickHouse keeps a deleted row as a version with _deleted = 1 (docs/etl.md, "Deleted
        // rows"); the copy's own rows leave it at its default, 0.
        connectors::column d;
        d.name = connectors::deleted_column;
        d.type = connectors::column_type::boolean;
        d.nullable = false;
        table_schema->columns.push_back(d);
    }
    connectors::create_options options = connectors::sink_create_options(w);
    if (spec_.sink.version_column) {
        options.version_column = spec_.sink.version_column;
    }
    if (!options.version_column && sink_conn_->type == config::connection_type::clickhouse &&
        spec_.sink.mode == config::sink_mode::upsert && !cursor_index_.empty()) {
        // The cursor orders row versions when it is a time (a ReplacingMergeTree version must
        // be an unsigned integer, Date or DateTime; cursor values are never NULL, and the sink
        // declares a version column NOT NULL).
        const auto& first = schema_.columns[cursor_index_.front()];
        if (is_time_type(first.type)) {
            options.version_column = first.name;
        }
    }
    auto created = sink_->create_table(sink_table_, *table_schema, options);
    if (!created) {
        // Runs of one job in parallel (a backfill's max_active_runs) race to create the table:
        // when it exists now, another attempt made it, and that is what if_missing asks for.
        auto again = sink_->describe_table(sink_table_);
        if (again && *again) {
            log_system(context_, "sink table '" + sink_table_ + "' was created meanwhile by " +
                                     "another attempt; using it");
            return {};
        }
        return with_context(created.error(), "creating sink table '" + sink_table_ + "'");
    }
    log_system(context_, "created sink table '" + sink_table_ + "' from the source's columns");
    return {};
}

core::result<void> copy_attempt::load_checkpoint() {
    checkpoint_.cursor = spec_.source.cursor;
    const bool deletes = spec_.deletes == config::deletes_policy::detect;
    if (spec_.source.cursor.empty() && !deletes) {
        return {};
    }
    const auto param = context_.params.find("full_refresh");
    if (param != context_.params.end() && (param->second == "true" || param->second == "1")) {
        log_system(context_, "full_refresh: the mark is reset, every row is read again");
        return {};
    }
    auto stored = sink_->read_checkpoint(checkpoint_key_);
    if (!stored) {
        return with_context(stored.error(),
                            "reading the checkpoint in '" + spec_.sink.connection + "'");
    }
    if (!*stored) {
        return {};
    }
    auto parsed = checkpoint_from_json(**stored);
    if (!parsed) {
        return parsed.error();
    }
    if (parsed->cursor != spec_.source.cursor && (parsed->mark || parsed->intent)) {
        return core::error::permanent("the stored mark of " + checkpoint_key_ +
                                      " belongs to another cursor (" + values_json(parsed->cursor) +
                                      "); trigger a run with full_refresh: true to start over");
    }
    checkpoint_ = std::move(*parsed);
    checkpoint_.cursor = spec_.source.cursor;
    if (spec_.source.cursor.empty()) {
        return {};  // a full copy keeps only the position of a delete pass here
    }
    // The store's copy may lag the sink's: the last commit can land without the attempt knowing
    // (the sink went away while answering the COMMIT, or kill -9 before the mirror). Without
    // this, a run with nothing new to copy would leave the stale mark in the API for good.
    mirror_mark();
    if (checkpoint_.mark) {
        log_system(context_, "resuming after mark " + values_json(*checkpoint_.mark));
    }
    return {};
}

connectors::write_request copy_attempt::write_request_for(const std::string& table) const {
    connectors::write_request w;
    w.table = table;
    w.columns = &schema_;
    w.mode = mode_;
    w.key = spec_.sink.key;
    // Change events: upsert keeps the newest event per key (tombstones for deletes); scd2
    // builds versions from them.
    w.sequence = spec_.sink.sequence;
    w.operation = spec_.sink.operation;
    if (mode_ == connectors::write_mode::scd2) {
        w.tracked = spec_.sink.tracked_columns;
        w.valid_from = spec_.sink.valid_from;
    }
    return w;
}

core::result<void> copy_attempt::write_rows(const std::vector<connectors::row_batch>& rows,
                                            const std::optional<std::string>& dedup_token) {
    connectors::write_request w = write_request_for(sink_table_);
    w.dedup_token = dedup_token;
    for (const auto& chunk : rows) {
        auto done = sink_->write(w, chunk);
        if (!done) {
            return with_context(done.error(),
                                "writing to " + spec_.sink.connection + "." + sink_table_);
        }
        progress_.written(chunk.row_count());
    }
    return {};
}

core::result<void> copy_attempt::write_mark(bool in_transaction) {
    auto done = sink_->write_checkpoint({checkpoint_key_, to_json(checkpoint_)});
    if (!done) {
        return with_context(done.error(), "writing the mark to '" + spec_.sink.connection + "'");
    }
    if (!in_transaction) {
        mirror_mark();
    }
    return {};
}

void copy_attempt::mirror_mark() {
    if (context_.checkpoints == nullptr) {
        return;
    }
    // The sink holds the truth; a failed mirror only delays what the API shows.
    auto put = context_.checkpoints->put(store_key, to_json(checkpoint_));
    if (!put) {
        log_system(context_, "could not mirror the mark to the store: " + put.error().message);
    }
}

std::optional<double> copy_attempt::measure_lag(const cursor_values& from, bool force) {
    if (cursor_types_.empty() || !is_time_type(cursor_types_.front()) || from.empty()) {
        return std::nullopt;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!force && last_lag_ && now - *last_lag_ < options_.lag_interval) {
        return std::nullopt;
    }
    last_lag_ = now;
    auto max = source_->max_cursor(base_, spec_.source.cursor);
    if (!max || !*max || (**max).empty() || !(**max).front()) {
        return std::nullopt;
    }
    const auto secs = seconds_between(cursor_types_.front(), from.front(), *(**max).front());
    if (!secs) {
        return std::nullopt;
    }
    return std::max(0.0, *secs);
}

std::uint64_t copy_attempt::count_reread(const extracted_batch& batch) {
    if (!reread_until_) {
        return 0;
    }
    // Rows come in cursor order: the re-read ones are a prefix.
    std::uint64_t again = 0;
    for (const connectors::row_batch& chunk : batch.chunks) {
        for (std::size_t row = 0; row < chunk.row_count(); ++row) {
            cursor_values at;
            for (const std::size_t k : cursor_index_) {
                at.emplace_back(chunk.at(row, k));
            }
            if (compare_cursor(cursor_types_, at, *reread_until_) > 0) {
                reread_until_.reset();
                return again;
            }
            ++again;
        }
    }
    return again;
}

core::result<std::optional<extracted_batch>> copy_attempt::next_batch() {
    if (drained_ || (spec_.max_batches_per_run &&
                     batches_read_ >= static_cast<std::uint64_t>(*spec_.max_batches_per_run))) {
        return std::optional<extracted_batch>();
    }
    if (batches_read_ > 0 && spec_.sleep_between_batches.count() > 0 &&
        !watch_->sleep_for(spec_.sleep_between_batches)) {
        return std::optional<extracted_batch>();
    }
    if (pending_stop(context_)) {
        return std::optional<extracted_batch>();
    }
    connectors::read_request r = base_;
    r.after = position_;
    r.limit = static_cast<std::uint64_t>(spec_.batch_rows);
    auto reader = source_->read(r);
    if (!reader) {
        return with_context(reader.error(), "reading from '" + spec_.source.connection + "'");
    }
    extracted_batch batch;
    for (;;) {
        connectors::row_batch chunk;
        auto more = (*reader)->next(chunk);
        if (!more) {
            return with_context(more.error(), "reading from '" + spec_.source.connection + "'");
        }
        if (!*more) {
            break;
        }
        batch.rows += chunk.row_count();
        batch.bytes += chunk.byte_size();
        batch.chunks.push_back(std::move(chunk));
    }
    reader->reset();
    const std::uint64_t again = count_reread(batch);
    const std::uint64_t again_bytes = batch.rows > 0 ? batch.bytes * again / batch.rows : 0;
    progress_.read(batch.rows - again, batch.bytes - again_bytes);
    progress_.reread(again, again_bytes);
    drained_ = batch.rows < static_cast<std::uint64_t>(spec_.batch_rows);
    if (batch.rows == 0) {
        if (lag_reference_) {
            progress_.set_lag(measure_lag(*lag_reference_, true));
        }
        return std::optional<extracted_batch>();
    }
    const connectors::row_batch& last = batch.chunks.back();
    const std::size_t row = last.row_count() - 1;
    cursor_values hi;
    for (std::size_t k = 0; k < cursor_index_.size(); ++k) {
        if (last.is_null(row, cursor_index_[k])) {
            return core::error::permanent("cursor column '" + spec_.source.cursor[k] +
                                          "' holds NULL; cursor columns must be NOT NULL (a row "
                                          "with a NULL cursor can never be found after a mark)");
        }
        hi.emplace_back(last.at(row, cursor_index_[k]));
    }
    batch.bounds = batch_bounds{position_, hi, batch.rows};
    position_ = connectors::cursor_bound{spec_.source.cursor, hi, false};
    if (!lag_reference_ || compare_cursor(cursor_types_, *lag_reference_, hi) < 0) {
        lag_reference_ = hi;
    }
    ++batches_read_;
    batch.lag_seconds = measure_lag(hi, drained_);
    return std::optional<extracted_batch>(std::move(batch));
}

core::result<void> copy_attempt::copy_incremental() {
    if (checkpoint_.mark) {
        if (spec_.source.lookback) {
            auto back =
                step_back(cursor_types_.front(), checkpoint_.mark->front(), *spec_.source.lookback);
            if (!back) {
                return back.error();
            }
            position_ = connectors::cursor_bound{{spec_.source.cursor.front()}, {*back}, true};
            reread_until_ = checkpoint_.mark;
        } else {
            position_ = connectors::cursor_bound{spec_.source.cursor, *checkpoint_.mark, false};
        }
    }
    lag_reference_ = checkpoint_.mark;
    copy_pipeline pipeline([this] { return next_batch(); });
    for (;;) {
        auto batch = pipeline.take();
        if (!batch) {
            return batch.error();
        }
        if (!*batch) {
            return {};
        }
        if (auto loaded = load_batch(**batch); !loaded) {
            // The extract thread may be blocked in a read or a pause: end both before joining.
            watch_->interrupt_sleeps();
            source_->cancel();
            pipeline.close();
            return loaded;
        }
        if (watch_->cause()) {
            source_->cancel();
            pipeline.close();
            return {};
        }
    }
}

core::result<void> copy_attempt::copy_full() {
    std::optional<std::string> staging;
    if (spec_.sink.mode == config::sink_mode::replace) {
        connectors::create_options options;
        options.key = spec_.sink.key;
        options.version_column = spec_.sink.version_column;
        auto made = sink_->begin_replace(sink_table_, schema_, options);
        if (!made) {
            return with_context(made.error(), "preparing the replace of '" + sink_table_ + "'");
        }
        staging = *made;
    }
    const std::string target = sink_table_;
    if (staging) {
        sink_table_ = *staging;
    }
    auto reader = source_->read(base_);
    if (!reader) {
        sink_table_ = target;
        if (staging) {
            (void)sink_->abandon_replace(*staging);
        }
        return with_context(reader.error(), "reading from '" + spec_.source.connection + "'");
    }
    // One transaction for the whole copy on transactional sinks (outside replace, which swaps
    // its staging table in atomically): a failed attempt leaves the sink as it was.
    const bool txn = !staging && sink_->transactional();
    core::result<void> done;
    if (txn) {
        done = sink_->begin();
    }
    if (done) {
        copy_pipeline pipeline([this, &reader]() -> core::result<std::optional<extracted_batch>> {
            extracted_batch b;
            b.chunks.emplace_back();
            auto more = (*reader)->next(b.chunks.front());
            if (!more) {
                return with_context(more.error(), "reading from '" + spec_.source.connection + "'");
            }
            if (!*more) {
                return std::optional<extracted_batch>();
            }
            b.rows = b.chunks.front().row_count();
            b.bytes = b.chunks.front().byte_size();
            progress_.read(b.rows, b.bytes);
            return std::optional<extracted_batch>(std::move(b));
        });
        for (;;) {
            auto batch = pipeline.take();
            if (!batch) {
                done = batch.error();
                break;
            }
            if (!*batch || watch_->cause()) {
                break;
            }
            done = write_rows((*batch)->chunks, std::nullopt);
            if (!done) {
                source_->cancel();
                break;
            }
            progress_.batch_done(std::nullopt, std::nullopt);
        }
        pipeline.close();
    }
    reader->reset();
    sink_table_ = target;
    if (done && !watch_->cause()) {
        if (txn) {
            done = sink_->commit();
        } else if (staging) {
            done = sink_->finish_replace(*staging, target);
        }
        if (!done) {
            done = with_context(done.error(), "committing the copy into '" + target + "'");
        }
    }
    if ((!done || watch_->cause()) && staging) {
        (void)sink_->abandon_replace(*staging);
    }
    return done;
}

}  // namespace sluice::etl
