#include <algorithm>
#include <cctype>

#include "connectors/postgres_connector.hpp"
#include "connectors/postgres_link.hpp"

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

core::result<std::unique_ptr<sink>> open_postgres_sink(const config::connection_spec& spec) {
    auto link = pg_link::open(spec);
    if (!link) {
        return link.error();
    }
    return std::unique_ptr<sink>(std::make_unique<postgres_sink>(std::move(*link)));
}

}  // namespace sluice::connectors
