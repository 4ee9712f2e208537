#include "connectors/sql_script.hpp"

#include <catch2/catch.hpp>

using namespace sluice;
using connectors::sql_dialect;

namespace {

std::vector<connectors::sql_statement> parse(std::string_view script, sql_dialect dialect) {
    auto r = connectors::parse_sql_script(script, dialect);
    if (!r) {
        FAIL(r.error().message);
    }
    return *r;
}

std::vector<std::string> texts(std::string_view script, sql_dialect dialect) {
    std::vector<std::string> out;
    for (const auto& st : parse(script, dialect)) {
        out.push_back(st.text);
    }
    return out;
}

}  // namespace

TEST_CASE("sql script: statements split on semicolons, blanks and comment-only parts dropped",
          "[etl][sql_script]") {
    const auto st = parse("create table t (a int);\n\n  insert into t values (1) ;\n-- done\n;",
                          sql_dialect::sqlite);
    REQUIRE(st.size() == 2);
    CHECK(st[0].text == "create table t (a int)");
    CHECK(st[0].line == 1);
    CHECK(st[1].text == "insert into t values (1)");
    CHECK(st[1].line == 3);
    CHECK(parse("  -- only a comment\n/* and another */  ", sql_dialect::postgres).empty());
}

TEST_CASE("sql script: semicolons inside quotes and comments do not split", "[etl][sql_script]") {
    CHECK(texts("select 'a;b', \"c;d\"; select 2 -- x;y\n; /* ; */ select 3",
                sql_dialect::postgres) ==
          std::vector<std::string>{"select 'a;b', \"c;d\"", "select 2 -- x;y", "/* ; */ select 3"});
    CHECK(texts("select 'it''s;'; select `a;b` from t", sql_dialect::mysql) ==
          std::vector<std::string>{"select 'it''s;'", "select `a;b` from t"});
    CHECK(texts("select 'a\\';b'; select 2", sql_dialect::mysql) ==
          std::vector<std::string>{"select 'a\\';b'", "select 2"});
    CHECK(texts("select [a;b] from t; select 2", sql_dialect::sqlite) ==
          std::vector<std::string>{"select [a;b] from t", "select 2"});
    CHECK(texts("select 1 # mysql comment;\n; select 2", sql_dialect::mysql) ==
          std::vector<std::string>{"select 1 # mysql comment;", "select 2"});
}

TEST_CASE("sql script: PostgreSQL dollar quotes, E strings and nested comments",
          "[etl][sql_script]") {
    const std::string fn =
        "create function f() returns int as $body$ begin return 1; end; $body$ language plpgsql";
    CHECK(texts(fn + "; select $$a;b$$; select $1", sql_dialect::postgres) ==
          std::vector<std::string>{fn, "select $$a;b$$", "select $1"});
    CHECK(texts("select E'a\\';b'; select 2", sql_dialect::postgres) ==
          std::vector<std::string>{"select E'a\\';b'", "select 2"});
    CHECK(texts("/* outer /* inner; */ still; */ select 1; select 2", sql_dialect::postgres) ==
          std::vector<std::string>{"/* outer /* inner; */ still; */ select 1", "select 2"});
}

TEST_CASE("sql script: named parameters become positional placeholders", "[etl][sql_script]") {
    const std::string script =
        "insert into t select :run_id, :Logical_Time, :run_id, ':not_me', \"col:x\" -- :nor_me\n"
        "where a::date = :data_interval_start /* :no */";
    auto pg = parse(script, sql_dialect::postgres);
    REQUIRE(pg.size() == 1);
    CHECK(pg[0].text ==
          "insert into t select $1, $2, $1, ':not_me', \"col:x\" -- :nor_me\n"
          "where a::date = $3 /* :no */");
    CHECK(pg[0].params ==
          std::vector<std::string>{"run_id", "logical_time", "data_interval_start"});
    auto my = parse(script, sql_dialect::mysql);
    REQUIRE(my.size() == 1);
    CHECK(my[0].text ==
          "insert into t select ?, ?, ?, ':not_me', \"col:x\" -- :nor_me\n"
          "where a::date = ? /* :no */");
    CHECK(my[0].params ==
          std::vector<std::string>{"run_id", "logical_time", "run_id", "data_interval_start"});
    CHECK(parse("set @a := 1", sql_dialect::mysql)[0].params.empty());
    CHECK(parse("select $x$ :in_dollar $x$, :p", sql_dialect::postgres)[0].params ==
          std::vector<std::string>{"p"});
}

TEST_CASE("sql script: unterminated quotes and comments are permanent errors naming the line",
          "[etl][sql_script]") {
    for (const char* script :
         {"select 1;\nselect 'oops", "select 1;\n/* never closed", "select 1;\nselect $q$ body"}) {
        INFO(script);
        auto r = connectors::parse_sql_script(script, sql_dialect::postgres);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().cls == core::error_class::permanent);
        CHECK_THAT(r.error().message, Catch::Contains("line 2"));
    }
}

TEST_CASE("sql script: binding takes values by name and names an unknown parameter",
          "[etl][sql_script]") {
    const auto st =
        parse("select 1;\nselect :job, :param_x, :data_interval_end, :jbo", sql_dialect::mysql);
    const connectors::bind_values values{
        {"job", "j"}, {"param_x", "1"}, {"data_interval_end", std::nullopt}};
    auto r = connectors::bind_statement(st[1], values, 2);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().cls == core::error_class::permanent);
    CHECK_THAT(r.error().message, Catch::Contains("':jbo'") && Catch::Contains("statement 2") &&
                                      Catch::Contains("line 2") && Catch::Contains(":job"));
    connectors::sql_statement ok = st[1];
    ok.params.pop_back();
    auto bound = connectors::bind_statement(ok, values, 2);
    REQUIRE(bound.has_value());
    CHECK(*bound == std::vector<connectors::sql_value>{"j", "1", std::nullopt});
}

TEST_CASE("sql script: ClickHouse strings take backslash escapes and a bare '?' is refused",
          "[etl][sql_script]") {
    const auto st = parse("INSERT INTO t SELECT 'a\\';b', :param_x, `c;d`;\nSELECT \"e\\\";f\"",
                          sql_dialect::clickhouse);
    REQUIRE(st.size() == 2);
    CHECK(st[0].text == "INSERT INTO t SELECT 'a\\';b', ?, `c;d`");
    CHECK(st[0].params == std::vector<std::string>{"param_x"});
    CHECK(st[1].text == "SELECT \"e\\\";f\"");
    CHECK(parse("SELECT '?' -- ?\n", sql_dialect::clickhouse).at(0).params.empty());
    auto ternary =
        connectors::parse_sql_script("SELECT 1;\nSELECT x ? 1 : 2", sql_dialect::clickhouse);
    REQUIRE_FALSE(ternary.has_value());
    CHECK(ternary.error().cls == core::error_class::permanent);
    CHECK_THAT(ternary.error().message,
               Catch::Contains("line 2") && Catch::Contains("if(cond, a, b)"));
    CHECK(connectors::dialect_of(config::connection_type::clickhouse) == sql_dialect::clickhouse);
}
