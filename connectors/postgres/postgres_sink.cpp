#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <unordered_set>

#include "connectors/postgres/postgres_connector.hpp"
#include "connectors/postgres/postgres_link.hpp"
#include "connectors/write_modes.hpp"

namespace sluice::connectors {

namespace {

using namespace postgres_detail;

class postgres_sink final : public sink {
public:
    explicit postgres_sink(std::unique_ptr<pg_link> link) : link_(std::move(link)) {}

    core::result<std::optional<schema>> describe_table(const std::string& table) override {
        auto res =
            link_->query("SELECT to_regclass($1) IS NOT NULL", {pg_quoting().identifier(table)});
        if (!res) {
            return res.error();
        }
        const bool exists = std::string_view(PQgetvalue(*res, 0, 0)) == "t";
        PQclear(*res);
        if (!exists) {
            return std::optional<schema>();
        }
        auto columns =
            link_->describe("SELECT * FROM " + pg_quoting().identifier(table) + " LIMIT 0");
        if (!columns) {
            return columns.error();
        }
        return std::optional<schema>(std::move(*columns));
    }

    core::result<void> create_table(const std::string& table, const schema& columns,
                                    const create_options& options) override {
        std::string ddl = "CREATE TABLE " + pg_quoting().identifier(table) + " (";
        for (std::size_t i = 0; i < columns.columns.size(); ++i) {
            const auto& c = columns.columns[i];
            ddl += (i == 0 ? "" : ", ") + pg_quoting().identifier(c.name) + " " + pg_type_of(c);
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
    core::result<void> begin() override { return link_->exec("BEGIN"); }
    core::result<void> commit() override { return link_->exec("COMMIT"); }
    core::result<void> rollback() override {
        if (PQtransactionStatus(link_->conn()) == PQTRANS_IDLE) {
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
        std::vector<std::string> names;
        for (const auto& c : columns.columns) {
            names.push_back(c.name);
        }
        const std::string target = pg_quoting().identifier(request.table);
        if (request.mode == write_mode::append) {
            return copy_in(target, names, columns, rows);
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
        // Staging: COPY is the fast path, one INSERT ... SELECT the merge. The temp table lives
        // for the session; its rows are truncated per batch. It has the batch's columns typed as
        // in the table, without the table's constraints (NOT NULL columns the merge fills).
        std::string key_text = request.table;
        for (const auto& n : names) {
            key_text += "\n" + n;
        }
        const std::string stage = stage_name(key_text);
        auto made = link_->exec("CREATE TEMP TABLE IF NOT EXISTS " + stage + " AS SELECT " +
                                column_list(names) + " FROM " + target +
                                " WITH NO DATA; TRUNCATE " + stage);
        if (!made) {
            return made;
        }
        auto copied = copy_in(stage, names, columns, rows);
        if (!copied) {
            return copied;
        }
        if (request.mode == write_mode::scd2) {
            return merge_history(request, *plan, target, stage);
        }
        return merge_current(request, *plan, names, target, stage,
                             plan->sequence && has_repeated_key(*plan, rows));
    }

    // Upsert from the stage: the newest event of each key in the batch (DISTINCT ON, as ON
    // CONFLICT may touch a row once per statement) replaces the stored row only when its
    // sequence is higher; deletes become tombstones (_deleted = true).
    core::result<void> merge_current(const write_request& request, const write_plan& plan,
                                     const std::vector<std::string>& names,
                                     const std::string& target, const std::string& stage,
                                     bool repeated) {
        const auto& q = pg_quoting();
        std::string list = column_list(names);
        std::string select = list;
        if (plan.operation) {
            list += ", " + q.identifier(deleted_column);
            select += ", LOWER(" + q.identifier(*request.operation) + ") IN ('d', 'delete')";
        }
        std::string update;
        for (const auto& n : names) {
            if (std::find(request.key.begin(), request.key.end(), n) == request.key.end()) {
                update += (update.empty() ? "" : ", ") + q.identifier(n) + " = EXCLUDED." +
                          q.identifier(n);
            }
        }
        if (plan.operation) {
            update +=
                ", " + q.identifier(deleted_column) + " = EXCLUDED." + q.identifier(deleted_column);
        }
        std::string sql = "INSERT INTO " + target + " AS sluice_cur (" + list + ") SELECT ";
        if (repeated) {
            sql += "DISTINCT ON (" + column_list(request.key) + ") ";
        }
        sql += select + " FROM " + stage;
        if (repeated) {
            sql += " ORDER BY " + column_list(request.key) + ", " +
                   q.identifier(*request.sequence) + " DESC";
        }
        sql += " ON CONFLICT (" + column_list(request.key) + ") DO ";
        if (update.empty()) {
            return link_->exec(sql + "NOTHING");
        }
        sql += "UPDATE SET " + update;
        if (plan.sequence) {
            const std::string seq = q.identifier(*request.sequence);
            sql +=
                " WHERE sluice_cur." + seq + " IS NULL OR EXCLUDED." + seq + " > sluice_cur." + seq;
        }
        return link_->exec(sql);
    }

    // scd2 from the stage: every event is kept once in the events table (unique key +
    // sequence, so a replay adds nothing), then the versions of the batch's keys are rebuilt
    // from it, all in the caller's transaction.
    core::result<void> merge_history(const write_request& request, const write_plan& plan,
                                     const std::string& target, const std::string& stage) {
        const auto& q = pg_quoting();
        const schema& columns = *request.columns;
        std::string list;
        for (const auto& c : columns.columns) {
            list += (list.empty() ? "" : ", ") + q.identifier(c.name);
        }
        std::string with_vf = list;
        std::string select = list;
        if (plan.extra_valid_from) {
            with_vf += ", " + q.identifier(valid_from_column);
            select += ", " + q.identifier(columns.columns[*plan.valid_from].name);
        }
        std::vector<std::string> unique = request.key;
        unique.push_back(*request.sequence);
        const std::string events = q.identifier(scd2_events_name(request.table));
        auto exists = link_->query("SELECT to_regclass($1) IS NOT NULL",
                                   {q.identifier(scd2_events_name(request.table))});
        if (!exists) {
            return exists.error();
        }
        const bool have_events = std::string_view(PQgetvalue(*exists, 0, 0)) == "t";
        PQclear(*exists);
        if (!have_events) {
            auto made = link_->exec("CREATE TABLE " + events + " AS SELECT " + with_vf + " FROM " +
                                    target + " WITH NO DATA; ALTER TABLE " + events +
                                    " ADD PRIMARY KEY (" + column_list(unique) + ")");
            if (!made) {
                return made;
            }
        }
        auto added =
            link_->exec("INSERT INTO " + events + " (" + with_vf + ") SELECT " + select + " FROM " +
                        stage + " ON CONFLICT (" + column_list(unique) + ") DO NOTHING");
        if (!added) {
            return added;
        }
        auto cleared =
            link_->exec("DELETE FROM " + target + " sluice_h WHERE EXISTS (SELECT 1 FROM " + stage +
                        " sluice_k WHERE " +
                        key_match_sql(request.key, q.identifier, "sluice_k", "sluice_h") + ")");
        if (!cleared) {
            return cleared;
        }
        scd2_dialect dialect{[](std::string_view n) { return pg_quoting().identifier(n); },
                             [](const std::string& a, const std::string& b, column_type t) {
                                 return t == column_type::json
                                            ? a + "::text IS DISTINCT FROM " + b + "::text"
                                            : a + " IS DISTINCT FROM " + b;
                             }};
        return link_->exec(
            "INSERT INTO " + target + " (" + with_vf + ", " + q.identifier(valid_to_column) + ", " +
            q.identifier(is_current_column) + ") SELECT " + with_vf +
            ", sluice_valid_to, sluice_is_current = 1 FROM (" +
            scd2_versions_select(request, plan, dialect, events, stage) + ") sluice_v");
    }

    core::result<std::string> begin_replace(const std::string& table, const schema& columns,
                                            const create_options& options) override {
        const auto& q = pg_quoting();
        const std::string staging = replace_staging_name(table);
        auto dropped =
            link_->exec("DROP TABLE IF EXISTS " + q.identifier(staging) +
                        "; DROP TABLE IF EXISTS " + q.identifier(replace_old_name(table)));
        if (!dropped) {
            return dropped.error();
        }
        auto existing = describe_table(table);
        if (!existing) {
            return existing.error();
        }
        if (*existing) {
            auto made = link_->exec("CREATE TABLE " + q.identifier(staging) + " (LIKE " +
                                    q.identifier(table) + " INCLUDING ALL)");
            if (!made) {
                return made.error();
            }
        } else {
            auto made = create_table(staging, columns, options);
            if (!made) {
                return made.error();
            }
        }
        return staging;
    }

    // One transaction (the caller's when one is open): readers see the old table until the
    // commit, then the new one.
    core::result<void> finish_replace(const std::string& staging,
                                      const std::string& table) override {
        const auto& q = pg_quoting();
        auto existing = describe_table(table);
        if (!existing) {
            return existing.error();
        }
        std::string sql = rename_swap_sql(q.identifier, staging, table, existing->has_value());
        const bool own = PQtransactionStatus(link_->conn()) == PQTRANS_IDLE;
        if (own) {
            sql = "BEGIN; " + sql + "COMMIT";
        }
        auto done = link_->exec(sql);
        if (!done && own && PQtransactionStatus(link_->conn()) != PQTRANS_IDLE) {
            (void)link_->exec("ROLLBACK");
        }
        return done;
    }

    core::result<void> abandon_replace(const std::string& staging) override {
        return link_->exec("DROP TABLE IF EXISTS " + pg_quoting().identifier(staging));
    }

    core::result<std::uint64_t> delete_keys(const std::string& table, const schema& key,
                                            const row_batch& keys) override {
        const auto& q = pg_quoting();
        std::vector<std::string> names;
        for (const auto& c : key.columns) {
            names.push_back(c.name);
        }
        // Untyped literals take the key column's type, as in the cursor bounds.
        const auto literal = [&q](std::size_t, std::string_view v) { return q.literal(v); };
        std::uint64_t deleted = 0;
        for (std::size_t from = 0; from < keys.row_count(); from += delete_statement_keys) {
            const std::size_t to = std::min(keys.row_count(), from + delete_statement_keys);
            auto res =
                link_->query("DELETE FROM " + q.identifier(table) + " WHERE " +
                                 key_list_predicate(names, q.identifier, literal, keys, from, to),
                             {});
            if (!res) {
                return res.error();
            }
            deleted += std::strtoull(PQcmdTuples(*res), nullptr, 10);
            PQclear(*res);
        }
        return deleted;
    }

    core::result<void> write_checkpoint(const checkpoint& mark) override {
        auto made = link_->exec(checkpoint_ddl);
        if (!made) {
            return made;
        }
        auto res = link_->query(
            "INSERT INTO sluice_checkpoints (key, value) VALUES ($1, $2) ON CONFLICT (key) DO "
            "UPDATE SET value = EXCLUDED.value, updated_at = now()",
            {mark.key, mark.value});
        if (!res) {
            return res.error();
        }
        PQclear(*res);
        return {};
    }

    core::result<std::optional<std::string>> read_checkpoint(const std::string& key) override {
        auto res = link_->query("SELECT to_regclass('sluice_checkpoints') IS NOT NULL", {});
        if (!res) {
            return res.error();
        }
        const bool exists = std::string_view(PQgetvalue(*res, 0, 0)) == "t";
        PQclear(*res);
        if (!exists) {
            return std::optional<std::string>();
        }
        res = link_->query("SELECT value FROM sluice_checkpoints WHERE key = $1", {key});
        if (!res) {
            return res.error();
        }
        std::optional<std::string> out;
        if (PQntuples(*res) == 1) {
            out = PQgetvalue(*res, 0, 0);
        }
        PQclear(*res);
        return out;
    }

    void cancel() override { link_->cancel(); }

private:
    // One temp stage per target table and column list: its name keeps a readable prefix and a
    // hash of the whole, within PostgreSQL's 63-byte identifiers.
    static std::string stage_name(const std::string& table) {
        std::string readable;
        for (const char c : table.substr(0, 32)) {
            readable += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
        }
        return pg_quoting().identifier("sluice_stage_" + readable + "_" +
                                       std::to_string(std::hash<std::string>{}(table) % 100000000));
    }

    // Whether two rows of the batch share a key: only then does the merge need DISTINCT ON (a
    // sort of the stage), which most batches of change events can skip.
    static bool has_repeated_key(const write_plan& plan, const row_batch& rows) {
        std::unordered_set<std::string> seen;
        seen.reserve(rows.row_count());
        std::string key;
        for (std::size_t r = 0; r < rows.row_count(); ++r) {
            key.clear();
            for (const auto k : plan.key) {
                if (rows.is_null(r, k)) {
                    key += '\x01';
                } else {
                    const auto v = rows.at(r, k);
                    key += std::to_string(v.size()) + ':';
                    key += v;
                }
            }
            if (!seen.insert(key).second) {
                return true;
            }
        }
        return false;
    }

    static std::string column_list(const std::vector<std::string>& names) {
        std::string out;
        for (const auto& n : names) {
            out += (out.empty() ? "" : ", ") + pg_quoting().identifier(n);
        }
        return out;
    }

    core::result<void> copy_in(const std::string& target, const std::vector<std::string>& names,
                               const schema& columns, const row_batch& rows) {
        PGconn* conn = link_->conn();
        PGresult* res =
            PQexec(conn, ("COPY " + target + " (" + column_list(names) + ") FROM STDIN").c_str());
        if (PQresultStatus(res) != PGRES_COPY_IN) {
            auto e = link_->failure(res, "cannot start writing into " + target);
            PQclear(res);
            return e;
        }
        PQclear(res);
        std::string chunk;
        chunk.reserve(copy_chunk_bytes + 4096);
        bool sent = true;
        for (std::size_t r = 0; r < rows.row_count() && sent; ++r) {
            for (std::size_t c = 0; c < rows.column_count(); ++c) {
                if (c != 0) {
                    chunk += '\t';
                }
                if (rows.is_null(r, c)) {
                    chunk += "\\N";
                } else if (columns.columns[c].type == column_type::bytes) {
                    chunk += "\\\\x";
                    append_hex(chunk, rows.at(r, c));
                } else {
                    append_tsv_escaped(chunk, rows.at(r, c), false);
                }
            }
            chunk += '\n';
            if (chunk.size() >= copy_chunk_bytes) {
                sent = PQputCopyData(conn, chunk.data(), static_cast<int>(chunk.size())) == 1;
                chunk.clear();
            }
        }
        if (sent && !chunk.empty()) {
            sent = PQputCopyData(conn, chunk.data(), static_cast<int>(chunk.size())) == 1;
        }
        PQputCopyEnd(conn, sent ? nullptr : "client failed to send");
        res = PQgetResult(conn);
        const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        auto e = ok ? core::error{} : link_->failure(res, "writing into " + target + " failed");
        PQclear(res);
        while (PGresult* more = PQgetResult(conn)) {
            PQclear(more);
        }
        if (!ok) {
            return e;
        }
        return {};
    }

    std::unique_ptr<pg_link> link_;
};

}  // namespace

core::result<std::unique_ptr<sink>> open_postgres_sink(const config::connection_spec& spec) {
    auto link = pg_link::open(spec);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<sink>(std::make_unique<postgres_sink>(std::move(*link)));
}

}  // namespace sluice::connectors
