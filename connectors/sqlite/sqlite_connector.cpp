#include "connectors/sqlite/sqlite_connector.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>

#include <sqlite3.h>

#include "connectors/select_statement.hpp"
#include "connectors/sql_errors.hpp"
#include "connectors/sqlite/sqlite_link.hpp"
#include "connectors/text_codec.hpp"

namespace sluice::connectors {

namespace {

using namespace sqlite_detail;

class sqlite_reader final : public row_reader {
public:
    sqlite_reader(sqlite_link& link, sqlite3_stmt* stmt, batch_limits limits)
        : link_(link), stmt_(stmt), schema_(schema_of(stmt)), limits_(limits) {}
    ~sqlite_reader() override { sqlite3_finalize(stmt_); }

    const connectors::schema& schema() const override { return schema_; }

    core::result<bool> next(row_batch& out) override {
        out.reset(schema_.columns.size());
        while (!done_ && !limits_.reached(out)) {
            const int rc = sqlite3_step(stmt_);
            if (rc == SQLITE_DONE) {
                done_ = true;
                break;
            }
            if (rc != SQLITE_ROW) {
                done_ = true;
                out.clear();
                return link_.failure(rc, "reading rows failed");
            }
            for (int c = 0; c < static_cast<int>(schema_.columns.size()); ++c) {
                add_value(out, c);
            }
        }
        return !out.empty();
    }

private:
    void add_value(row_batch& out, int c) {
        const column_type type = schema_.columns[static_cast<std::size_t>(c)].type;
        switch (sqlite3_column_type(stmt_, c)) {
            case SQLITE_NULL:
                out.add_null();
                return;
            case SQLITE_INTEGER: {
                const auto v = sqlite3_column_int64(stmt_, c);
                if (type == column_type::boolean) {
                    out.add(v != 0 ? "true" : "false");
                } else if (type == column_type::float32 || type == column_type::float64) {
                    out.add(format_float64(static_cast<double>(v)));
                } else {
                    out.add(std::to_string(v));
                }
                return;
            }
            case SQLITE_FLOAT: {
                const double v = sqlite3_column_double(stmt_, c);
                out.add(type == column_type::float32 ? format_float32(static_cast<float>(v))
                                                     : format_float64(v));
                return;
            }
            default: {
                const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, c));
                const std::string_view v(p != nullptr ? p : "",
                                         static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)));
                if (type == column_type::timestamp || type == column_type::timestamp_tz) {
                    out.add(canonical_timestamp(v));
                } else if (type == column_type::boolean) {
                    out.add(parse_boolean(v).value_or(true) ? "true" : "false");
                } else {
                    out.add(v);
                }
            }
        }
    }

    sqlite_link& link_;
    sqlite3_stmt* stmt_;
    connectors::schema schema_;
    batch_limits limits_;
    bool done_ = false;
};

class sqlite_source final : public source {
public:
    explicit sqlite_source(std::unique_ptr<sqlite_link> link) : link_(std::move(link)) {}

    core::result<schema> describe(const read_request& request) override {
        auto stmt = link_->prepare(build_select(request, sqlite_quoting()));
        if (!stmt) {
            return stmt.error();
        }
        schema out = schema_of(*stmt);
        sqlite3_finalize(*stmt);
        return out;
    }

    core::result<std::unique_ptr<row_reader>> read(const read_request& request) override {
        auto stmt = link_->prepare(build_select(request, sqlite_quoting()));
        if (!stmt) {
            return stmt.error();
        }
        return std::unique_ptr<row_reader>(
            std::make_unique<sqlite_reader>(*link_, *stmt, request.limits));
    }

    core::result<std::optional<std::vector<std::optional<std::string>>>> max_cursor(
        const read_request& request, const std::vector<std::string>& cursor) override {
        const auto& q = sqlite_quoting();
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
        auto stmt = link_->prepare(sql);
        if (!stmt) {
            return stmt.error();
        }
        sqlite_reader reader(*link_, *stmt, {});
        row_batch batch;
        auto got = reader.next(batch);
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
        return std::optional(std::move(out));
    }

    void cancel() override { sqlite3_interrupt(link_->db()); }

private:
    std::unique_ptr<sqlite_link> link_;
};

}  // namespace

core::result<std::unique_ptr<source>> open_sqlite_source(const config::connection_spec& spec) {
    auto link = sqlite_link::open(spec, false);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<source>(std::make_unique<sqlite_source>(std::move(*link)));
}

}  // namespace sluice::connectors
