#include "connectors/postgres_connector.hpp"

#include <atomic>
#include <cctype>
#include <libpq-fe.h>
#include <mutex>

#include "connectors/connection_url.hpp"
#include "connectors/select_statement.hpp"
#include "connectors/sql_errors.hpp"
#include "connectors/text_codec.hpp"

namespace sluice::connectors {

namespace {

// Lines handed to PQputCopyData at once: large enough to amortize the call, small enough that
// a batch never doubles its memory.
constexpr std::size_t copy_chunk_bytes = 1 << 20;

constexpr const char* checkpoint_ddl =
    "CREATE TABLE IF NOT EXISTS sluice_checkpoints (key text PRIMARY KEY, value text NOT NULL, "
    "updated_at timestamptz NOT NULL DEFAULT now())";

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

const sql_quoting& pg_quoting() {
    static const sql_quoting q{[](std::string_view n) { return quote_dotted(n, '"', '"'); },
                               [](std::string_view v) { return quote_standard_literal(v); },
                               {}};
    return q;
}

column column_of(const std::string& name, Oid oid, int mod) {
    column c;
    c.name = name;
    switch (oid) {
        case 16:
            c.type = column_type::boolean;
            c.native_type = "boolean";
            break;
        case 21:
            c.type = column_type::int16;
            c.native_type = "smallint";
            break;
        case 23:
            c.type = column_type::int32;
            c.native_type = "integer";
            break;
        case 20:
        case 26:  // oid
            c.type = column_type::int64;
            c.native_type = "bigint";
            break;
        case 1700:
            c.type = column_type::decimal;
            if (mod >= 4) {
                c.precision = ((mod - 4) >> 16) & 0xffff;
                c.scale = (mod - 4) & 0xffff;
                c.native_type =
                    "numeric(" + std::to_string(c.precision) + "," + std::to_string(c.scale) + ")";
            } else {
                c.native_type = "numeric";
            }
            break;
        case 700:
            c.type = column_type::float32;
            c.native_type = "real";
            break;
        case 701:
            c.type = column_type::float64;
            c.native_type = "double precision";
            break;
        case 17:
            c.type = column_type::bytes;
            c.native_type = "bytea";
            break;
        case 1082:
            c.type = column_type::date;
            c.native_type = "date";
            break;
        case 1114:
            c.type = column_type::timestamp;
            c.native_type = "timestamp";
            break;
        case 1184:
            c.type = column_type::timestamp_tz;
            c.native_type = "timestamptz";
            break;
        case 114:
            c.type = column_type::json;
            c.native_type = "json";
            break;
        case 3802:
            c.type = column_type::json;
            c.native_type = "jsonb";
            break;
        default:  // text, varchar, char, uuid, and anything else in its text form
            c.type = column_type::text;
            c.native_type = oid == 25 ? "text" : "oid " + std::to_string(oid);
    }
    return c;
}

std::string pg_type_of(const column& c) {
    switch (c.type) {
        case column_type::boolean:
            return "boolean";
        case column_type::int16:
            return "smallint";
        case column_type::int32:
            return "integer";
        case column_type::int64:
            return "bigint";
        case column_type::decimal:
            return c.precision > 0 ? "numeric(" + std::to_string(c.precision) + "," +
                                         std::to_string(c.scale) + ")"
                                   : "numeric";
        case column_type::float32:
            return "real";
        case column_type::float64:
            return "double precision";
        case column_type::text:
            return "text";
        case column_type::bytes:
            return "bytea";
        case column_type::date:
            return "date";
        case column_type::timestamp:
            return "timestamp(6)";
        case column_type::timestamp_tz:
            return "timestamptz(6)";
        case column_type::json:
            return "json";  // not jsonb: json keeps the text as written
    }
    return "text";
}

// One libpq connection with the session settings the canonical text forms rely on.
class pg_link {
public:
    ~pg_link() {
        if (cancel_ != nullptr) {
            PQfreeCancel(cancel_);
        }
        if (conn_ != nullptr) {
            PQfinish(conn_);
        }
    }

    static core::result<std::unique_ptr<pg_link>> open(const config::connection_spec& spec) {
        auto parsed = parse_connection_url(spec.url);
        if (!parsed) {
            return parsed.error();
        }
        auto link = std::unique_ptr<pg_link>(new pg_link());
        link->password_ = parsed->password;
        link->name_ = spec.name;
        std::string url = spec.url;
        if (url.find("connect_timeout=") == std::string::npos) {
            const auto seconds = std::max<long long>(
                2, std::chrono::duration_cast<std::chrono::seconds>(spec.connect_timeout).count());
            url += (url.find('?') == std::string::npos ? "?" : "&") +
                   std::string("connect_timeout=") + std::to_string(seconds);
        }
        link->conn_ = PQconnectdb(url.c_str());
        if (link->conn_ == nullptr || PQstatus(link->conn_) != CONNECTION_OK) {
            const std::string message =
                link->conn_ == nullptr
                    ? "out of memory"
                    : trimmed(scrub_secret(PQerrorMessage(link->conn_), parsed->password));
            const bool auth = message.find("authentication failed") != std::string::npos ||
                              message.find("does not exist") != std::string::npos;
            return core::error{auth ? core::error_class::permanent : core::error_class::transient,
                               "connection '" + spec.name + "': cannot connect to PostgreSQL at " +
                                   config::redact_url(spec.url) + ": " + message};
        }
        PQsetNoticeProcessor(
            link->conn_, [](void*, const char*) {}, nullptr);
        link->cancel_ = PQgetCancel(link->conn_);
        auto set = link->exec(
            "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; "
            "SET IntervalStyle = 'iso_8601'; SET bytea_output = 'hex'");
        if (!set) {
            return set.error();
        }
        return link;
    }

    PGconn* conn() { return conn_; }

    // The error of a failed result (or of the connection when `res` is null), classified.
    core::error failure(PGresult* res, const std::string& what) const {
        std::string state;
        std::string message;
        if (res != nullptr) {
            const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            state = s != nullptr ? s : "";
            message = PQresultErrorMessage(res);
        }
        if (message.empty()) {
            message = PQerrorMessage(conn_);
        }
        core::error_class cls = classify_sqlstate(state);
        if (state.empty() && PQstatus(conn_) != CONNECTION_OK) {
            cls = core::error_class::transient;
        }
        return core::error{cls, "connection '" + name_ + "': " + what + ": PostgreSQL error " +
                                    (state.empty() ? std::string("?") : state) + ": " +
                                    trimmed(scrub_secret(message, password_))};
    }

    // Runs statements whose results carry no rows we need.
    core::result<void> exec(const std::string& sql) {
        PGresult* res = PQexec(conn_, sql.c_str());
        const auto status = PQresultStatus(res);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            auto e = failure(res, "statement failed");
            PQclear(res);
            return e;
        }
        PQclear(res);
        return {};
    }

    // Runs one statement with text parameters and returns its result (the caller PQclears).
    core::result<PGresult*> query(const std::string& sql,
                                  const std::vector<std::optional<std::string>>& params) {
        std::vector<const char*> values;
        for (const auto& p : params) {
            values.push_back(p ? p->c_str() : nullptr);
        }
        PGresult* res = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                     values.data(), nullptr, nullptr, 0);
        const auto status = PQresultStatus(res);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            auto e = failure(res, "query failed");
            PQclear(res);
            return e;
        }
        return res;
    }

    // The columns `sql` would return, without running it.
    core::result<schema> describe(const std::string& sql) {
        PGresult* prepared = PQprepare(conn_, "", sql.c_str(), 0, nullptr);
        if (PQresultStatus(prepared) != PGRES_COMMAND_OK) {
            auto e = failure(prepared, "cannot describe the query");
            PQclear(prepared);
            return e;
        }
        PQclear(prepared);
        PGresult* res = PQdescribePrepared(conn_, "");
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            auto e = failure(res, "cannot describe the query");
            PQclear(res);
            return e;
        }
        schema out;
        for (int i = 0; i < PQnfields(res); ++i) {
            out.columns.push_back(column_of(PQfname(res, i), PQftype(res, i), PQfmod(res, i)));
        }
        PQclear(res);
        return out;
    }

    void cancel() {
        canceled_.store(true);
        if (cancel_ != nullptr) {
            char buf[256];
            PQcancel(cancel_, buf, sizeof buf);
        }
    }
    bool canceled() const { return canceled_.load(); }
    const std::string& name() const { return name_; }

private:
    pg_link() = default;
    PGconn* conn_ = nullptr;
    PGcancel* cancel_ = nullptr;
    std::optional<std::string> password_;
    std::string name_;
    std::atomic<bool> canceled_{false};
};

// Appends one COPY text field as the canonical text of `type`.
void add_copy_field(row_batch& out, std::string_view field, column_type type) {
    if (field == "\\N") {
        out.add_null();
        return;
    }
    std::string& arena = out.begin_cell();
    const std::size_t start = arena.size();
    const bool plain = field.find('\\') == std::string_view::npos;
    if (plain) {
        arena.append(field);
    } else {
        append_tsv_unescaped(arena, field);
    }
    switch (type) {
        case column_type::boolean: {
            const bool v = arena.size() > start && arena[start] == 't';
            arena.resize(start);
            arena += v ? "true" : "false";
            break;
        }
        case column_type::bytes: {
            // "\x0a0b": unhex in place (the decoded bytes are half as long).
            const std::string hex = arena.substr(start + 2);
            arena.resize(start);
            append_unhex(arena, hex);
            break;
        }
        case column_type::timestamp:
        case column_type::timestamp_tz: {
            const std::string ts = canonical_timestamp(std::string_view(arena).substr(start));
            arena.resize(start);
            arena += ts;
            break;
        }
        default:
            break;
    }
    out.end_cell();
}

class pg_reader final : public row_reader {
public:
    pg_reader(pg_link& link, connectors::schema columns, batch_limits limits)
        : link_(link), schema_(std::move(columns)), limits_(limits) {}

    ~pg_reader() override {
        if (!done_) {
            // Stop the server sending the rest, then drain what is in flight.
            link_.cancel();
            char* buf = nullptr;
            while (PQgetCopyData(link_.conn(), &buf, 0) > 0) {
                PQfreemem(buf);
            }
            while (PGresult* res = PQgetResult(link_.conn())) {
                PQclear(res);
            }
        }
    }

    const connectors::schema& schema() const override { return schema_; }

    core::result<bool> next(row_batch& out) override {
        out.reset(schema_.columns.size());
        while (!done_ && !limits_.reached(out)) {
            char* buf = nullptr;
            const int n = PQgetCopyData(link_.conn(), &buf, 0);
            if (n == -1) {
                done_ = true;
                PGresult* res = PQgetResult(link_.conn());
                const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
                auto e = ok ? core::error{} : link_.failure(res, "reading rows failed");
                PQclear(res);
                while (PGresult* more = PQgetResult(link_.conn())) {
                    PQclear(more);
                }
                if (!ok) {
                    out.clear();
                    return e;
                }
                break;
            }
            if (n < 0) {
                done_ = true;
                out.clear();
                return link_.failure(nullptr, "reading rows failed");
            }
            std::string_view line(buf, static_cast<std::size_t>(n));
            if (!line.empty() && line.back() == '\n') {
                line.remove_suffix(1);
            }
            std::size_t col = 0;
            std::size_t start = 0;
            for (;;) {
                const auto tab = line.find('\t', start);
                const std::string_view field = line.substr(start, tab - start);
                if (col < schema_.columns.size()) {
                    add_copy_field(out, field, schema_.columns[col].type);
                }
                ++col;
                if (tab == std::string_view::npos) {
                    break;
                }
                start = tab + 1;
            }
            PQfreemem(buf);
            if (col != schema_.columns.size()) {
                out.drop_partial_row();
                return core::error::permanent(
                    "connection '" + link_.name() + "': COPY sent a row of " + std::to_string(col) +
                    " fields, expected " + std::to_string(schema_.columns.size()));
            }
        }
        return !out.empty();
    }

private:
    pg_link& link_;
    connectors::schema schema_;
    batch_limits limits_;
    bool done_ = false;
};

class postgres_source final : public source {
public:
    explicit postgres_source(std::unique_ptr<pg_link> link) : link_(std::move(link)) {}

    core::result<schema> describe(const read_request& request) override {
        return link_->describe(build_select(request, pg_quoting()));
    }

    core::result<std::unique_ptr<row_reader>> read(const read_request& request) override {
        const std::string select = build_select(request, pg_quoting());
        auto columns = link_->describe(select);
        if (!columns) {
            return columns.error();
        }
        PGresult* res = PQexec(link_->conn(), ("COPY (" + select + ") TO STDOUT").c_str());
        if (PQresultStatus(res) != PGRES_COPY_OUT) {
            auto e = link_->failure(res, "cannot start reading");
            PQclear(res);
            return e;
        }
        PQclear(res);
        return std::unique_ptr<row_reader>(
            std::make_unique<pg_reader>(*link_, std::move(*columns), request.limits));
    }

    core::result<std::optional<std::vector<std::optional<std::string>>>> max_cursor(
        const read_request& request, const std::vector<std::string>& cursor) override {
        read_request r = request;
        r.after.reset();
        r.limit = 1;
        r.columns = cursor;
        r.expressions.clear();
        r.order_by.clear();
        std::string select = build_select(r, pg_quoting());
        // ORDER BY each cursor column descending: the greatest tuple first.
        select.erase(select.rfind(" LIMIT "));
        for (std::size_t i = 0; i < cursor.size(); ++i) {
            select += (i == 0 ? " ORDER BY " : ", ") + pg_quoting().identifier(cursor[i]) +
                      " DESC NULLS LAST";
        }
        select += " LIMIT 1";
        read_request wrapped;
        wrapped.query = select;
        auto reader = read(wrapped);
        if (!reader) {
            return reader.error();
        }
        row_batch batch;
        auto got = (*reader)->next(batch);
        if (!got) {
            return got.error();
        }
        if (!*got) {
            return std::optional<std::vector<std::optional<std::string>>>();
        }
        std::vector<std::optional<std::string>> out;
        for (std::size_t i = 0; i < cursor.size(); ++i) {
            out.push_back(batch.value(0, i));
        }
        for (auto more = (*reader)->next(batch); more && *more; more = (*reader)->next(batch)) {
        }
        return std::optional(std::move(out));
    }

    void cancel() override { link_->cancel(); }

private:
    std::unique_ptr<pg_link> link_;
};

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
        if (request.key.empty()) {
            return core::error::permanent("connection '" + link_->name() + "': upsert into " +
                                          request.table + " needs key columns");
        }
        // Staging: COPY is the fast path, ON CONFLICT the merge. The temp table lives for the
        // session; its rows are truncated per batch.
        // One stage per target table: its name keeps a readable prefix and a hash of the full
        // name, within PostgreSQL's 63-byte identifiers.
        std::string readable;
        for (const char c : request.table.substr(0, 32)) {
            readable += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
        }
        const std::string stage = pg_quoting().identifier(
            "sluice_stage_" + readable + "_" +
            std::to_string(std::hash<std::string>{}(request.table) % 100000000));
        auto made = link_->exec("CREATE TEMP TABLE IF NOT EXISTS " + stage + " (LIKE " + target +
                                " INCLUDING DEFAULTS); TRUNCATE " + stage);
        if (!made) {
            return made;
        }
        auto copied = copy_in(stage, names, columns, rows);
        if (!copied) {
            return copied;
        }
        std::string update;
        for (const auto& n : names) {
            if (std::find(request.key.begin(), request.key.end(), n) == request.key.end()) {
                update += (update.empty() ? "" : ", ") + pg_quoting().identifier(n) +
                          " = EXCLUDED." + pg_quoting().identifier(n);
            }
        }
        const std::string list = column_list(names);
        return link_->exec("INSERT INTO " + target + " (" + list + ") SELECT " + list + " FROM " +
                           stage + " ON CONFLICT (" + column_list(request.key) + ") DO " +
                           (update.empty() ? "NOTHING" : "UPDATE SET " + update));
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

core::result<std::unique_ptr<source>> open_postgres_source(const config::connection_spec& spec) {
    auto link = pg_link::open(spec);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<source>(std::make_unique<postgres_source>(std::move(*link)));
}

core::result<std::unique_ptr<sink>> open_postgres_sink(const config::connection_spec& spec) {
    auto link = pg_link::open(spec);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<sink>(std::make_unique<postgres_sink>(std::move(*link)));
}

}  // namespace sluice::connectors
