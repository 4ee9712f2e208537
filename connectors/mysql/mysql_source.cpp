#include "connectors/mysql/mysql_connector.hpp"
#include "connectors/mysql/mysql_link.hpp"

namespace sluice::connectors {

namespace {

using namespace mysql_detail;

class mysql_reader final : public row_reader {
public:
    // `declared`, when given, replaces the result's own column types (FLOAT columns read
    // through CAST(... AS DOUBLE) stay float32).
    mysql_reader(mysql_link& link, MYSQL_RES* res, batch_limits limits,
                 std::optional<connectors::schema> declared = std::nullopt)
        : link_(link), res_(res), limits_(limits) {
        const unsigned int n = mysql_num_fields(res);
        MYSQL_FIELD* fields = mysql_fetch_fields(res);
        for (unsigned int i = 0; i < n; ++i) {
            schema_.columns.push_back(column_of(fields[i]));
        }
        if (declared && declared->columns.size() == schema_.columns.size()) {
            schema_ = std::move(*declared);
        }
    }

    ~mysql_reader() override {
        if (!done_) {
            // mysql_free_result would read the rest of the table: stop the server first.
            link_.cancel();
        }
        mysql_free_result(res_);
    }

    const connectors::schema& schema() const override { return schema_; }

    core::result<bool> next(row_batch& out) override {
        out.reset(schema_.columns.size());
        while (!done_ && !limits_.reached(out)) {
            MYSQL_ROW row = mysql_fetch_row(res_);
            if (row == nullptr) {
                done_ = true;
                if (mysql_errno(link_.conn()) != 0) {
                    out.clear();
                    return link_.failure("reading rows failed");
                }
                break;
            }
            const unsigned long* lengths = mysql_fetch_lengths(res_);
            for (std::size_t c = 0; c < schema_.columns.size(); ++c) {
                if (row[c] == nullptr) {
                    out.add_null();
                    continue;
                }
                const std::string_view v(row[c], lengths[c]);
                switch (schema_.columns[c].type) {
                    case column_type::boolean:
                        out.add(v == "0" ? "false" : "true");
                        break;
                    case column_type::timestamp:
                    case column_type::timestamp_tz:
                        out.add(canonical_timestamp(v));
                        break;
                    case column_type::float32:
                        if (auto d = parse_float(v)) {
                            out.add(format_float32(static_cast<float>(*d)));
                        } else {
                            out.add(v);
                        }
                        break;
                    default:
                        out.add(v);
                }
            }
        }
        return !out.empty();
    }

private:
    mysql_link& link_;
    MYSQL_RES* res_;
    connectors::schema schema_;
    batch_limits limits_;
    bool done_ = false;
};

class mysql_source final : public source {
public:
    explicit mysql_source(std::unique_ptr<mysql_link> link) : link_(std::move(link)) {}

    core::result<schema> describe(const read_request& request) override {
        return columns_of(request);
    }

    core::result<std::unique_ptr<row_reader>> read(const read_request& request) override {
        // The text protocol prints FLOAT with 6 significant digits (16777216 -> 16777200):
        // such columns are selected as CAST(... AS DOUBLE) and narrowed back here, exactly.
        auto declared = columns_of(request);
        if (!declared) {
            return declared.error();
        }
        read_request r = request;
        bool has_float = false;
        for (std::size_t i = 0; i < declared->columns.size(); ++i) {
            if (declared->columns[i].type != column_type::float32) {
                continue;
            }
            if (!has_float && r.columns.empty()) {
                for (const auto& c : declared->columns) {
                    r.columns.push_back(c.name);
                }
            }
            has_float = true;
            r.expressions.resize(r.columns.size());
            const std::string inner =
                r.expressions[i] ? *r.expressions[i] : link_->quoting().identifier(r.columns[i]);
            r.expressions[i] = "CAST(" + inner + " AS DOUBLE)";
        }
        auto res = start(build_select(r, link_->quoting()));
        if (!res) {
            return res.error();
        }
        return std::unique_ptr<row_reader>(std::make_unique<mysql_reader>(
            *link_, *res, request.limits,
            has_float ? std::optional<schema>(*declared) : std::nullopt));
    }

    core::result<std::optional<std::vector<std::optional<std::string>>>> max_cursor(
        const read_request& request, const std::vector<std::string>& cursor) override {
        const auto q = link_->quoting();
        std::string sql = "SELECT ";
        std::string order;
        for (std::size_t i = 0; i < cursor.size(); ++i) {
            sql += (i == 0 ? "" : ", ") + q.identifier(cursor[i]);
            order += (i == 0 ? "" : ", ") + q.identifier(cursor[i]) + " DESC";
        }
        read_request r = request;
        r.after.reset();
        sql += " FROM " + build_from(r, q);
        const std::string predicate = build_predicate(r, q);
        if (!predicate.empty()) {
            sql += " WHERE " + predicate;
        }
        sql += " ORDER BY " + order + " LIMIT 1";
        read_request wrapped;
        wrapped.query = sql;
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
    // Runs `sql` streaming its result (mysql_use_result: rows come as they are fetched, never
    // the whole table).
    core::result<MYSQL_RES*> start(const std::string& sql) {
        if (mysql_real_query(link_->conn(), sql.data(), sql.size()) != 0) {
            return link_->failure("cannot start reading");
        }
        MYSQL_RES* res = mysql_use_result(link_->conn());
        if (res == nullptr) {
            return link_->failure("cannot start reading");
        }
        return res;
    }

    // The result's columns as the server declares them (LIMIT 0: no rows are read).
    core::result<schema> columns_of(const read_request& request) {
        read_request r = request;
        r.limit = 0;
        auto res = start(build_select(r, link_->quoting()));
        if (!res) {
            return res.error();
        }
        mysql_reader reader(*link_, *res, {});
        row_batch drain;
        for (auto more = reader.next(drain); more && *more; more = reader.next(drain)) {
        }
        return reader.schema();
    }

    std::unique_ptr<mysql_link> link_;
};

}  // namespace

core::result<std::unique_ptr<source>> open_mysql_source(const config::connection_spec& spec) {
    auto link = mysql_link::open(spec);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<source>(std::make_unique<mysql_source>(std::move(*link)));
}

}  // namespace sluice::connectors
