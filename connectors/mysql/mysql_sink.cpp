#include <algorithm>
#include <cctype>
#include <functional>

#include "connectors/mysql/mysql_connector.hpp"
#include "connectors/mysql/mysql_link.hpp"
#include "connectors/write_modes.hpp"

namespace sluice::connectors {

namespace {

using namespace mysql_detail;

class mysql_sink final : public sink {
public:
    explicit mysql_sink(std::unique_ptr<mysql_link> link) : link_(std::move(link)) {}

    core::result<std::optional<schema>> describe_table(const std::string& table) override {
        const auto dot = table.find('.');
        const std::string schema_sql =
            dot == std::string::npos ? "DATABASE()" : link_->literal(table.substr(0, dot));
        const std::string name = dot == std::string::npos ? table : table.substr(dot + 1);
        auto count = link_->scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = " + schema_sql +
            " AND table_name = " + link_->literal(name));
        if (!count) {
            return count.error();
        }
        if (!*count || **count == "0") {
            return std::optional<schema>();
        }
        read_request r;
        r.table = table;
        r.limit = 0;
        const std::string sql = build_select(r, link_->quoting());
        if (mysql_real_query(link_->conn(), sql.data(), sql.size()) != 0) {
            return link_->failure("cannot describe " + table);
        }
        MYSQL_RES* res = mysql_store_result(link_->conn());
        if (res == nullptr) {
            return link_->failure("cannot describe " + table);
        }
        schema out;
        MYSQL_FIELD* fields = mysql_fetch_fields(res);
        for (unsigned int i = 0; i < mysql_num_fields(res); ++i) {
            out.columns.push_back(column_of(fields[i]));
        }
        mysql_free_result(res);
        return std::optional<schema>(std::move(out));
    }

    core::result<void> create_table(const std::string& table, const schema& columns,
                                    const create_options& options) override {
        const auto q = link_->quoting();
        std::string ddl = "CREATE TABLE " + q.identifier(table) + " (";
        for (std::size_t i = 0; i < columns.columns.size(); ++i) {
            const auto& c = columns.columns[i];
            const bool key =
                std::find(options.key.begin(), options.key.end(), c.name) != options.key.end();
            ddl += (i == 0 ? "" : ", ") + q.identifier(c.name) + " " + mysql_type_of(c, key);
            ddl += c.nullable && !key ? " NULL" : " NOT NULL";
        }
        if (!options.key.empty()) {
            ddl += ", PRIMARY KEY (" + column_list(options.key) + ")";
        }
        ddl += ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
        return link_->exec(ddl);
    }

    bool transactional() const override { return true; }

    core::result<void> begin() override {
        // DDL commits implicitly in MySQL: the checkpoint table is made before the transaction.
        if (!checkpoint_table_ready_) {
            auto made = link_->exec(
                "CREATE TABLE IF NOT EXISTS sluice_checkpoints (`key` VARCHAR(255) NOT NULL "
                "PRIMARY KEY, value LONGTEXT NOT NULL, updated_at DATETIME(6) NOT NULL) "
                "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
            if (!made) {
                return made;
            }
            checkpoint_table_ready_ = true;
        }
        auto started = link_->exec("START TRANSACTION");
        in_transaction_ = static_cast<bool>(started);
        return started;
    }
    core::result<void> commit() override {
        in_transaction_ = false;
        return link_->exec("COMMIT");
    }
    core::result<void> rollback() override {
        in_transaction_ = false;
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
        const auto q = link_->quoting();
        const std::string target = q.identifier(request.table);
        if (request.mode == write_mode::append) {
            return insert_rows(target, names, columns, rows, {}, "");
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
        // Rows of a multi-row INSERT are applied in order, so of several events of a key in one
        // batch the highest sequence wins as across batches. With a sequence every column is
        // assigned only when the incoming sequence is higher, the sequence itself last (MySQL
        // evaluates the assignments left to right and later ones see earlier results).
        std::vector<std::string> updated;
        for (const auto& n : names) {
            if (std::find(request.key.begin(), request.key.end(), n) == request.key.end() &&
                n != request.sequence) {
                updated.push_back(n);
            }
        }
        if (plan->operation) {
            names.emplace_back(deleted_column);
            updated.emplace_back(deleted_column);
        }
        if (request.sequence) {
            updated.push_back(*request.sequence);
        }
        std::string tail;
        for (const auto& n : updated) {
            const std::string c = q.identifier(n);
            std::string value = "VALUES(" + c + ")";
            if (request.sequence) {
                const std::string seq = q.identifier(*request.sequence);
                value = "IF(" + seq + " IS NULL OR VALUES(" + seq + ") > " + seq + ", " + value +
                        ", " + c + ")";
            }
            tail += (tail.empty() ? " ON DUPLICATE KEY UPDATE " : ", ") + c + " = " + value;
        }
        if (tail.empty() && !names.empty()) {  // only key columns: keep the existing row
            tail = " ON DUPLICATE KEY UPDATE " + q.identifier(names[0]) + " = " +
                   q.identifier(names[0]);
        }
        return insert_rows(
            target, names, columns, rows,
            [&](std::string& tuple, std::size_t r) {
                if (plan->operation) {
                    tuple += deleted[r] ? ",1" : ",0";
                }
            },
            tail);
    }

    core::result<std::string> begin_replace(const std::string& table, const schema& columns,
                                            const create_options& options) override {
        const auto q = link_->quoting();
        const std::string staging = replace_staging_name(table);
        auto dropped = link_->exec("DROP TABLE IF EXISTS " + q.identifier(staging) + ", " +
                                   q.identifier(replace_old_name(table)));
        if (!dropped) {
            return dropped.error();
        }
        auto existing = describe_table(table);
        if (!existing) {
            return existing.error();
        }
        auto made = *existing ? link_->exec("CREATE TABLE " + q.identifier(staging) + " LIKE " +
                                            q.identifier(table))
                              : create_table(staging, columns, options);
        if (!made) {
            return made.error();
        }
        return staging;
    }

    // RENAME TABLE swaps both names in one atomic step (it commits an open transaction first,
    // as any DDL in MySQL does); the old rows are dropped after.
    core::result<void> finish_replace(const std::string& staging,
                                      const std::string& table) override {
        const auto q = link_->quoting();
        auto existing = describe_table(table);
        if (!existing) {
            return existing.error();
        }
        const std::string old = q.identifier(replace_old_name(table));
        if (!*existing) {
            return link_->exec("RENAME TABLE " + q.identifier(staging) + " TO " +
                               q.identifier(table));
        }
        auto swapped = link_->exec("RENAME TABLE " + q.identifier(table) + " TO " + old + ", " +
                                   q.identifier(staging) + " TO " + q.identifier(table));
        if (!swapped) {
            return swapped;
        }
        return link_->exec("DROP TABLE " + old);
    }

    core::result<void> abandon_replace(const std::string& staging) override {
        return link_->exec("DROP TABLE IF EXISTS " + link_->quoting().identifier(staging));
    }

    core::result<std::uint64_t> delete_keys(const std::string& table, const schema& key,
                                            const row_batch& keys) override {
        const sql_quoting q = link_->quoting();
        std::vector<std::string> names;
        for (const auto& c : key.columns) {
            names.push_back(c.name);
        }
        const auto literal = [this](std::size_t, std::string_view v) { return link_->literal(v); };
        std::uint64_t deleted = 0;
        for (std::size_t from = 0; from < keys.row_count(); from += delete_statement_keys) {
            const std::size_t to = std::min(keys.row_count(), from + delete_statement_keys);
            auto done =
                link_->exec("DELETE FROM " + q.identifier(table) + " WHERE " +
                            key_list_predicate(names, q.identifier, literal, keys, from, to));
            if (!done) {
                return done.error();
            }
            deleted += mysql_affected_rows(link_->conn());
        }
        return deleted;
    }

    core::result<void> write_checkpoint(const checkpoint& mark) override {
        return link_->exec(
            "INSERT INTO sluice_checkpoints (`key`, value, updated_at) VALUES (" +
            link_->literal(mark.key) + ", " + link_->literal(mark.value) +
            ", UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = "
            "VALUES(updated_at)");
    }

    core::result<std::optional<std::string>> read_checkpoint(const std::string& key) override {
        auto exists = link_->scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND "
            "table_name = 'sluice_checkpoints'");
        if (!exists) {
            return exists.error();
        }
        if (!*exists || **exists == "0") {
            return std::optional<std::string>();
        }
        return link_->scalar("SELECT value FROM sluice_checkpoints WHERE `key` = " +
                             link_->literal(key));
    }

    void cancel() override { link_->cancel(); }

private:
    std::string column_list(const std::vector<std::string>& names) {
        std::string out;
        for (const auto& n : names) {
            out += (out.empty() ? "" : ", ") + quote_dotted(n, '`', '`');
        }
        return out;
    }

    using extra_values = std::function<void(std::string&, std::size_t)>;

    // Multi-row INSERTs of every row into `target` (`names`: the batch's columns then any extra
    // ones, whose values `extra` appends to each tuple), split at the packet limit, each
    // followed by `tail` (an ON DUPLICATE KEY UPDATE clause).
    core::result<void> insert_rows(const std::string& target, const std::vector<std::string>& names,
                                   const schema& columns, const row_batch& rows,
                                   const extra_values& extra, const std::string& tail) {
        const std::string head = "INSERT INTO " + target + " (" + column_list(names) + ") VALUES ";
        std::string sql = head;
        std::string tuple;
        std::size_t in_statement = 0;
        for (std::size_t r = 0; r < rows.row_count(); ++r) {
            tuple = "(";
            for (std::size_t c = 0; c < rows.column_count(); ++c) {
                tuple += c == 0 ? "" : ",";
                append_value(tuple, columns.columns[c].type, rows, r, c);
            }
            if (extra) {
                extra(tuple, r);
            }
            tuple += ')';
            if (in_statement > 0 && sql.size() + tuple.size() + tail.size() > link_->max_packet()) {
                auto sent = link_->exec(sql + tail);
                if (!sent) {
                    return sent;
                }
                sql = head;
                in_statement = 0;
            }
            sql += in_statement == 0 ? "" : ",";
            sql += tuple;
            ++in_statement;
        }
        if (in_statement > 0) {
            return link_->exec(sql + tail);
        }
        return {};
    }

    void append_value(std::string& tuple, column_type type, const row_batch& rows, std::size_t r,
                      std::size_t c) {
        if (rows.is_null(r, c)) {
            tuple += "NULL";
            return;
        }
        const std::string_view v = rows.at(r, c);
        switch (type) {
            case column_type::bytes:
                tuple += "X'";
                append_hex(tuple, v);
                tuple += '\'';
                break;
            case column_type::boolean:
                tuple += parse_boolean(v).value_or(false) ? "1" : "0";
                break;
            default:
                // Numbers too go as strings: the server converts them exactly, and no source
                // text is ever spliced into the statement unquoted.
                tuple += link_->literal(v);
        }
    }

    // scd2: the batch goes into a temporary stage (no implicit commit, unlike other DDL), every
    // event is kept once in the events table (unique key + sequence), then the versions of the
    // batch's keys are rebuilt from it.
    core::result<void> write_history(const write_request& request, const write_plan& plan,
                                     const row_batch& rows) {
        const auto q = link_->quoting();
        const schema& columns = *request.columns;
        const std::string target = q.identifier(request.table);
        const std::string events = q.identifier(scd2_events_name(request.table));
        std::vector<std::string> names;
        for (const auto& c : columns.columns) {
            names.push_back(c.name);
        }
        if (plan.extra_valid_from) {
            names.emplace_back(valid_from_column);
        }
        const std::string list = column_list(names);
        std::vector<std::string> unique = request.key;
        unique.push_back(*request.sequence);
        auto made = ensure_events_table(request.table, events, target, list, unique);
        if (!made) {
            return made;
        }
        const std::string stage = q.identifier("sluice_stage_" + unqualified(request.table));
        made = link_->exec("CREATE TEMPORARY TABLE IF NOT EXISTS " + stage + " LIKE " + events);
        if (!made) {
            return made;
        }
        made = link_->exec("DELETE FROM " + stage);
        if (!made) {
            return made;
        }
        const std::size_t vf = *plan.valid_from;
        // A repeated (key, sequence) within the batch keeps its first row.
        const std::string key0 = q.identifier(request.key[0]);
        auto staged = insert_rows(
            stage, names, columns, rows,
            [&](std::string& tuple, std::size_t r) {
                if (plan.extra_valid_from) {
                    tuple += ',';
                    append_value(tuple, columns.columns[vf].type, rows, r, vf);
                }
            },
            " ON DUPLICATE KEY UPDATE " + key0 + " = " + key0);
        if (!staged) {
            return staged;
        }
        // Qualified: unqualified names would be ambiguous between the target and the SELECT.
        const std::string events_key0 = events + "." + key0;
        auto added =
            link_->exec("INSERT INTO " + events + " (" + list + ") SELECT " + list + " FROM " +
                        stage + " ON DUPLICATE KEY UPDATE " + events_key0 + " = " + events_key0);
        if (!added) {
            return added;
        }
        auto cleared = link_->exec(
            "DELETE FROM " + target + " WHERE EXISTS (SELECT 1 FROM " + stage + " sluice_k WHERE " +
            key_match_sql(request.key, q.identifier, "sluice_k", target) + ")");
        if (!cleared) {
            return cleared;
        }
        scd2_dialect dialect{[](std::string_view n) { return quote_dotted(n, '`', '`'); },
                             [](const std::string& a, const std::string& b, column_type) {
                                 return "NOT (" + a + " <=> " + b + ")";
                             }};
        return link_->exec("INSERT INTO " + target + " (" + list + ", " +
                           q.identifier(valid_to_column) + ", " + q.identifier(is_current_column) +
                           ") SELECT " + list + ", sluice_valid_to, sluice_is_current FROM (" +
                           scd2_versions_select(request, plan, dialect, events, stage) +
                           ") sluice_v");
    }

    // Creates the events table of a history table when missing (checked once per table). DDL
    // commits an open transaction in MySQL; the transaction is started again, so only the first
    // batch of a new history table is split, before any of its rows are written.
    core::result<void> ensure_events_table(const std::string& history, const std::string& events,
                                           const std::string& target, const std::string& list,
                                           const std::vector<std::string>& unique) {
        if (std::find(events_ready_.begin(), events_ready_.end(), history) != events_ready_.end()) {
            return {};
        }
        auto existing = describe_table(scd2_events_name(history));
        if (!existing) {
            return existing.error();
        }
        if (!*existing) {
            auto made =
                link_->exec("CREATE TABLE " + events + " (PRIMARY KEY (" + column_list(unique) +
                            ")) ENGINE=InnoDB SELECT " + list + " FROM " + target + " LIMIT 0");
            if (!made) {
                return made;
            }
            if (in_transaction_) {
                made = link_->exec("START TRANSACTION");
                if (!made) {
                    return made;
                }
            }
        }
        events_ready_.push_back(history);
        return {};
    }

    std::unique_ptr<mysql_link> link_;
    bool checkpoint_table_ready_ = false;
    bool in_transaction_ = false;
    std::vector<std::string> events_ready_;  // history tables whose events table exists
};

}  // namespace

core::result<std::unique_ptr<sink>> open_mysql_sink(const config::connection_spec& spec) {
    auto link = mysql_link::open(spec);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<sink>(std::make_unique<mysql_sink>(std::move(*link)));
}

}  // namespace sluice::connectors
