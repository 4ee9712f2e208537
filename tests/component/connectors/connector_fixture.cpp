#include "tests/component/connectors/connector_fixture.hpp"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <random>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "connectors/connection_url.hpp"
#include "connectors/http_client.hpp"
#include "connectors/sql_session.hpp"
#include "connectors/text_codec.hpp"

namespace sluice::test {

using connectors::column;
using connectors::column_type;

namespace {

std::string required_env(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        FAIL(name << " is not set. The connector suite needs the test servers: run `make test` "
                     "(or scripts/run-tests.sh BUILD_DIR), which starts PostgreSQL, MariaDB and "
                     "ClickHouse through scripts/test-servers.sh.");
    }
    return v;
}

std::string bytes_0_to_255() {
    std::string out;
    for (int i = 0; i < 256; ++i) {
        out += static_cast<char>(i);
    }
    return out;
}

bool is_number(column_type t) {
    switch (t) {
        case column_type::int16:
        case column_type::int32:
        case column_type::int64:
        case column_type::float32:
        case column_type::float64:
            return true;
        default:
            return false;
    }
}

// Decimals compare by value: "1.50" == "1.5", "-0.0" == "0".
std::string normalized_decimal(std::string v) {
    bool negative = !v.empty() && v[0] == '-';
    if (negative || (!v.empty() && v[0] == '+')) {
        v.erase(0, 1);
    }
    if (v.find('.') != std::string::npos) {
        while (!v.empty() && v.back() == '0') {
            v.pop_back();
        }
        if (!v.empty() && v.back() == '.') {
            v.pop_back();
        }
    }
    while (v.size() > 1 && v[0] == '0' && v[1] != '.') {
        v.erase(0, 1);
    }
    if (v.empty() || v == "0") {
        return "0";
    }
    return (negative ? "-" : "") + v;
}

bool same_value(column_type type, const std::string& a, const std::string& b) {
    if (a == b) {
        return true;
    }
    if (type == column_type::boolean) {
        return connectors::parse_boolean(a) == connectors::parse_boolean(b);
    }
    if (type == column_type::decimal) {
        return normalized_decimal(a) == normalized_decimal(b);
    }
    if (type == column_type::float32) {
        auto x = connectors::parse_float(a);
        auto y = connectors::parse_float(b);
        return x && y && static_cast<float>(*x) == static_cast<float>(*y);
    }
    if (is_number(type)) {
        auto x = connectors::parse_float(a);
        auto y = connectors::parse_float(b);
        return x && y && *x == *y;
    }
    return false;
}

std::string shown(const std::optional<std::string>& v) {
    if (!v) {
        return "NULL";
    }
    std::string out = "\"";
    for (const char c : *v) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b == 0x7f || c == '"' || c == '\\') {
            static constexpr char digits[] = "0123456789abcdef";
            out += "\\x";
            out += digits[b >> 4];
            out += digits[b & 0xf];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string unique_suffix() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    return std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
           std::to_string(rd() % 100000);
}

}  // namespace

std::string engine_name(engine e) {
    switch (e) {
        case engine::postgres:
            return "postgres";
        case engine::mysql:
            return "mysql";
        case engine::clickhouse:
            return "clickhouse";
        case engine::sqlite:
            return "sqlite";
        case engine::csv:
            return "csv";
        case engine::jsonl:
            return "jsonl";
    }
    return "?";
}

std::vector<engine> all_engines() {
    return {engine::postgres, engine::mysql, engine::clickhouse,
            engine::sqlite,   engine::csv,   engine::jsonl};
}

connectors::schema golden_schema() {
    auto col = [](std::string name, column_type t, bool nullable = true) {
        column c;
        c.name = std::move(name);
        c.type = t;
        c.nullable = nullable;
        return c;
    };
    column dec = col("dec", column_type::decimal);
    dec.precision = 30;
    dec.scale = 10;
    return {{col("id", column_type::int64, false), col("b", column_type::boolean),
             col("i16", column_type::int16), col("i32", column_type::int32),
             col("i64", column_type::int64), dec, col("f32", column_type::float32),
             col("f64", column_type::float64), col("txt", column_type::text),
             col("byt", column_type::bytes), col("d", column_type::date),
             col("ts", column_type::timestamp), col("tstz", column_type::timestamp_tz),
             col("js", column_type::json)}};
}

std::vector<cells> golden_rows() {
    using s = std::string;
    const std::optional<std::string> null;
    return {
        // every value NULL
        {s("1"), null, null, null, null, null, null, null, null, null, null, null, null, null},
        // ordinary values
        {s("2"), s("true"), s("1"), s("2"), s("3"), s("12345.6789000000"), s("1.5"), s("0.1"),
         s("plain"), s("abc"), s("2024-02-29"), s("2024-02-29 12:34:56"), s("2024-02-29 12:34:56"),
         s("{\"a\":1}")},
        // lower extremes; unicode; bytes with zeros
        {s("3"), s("false"), s("-32768"), s("-2147483648"), s("-9223372036854775808"),
         s("-99999999999999999999.9999999999"), s("-3.4e+38"), s("-1.7976931348623157e+308"),
         s("Grüße, 世界 🎉 \"double\" 'single'"), s(std::string("\0\1\xff\0", 4)), s("1970-01-02"),
         s("1970-01-01 00:00:01"), s("1970-01-01 00:00:01"),
         s("[1,\"x\",null,{\"k\":[true,false]}]")},
        // upper extremes; control characters and separators; every byte value
        {s("4"), s("true"), s("32767"), s("2147483647"), s("9223372036854775807"),
         s("99999999999999999999.9999999999"), s("3.4e+38"), s("1.7976931348623157e+308"),
         s("tab\there\nnewline\\backslash\r\ncrlf,comma;semi \\N \"q\" \\t"), s(bytes_0_to_255()),
         s("2105-12-31"), s("2105-12-31 23:59:59"), s("2105-12-31 23:59:59"),
         s("{\"nested\":{\"deep\":[1,2,3]},\"s\":\"a\\\"b\"}")},
        // empty (not NULL) text, bytes and JSON; tiny floats; fractional seconds
        {s("5"), s("false"), s("0"), s("0"), s("0"), s("0.0000000001"), s("16777216"),
         s("2.2250738585072014e-308"), s(""), s(""), s("2000-01-01"),
         s("2000-01-01 00:00:00.123456"), s("2000-01-01 23:59:59.5"), s("{}")},
        // whitespace-only text, a JSON string
        {s("6"), null, s("-1"), s("-1"), s("-1"), s("-0.5000000000"), s("-0.25"), s("1e-300"),
         s(" "), s("\\"), null, null, null, s("\"text\"")},
    };
}

std::vector<cells> expected_after(const std::vector<cells>& rows, const std::vector<engine>& path) {
    const bool through_clickhouse =
        std::find(path.begin(), path.end(), engine::clickhouse) != path.end();
    if (!through_clickhouse) {
        return rows;
    }
    const auto columns = golden_schema();
    auto out = rows;
    for (auto& row : out) {
        for (std::size_t c = 0; c < row.size(); ++c) {
            const auto t = columns.columns[c].type;
            if (row[c] && (t == column_type::timestamp || t == column_type::timestamp_tz)) {
                row[c] = row[c]->substr(0, row[c]->find('.', 10));  // DateTime: whole seconds
            }
        }
    }
    return out;
}

void require_equal_rows(const connectors::schema& columns, const std::vector<cells>& expected,
                        const std::vector<cells>& actual, const std::string& what) {
    INFO(what);
    REQUIRE(actual.size() == expected.size());
    for (std::size_t r = 0; r < expected.size(); ++r) {
        REQUIRE(actual[r].size() == expected[r].size());
        for (std::size_t c = 0; c < expected[r].size(); ++c) {
            const auto& e = expected[r][c];
            const auto& a = actual[r][c];
            const bool equal =
                (!e && !a) || (e && a && same_value(columns.columns[c].type, *e, *a));
            if (!equal) {
                FAIL(what << ": row " << r + 1 << " column " << columns.columns[c].name << " ("
                          << connectors::to_string(columns.columns[c].type) << "): expected "
                          << shown(e) << ", got " << shown(a));
            }
        }
    }
}

connector_fixture::connector_fixture() {
    connectors::register_builtin_connectors(registry_);
    pg_url_ = required_env("SLUICE_TEST_PG_URL");
    mysql_url_ = required_env("SLUICE_TEST_MYSQL_URL");
    clickhouse_url_ = required_env("SLUICE_TEST_CLICKHOUSE_URL");
    suffix_ = unique_suffix();
    const char* tmp = std::getenv("TMPDIR");
    dir_ = std::filesystem::path(tmp != nullptr ? tmp : "/tmp") / ("sluice_connectors_" + suffix_);
    std::filesystem::create_directories(dir_ / "files");
}

connector_fixture::~connector_fixture() {
    for (const auto& [e, name] : created_) {
        try {
            if (e == engine::clickhouse) {
                clickhouse_run(clickhouse_url_, "DROP TABLE IF EXISTS `" + name + "`");
            } else if (e == engine::postgres || e == engine::mysql) {
                auto session = connectors::open_sql_session(spec(e));
                if (session) {
                    const char q = e == engine::mysql ? '`' : '"';
                    (void)(*session)->execute(std::string("DROP TABLE IF EXISTS ") + q + name + q,
                                              {});
                }
            }
        } catch (const std::exception& ex) {
            WARN("could not drop " << name << ": " << ex.what());
        }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

config::connection_spec connector_fixture::spec(engine e) const {
    config::connection_spec s;
    s.name = engine_name(e);
    s.connect_timeout = std::chrono::seconds(10);
    switch (e) {
        case engine::postgres:
            s.type = config::connection_type::postgres;
            s.url = pg_url_;
            break;
        case engine::mysql:
            s.type = config::connection_type::mysql;
            s.url = mysql_url_;
            break;
        case engine::clickhouse:
            s.type = config::connection_type::clickhouse;
            s.url = clickhouse_url_;
            break;
        case engine::sqlite:
            s.type = config::connection_type::sqlite;
            s.local_path = dir_ / "test.db";
            s.url = "sqlite://" + s.local_path.string();
            break;
        case engine::csv:
        case engine::jsonl:
            s.type = config::connection_type::file;
            s.local_path = dir_ / "files";
            s.url = "file://" + s.local_path.string();
            break;
    }
    return s;
}

std::string connector_fixture::table(engine e, const std::string& stem) {
    std::string name = stem + "_" + suffix_;
    if (e == engine::csv) {
        name += ".csv";
    } else if (e == engine::jsonl) {
        name += ".jsonl";
    }
    created_.emplace_back(e, name);
    return name;
}

std::unique_ptr<connectors::source> connector_fixture::source(engine e) const {
    auto s = registry_.open_source(spec(e));
    if (!s) {
        FAIL("open source " << engine_name(e) << ": " << s.error().message);
    }
    return std::move(*s);
}

std::unique_ptr<connectors::sink> connector_fixture::sink(engine e) const {
    auto s = registry_.open_sink(spec(e));
    if (!s) {
        FAIL("open sink " << engine_name(e) << ": " << s.error().message);
    }
    return std::move(*s);
}

void connector_fixture::load(engine e, const std::string& table, const connectors::schema& columns,
                             const std::vector<cells>& rows) {
    auto out = sink(e);
    connectors::create_options options;
    options.key = {"id"};
    auto created = out->create_table(table, columns, options);
    if (!created) {
        FAIL("create " << table << " on " << engine_name(e) << ": " << created.error().message);
    }
    connectors::row_batch batch(columns.columns.size());
    for (const auto& row : rows) {
        for (const auto& v : row) {
            batch.add_optional(v);
        }
    }
    connectors::write_request w;
    w.table = table;
    w.columns = &columns;
    auto written = out->write(w, batch);
    if (!written) {
        FAIL("write " << table << " on " << engine_name(e) << ": " << written.error().message);
    }
}

std::vector<cells> connector_fixture::read_all(engine e, const std::string& table,
                                               const std::optional<connectors::schema>& expected,
                                               connectors::schema* columns) {
    auto in = source(e);
    connectors::read_request r;
    if (e == engine::clickhouse) {
        r.query = "SELECT * FROM `" + table + "` FINAL ORDER BY id";
    } else {
        r.table = table;
        if (e != engine::csv && e != engine::jsonl) {
            r.order_by = {"id"};
        }
    }
    r.expected = expected;
    r.limits.max_rows = 2;  // several batches even for a small table
    auto reader = in->read(r);
    if (!reader) {
        FAIL("read " << table << " on " << engine_name(e) << ": " << reader.error().message);
    }
    if (columns != nullptr) {
        *columns = (*reader)->schema();
    }
    std::vector<cells> out;
    connectors::row_batch batch;
    for (;;) {
        auto more = (*reader)->next(batch);
        if (!more) {
            FAIL("read " << table << " on " << engine_name(e) << ": " << more.error().message);
        }
        if (!*more) {
            break;
        }
        REQUIRE(batch.row_count() <= 2);
        for (std::size_t i = 0; i < batch.row_count(); ++i) {
            cells row;
            for (std::size_t c = 0; c < batch.column_count(); ++c) {
                row.push_back(batch.value(i, c));
            }
            out.push_back(std::move(row));
        }
    }
    return out;
}

std::string clickhouse_run(const std::string& url, const std::string& sql) {
    auto parsed = connectors::parse_connection_url(url);
    REQUIRE_OK(parsed);
    connectors::http_client client({false, parsed->host, parsed->port.value_or(8123), {}},
                                   std::chrono::seconds(10), std::chrono::seconds(60));
    const std::string db = parsed->query_value("database").value_or("default");
    auto head = client.send("POST", "/?database=" + connectors::url_encode(db), {}, sql);
    if (!head) {
        FAIL("ClickHouse: " << head.error().message);
    }
    auto body = client.read_body(1 << 20);
    REQUIRE_OK(body);
    if (head->status != 200) {
        FAIL("ClickHouse: " << *body);
    }
    return *body;
}

}  // namespace sluice::test
