#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>

#include <sqlite3.h>

#include "connectors/select_statement.hpp"
#include "connectors/sql_errors.hpp"
#include "connectors/sqlite/sqlite_connector.hpp"
#include "connectors/sqlite/sqlite_link.hpp"
#include "connectors/text_codec.hpp"
#include "connectors/write_modes.hpp"

namespace sluice::connectors {

namespace {

using namespace sqlite_detail;

class sqlite_sink final : public sink {
public:
    explicit sqlite_sink(std::unique_ptr<sqlite_link> link) : link_(std::move(link)) {}

    core::result<std::optional<schema>> describe_table(const std::string& table) override {
        auto stmt = link_->prepare("SELECT * FROM " + sqlite_quoting().identifier(table));
        if (!stmt) {
            if (stmt.error().message.find("no such table") != std::string::npos) {
                return std::optional<schema>();
            }
            return stmt.error();
        }
        schema out = schema_of(*stmt);
        sqlite3_finalize(*stmt);
        return std::optional<schema>(std::move(out));
    }

    core::result<void> create_table(const std::string& table, const schema& columns,
                                    const create_options& options) override {
        const auto& q = sqlite_quoting();
        std::string ddl = "CREATE TABLE " + q.identifier(table) + " (";
        for (std::size_t i = 0; i < columns.columns.size(); ++i) {
            const auto& c = columns.columns[i];
            ddl += (i == 0 ? "" : ", ") + q.identifier(c.name) + " " + sqlite_type_of(c);
            if (!c.nullable) {
                ddl += " NOT NULL";
            }
        }
        if (!options.key.empty()) {
            ddl += ", PRIMARY KEY (" + column_list(options.key) + ")";
        }
        ddl += ")";
        return link_->exec(ddl);
    }

    bool transactional() const override { return true; }
    core::result<void> begin() override { return link_->exec("BEGIN IMMEDIATE"); }
    core::result<void> commit() override { return link_->exec("COMMIT"); }
    core::result<void> rollback() override {
        if (sqlite3_get_autocommit(link_->db()) != 0) {
            return {};
        }
        return link_->exec("ROLLBACK");
    }

    bool supports(write_mode) const override { return true; }

    core::result<void> write(const write_request& request, const row_batch& rows) override {
        if (request.columns == nullptr) {
            return core::error::permanent("write without columns (programmer error)");
        }
        const schema& columns = *request.columns;
        const auto& q = sqlite_quoting();
        std::vector<std::string> names;
        for (const auto& c : columns.columns) {
            names.push_back(c.name);
        }
        if (request.mode == write_mode::append) {
            return insert_rows(q.identifier(request.table), request, rows, {}, {});
        }
        auto plan = plan_write(request, link_->name());
        if (!plan) {
            return plan.error();
        }
        std::vector<bool> deleted;
        auto checked = check_events(*plan, request, rows, link_->name(), deleted);
        if (!checked) {
            return checked;
        }
        if (request.mode == write_mode::scd2) {
            return write_history(request, *plan, rows);
        }
        // Row by row in batch order, so of several events of a key in one batch the highest
        // sequence wins as it would across batches; a delete becomes a tombstone (_deleted).
        std::string update;
        for (const auto& n : names) {
            if (std::find(request.key.begin(), request.key.end(), n) == request.key.end()) {
                update += (update.empty() ? "" : ", ") + q.identifier(n) + " = excluded." +
                          q.identifier(n);
            }
        }
        std::vector<std::string> extra;
        if (plan->operation) {
            extra.emplace_back(deleted_column);
            update +=
                ", " + q.identifier(deleted_column) + " = excluded." + q.identifier(deleted_column);
        }
        std::string tail = " ON CONFLICT (" + column_list(request.key) + ") DO " +
                           (update.empty() ? "NOTHING" : "UPDATE SET " + update);
        if (plan->sequence && !update.empty()) {
            const std::string seq = q.identifier(*request.sequence);
            const std::string cur = q.identifier(request.table) + "." + seq;
            tail += " WHERE " + cur + " IS NULL OR excluded." + seq + " > " + cur;
        }
        return insert_rows(
            q.identifier(request.table), request, rows, extra,
            [&](sqlite3_stmt* stmt, int index, std::size_t r) {
                sqlite3_bind_int(stmt, index, deleted[r] ? 1 : 0);
            },
            tail);
    }

    core::result<std::string> begin_replace(const std::string& table, const schema& columns,
                                            const create_options& options) override {
        const auto& q = sqlite_quoting();
        const std::string staging = replace_staging_name(table);
        auto dropped =
            link_->exec("DROP TABLE IF EXISTS " + q.identifier(staging) +
                        "; DROP TABLE IF EXISTS " + q.identifier(replace_old_name(table)));
        if (!dropped) {
            return dropped.error();
        }
        // The table's own declaration under the staging name keeps its types and key.
        auto ddl = table_sql(table);
        if (!ddl) {
            return ddl.error();
        }
        core::result<void> made;
        if (*ddl) {
            made = link_->exec("CREATE TABLE " + q.identifier(staging) + " " + **ddl);
        } else {
            made = create_table(staging, columns, options);
        }
        if (!made) {
            return made.error();
        }
        return staging;
    }

    // One transaction (the caller's when one is open).
    core::result<void> finish_replace(const std::string& staging,
                                      const std::string& table) override {
        const auto& q = sqlite_quoting();
        auto ddl = table_sql(table);
        if (!ddl) {
            return ddl.error();
        }
        std::string sql = rename_swap_sql(q.identifier, staging, table, ddl->has_value());
        if (sqlite3_get_autocommit(link_->db()) != 0) {
            sql = "BEGIN IMMEDIATE; " + sql + "COMMIT";
        }
        // Legacy renames leave views and triggers naming `table` alone (a modern rename would
        // point them at the old table, which is dropped).
        auto legacy = link_->exec("PRAGMA legacy_alter_table = ON");
        if (!legacy) {
            return legacy;
        }
        auto done = link_->exec(sql);
        auto restored = link_->exec("PRAGMA legacy_alter_table = OFF");
        if (!done && sqlite3_get_autocommit(link_->db()) == 0 && sql.rfind("BEGIN", 0) == 0) {
            (void)link_->exec("ROLLBACK");
        }
        if (!done) {
            return done;
        }
        return restored;
    }

    core::result<void> abandon_replace(const std::string& staging) override {
        return link_->exec("DROP TABLE IF EXISTS " + sqlite_quoting().identifier(staging));
    }

    core::result<std::uint64_t> delete_keys(const std::string& table, const schema& key,
                                            const row_batch& keys) override {
        const auto& q = sqlite_quoting();
        std::vector<std::string> names;
        for (const auto& c : key.columns) {
            names.push_back(c.name);
        }
        // A literal has no affinity, so it takes the key column's (an INTEGER key compares
        // '42' as 42).
        const auto literal = [&q](std::size_t, std::string_view v) { return q.literal(v); };
        std::uint64_t deleted = 0;
        for (std::size_t from = 0; from < keys.row_count(); from += delete_statement_keys) {
            const std::size_t to = std::min(keys.row_count(), from + delete_statement_keys);
            auto done =
                link_->exec("DELETE FROM " + q.identifier(table) + " WHERE " +
                            key_list_predicate(names, q.identifier, literal, keys, from, to));
            if (!done) {
                return done.error();
            }
            deleted += static_cast<std::uint64_t>(sqlite3_changes(link_->db()));
        }
        return deleted;
    }

    core::result<void> write_checkpoint(const checkpoint& mark) override {
        auto made = link_->exec(
            "CREATE TABLE IF NOT EXISTS sluice_checkpoints (key TEXT PRIMARY KEY, value TEXT NOT "
            "NULL, updated_at TEXT NOT NULL)");
        if (!made) {
            return made;
        }
        auto stmt = link_->prepare(
            "INSERT INTO sluice_checkpoints (key, value, updated_at) VALUES (?, ?, "
            "strftime('%Y-%m-%d %H:%M:%f', 'now')) ON CONFLICT (key) DO UPDATE SET value = "
            "excluded.value, updated_at = excluded.updated_at");
        if (!stmt) {
            return stmt.error();
        }
        sqlite3_bind_text(*stmt, 1, mark.key.data(), static_cast<int>(mark.key.size()),
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(*stmt, 2, mark.value.data(), static_cast<int>(mark.value.size()),
                          SQLITE_TRANSIENT);
        const int rc = sqlite3_step(*stmt);
        sqlite3_finalize(*stmt);
        if (rc != SQLITE_DONE) {
            return link_->failure(rc, "writing the checkpoint failed");
        }
        return {};
    }

    core::result<std::optional<std::string>> read_checkpoint(const std::string& key) override {
        auto stmt = link_->prepare("SELECT value FROM sluice_checkpoints WHERE key = ?");
        if (!stmt) {
            if (stmt.error().message.find("no such table") != std::string::npos) {
                return std::optional<std::string>();
            }
            return stmt.error();
        }
        sqlite3_bind_text(*stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
        std::optional<std::string> out;
        const int rc = sqlite3_step(*stmt);
        if (rc == SQLITE_ROW) {
            out = reinterpret_cast<const char*>(sqlite3_column_text(*stmt, 0));
        }
        sqlite3_finalize(*stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            return link_->failure(rc, "reading the checkpoint failed");
        }
        return out;
    }

    void cancel() override { sqlite3_interrupt(link_->db()); }

private:
    static std::string column_list(const std::vector<std::string>& names) {
        std::string out;
        for (const auto& n : names) {
            out += (out.empty() ? "" : ", ") + sqlite_quoting().identifier(n);
        }
        return out;
    }

    using extra_binder = std::function<void(sqlite3_stmt*, int, std::size_t)>;

    // Inserts every row into `target`: the batch's columns, then `extra` columns bound by
    // `bind_extra` (row index), then `tail` (an ON CONFLICT clause).
    core::result<void> insert_rows(const std::string& target, const write_request& request,
                                   const row_batch& rows, const std::vector<std::string>& extra,
                                   const extra_binder& bind_extra, const std::string& tail = {}) {
        const schema& columns = *request.columns;
        std::vector<std::string> names;
        std::string marks;
        for (const auto& c : columns.columns) {
            names.push_back(c.name);
            marks += marks.empty() ? "?" : ", ?";
        }
        for (const auto& n : extra) {
            names.push_back(n);
            marks += ", ?";
        }
        auto stmt = link_->prepare("INSERT INTO " + target + " (" + column_list(names) +
                                   ") VALUES (" + marks + ")" + tail);
        if (!stmt) {
            return stmt.error();
        }
        struct finalizer {
            sqlite3_stmt* s;
            ~finalizer() { sqlite3_finalize(s); }
        } guard{*stmt};
        for (std::size_t r = 0; r < rows.row_count(); ++r) {
            for (std::size_t c = 0; c < rows.column_count(); ++c) {
                bind(*stmt, static_cast<int>(c) + 1, columns.columns[c].type, rows, r, c);
            }
            if (!extra.empty()) {
                bind_extra(*stmt, static_cast<int>(rows.column_count()) + 1, r);
            }
            const int rc = sqlite3_step(*stmt);
            if (rc != SQLITE_DONE) {
                return link_->failure(rc, "writing into " + request.table + " failed");
            }
            sqlite3_reset(*stmt);
        }
        return {};
    }

    // scd2: the batch goes into a temp stage, every event is kept once in the events table
    // (unique key + sequence), then the versions of the batch's keys are rebuilt from it.
    core::result<void> write_history(const write_request& request, const write_plan& plan,
                                     const row_batch& rows) {
        const auto& q = sqlite_quoting();
        const schema& columns = *request.columns;
        const std::string target = q.identifier(request.table);
        const std::string events_name = scd2_events_name(request.table);
        const std::string events = q.identifier(events_name);
        std::vector<std::string> unique = request.key;
        unique.push_back(*request.sequence);
        auto declared = table_sql(events_name);
        if (!declared) {
            return declared.error();
        }
        if (!*declared) {
            // The history table's columns but valid_to and is_current, keyed by key + sequence.
            auto history = describe_table(request.table);
            if (!history) {
                return history.error();
            }
            if (!*history) {
                return core::error::permanent("connection '" + link_->name() +
                                              "': mode scd2: " + request.table + " does not exist");
            }
            schema layout;
            for (const auto& c : (*history)->columns) {
                if (c.name != valid_to_column && c.name != is_current_column) {
                    layout.columns.push_back(c);
                }
            }
            create_options options;
            options.key = unique;
            auto made = create_table(events_name, layout, options);
            if (!made) {
                return made;
            }
        }
        const std::string stage = "temp." + q.identifier("sluice_stage_" + request.table);
        auto made = link_->exec("CREATE TEMP TABLE IF NOT EXISTS " + stage + " AS SELECT * FROM " +
                                events + " WHERE 0; DELETE FROM " + stage);
        if (!made) {
            return made;
        }
        std::vector<std::string> extra;
        if (plan.extra_valid_from) {
            extra.emplace_back(valid_from_column);
        }
        const std::size_t vf = *plan.valid_from;
        auto staged = insert_rows(stage, request, rows, extra,
                                  [&](sqlite3_stmt* stmt, int index, std::size_t r) {
                                      bind(stmt, index, columns.columns[vf].type, rows, r, vf);
                                  });
        if (!staged) {
            return staged;
        }
        std::vector<std::string> names;
        for (const auto& c : columns.columns) {
            names.push_back(c.name);
        }
        if (plan.extra_valid_from) {
            names.emplace_back(valid_from_column);
        }
        const std::string list = column_list(names);
        auto added =
            link_->exec("INSERT INTO " + events + " (" + list + ") SELECT " + list + " FROM " +
                        stage + " WHERE true ON CONFLICT (" + column_list(unique) + ") DO NOTHING");
        if (!added) {
            return added;
        }
        auto cleared = link_->exec(
            "DELETE FROM " + target + " WHERE EXISTS (SELECT 1 FROM " + stage + " sluice_k WHERE " +
            key_match_sql(request.key, q.identifier, "sluice_k", target) + ")");
        if (!cleared) {
            return cleared;
        }
        scd2_dialect dialect{[](std::string_view n) { return sqlite_quoting().identifier(n); },
                             [](const std::string& a, const std::string& b, column_type) {
                                 return a + " IS NOT " + b;
                             }};
        return link_->exec("INSERT INTO " + target + " (" + list + ", " +
                           q.identifier(valid_to_column) + ", " + q.identifier(is_current_column) +
                           ") SELECT " + list + ", sluice_valid_to, sluice_is_current FROM (" +
                           scd2_versions_select(request, plan, dialect, events, stage) +
                           ") sluice_v");
    }

    // The column list and constraints of `table` as declared ("(id INTEGER, ...)"), nullopt
    // when the table does not exist.
    core::result<std::optional<std::string>> table_sql(const std::string& table) {
        auto stmt =
            link_->prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?");
        if (!stmt) {
            return stmt.error();
        }
        sqlite3_bind_text(*stmt, 1, table.data(), static_cast<int>(table.size()), SQLITE_TRANSIENT);
        std::optional<std::string> out;
        const int rc = sqlite3_step(*stmt);
        if (rc == SQLITE_ROW) {
            const std::string sql = reinterpret_cast<const char*>(sqlite3_column_text(*stmt, 0));
            const auto open = sql.find('(');
            if (open != std::string::npos) {
                out = sql.substr(open);
            }
        }
        sqlite3_finalize(*stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            return link_->failure(rc, "reading the declaration of " + table + " failed");
        }
        return out;
    }

    // Binds by type: integers and reals as numbers (so affinity and comparisons work), bytes as
    // blobs, the rest as text. Text that does not parse as its type is bound as text.
    static void bind(sqlite3_stmt* stmt, int index, column_type type, const row_batch& rows,
                     std::size_t r, std::size_t c) {
        if (rows.is_null(r, c)) {
            sqlite3_bind_null(stmt, index);
            return;
        }
        const std::string_view v = rows.at(r, c);
        switch (type) {
            case column_type::boolean:
                if (auto b = parse_boolean(v)) {
                    sqlite3_bind_int(stmt, index, *b ? 1 : 0);
                    return;
                }
                break;
            case column_type::int16:
            case column_type::int32:
            case column_type::int64: {
                sqlite3_int64 n = 0;
                const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
                if (ec == std::errc() && end == v.data() + v.size()) {
                    sqlite3_bind_int64(stmt, index, n);
                    return;
                }
                break;
            }
            case column_type::float32:
            case column_type::float64:
                if (auto d = parse_float(v)) {
                    sqlite3_bind_double(stmt, index, *d);
                    return;
                }
                break;
            case column_type::bytes:
                sqlite3_bind_blob64(stmt, index, v.data(), v.size(), SQLITE_TRANSIENT);
                return;
            default:
                break;
        }
        sqlite3_bind_text64(stmt, index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    }

    std::unique_ptr<sqlite_link> link_;
};

}  // namespace

core::result<std::unique_ptr<sink>> open_sqlite_sink(const config::connection_spec& spec) {
    auto link = sqlite_link::open(spec, true);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<sink>(std::make_unique<sqlite_sink>(std::move(*link)));
}

}  // namespace sluice::connectors
