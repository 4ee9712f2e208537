#include <map>

#include "connectors/clickhouse/clickhouse_connector.hpp"
#include "connectors/clickhouse/clickhouse_link.hpp"

namespace sluice::connectors {

namespace {

using namespace clickhouse_detail;

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
        auto hints = hints_for(request);
        if (!hints) {
            return hints.error();
        }
        // The result's own columns first (LIMIT 0): their types decide how cursor values are
        // written and which DateTime columns need converting to UTC.
        read_request bare = request;
        bare.after.reset();
        bare.until.reset();
        bare.limit = 0;
        bare.order_by.clear();
        auto native = start_reader(bare, ch_quoting(), *hints);
        if (!native) {
            return native.error();
        }
        const schema columns = (*native)->schema();
        row_batch rest;
        for (auto more = (*native)->next(rest); more && *more; more = (*native)->next(rest)) {
        }
        // DateTime prints in its column's (or the server's) time zone: read every one that is
        // not DateTime('UTC') through toTimeZone(..., 'UTC'), so timestamps are UTC text.
        read_request r = request;
        for (std::size_t i = 0; i < columns.columns.size(); ++i) {
            const auto& c = columns.columns[i];
            const bool datetime =
                c.type == column_type::timestamp || c.type == column_type::timestamp_tz;
            if (!datetime || bare_type(c.native_type) == "DateTime('UTC')") {
                continue;
            }
            if (r.columns.empty()) {
                for (const auto& each : columns.columns) {
                    r.columns.push_back(each.name);
                }
            }
            r.expressions.resize(r.columns.size());
            const std::string inner =
                r.expressions[i] ? *r.expressions[i] : ch_quoting().identifier(r.columns[i]);
            r.expressions[i] = "toTimeZone(" + inner + ", 'UTC')";
        }
        return start_reader(r, cursor_quoting(columns), *hints);
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
    // Hints by column name: the table's `sluice:TYPE` comments (asked once per table: an
    // incremental copy reads the same table batch after batch), then the expected schema.
    core::result<std::vector<std::pair<std::string, column_type>>> hints_for(
        const read_request& request) {
        std::vector<std::pair<std::string, column_type>> found;
        if (request.table) {
            auto cached = hints_.find(*request.table);
            if (cached == hints_.end()) {
                auto comments = column_hints(*link_, *request.table);
                if (!comments) {
                    return comments.error();
                }
                cached = hints_.emplace(*request.table, std::move(*comments)).first;
            }
            found = cached->second;
        }
        if (request.expected) {
            for (const auto& c : request.expected->columns) {
                found.emplace_back(c.name, c.type);
            }
        }
        return found;
    }

    core::result<std::unique_ptr<row_reader>> start_reader(
        const read_request& request, const sql_quoting& q,
        const std::vector<std::pair<std::string, column_type>>& hints) {
        auto started =
            link_->start(build_select(request, q) + " FORMAT TabSeparatedWithNamesAndTypes");
        if (!started) {
            return started.error();
        }
        auto reader = std::make_unique<ch_reader>(*link_, request.limits);
        auto opened = reader->open(hints);
        if (!opened) {
            return opened.error();
        }
        return std::unique_ptr<row_reader>(std::move(reader));
    }

    // "Nullable(LowCardinality(T))" -> "T".
    static std::string_view bare_type(std::string_view type) {
        for (std::string_view wrapper : {"Nullable(", "LowCardinality(", "Nullable("}) {
            if (type.substr(0, wrapper.size()) == wrapper && type.back() == ')') {
                type = type.substr(wrapper.size(), type.size() - wrapper.size() - 1);
            }
        }
        return type;
    }

    // Quoting whose cursor literals match the cursor columns' types: numbers bare (checked to
    // be numbers, as 18.16 refuses Int64 > '2'), timestamps as UTC instants (a string literal
    // would be read in the column's time zone), the rest as strings.
    static sql_quoting cursor_quoting(const schema& columns) {
        sql_quoting q = ch_quoting();
        q.cursor_literal = [columns](std::string_view column, std::string_view value) {
            const auto i = columns.index_of(column);
            if (!i) {
                return ch_literal(value);
            }
            switch (columns.columns[*i].type) {
                case column_type::int16:
                case column_type::int32:
                case column_type::int64:
                case column_type::decimal:
                case column_type::float32:
                case column_type::float64:
                    if (parse_float(value)) {
                        return std::string(value);
                    }
                    break;
                case column_type::timestamp:
                case column_type::timestamp_tz:
                    // DateTime has whole seconds: a fraction in the mark is dropped.
                    return "toDateTime(" + ch_literal(value.substr(0, value.find('.', 10))) +
                           ", 'UTC')";
                default:
                    break;
            }
            return ch_literal(value);
        };
        return q;
    }

    std::unique_ptr<ch_link> link_;
    std::map<std::string, std::vector<std::pair<std::string, column_type>>> hints_;
};

}  // namespace

core::result<std::unique_ptr<source>> open_clickhouse_source(const config::connection_spec& spec) {
    auto link = ch_link::open(spec);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<source>(std::make_unique<clickhouse_source>(std::move(*link)));
}

}  // namespace sluice::connectors
