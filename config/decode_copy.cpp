#include <algorithm>
#include <utility>

#include "config/sql_parameters.hpp"
#include "config/task_body.hpp"

namespace sluice::config {
namespace {

// Reports `key` when present: it does not apply to this kind of source or sink.
void reject_key(decode_context& ctx, const map_reader& m, std::string_view key,
                const std::string& why) {
    if (const map_entry* e = m.entry(key)) {
        ctx.error(e->key_pos, "'" + std::string(key) + "' " + why);
    }
}

std::optional<std::string> optional_name(decode_context& ctx, const map_reader& m,
                                         std::string_view key) {
    if (const node* v = m.get(key)) {
        return ctx.nonempty_string(*v, key);
    }
    return std::nullopt;
}

// The `path` of a file source or sink, refused where it would leave the connection's directory.
void check_file_path(decode_context& ctx, const map_reader& m,
                     const std::optional<std::string>& path) {
    if (!path) {
        return;
    }
    if (auto problem = file_path_problem(*path)) {
        ctx.error(m.get("path")->pos, "this file path is refused: " + *problem);
    }
}

// `columns`: a sequence of names (kept as they are) or a mapping sink name -> source expression.
std::vector<column_spec> decode_columns(decode_context& ctx, const node& n) {
    std::vector<column_spec> columns;
    if (n.is_sequence()) {
        for (const node& item : n.items) {
            if (auto name = ctx.nonempty_string(item, "columns")) {
                columns.push_back({*name, *name});
            }
        }
    } else if (n.is_mapping()) {
        for (const auto& e : n.entries) {
            if (auto expr = ctx.nonempty_string(e.value, e.key)) {
                columns.push_back({e.key, *expr});
            }
        }
    } else {
        ctx.error(n.pos,
                  "expected a sequence of column names or a mapping of column: expression "
                  "for 'columns', got " +
                      std::string(describe_kind(n)));
    }
    return columns;
}

copy_source_spec decode_source(decode_context& ctx, const map_entry& e, const std::string& task,
                               const decode_scope& scope, const job_spec& job,
                               std::vector<output_ref>& outputs) {
    copy_source_spec s;
    map_reader m(ctx, e.value, "the source of task '" + task + "'", e.key_pos);
    if (!m.valid()) {
        return s;
    }
    m.allow({"connection", "table", "query", "path", "cursor", "lookback", "columns", "format",
             "records", "next_page"});
    std::optional<connection_type> type;
    if (const node* v = m.require("connection")) {
        if (auto name = ctx.nonempty_string(*v, "connection")) {
            s.connection = *name;
            type = check_connection_ref(ctx, *v, *name, scope);
        }
    }
    s.table = optional_name(ctx, m, "table");
    s.query = optional_name(ctx, m, "query");
    s.path = optional_name(ctx, m, "path");
    if (const node* v = m.get("cursor")) {
        s.cursor = ctx.string_list(*v, "cursor").value_or(std::vector<std::string>{});
    }
    if (const node* v = m.get("lookback")) {
        s.lookback = ctx.duration(*v, "lookback");
        if (m.get("cursor") == nullptr) {
            ctx.error(m.entry("lookback")->key_pos,
                      "'lookback' re-reads a window before the cursor's mark, so it needs a "
                      "'cursor'");
        }
    }
    if (const node* v = m.get("columns")) {
        s.columns = decode_columns(ctx, *v);
    }
    if (const node* v = m.get("format")) {
        s.format = ctx.enumeration(*v, "format", file_format_names);
    }
    s.records = optional_name(ctx, m, "records");
    s.next_page = optional_name(ctx, m, "next_page");
    if (!type) {
        return s;
    }
    const std::string kind(to_string(*type));
    if (is_database(*type)) {
        const bool table = m.get("table") != nullptr;
        const bool query = m.get("query") != nullptr;
        if (table && query) {
            ctx.error(m.entry("query")->key_pos,
                      "use either 'table' or 'query' in a source, not both");
        } else if (!table && !query) {
            ctx.error(e.key_pos, "the source of task '" + task + "' needs 'table' or 'query'");
        } else if (query && s.query) {
            check_sql_parameters(ctx, *m.get("query"), *s.query, *type, job,
                                 "the source query of task '" + task + "'", /*script=*/false,
                                 outputs);
        }
        const std::string why = "applies only to file and http sources, not to " + kind;
        reject_key(ctx, m, "path", why + "; use 'table' or 'query'");
        reject_key(ctx, m, "format", "applies only to file sources");
        reject_key(ctx, m, "records", "applies only to http sources");
        reject_key(ctx, m, "next_page", "applies only to http sources");
        return s;
    }
    const std::string why = "does not apply to a " + kind + " source; use 'path'";
    reject_key(ctx, m, "table", why);
    reject_key(ctx, m, "query", why);
    if (*type == connection_type::file) {
        if (m.get("path") == nullptr) {
            ctx.error(e.key_pos, "the file source of task '" + task +
                                     "' needs 'path' (relative to the connection's directory)");
        }
        check_file_path(ctx, m, s.path);
        reject_key(ctx, m, "records", "applies only to http sources");
        reject_key(ctx, m, "next_page", "applies only to http sources");
    } else {
        reject_key(ctx, m, "format", "applies only to file sources (http sources read JSON)");
    }
    return s;
}

copy_sink_spec decode_sink(decode_context& ctx, const map_entry& e, const std::string& task,
                           const decode_scope& scope) {
    copy_sink_spec s;
    map_reader m(ctx, e.value, "the sink of task '" + task + "'", e.key_pos);
    if (!m.valid()) {
        return s;
    }
    m.allow({"connection", "table", "path", "mode", "key", "sequence", "operation",
             "tracked_columns", "valid_from", "version_column", "format"});
    // A plain value and flag: GCC 12 misreads std::optional<enum> here (maybe-uninitialized).
    connection_type sink_type = connection_type::postgres;
    bool type_known = false;
    if (const node* v = m.require("connection")) {
        if (auto name = ctx.nonempty_string(*v, "connection")) {
            s.connection = *name;
            if (const auto t = check_connection_ref(ctx, *v, *name, scope)) {
                sink_type = *t;
                type_known = true;
            }
            if (type_known && sink_type == connection_type::http) {
                ctx.error(v->pos, "an http connection cannot be a copy sink ('" + *name +
                                      "'); sinks are postgres, mysql, clickhouse, sqlite or "
                                      "file connections");
                type_known = false;
            }
        }
    }
    s.table = optional_name(ctx, m, "table");
    s.path = optional_name(ctx, m, "path");
    bool mode_ok = true;
    if (const node* v = m.get("mode")) {
        const auto mode = ctx.enumeration(*v, "mode", sink_mode_names);
        mode_ok = mode.has_value();
        s.mode = mode.value_or(s.mode);
    }
    if (const node* v = m.get("key")) {
        s.key = ctx.string_list(*v, "key").value_or(std::vector<std::string>{});
    }
    s.sequence = optional_name(ctx, m, "sequence");
    s.operation = optional_name(ctx, m, "operation");
    if (const node* v = m.get("tracked_columns")) {
        s.tracked_columns =
            ctx.string_list(*v, "tracked_columns").value_or(std::vector<std::string>{});
    }
    s.valid_from = optional_name(ctx, m, "valid_from");
    s.version_column = optional_name(ctx, m, "version_column");
    if (const node* v = m.get("format")) {
        s.format = ctx.enumeration(*v, "format", file_format_names);
    }
    if (mode_ok) {
        const std::string mode(to_string(s.mode));
        if ((s.mode == sink_mode::upsert || s.mode == sink_mode::scd2) && m.get("key") == nullptr) {
            ctx.error(e.key_pos, "mode " + mode + " needs 'key': the columns that identify a row");
        }
        if (s.mode == sink_mode::scd2 && m.get("sequence") == nullptr) {
            ctx.error(e.key_pos,
                      "mode scd2 needs 'sequence': the column that orders change events");
        }
        if (s.mode != sink_mode::scd2 && s.mode != sink_mode::upsert) {
            const std::string why =
                "applies only to mode: upsert or scd2 (this sink uses " + mode + ")";
            reject_key(ctx, m, "sequence", why);
            reject_key(ctx, m, "operation", why);
        }
        if (s.mode != sink_mode::scd2) {
            const std::string why = "applies only to mode: scd2 (this sink uses " + mode + ")";
            reject_key(ctx, m, "tracked_columns", why);
            reject_key(ctx, m, "valid_from", why);
        }
        if (s.mode == sink_mode::upsert && m.get("operation") != nullptr &&
            m.get("sequence") == nullptr) {
            ctx.error(m.entry("operation")->key_pos,
                      "'operation' in an upsert needs 'sequence': delete events are kept as "
                      "tombstones ordered by it, so a late event cannot undo a newer one");
        }
    }
    if (!type_known) {
        return s;
    }
    if (sink_type == connection_type::file) {
        if (m.get("path") == nullptr) {
            ctx.error(e.key_pos, "the file sink of task '" + task + "' needs 'path'");
        }
        check_file_path(ctx, m, s.path);
        reject_key(ctx, m, "table", "does not apply to a file sink; use 'path'");
        if (mode_ok && s.mode != sink_mode::append && s.mode != sink_mode::replace) {
            ctx.error(m.get("mode")->pos, "a file sink supports mode append or replace, not " +
                                              std::string(to_string(s.mode)));
        }
    } else {
        if (m.get("table") == nullptr) {
            ctx.error(e.key_pos, "the sink of task '" + task + "' needs 'table'");
        }
        reject_key(ctx, m, "path", "applies only to file sinks; use 'table'");
        reject_key(ctx, m, "format", "applies only to file sinks");
    }
    if (sink_type != connection_type::clickhouse) {
        reject_key(ctx, m, "version_column",
                   "applies only to clickhouse sinks (the ReplacingMergeTree version)");
    }
    return s;
}

// `deletes: detect` compares the keys of source and sink in key order (docs/etl.md, "Deleted
// rows"): it needs an upsert sink with a key, a source that can order and bound its keys (a
// database), and the keys under their own names. Reported at the `deletes` value.
void check_delete_detection(decode_context& ctx, const node& at, const copy_spec& c,
                            const decode_scope& scope) {
    if (c.sink.mode != sink_mode::upsert) {
        ctx.error(at.pos, "'deletes: detect' applies only to mode: upsert (this sink uses " +
                              std::string(to_string(c.sink.mode)) +
                              "); it deletes the sink rows whose key left the source");
        return;
    }
    if (c.sink.key.empty()) {
        ctx.error(at.pos, "'deletes: detect' needs the sink's 'key': rows are matched by it");
        return;
    }
    if (c.sink.operation) {
        ctx.error(at.pos,
                  "'deletes: detect' cannot be combined with 'operation': a change stream "
                  "carries its deletes as events, and its keys are not the source's rows");
        return;
    }
    const auto type = scope.connection_types.find(c.source.connection);
    if (type != scope.connection_types.end() && !is_database(type->second)) {
        ctx.error(at.pos, "'deletes: detect' reads the source's keys in key order, which a " +
                              std::string(to_string(type->second)) +
                              " source cannot do; use a postgres, mysql, clickhouse or sqlite "
                              "source");
        return;
    }
    if (!c.source.table) {
        return;  // a query's output names are what the key compares, expressions included
    }
    for (const column_spec& col : c.source.columns) {
        const bool key =
            std::find(c.sink.key.begin(), c.sink.key.end(), col.name) != c.sink.key.end();
        if (key && col.expression != col.name) {
            ctx.error(at.pos, "'deletes: detect' compares the key column '" + col.name +
                                  "' of table '" + *c.source.table +
                                  "' under its own name, but the source computes it ('" +
                                  col.expression + "'); compute it in a source 'query' instead");
            return;
        }
    }
}

}  // namespace

copy_spec decode_copy(const task_body_context& b) {
    copy_spec c;
    decode_context& ctx = b.ctx;
    const std::string& task = b.task.spec.name;
    const map_entry* source = b.m.entry("source");
    const map_entry* sink = b.m.entry("sink");
    b.m.require("source");
    b.m.require("sink");
    if (source != nullptr) {
        c.source = decode_source(ctx, *source, task, b.scope, b.job, b.task.output_refs);
    }
    if (sink != nullptr) {
        c.sink = decode_sink(ctx, *sink, task, b.scope);
    }
    if (const node* v = b.m.get("batch_rows")) {
        c.batch_rows = ctx.small_integer(*v, "batch_rows", 1, 10'000'000).value_or(c.batch_rows);
    }
    if (const node* v = b.m.get("sleep_between_batches")) {
        c.sleep_between_batches =
            ctx.duration(*v, "sleep_between_batches").value_or(c.sleep_between_batches);
    }
    if (const node* v = b.m.get("max_batches_per_run")) {
        c.max_batches_per_run = ctx.small_integer(*v, "max_batches_per_run", 1, 100'000'000);
    }
    if (const node* v = b.m.get("create_table")) {
        c.create_table =
            ctx.enumeration(*v, "create_table", create_table_names).value_or(c.create_table);
    }
    if (const node* v = b.m.get("deletes")) {
        const auto policy = ctx.enumeration(*v, "deletes", deletes_names);
        c.deletes = policy.value_or(c.deletes);
        if (policy == deletes_policy::detect) {
            check_delete_detection(ctx, *v, c, b.scope);
        }
    }
    // Cross checks between source and sink, reported at the source key that conflicts.
    if (source != nullptr && sink != nullptr && source->value.is_mapping()) {
        const map_entry* cursor = source->value.find("cursor");
        const map_entry* lookback = source->value.find("lookback");
        const map_entry* mode_entry = sink->value.is_mapping() ? sink->value.find("mode") : nullptr;
        // An invalid mode was reported already; it must not also trigger these checks.
        bool mode_valid = mode_entry == nullptr;
        for (const auto& [name, value] : sink_mode_names) {
            mode_valid =
                mode_valid || (mode_entry->value.is_scalar() && mode_entry->value.text == name);
        }
        if (mode_valid && cursor != nullptr && c.sink.mode == sink_mode::replace) {
            ctx.error(cursor->key_pos,
                      "a replace sink reloads the whole table on every run, so "
                      "the source cannot be incremental; remove 'cursor' or use "
                      "mode append or upsert");
        }
        if (mode_valid && lookback != nullptr && c.sink.mode == sink_mode::append) {
            ctx.error(lookback->key_pos,
                      "'lookback' re-reads rows, which an append sink would "
                      "load twice; use mode upsert (or scd2) with a key");
        }
    }
    return c;
}

}  // namespace sluice::config
