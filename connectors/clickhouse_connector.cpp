#include "connectors/clickhouse_connector.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>

#include "connectors/clickhouse_errors.hpp"
#include "connectors/connection_url.hpp"
#include "connectors/http_client.hpp"
#include "connectors/select_statement.hpp"
#include "connectors/text_codec.hpp"

namespace sluice::connectors {

namespace {

// Bytes read from the socket per call while streaming a result.
constexpr std::size_t read_chunk_bytes = 256 * 1024;
// An error body is a short text; more is cut.
constexpr std::size_t error_body_limit = 64 * 1024;
// Every socket read/write; long inserts and merges stay well inside it.
constexpr std::chrono::milliseconds io_timeout{300000};

std::string ch_literal(std::string_view v) {
    std::string out = "'";
    for (const char c : v) {
        if (c == '\\' || c == '\'') {
            out += '\\';
        }
        out += c;
    }
    out += '\'';
    return out;
}

const sql_quoting& ch_quoting() {
    static const sql_quoting q{[](std::string_view n) { return quote_dotted(n, '`', '`'); },
                               [](std::string_view v) { return ch_literal(v); },
                               {}};
    return q;
}

std::string_view unwrap(std::string_view type, std::string_view wrapper) {
    if (type.substr(0, wrapper.size()) == wrapper && type.size() > wrapper.size() + 1 &&
        type[wrapper.size()] == '(' && type.back() == ')') {
        return type.substr(wrapper.size() + 1, type.size() - wrapper.size() - 2);
    }
    return {};
}

column column_of(std::string name, std::string_view type) {
    column c;
    c.name = std::move(name);
    c.native_type = std::string(type);
    c.nullable = false;
    if (auto inner = unwrap(type, "LowCardinality"); !inner.empty()) {
        type = inner;
    }
    if (auto inner = unwrap(type, "Nullable"); !inner.empty()) {
        type = inner;
        c.nullable = true;
    }
    if (type == "Int8" || type == "Int16" || type == "UInt8") {
        c.type = column_type::int16;
    } else if (type == "UInt16" || type == "Int32") {
        c.type = column_type::int32;
    } else if (type == "UInt32" || type == "Int64") {
        c.type = column_type::int64;
    } else if (type == "UInt64") {
        c.type = column_type::decimal;
        c.precision = 20;
    } else if (type == "Float32") {
        c.type = column_type::float32;
    } else if (type == "Float64") {
        c.type = column_type::float64;
    } else if (auto args = unwrap(type, "Decimal"); !args.empty()) {
        c.type = column_type::decimal;
        const auto comma = args.find(',');
        c.precision = std::atoi(std::string(args.substr(0, comma)).c_str());
        c.scale = comma == std::string_view::npos
                      ? 0
                      : std::atoi(std::string(args.substr(comma + 1)).c_str());
    } else if (type == "Date") {
        c.type = column_type::date;
    } else if (type.substr(0, 8) == "DateTime") {
        c.type = column_type::timestamp_tz;
    } else {
        c.type = column_type::text;  // String, FixedString, UUID, Enum, arrays in their text
    }
    return c;
}

// ClickHouse has one String for text, bytes and JSON, UInt8 for booleans and DateTime for both
// timestamp kinds. A hint (the `sluice:TYPE` comment our sink puts on columns it creates, or the
// read request's `expected` schema) restores the portable type where the native one is ambiguous.
void refine(column& c, column_type hint) {
    const bool ok = (c.type == column_type::text &&
                     (hint == column_type::bytes || hint == column_type::json)) ||
                    (c.type == column_type::int16 && hint == column_type::boolean) ||
                    (c.type == column_type::timestamp_tz && hint == column_type::timestamp);
    if (ok) {
        c.type = hint;
    }
}

constexpr std::string_view hint_prefix = "sluice:";

std::string ch_type_of(const column& c, bool key) {
    std::string t;
    switch (c.type) {
        case column_type::boolean:
            t = "UInt8";
            break;
        case column_type::int16:
            t = "Int16";
            break;
        case column_type::int32:
            t = "Int32";
            break;
        case column_type::int64:
            t = "Int64";
            break;
        case column_type::decimal:
            t = c.precision > 0 && c.precision <= 38
                    ? "Decimal(" + std::to_string(c.precision) + ", " +
                          std::to_string(std::min(c.scale, c.precision)) + ")"
                    : "Decimal(38, 10)";
            break;
        case column_type::float32:
            t = "Float32";
            break;
        case column_type::float64:
            t = "Float64";
            break;
        case column_type::text:
        case column_type::bytes:
        case column_type::json:
            t = "String";
            break;
        case column_type::date:
            t = "Date";
            break;
        case column_type::timestamp:
        case column_type::timestamp_tz:
            t = "DateTime('UTC')";
            break;
    }
    // 18.16 refuses Nullable columns in the sorting key.
    return c.nullable && !key ? "Nullable(" + t + ")" : t;
}

std::string new_query_id() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return "sluice-" + std::to_string(rng());
}

class ch_link {
public:
    static core::result<std::unique_ptr<ch_link>> open(const config::connection_spec& spec) {
        auto parsed = parse_connection_url(spec.url);
        if (!parsed) {
            return parsed.error();
        }
        if (parsed->scheme != "http" && parsed->scheme != "https") {
            return core::error::permanent("connection '" + spec.name +
                                          "': a ClickHouse url starts with http:// or https://");
        }
        auto link = std::unique_ptr<ch_link>(new ch_link());
        link->name_ = spec.name;
        link->password_ = parsed->password;
        link->database_ = parsed->query_value("database")
                              .value_or(parsed->database.empty() ? "default" : parsed->database);
        // Every other query parameter is a ClickHouse setting sent with each statement
        // (?database=db&max_memory_usage=1000000000&max_execution_time=600).
        for (const auto& [key, value] : parsed->query) {
            if (key != "database") {
                link->settings_ += "&" + url_encode(key) + "=" + url_encode(value);
            }
        }
        link->endpoint_ = {parsed->scheme == "https", parsed->host,
                           parsed->port.value_or(parsed->scheme == "https" ? 8443 : 8123)};
        link->connect_timeout_ =
            std::chrono::duration_cast<std::chrono::milliseconds>(spec.connect_timeout);
        if (!parsed->user.empty() || parsed->password) {
            // Basic auth: the password never goes into a url a proxy or server log could show.
            std::string credentials;
            append_base64(credentials, parsed->user + ":" + parsed->password.value_or(""));
            link->headers_.emplace_back("Authorization", "Basic " + credentials);
        }
        link->client_ =
            std::make_unique<http_client>(link->endpoint_, link->connect_timeout_, io_timeout);
        return link;
    }

    const std::string& name() const { return name_; }
    const std::string& database() const { return database_; }

    core::error failure(const std::string& what, const std::string& body) const {
        const auto code = parse_clickhouse_code(body);
        std::string text = scrub_secret(body, password_);
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
            text.pop_back();
        }
        return core::error{code ? classify_clickhouse_code(*code) : core::error_class::transient,
                           "connection '" + name_ + "': " + what + ": ClickHouse error " +
                               (code ? std::to_string(*code) : std::string("?")) + ": " + text};
    }

    // Sends a statement; on success the body is left to read (streaming). `sql` goes in the
    // url when `data` carries rows (INSERT ... FORMAT), else in the body.
    core::result<void> start(const std::string& sql, std::string_view data = {},
                             bool sql_in_url = false, const std::string& extra_settings = {}) {
        const std::string id = new_query_id();
        {
            std::lock_guard lock(mutex_);
            query_id_ = id;
        }
        std::string target =
            "/?database=" + url_encode(database_) + "&query_id=" + id + settings_ + extra_settings;
        if (sql_in_url) {
            target += "&query=" + url_encode(sql);
        }
        auto head = client_->send("POST", target, headers_, sql_in_url ? data : sql);
        if (!head) {
            return core::error{head.error().cls,
                               "connection '" + name_ + "': " + head.error().message};
        }
        if (head->status != 200) {
            auto body = client_->read_body(error_body_limit);
            return failure("query failed",
                           body ? *body : "HTTP status " + std::to_string(head->status));
        }
        return {};
    }

    core::result<std::size_t> read_some(char* out, std::size_t size) {
        auto n = client_->read_body_some(out, size);
        if (!n) {
            return core::error{n.error().cls, "connection '" + name_ + "': " + n.error().message};
        }
        return *n;
    }

    // Runs a statement and returns its whole (small) result.
    core::result<std::string> run(const std::string& sql) {
        auto started = start(sql);
        if (!started) {
            return started.error();
        }
        auto body = client_->read_body(error_body_limit * 16);
        if (!body) {
            return core::error{body.error().cls,
                               "connection '" + name_ + "': " + body.error().message};
        }
        return *body;
    }

    // KILL QUERY for the statement in flight, from a second connection (thread-safe).
    void cancel() {
        std::string id;
        {
            std::lock_guard lock(mutex_);
            id = query_id_;
        }
        if (id.empty()) {
            return;
        }
        http_client killer(endpoint_, connect_timeout_, std::chrono::seconds(10));
        const std::string sql = "KILL QUERY WHERE query_id = " + ch_literal(id) + " ASYNC";
        if (auto head = killer.send("POST", "/", headers_, sql)) {
            // The reply only says whether the kill was queued; the statement reports the rest.
            (void)killer.read_body(error_body_limit);
        }
    }

private:
    ch_link() = default;
    std::string name_;
    std::optional<std::string> password_;
    std::string database_;
    std::string settings_;  // "&name=value..." for every statement
    http_endpoint endpoint_;
    std::chrono::milliseconds connect_timeout_{10000};
    std::vector<std::pair<std::string, std::string>> headers_;
    std::unique_ptr<http_client> client_;
    std::mutex mutex_;
    std::string query_id_;
};

// Splits one TabSeparated line into fields (views into `line`).
void split_tabs(std::string_view line, std::vector<std::string_view>& out) {
    out.clear();
    std::size_t start = 0;
    for (;;) {
        const auto tab = line.find('\t', start);
        out.push_back(line.substr(start, tab - start));
        if (tab == std::string_view::npos) {
            return;
        }
        start = tab + 1;
    }
}

class ch_reader final : public row_reader {
public:
    explicit ch_reader(ch_link& link, batch_limits limits) : link_(link), limits_(limits) {}

    // Reads the names and types lines; `hints` refine ambiguous native types by column name.
    core::result<void> open(const std::vector<std::pair<std::string, column_type>>& hints) {
        std::string_view names;
        auto got = next_line(names);
        if (!got) {
            return got.error();
        }
        std::vector<std::string> name_list;
        split_tabs(names, fields_);
        for (auto f : fields_) {
            std::string n;
            append_tsv_unescaped(n, f);
            name_list.push_back(std::move(n));
        }
        std::string_view types;
        got = next_line(types);
        if (!got) {
            return got.error();
        }
        split_tabs(types, fields_);
        for (std::size_t i = 0; i < fields_.size() && i < name_list.size(); ++i) {
            std::string t;
            append_tsv_unescaped(t, fields_[i]);
            schema_.columns.push_back(column_of(name_list[i], t));
            for (const auto& [name, hint] : hints) {
                if (name == schema_.columns.back().name) {
                    refine(schema_.columns.back(), hint);
                }
            }
        }
        return {};
    }

    const connectors::schema& schema() const override { return schema_; }

    core::result<bool> next(row_batch& out) override {
        out.reset(schema_.columns.size());
        while (!limits_.reached(out)) {
            std::string_view line;
            auto got = next_line(line);
            if (!got) {
                out.clear();
                return got.error();
            }
            if (!*got) {
                break;
            }
            split_tabs(line, fields_);
            if (fields_.size() != schema_.columns.size()) {
                out.clear();
                // The server reports an error met mid-stream as text after the rows.
                return link_.failure("reading rows failed", std::string(line) + rest_of_body());
            }
            for (std::size_t c = 0; c < fields_.size(); ++c) {
                add_field(out, fields_[c], schema_.columns[c].type);
            }
        }
        return !out.empty();
    }

private:
    static void add_field(row_batch& out, std::string_view field, column_type type) {
        if (field == "\\N") {
            out.add_null();
            return;
        }
        if (type == column_type::boolean) {
            out.add(field == "0" ? "false" : "true");
            return;
        }
        if (type == column_type::float32 || type == column_type::float64) {
            if (field == "nan" || field == "-nan") {
                out.add("NaN");
                return;
            }
            if (field == "inf" || field == "+inf") {
                out.add("Infinity");
                return;
            }
            if (field == "-inf") {
                out.add("-Infinity");
                return;
            }
        }
        std::string& arena = out.begin_cell();
        if (field.find('\\') == std::string_view::npos) {
            arena.append(field);
        } else {
            append_tsv_unescaped(arena, field);
        }
        out.end_cell();
    }

    std::string rest_of_body() {
        std::string rest(buffer_, pos_);
        char chunk[4096];
        while (rest.size() < error_body_limit) {
            auto n = link_.read_some(chunk, sizeof chunk);
            if (!n || *n == 0) {
                break;
            }
            rest.append(chunk, *n);
        }
        return rest;
    }

    // The next line without its '\n'; false at the end of the body. A view into buffer_, valid
    // until the next call.
    core::result<bool> next_line(std::string_view& line) {
        for (;;) {
            const auto nl = buffer_.find('\n', scan_);
            if (nl != std::string::npos) {
                line = std::string_view(buffer_).substr(pos_, nl - pos_);
                pos_ = nl + 1;
                scan_ = pos_;
                return true;
            }
            if (eof_) {
                if (pos_ < buffer_.size()) {
                    line = std::string_view(buffer_).substr(pos_);
                    pos_ = scan_ = buffer_.size();
                    return true;
                }
                return false;
            }
            // Keep the unread tail, then append a chunk.
            buffer_.erase(0, pos_);
            scan_ = buffer_.size();
            pos_ = 0;
            const std::size_t old = buffer_.size();
            buffer_.resize(old + read_chunk_bytes);
            auto n = link_.read_some(buffer_.data() + old, read_chunk_bytes);
            if (!n) {
                buffer_.resize(old);
                return n.error();
            }
            buffer_.resize(old + *n);
            eof_ = *n == 0;
        }
    }

    ch_link& link_;
    batch_limits limits_;
    connectors::schema schema_;
    std::string buffer_;
    std::size_t pos_ = 0;
    std::size_t scan_ = 0;
    bool eof_ = false;
    std::vector<std::string_view> fields_;
};

// The `sluice:TYPE` comments of a table's columns.
core::result<std::vector<std::pair<std::string, column_type>>> column_hints(
    ch_link& link, const std::string& table) {
    const auto dot = table.find('.');
    const std::string db = dot == std::string::npos ? link.database() : table.substr(0, dot);
    const std::string name = dot == std::string::npos ? table : table.substr(dot + 1);
    auto body =
        link.run("SELECT name, comment FROM system.columns WHERE database = " + ch_literal(db) +
                 " AND table = " + ch_literal(name) + " AND startsWith(comment, " +
                 ch_literal(hint_prefix) + ") FORMAT TabSeparated");
    if (!body) {
        return body.error();
    }
    std::vector<std::pair<std::string, column_type>> out;
    std::vector<std::string_view> fields;
    std::string_view rest = *body;
    while (!rest.empty()) {
        const auto nl = rest.find('\n');
        split_tabs(rest.substr(0, nl), fields);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        if (fields.size() == 2) {
            std::string n;
            std::string comment;
            append_tsv_unescaped(n, fields[0]);
            append_tsv_unescaped(comment, fields[1]);
            if (auto t =
                    column_type_from_string(std::string_view(comment).substr(hint_prefix.size()))) {
                out.emplace_back(std::move(n), *t);
            }
        }
    }
    return out;
}

class clickhouse_source final : public source {
public:
    explicit clickhouse_source(std::unique_ptr<ch_link> link) : link_(std::move(link)) {}

    core::result<schema> describe(const read_request& request) override {
        read_request r = request;
        r.limit = 0;
        auto reader = read(r);
        if (!reader) {
            return reader.error();
        }
        schema out = (*reader)->schema();
        row_batch rest;
        for (auto more = (*reader)->next(rest); more && *more; more = (*reader)->next(rest)) {
        }
        return out;
    }

    core::result<std::unique_ptr<row_reader>> read(const read_request& request) override {
        std::vector<std::pair<std::string, column_type>> found;
        if (request.table) {
            auto comments = column_hints(*link_, *request.table);
            if (!comments) {
                return comments.error();
            }
            found = std::move(*comments);
        }
        if (request.expected) {
            for (const auto& c : request.expected->columns) {
                found.emplace_back(c.name, c.type);
            }
        }
        const auto* hints = &found;
        sql_quoting q = ch_quoting();
        if (request.after && !request.after->values.empty()) {
            auto typed = cursor_quoting(request);
            if (!typed) {
                return typed.error();
            }
            q = std::move(*typed);
        }
        auto started =
            link_->start(build_select(request, q) + " FORMAT TabSeparatedWithNamesAndTypes");
        if (!started) {
            return started.error();
        }
        auto reader = std::make_unique<ch_reader>(*link_, request.limits);
        auto opened = reader->open(*hints);
        if (!opened) {
            return opened.error();
        }
        return std::unique_ptr<row_reader>(std::move(reader));
    }

    core::result<std::optional<std::vector<std::optional<std::string>>>> max_cursor(
        const read_request& request, const std::vector<std::string>& cursor) override {
        const auto& q = ch_quoting();
        read_request r = request;
        r.after.reset();
        std::string sql = "SELECT ";
        std::string order;
        for (std::size_t i = 0; i < cursor.size(); ++i) {
            sql += (i == 0 ? "" : ", ") + q.identifier(cursor[i]);
            order += (i == 0 ? "" : ", ") + q.identifier(cursor[i]) + " DESC";
        }
        sql += " FROM " + build_from(r, q);
        const std::string predicate = build_predicate(r, q);
        if (!predicate.empty()) {
            sql += " WHERE " + predicate;
        }
        sql += " ORDER BY " + order + " LIMIT 1";
        read_request wrapped;
        wrapped.query = sql;
        wrapped.columns = cursor;
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
    // Quoting whose cursor literals match the cursor columns' types: numbers bare (checked to
    // be numbers), dates and times as strings (ClickHouse converts those for a comparison).
    core::result<sql_quoting> cursor_quoting(const read_request& request) {
        read_request bare = request;
        bare.after.reset();
        bare.limit = 0;
        bare.order_by.clear();
        auto reader = read(bare);
        if (!reader) {
            return reader.error();
        }
        schema columns = (*reader)->schema();
        row_batch rest;
        for (auto more = (*reader)->next(rest); more && *more; more = (*reader)->next(rest)) {
        }
        sql_quoting q = ch_quoting();
        q.cursor_literal = [columns](std::string_view column, std::string_view value) {
            const auto i = columns.index_of(column);
            const bool numeric = i && (columns.columns[*i].type == column_type::int16 ||
                                       columns.columns[*i].type == column_type::int32 ||
                                       columns.columns[*i].type == column_type::int64 ||
                                       columns.columns[*i].type == column_type::decimal ||
                                       columns.columns[*i].type == column_type::float32 ||
                                       columns.columns[*i].type == column_type::float64);
            if (numeric && parse_float(value)) {
                return std::string(value);
            }
            return ch_literal(value);
        };
        return q;
    }

    std::unique_ptr<ch_link> link_;
};

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

    core::result<void> write(const write_request& request, const row_batch& rows) override {
        if (request.columns == nullptr) {
            return core::error::permanent("write without columns (programmer error)");
        }
        if (rows.empty()) {
            return {};
        }
        const schema& columns = *request.columns;
        std::string names;
        for (const auto& c : columns.columns) {
            names += (names.empty() ? "" : ", ") + ch_quoting().identifier(c.name);
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
    // timestamps without the fraction (DateTime has whole seconds in 18.16; truncated).
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
            case column_type::timestamp_tz: {
                const auto dot = v.find('.', 10);
                out += v.substr(0, dot);
                return;
            }
            default:
                append_tsv_escaped(out, v, true);
        }
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
};

}  // namespace

core::result<std::unique_ptr<source>> open_clickhouse_source(const config::connection_spec& spec) {
    auto link = ch_link::open(spec);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<source>(std::make_unique<clickhouse_source>(std::move(*link)));
}

core::result<std::unique_ptr<sink>> open_clickhouse_sink(const config::connection_spec& spec) {
    auto link = ch_link::open(spec);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<sink>(std::make_unique<clickhouse_sink>(std::move(*link)));
}

}  // namespace sluice::connectors
