#include <algorithm>

#include "connectors/clickhouse/clickhouse_connector.hpp"
#include "connectors/clickhouse/clickhouse_link.hpp"
#include "connectors/write_modes.hpp"

namespace sluice::connectors {

namespace {

using namespace clickhouse_detail;

class clickhouse_sink final : public sink {
public:
    explicit clickhouse_sink(std::unique_ptr<ch_link> link) : link_(std::move(link)) {}

    core::result<std::optional<schema>> describe_table(const std::string& table) override {
        const auto dot = table.find('.');
        const std::string db = dot == std::string::npos ? link_->database() : table.substr(0, dot);
        const std::string name = dot == std::string::npos ? table : table.substr(dot + 1);
        auto body =
            link_->run("SELECT name, type FROM system.columns WHERE database = " + ch_literal(db) +
                       " AND table = " + ch_literal(name) + " FORMAT TabSeparated");
        if (!body) {
            return body.error();
        }
        if (body->empty()) {
            return std::optional<schema>();
        }
        schema out;
        std::vector<std::string_view> fields;
        std::string_view rest = *body;
        while (!rest.empty()) {
            const auto nl = rest.find('\n');
            split_tabs(rest.substr(0, nl), fields);
            rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
            if (fields.size() == 2) {
                std::string n;
                std::string t;
                append_tsv_unescaped(n, fields[0]);
                append_tsv_unescaped(t, fields[1]);
                out.columns.push_back(column_of(std::move(n), t));
            }
        }
        auto hints = column_hints(*link_, table);
        if (!hints) {
            return hints.error();
        }
        for (auto& c : out.columns) {
            for (const auto& [name, hint] : *hints) {
                if (name == c.name) {
                    refine(c, hint);
                }
            }
        }
        return std::optional<schema>(std::move(out));
    }

    core::result<void> create_table(const std::string& table, const schema& columns,
                                    const create_options& options) override {
        const auto& q = ch_quoting();
        std::string ddl = "CREATE TABLE " + q.identifier(table) + " (";
        for (std::size_t i = 0; i < columns.columns.size(); ++i) {
            const auto& c = columns.columns[i];
            const bool key =
                std::find(options.key.begin(), options.key.end(), c.name) != options.key.end() ||
                (options.version_column && *options.version_column == c.name);
            ddl += (i == 0 ? "" : ", ") + q.identifier(c.name) + " " + ch_type_of(c, key) +
                   " COMMENT " +
                   ch_literal(std::string(hint_prefix) + std::string(to_string(c.type)));
        }
        ddl += ") ENGINE = ";
        if (options.key.empty()) {
            ddl += "MergeTree ORDER BY tuple()";
        } else {
            std::string key;
            for (const auto& k : options.key) {
                key += (key.empty() ? "" : ", ") + q.identifier(k);
            }
            ddl += "ReplacingMergeTree(" +
                   (options.version_column ? q.identifier(*options.version_column) : "") +
                   ") ORDER BY (" + key + ")";
        }
        auto done = link_->run(ddl);
        if (!done) {
            return done.error();
        }
        return {};
    }

    // No transactions: replays are made harmless by the ReplacingMergeTree key (and version).
    bool transactional() const override { return false; }
    core::result<void> begin() override { return {}; }
    core::result<void> commit() override { return {}; }
    core::result<void> rollback() override { return {}; }

    // scd2 needs transactions and row updates; 18.16 has neither.
    bool supports(write_mode mode) const override { return mode != write_mode::scd2; }

    core::result<void> write(const write_request& request, const row_batch& rows) override {
        if (request.columns == nullptr) {
            return core::error::permanent("write without columns (programmer error)");
        }
        if (request.mode == write_mode::scd2) {
            return core::error::permanent(
                "connection '" + link_->name() + "': mode scd2 into " + request.table +
                ": ClickHouse sinks do not support scd2 (no transactions or row updates); "
                "write the history into PostgreSQL, MySQL or SQLite, or use mode upsert");
        }
        // Sequenced upsert: the table is a ReplacingMergeTree whose version column is the
        // sequence, so the merge (and FINAL) keeps the newest event of a key whatever the
        // insert order; a delete is a row with _deleted = 1 (18.16 has no lightweight deletes).
        std::vector<bool> deleted;
        if (request.mode == write_mode::upsert) {
            auto plan = plan_write(request, link_->name());
            if (!plan) {
                return plan.error();
            }
            auto checked = check_events(*plan, request, rows, link_->name(), deleted);
            if (!checked) {
                return checked;
            }
            if (request.sequence) {
                auto versioned = check_version_column(request.table, *request.sequence);
                if (!versioned) {
                    return versioned;
                }
            }
        }
        if (rows.empty()) {
            return {};
        }
        const schema& columns = *request.columns;
        std::string names;
        for (const auto& c : columns.columns) {
            names += (names.empty() ? "" : ", ") + ch_quoting().identifier(c.name);
        }
        if (request.mode == write_mode::upsert && request.operation) {
            names += ", " + ch_quoting().identifier(deleted_column);
        }
        // 18.16 has no insert_deduplication_token (and deduplicates only Replicated tables): there
        // a replayed batch is collapsed by the key. Servers that know the setting get the token.
        std::string token_setting;
        if (request.dedup_token) {
            auto supported = supports_dedup_token();
            if (!supported) {
                return supported.error();
            }
            if (*supported) {
                token_setting = "&insert_deduplication_token=" + url_encode(*request.dedup_token);
            }
        }
        std::string body;
        body.reserve(rows.byte_size() + rows.row_count() * columns.columns.size() * 2);
        for (std::size_t r = 0; r < rows.row_count(); ++r) {
            for (std::size_t c = 0; c < rows.column_count(); ++c) {
                if (c != 0) {
                    body += '\t';
                }
                if (rows.is_null(r, c)) {
                    body += "\\N";
                    continue;
                }
                encode(body, rows.at(r, c), columns.columns[c].type);
            }
            if (!deleted.empty()) {
                body += deleted[r] ? "\t1" : "\t0";
            }
            body += '\n';
        }
        auto started = link_->start("INSERT INTO " + ch_quoting().identifier(request.table) + " (" +
                                        names + ") FORMAT TabSeparated",
                                    body, true, token_setting);
        if (!started) {
            return started.error();
        }
        char sink_buf[1024];
        for (auto n = link_->read_some(sink_buf, sizeof sink_buf); n && *n > 0;
             n = link_->read_some(sink_buf, sizeof sink_buf)) {
        }
        return {};
    }

    core::result<std::string> begin_replace(const std::string& table, const schema& columns,
                                            const create_options& options) override {
        const auto& q = ch_quoting();
        const std::string staging = replace_staging_name(table);
        for (const auto& name : {staging, replace_old_name(table)}) {
            auto dropped = link_->run("DROP TABLE IF EXISTS " + q.identifier(name));
            if (!dropped) {
                return dropped.error();
            }
        }
        auto existing = describe_table(table);
        if (!existing) {
            return existing.error();
        }
        if (*existing) {
            // Same columns (with their type comments), engine and sorting key.
            auto made =
                link_->run("CREATE TABLE " + q.identifier(staging) + " AS " + q.identifier(table));
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

    // One RENAME TABLE statement renames both under the server's DDL lock, so a reader finds
    // the old table or the new one (18.16 has no EXCHANGE TABLES); the old one is dropped after.
    core::result<void> finish_replace(const std::string& staging,
                                      const std::string& table) override {
        const auto& q = ch_quoting();
        auto existing = describe_table(table);
        if (!existing) {
            return existing.error();
        }
        const std::string old = q.identifier(replace_old_name(table));
        auto swapped = link_->run(
            *existing ? "RENAME TABLE " + q.identifier(table) + " TO " + old + ", " +
                            q.identifier(staging) + " TO " + q.identifier(table)
                      : "RENAME TABLE " + q.identifier(staging) + " TO " + q.identifier(table));
        if (!swapped) {
            return swapped.error();
        }
        if (*existing) {
            auto dropped = link_->run("DROP TABLE " + old);
            if (!dropped) {
                return dropped.error();
            }
        }
        return {};
    }

    core::result<void> abandon_replace(const std::string& staging) override {
        auto dropped = link_->run("DROP TABLE IF EXISTS " + ch_quoting().identifier(staging));
        if (!dropped) {
            return dropped.error();
        }
        return {};
    }

    // 18.16 has no DELETE: a deletion version is a copy of the live row with _deleted = 1,
    // inserted after it, so it wins the ReplacingMergeTree's choice (the highest version, the
    // last inserted among equal ones) at merges and in FINAL. Reading FINAL WHERE _deleted = 0
    // means a key whose deletion landed already is copied no more: a repeated call adds nothing.
    core::result<std::uint64_t> delete_keys(const std::string& table, const schema& key,
                                            const row_batch& keys) override {
        const auto& q = ch_quoting();
        auto described = describe_table(table);
        if (!described) {
            return described.error();
        }
        if (!*described || !(*described)->index_of(deleted_column)) {
            return core::error::permanent(
                "connection '" + link_->name() + "': deletes: detect on " + table +
                " needs a column _deleted UInt8 (1 = deleted) that readers filter with FINAL "
                "WHERE _deleted = 0; add it (ALTER TABLE " +
                table +
                " ADD COLUMN _deleted UInt8 DEFAULT 0) or let create_table: if_missing make it");
        }
        std::string names;
        for (const auto& c : (*described)->columns) {
            if (c.name != deleted_column) {
                names += (names.empty() ? "" : ", ") + q.identifier(c.name);
            }
        }
        std::vector<std::string> key_names;
        for (const auto& c : key.columns) {
            key_names.push_back(c.name);
        }
        const auto literal = [&key](std::size_t column, std::string_view v) {
            return key_literal(key.columns[column].type, v);
        };
        for (std::size_t from = 0; from < keys.row_count(); from += delete_statement_keys) {
            const std::size_t to = std::min(keys.row_count(), from + delete_statement_keys);
            auto done = link_->run(
                "INSERT INTO " + q.identifier(table) + " (" + names + ", " +
                q.identifier(deleted_column) + ") SELECT " + names + ", 1 FROM " +
                q.identifier(table) + " FINAL WHERE " + q.identifier(deleted_column) +
                " = 0 AND (" +
                key_list_predicate(key_names, q.identifier, literal, keys, from, to) + ")");
            if (!done) {
                return done.error();
            }
        }
        // The keys come from a FINAL read of the live rows just before: each has one.
        return keys.row_count();
    }

    core::result<void> write_checkpoint(const checkpoint& mark) override {
        auto made = link_->run(
            "CREATE TABLE IF NOT EXISTS sluice_checkpoints (key String, value String, updated_at "
            "DateTime('UTC'), version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY key");
        if (!made) {
            return made.error();
        }
        const auto now = std::chrono::system_clock::now().time_since_epoch();
        const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
        auto done =
            link_->run("INSERT INTO sluice_checkpoints VALUES (" + ch_literal(mark.key) + ", " +
                       ch_literal(mark.value) + ", now(), " + std::to_string(micros) + ")");
        if (!done) {
            return done.error();
        }
        return {};
    }

    core::result<std::optional<std::string>> read_checkpoint(const std::string& key) override {
        auto exists = link_->run("EXISTS TABLE sluice_checkpoints FORMAT TabSeparated");
        if (!exists) {
            return exists.error();
        }
        if (exists->empty() || (*exists)[0] != '1') {
            return std::optional<std::string>();
        }
        auto body = link_->run(
            "SELECT argMax(value, version) FROM sluice_checkpoints WHERE key = " + ch_literal(key) +
            " GROUP BY key FORMAT TabSeparated");
        if (!body) {
            return body.error();
        }
        if (body->empty()) {
            return std::optional<std::string>();
        }
        std::string_view line = *body;
        if (line.back() == '\n') {
            line.remove_suffix(1);
        }
        std::string value;
        append_tsv_unescaped(value, line);
        return std::optional(std::move(value));
    }

    void cancel() override { link_->cancel(); }

private:
    // Canonical text -> ClickHouse TabSeparated: booleans as 1/0, float specials as nan/inf,
    // Float32 through its exact double,
    // timestamps as Unix seconds (DateTime has whole seconds in 18.16; truncated).
    static void encode(std::string& out, std::string_view v, column_type type) {
        switch (type) {
            case column_type::boolean:
                out += parse_boolean(v).value_or(false) ? '1' : '0';
                return;
            case column_type::float32:
            case column_type::float64:
                if (v == "NaN") {
                    out += "nan";
                } else if (v == "Infinity") {
                    out += "inf";
                } else if (v == "-Infinity") {
                    out += "-inf";
                } else if (auto d = parse_float(v); d && type == column_type::float32) {
                    // 18.16 parses Float32 text off by an ulp ("-3.4e+38" -> -3.4000002e38);
                    // the float's exact value as a double parses right.
                    out += format_float64(static_cast<double>(static_cast<float>(*d)));
                } else {
                    out += v;
                }
                return;
            case column_type::timestamp:
            case column_type::timestamp_tz:
                // As Unix seconds: DateTime text would be read in the column's time zone, a
                // number is the instant whatever the zone (the fraction is dropped).
                if (auto seconds = epoch_seconds(v); seconds && *seconds >= 0) {
                    // Zero-padded to ten digits: 18.16 reads a short number ("1") as a date.
                    const std::string digits = std::to_string(*seconds);
                    out.append(digits.size() < 10 ? 10 - digits.size() : 0, '0');
                    out += digits;
                } else {
                    out += v.substr(0, v.find('.', 10));
                }
                return;
            default:
                append_tsv_escaped(out, v, true);
        }
    }

    // A key value as a literal its column compares with: numbers bare (an Int64 never equals a
    // string), DateTime through toDateTime in UTC (whole seconds), Date through toDate.
    static std::string key_literal(column_type type, std::string_view v) {
        switch (type) {
            case column_type::int16:
            case column_type::int32:
            case column_type::int64:
            case column_type::decimal:
            case column_type::float32:
            case column_type::float64:
                if (parse_float(v)) {
                    return std::string(v);
                }
                break;
            case column_type::timestamp:
            case column_type::timestamp_tz:
                return "toDateTime(" + ch_literal(v.substr(0, v.find('.', 10))) + ", 'UTC')";
            case column_type::date:
                return "toDate(" + ch_literal(v) + ")";
            default:
                break;
        }
        return ch_literal(v);
    }

    // A sequenced upsert relies on the table's version column: anything else would let an
    // older event replace a newer one at merge time. Checked once per table.
    core::result<void> check_version_column(const std::string& table, const std::string& seq) {
        if (std::find(versioned_.begin(), versioned_.end(), table) != versioned_.end()) {
            return {};
        }
        const auto dot = table.find('.');
        const std::string db = dot == std::string::npos ? link_->database() : table.substr(0, dot);
        const std::string name = dot == std::string::npos ? table : table.substr(dot + 1);
        auto body =
            link_->run("SELECT engine_full FROM system.tables WHERE database = " + ch_literal(db) +
                       " AND name = " + ch_literal(name) + " FORMAT TabSeparated");
        if (!body) {
            return body.error();
        }
        std::string engine;
        append_tsv_unescaped(engine, std::string_view(*body).substr(0, body->find('\n')));
        const std::string head = "ReplacingMergeTree(";
        const auto open = engine.find(head);
        std::string version;
        if (open != std::string::npos) {
            const auto close = engine.find(')', open);
            for (const char c : engine.substr(open + head.size(), close - open - head.size())) {
                if (c != '`' && c != ' ') {
                    version += c;
                }
            }
        }
        if (version != seq) {
            return core::error::permanent(
                "connection '" + link_->name() + "': upsert into " + table + " with sequence '" +
                seq + "' needs a ReplacingMergeTree(" + seq + ") table (the sequence as its " +
                "version column), found " + (engine.empty() ? "no table" : "'" + engine + "'") +
                "; create it with create_table: if_missing or that engine");
        }
        versioned_.push_back(table);
        return {};
    }

    // Whether the server has the insert_deduplication_token setting (asked once).
    core::result<bool> supports_dedup_token() {
        if (!dedup_token_supported_) {
            auto body = link_->run(
                "SELECT count() FROM system.settings WHERE name = 'insert_deduplication_token' "
                "FORMAT TabSeparated");
            if (!body) {
                return body.error();
            }
            dedup_token_supported_ = !body->empty() && (*body)[0] != '0';
        }
        return *dedup_token_supported_;
    }

    std::unique_ptr<ch_link> link_;
    std::optional<bool> dedup_token_supported_;
    std::vector<std::string> versioned_;  // tables whose version column was checked
};

}  // namespace

core::result<std::unique_ptr<sink>> open_clickhouse_sink(const config::connection_spec& spec) {
    auto link = ch_link::open(spec);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<sink>(std::make_unique<clickhouse_sink>(std::move(*link)));
}

}  // namespace sluice::connectors
