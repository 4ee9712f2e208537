// Failures are classified for retrying (transient vs permanent), carry the server's own
// message, and never show a password.

#include <catch2/catch.hpp>

#include "tests/component/connectors/connector_fixture.hpp"

namespace sluice::test {

namespace {

// `url` with its password (user:PASSWORD@) replaced.
std::string with_password(const std::string& url, const std::string& user,
                          const std::string& password) {
    const auto scheme = url.find("://") + 3;
    const auto at = url.find('@', scheme);
    const auto host = at == std::string::npos ? scheme : at + 1;
    return url.substr(0, scheme) + user + ":" + password + "@" + url.substr(host);
}

// `url` with its port replaced by one nobody listens on.
std::string with_dead_port(const std::string& url) {
    const auto host = url.find('@') == std::string::npos ? url.find("://") + 3 : url.find('@') + 1;
    const auto colon = url.find(':', host);
    const auto end = url.find_first_of("/?", colon);
    return url.substr(0, colon) + ":1" + url.substr(end);
}

}  // namespace

TEST_CASE("a wrong password fails permanently and the message does not show it",
          "[connectors][errors]") {
    connector_fixture fx;
    const std::string secret = "Sup3r-Secret-Pw";
    for (engine e : {engine::postgres, engine::mysql, engine::clickhouse}) {
        INFO(engine_name(e));
        auto spec = fx.spec(e);
        spec.url = with_password(spec.url, e == engine::clickhouse ? "nobody" : "sluice", secret);
        if (e == engine::postgres) {
            // The throwaway server trusts every password: make the connection fail another way.
            spec.url = with_dead_port(spec.url);
        }
        auto src = fx.registry().open_source(spec);
        core::error err;
        if (src) {
            connectors::read_request r;
            r.query = "SELECT 1";
            auto reader = (*src)->read(r);
            REQUIRE(!reader);
            err = reader.error();
        } else {
            err = src.error();
        }
        INFO(err.message);
        if (e != engine::postgres) {
            CHECK(err.cls == core::error_class::permanent);
        }
        CHECK(err.message.find(secret) == std::string::npos);
        CHECK(err.message.find(engine_name(e)) != std::string::npos);  // the connection's name
    }
}

TEST_CASE("an unreachable server is a transient failure", "[connectors][errors]") {
    connector_fixture fx;
    for (engine e : {engine::postgres, engine::mysql, engine::clickhouse}) {
        INFO(engine_name(e));
        auto spec = fx.spec(e);
        spec.url = with_dead_port(spec.url);
        auto out = fx.registry().open_sink(spec);
        core::error err;
        if (out) {
            auto described = (*out)->describe_table("anything");
            REQUIRE(!described);
            err = described.error();
        } else {
            err = out.error();
        }
        INFO(err.message);
        CHECK(err.cls == core::error_class::transient);
    }
}

TEST_CASE("a missing table or column is a permanent failure with the server's message",
          "[connectors][errors]") {
    connector_fixture fx;
    for (engine e : {engine::postgres, engine::mysql, engine::clickhouse, engine::sqlite}) {
        INFO(engine_name(e));
        auto out = fx.sink(e);  // first: a SQLite sink creates the file, a source does not
        auto src = fx.source(e);
        connectors::read_request r;
        r.table = "no_such_table_here";
        auto reader = src->read(r);
        REQUIRE(!reader);
        INFO(reader.error().message);
        CHECK(reader.error().cls == core::error_class::permanent);
        CHECK(reader.error().message.find("no_such_table_here") != std::string::npos);

        const auto columns = golden_schema();
        const std::string table = fx.table(e, "cols");
        fx.load(e, table, columns, {});
        connectors::schema wrong = columns;
        wrong.columns[1].name = "no_such_column";
        connectors::write_request w;
        w.table = table;
        w.columns = &wrong;
        connectors::row_batch b(wrong.columns.size());
        const auto rows = golden_rows();  // not `golden_rows()[1]`: the temporary would die
        for (const auto& v : rows[1]) {
            b.add_optional(v);
        }
        auto written = out->write(w, b);
        REQUIRE(!written);
        INFO(written.error().message);
        CHECK(written.error().cls == core::error_class::permanent);
        CHECK(written.error().message.find("no_such_column") != std::string::npos);
    }
}

TEST_CASE("clickhouse exceptions keep their code: memory limit is permanent",
          "[connectors][errors][clickhouse]") {
    connector_fixture fx;
    auto spec = fx.spec(engine::clickhouse);
    spec.url += "&max_memory_usage=1000000";  // settings ride on the url
    auto src = fx.registry().open_source(spec);
    REQUIRE_OK(src);
    connectors::read_request r;
    r.query = "SELECT groupArray(number) FROM numbers(10000000)";
    auto reader = (*src)->read(r);
    core::error err;
    if (reader) {
        connectors::row_batch b;
        auto more = (*reader)->next(b);
        REQUIRE(!more);
        err = more.error();
    } else {
        err = reader.error();
    }
    INFO(err.message);
    CHECK(err.message.find("ClickHouse error 241") != std::string::npos);
    CHECK(err.cls == core::error_class::permanent);

    r.query = "SELEC 1";
    reader = (*src)->read(r);
    REQUIRE(!reader);
    CHECK(reader.error().message.find("ClickHouse error 62") != std::string::npos);
    CHECK(reader.error().cls == core::error_class::permanent);
}

}  // namespace sluice::test

namespace sluice::test {

TEST_CASE("an error met while rows stream fails the read with the server's code",
          "[connectors][errors]") {
    connector_fixture fx;
    for (engine e : {engine::postgres, engine::clickhouse}) {
        INFO(engine_name(e));
        auto src = fx.source(e);
        connectors::read_request r;
        // The failure comes after the first rows went out (division by zero at row 150000 in
        // PostgreSQL; throwIf in ClickHouse, whose HTTP status is already 200 by then).
        r.query = e == engine::postgres
                      ? "SELECT g, 1 / (g - 150000) AS x FROM generate_series(1, 200000) g"
                      : "SELECT number, throwIf(number = 150000) AS x FROM system.numbers "
                        "LIMIT 200000";
        r.limits.max_rows = 1000;
        auto reader = src->read(r);
        REQUIRE_OK(reader);
        connectors::row_batch b;
        core::result<bool> more = true;
        long rows = 0;
        while (more && *more) {
            more = (*reader)->next(b);
            rows += more ? static_cast<long>(b.row_count()) : 0;
        }
        REQUIRE(!more);
        INFO(more.error().message);
        CHECK(rows < 200000);
        CHECK(more.error().cls == core::error_class::permanent);
        CHECK(more.error().message.find(e == engine::postgres ? "22012" : "ClickHouse error 395") !=
              std::string::npos);
    }
}

TEST_CASE("a sqlite source does not create a missing database file", "[connectors][errors]") {
    connector_fixture fx;
    auto spec = fx.spec(engine::sqlite);
    spec.local_path = fx.dir() / "missing.db";
    auto src = fx.registry().open_source(spec);
    REQUIRE(!src);
    CHECK(src.error().message.find("missing.db") != std::string::npos);
    CHECK(!std::filesystem::exists(spec.local_path));
}

}  // namespace sluice::test
