// `deletes: detect` (docs/etl.md, "Deleted rows"): after the copy, the keys of source and sink
// are compared in key order, a page of sink keys at a time (a merge join of two ordered key
// streams, each read by keyset pagination), and the sink rows whose key is gone from the source
// are deleted. Each page's deletions commit with the pass's position in the checkpoint (in one
// transaction on PostgreSQL, MySQL and SQLite; deletion versions, then the position, on
// ClickHouse), so a pass cut short by a crash resumes after its last committed page, and a page
// done again deletes nothing twice.

#include <algorithm>

#include "connectors/write_modes.hpp"
#include "etl/copy_attempt.hpp"

namespace sluice::etl {

namespace {

using connectors::column_type;

// Key types whose order every engine and compare_cursor agree on. Text sorts by each engine's
// collation (PostgreSQL's locale, MySQL's case-insensitive default), so a merge of two text key
// streams could take a present key for a missing one.
bool ordered_alike(column_type t) {
    return t == column_type::int16 || t == column_type::int32 || t == column_type::int64 ||
           t == column_type::decimal || t == column_type::date || t == column_type::timestamp ||
           t == column_type::timestamp_tz;
}

// Reads every row of `r` as key tuples (at most the request's limit).
core::result<std::vector<cursor_values>> read_keys(connectors::source& from,
                                                   const connectors::read_request& r,
                                                   const std::string& what) {
    auto reader = from.read(r);
    if (!reader) {
        return with_context(reader.error(), what);
    }
    std::vector<cursor_values> keys;
    connectors::row_batch chunk;
    for (;;) {
        auto more = (*reader)->next(chunk);
        if (!more) {
            return with_context(more.error(), what);
        }
        if (!*more) {
            break;
        }
        for (std::size_t row = 0; row < chunk.row_count(); ++row) {
            cursor_values key;
            for (std::size_t c = 0; c < chunk.column_count(); ++c) {
                if (chunk.is_null(row, c)) {
                    return core::error::permanent(what + ": key column '" + r.columns.at(c) +
                                                  "' holds NULL; a key must be NOT NULL");
                }
                key.emplace_back(chunk.at(row, c));
            }
            keys.push_back(std::move(key));
        }
    }
    return keys;
}

}  // namespace

core::result<void> copy_attempt::prepare_deletes() {
    if (spec_.deletes != config::deletes_policy::detect) {
        return {};
    }
    if (!connectors_.has_source(sink_conn_->type)) {
        return core::error::permanent("deletes: detect cannot read the keys of a " +
                                      std::string(config::to_string(sink_conn_->type)) + " sink");
    }
    key_schema_.columns.clear();
    key_types_.clear();
    for (const std::string& k : spec_.sink.key) {
        const auto i = schema_.index_of(k);
        if (!i) {
            return core::error::permanent("key column '" + k +
                                          "' is not among the columns the source reads");
        }
        const connectors::column& c = schema_.columns[*i];
        const bool clickhouse = sink_conn_->type == config::connection_type::clickhouse;
        if (!ordered_alike(c.type) || (clickhouse && (c.type == column_type::timestamp ||
                                                      c.type == column_type::timestamp_tz))) {
            return core::error::permanent(
                "deletes: detect compares keys in key order, and key column '" + k + "' is " +
                std::string(connectors::to_string(c.type)) +
                (clickhouse && c.type != column_type::text
                     ? ", which ClickHouse keeps in whole seconds (a key with a fraction would "
                       "never match)"
                     : ", whose order depends on each engine's collation") +
                "; use integer, decimal, date or timestamp keys");
        }
        key_schema_.columns.push_back(c);
        key_types_.push_back(c.type);
    }
    if (sink_conn_->type == config::connection_type::clickhouse) {
        auto described = sink_->describe_table(sink_table_);
        if (!described) {
            return with_context(described.error(), "describing sink table '" + sink_table_ + "'");
        }
        if (*described && !(*described)->index_of(connectors::deleted_column)) {
            return core::error::permanent(
                "deletes: detect on ClickHouse keeps deleted rows as versions with _deleted = 1, "
                "and table '" +
                sink_table_ + "' has no _deleted column; add it (ALTER TABLE " + sink_table_ +
                " ADD COLUMN _deleted UInt8 DEFAULT 0) or let create_table: "
                "if_missing create the table");
        }
    }
    return {};
}

connectors::read_request copy_attempt::source_keys_request() const {
    connectors::read_request r = base_;
    r.columns.clear();
    r.expressions.clear();
    for (const std::string& k : spec_.sink.key) {
        r.columns.push_back(k);
        const auto it = std::find(base_.columns.begin(), base_.columns.end(), k);
        const auto i = static_cast<std::size_t>(it - base_.columns.begin());
        r.expressions.push_back(it != base_.columns.end() && i < base_.expressions.size()
                                    ? base_.expressions[i]
                                    : std::nullopt);
    }
    r.order_by = spec_.sink.key;
    r.expected.reset();
    return r;
}

core::result<std::vector<cursor_values>> copy_attempt::missing_keys(
    const std::vector<cursor_values>& sink_keys) {
    // The source's keys inside the page's range, from the first sink key not yet matched: keys
    // of the source that sort below it cannot match any sink key of the page any more.
    const cursor_values& hi = sink_keys.back();
    connectors::read_request r = source_keys_request();
    r.until = connectors::cursor_bound{spec_.sink.key, hi, true};
    r.limit = key_page_rows_;
    r.limits.max_rows = key_page_rows_;
    std::vector<cursor_values> missing;
    std::vector<cursor_values> page;
    std::size_t at = 0;
    bool exhausted = false;
    std::optional<cursor_values> previous;
    for (std::size_t j = 0; j < sink_keys.size();) {
        if (at == page.size()) {
            if (exhausted) {
                missing.insert(missing.end(), sink_keys.begin() + static_cast<long>(j),
                               sink_keys.end());
                break;
            }
            r.after = connectors::cursor_bound{spec_.sink.key, sink_keys[j], true};
            auto read = read_keys(*source_, r, "reading the keys of the source");
            if (!read) {
                return read.error();
            }
            page = std::move(*read);
            at = 0;
            exhausted = page.size() < key_page_rows_;
            if (page.empty()) {
                continue;
            }
        }
        // The merge is only sound over streams in the same order: one out of order (a source
        // whose ORDER BY disagrees with compare_cursor) fails the pass before it deletes.
        if (previous && compare_cursor(key_types_, *previous, page[at]) > 0) {
            return core::error::permanent(
                "deletes: detect: the source returned key " + values_json(page[at]) + " after " +
                values_json(*previous) +
                "; its key order differs from the sink's, so no row was deleted from this page");
        }
        previous = page[at];
        const int c = compare_cursor(key_types_, page[at], sink_keys[j]);
        if (c < 0) {
            ++at;
        } else if (c == 0) {
            ++at;
            ++j;
        } else {
            missing.push_back(sink_keys[j]);
            ++j;
        }
    }
    return missing;
}

core::result<void> copy_attempt::detect_deletes() {
    key_page_rows_ =
        std::min<std::size_t>(static_cast<std::size_t>(spec_.batch_rows), max_key_page_rows);
    log_system(context_, "detecting deleted rows: comparing the keys of the source and of " +
                             sink_table_ + " in pages of " + std::to_string(key_page_rows_) +
                             (checkpoint_.deletes_after
                                  ? ", resuming after " + values_json(*checkpoint_.deletes_after)
                                  : std::string()));
    const bool clickhouse = sink_conn_->type == config::connection_type::clickhouse;
    std::uint64_t deleted = 0;
    std::uint64_t pages = 0;
    for (;;) {
        if (watch_->cause() || pending_stop(context_)) {
            return {};
        }
        if (pages > 0 && spec_.sleep_between_batches.count() > 0 &&
            !watch_->sleep_for(spec_.sleep_between_batches)) {
            return {};
        }
        connectors::read_request r;
        r.table = sink_table_;
        r.columns = spec_.sink.key;
        r.order_by = spec_.sink.key;
        r.limit = key_page_rows_;
        r.limits.max_rows = key_page_rows_;
        r.expected = key_schema_;
        if (checkpoint_.deletes_after) {
            r.after = connectors::cursor_bound{spec_.sink.key, *checkpoint_.deletes_after, false};
        }
        if (clickhouse) {
            // The live rows only: a row superseded by a deletion version is not seen again.
            r.final = true;
            r.where = std::string(connectors::deleted_column) + " = 0";
        }
        auto sink_keys = read_keys(*sink_keys_, r, "reading the keys of " + sink_table_);
        if (!sink_keys) {
            return sink_keys.error();
        }
        if (sink_keys->empty()) {
            break;
        }
        for (std::size_t i = 1; i < sink_keys->size(); ++i) {
            if (compare_cursor(key_types_, (*sink_keys)[i - 1], (*sink_keys)[i]) >= 0) {
                return core::error::permanent(
                    "deletes: detect: " + sink_table_ + " returned key " +
                    values_json((*sink_keys)[i]) + " after " + values_json((*sink_keys)[i - 1]) +
                    "; its key order differs from the comparison's, so nothing was deleted");
            }
        }
        auto missing = missing_keys(*sink_keys);
        if (!missing) {
            return missing.error();
        }
        const bool last = sink_keys->size() < key_page_rows_;
        auto removed =
            delete_page(*missing, last ? std::nullopt : std::optional(sink_keys->back()));
        if (!removed) {
            return removed.error();
        }
        deleted += *removed;
        ++pages;
        if (last) {
            break;
        }
    }
    if (checkpoint_.deletes_after) {
        // The last page was full and nothing came after it: the pass is complete.
        checkpoint_.deletes_after.reset();
        if (auto m = write_mark(false); !m) {
            return m;
        }
    }
    log_system(context_, std::to_string(deleted) + " row(s) deleted from " + sink_table_ +
                             ": their key is gone from the source (" + std::to_string(pages) +
                             " page(s) of keys compared)");
    return {};
}

core::result<std::uint64_t> copy_attempt::delete_page(const std::vector<cursor_values>& missing,
                                                      std::optional<cursor_values> position) {
    connectors::row_batch keys(spec_.sink.key.size());
    for (const cursor_values& key : missing) {
        for (const std::string& v : key) {
            keys.add(v);
        }
    }
    const std::string where = "deleting from " + spec_.sink.connection + "." + sink_table_;
    std::uint64_t removed = 0;
    if (sink_->transactional()) {
        // The deletions and the pass's new position commit together: a crash leaves both or
        // neither, and a page done again finds its keys gone already.
        if (auto b = sink_->begin(); !b) {
            return with_context(b.error(),
                                "starting a transaction in '" + spec_.sink.connection + "'");
        }
        if (!keys.empty()) {
            auto done = sink_->delete_keys(sink_table_, key_schema_, keys);
            if (!done) {
                return with_context(done.error(), where);
            }
            removed = *done;
        }
        checkpoint_.deletes_after = std::move(position);
        if (auto m = write_mark(true); !m) {
            return m.error();
        }
        if (auto c = sink_->commit(); !c) {
            return with_context(c.error(),
                                "committing the deletions in '" + spec_.sink.connection + "'");
        }
        mirror_mark();
    } else {
        // ClickHouse: the deletion versions first, then the position. A crash in between does
        // the page again, and its keys, deleted already, are no longer among the live rows the
        // sink's keys are read from: no second version.
        if (!keys.empty()) {
            auto done = sink_->delete_keys(sink_table_, key_schema_, keys);
            if (!done) {
                return with_context(done.error(), where);
            }
            removed = *done;
            ++delete_pages_;
            if (options_.crash_after_delete && options_.crash_after_delete(delete_pages_)) {
                progress_.deleted(removed);
                return core::error::transient("simulated crash after the deletions of page " +
                                              std::to_string(delete_pages_) + " (test hook)");
            }
        }
        checkpoint_.deletes_after = std::move(position);
        if (auto m = write_mark(false); !m) {
            return m.error();
        }
    }
    progress_.deleted(removed);
    return removed;
}

}  // namespace sluice::etl
