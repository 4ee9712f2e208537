#include "connectors/postgres/postgres_connector.hpp"
#include "connectors/postgres/postgres_link.hpp"

namespace sluice::connectors {

namespace {

using namespace postgres_detail;

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

}  // namespace

core::result<std::unique_ptr<source>> open_postgres_source(const config::connection_spec& spec) {
    auto link = pg_link::open(spec);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<source>(std::make_unique<postgres_source>(std::move(*link)));
}

}  // namespace sluice::connectors
