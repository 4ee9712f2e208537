#include <algorithm>
#include <cctype>

#include "connectors/mysql_connector.hpp"
#include "connectors/mysql_link.hpp"

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
        return link_->exec("START TRANSACTION");
    }
    core::result<void> commit() override { return link_->exec("COMMIT"); }
    core::result<void> rollback() override { return link_->exec("ROLLBACK"); }

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
        const std::string head =
            "INSERT INTO " + q.identifier(request.table) + " (" + column_list(names) + ") VALUES ";
        std::string tail;
        if (request.mode == write_mode::upsert) {
            for (const auto& n : names) {
                if (std::find(request.key.begin(), request.key.end(), n) == request.key.end()) {
                    tail += (tail.empty() ? " ON DUPLICATE KEY UPDATE " : ", ") + q.identifier(n) +
                            " = VALUES(" + q.identifier(n) + ")";
                }
            }
            if (tail.empty() && !names.empty()) {  // only key columns: keep the existing row
                tail = " ON DUPLICATE KEY UPDATE " + q.identifier(names[0]) + " = " +
                       q.identifier(names[0]);
            }
        }
        std::string sql = head;
        std::string tuple;
        std::size_t in_statement = 0;
        for (std::size_t r = 0; r < rows.row_count(); ++r) {
            tuple = "(";
            for (std::size_t c = 0; c < rows.column_count(); ++c) {
                tuple += c == 0 ? "" : ",";
                if (rows.is_null(r, c)) {
                    tuple += "NULL";
                    continue;
                }
                const std::string_view v = rows.at(r, c);
                switch (columns.columns[c].type) {
                    case column_type::bytes:
                        tuple += "X'";
                        append_hex(tuple, v);
                        tuple += '\'';
                        break;
                    case column_type::boolean:
                        tuple += parse_boolean(v).value_or(false) ? "1" : "0";
                        break;
                    default:
                        // Numbers too go as strings: the server converts them exactly, and no
                        // source text is ever spliced into the statement unquoted.
                        tuple += link_->literal(v);
                }
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

    std::unique_ptr<mysql_link> link_;
    bool checkpoint_table_ready_ = false;
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
