#include "etl/copy_cursor.hpp"

#include <catch2/catch.hpp>

#include "connectors/select_statement.hpp"
#include "etl/copy_request.hpp"

using namespace sluice;
using namespace std::chrono_literals;
using connectors::column_type;

TEST_CASE("copy cursor: tuples compare under their columns' types", "[etl][copy]") {
    const std::vector<column_type> types{column_type::timestamp, column_type::int64};
    CHECK(etl::compare_cursor(types, {"2024-01-01 00:00:10", "9"}, {"2024-01-01 00:00:10", "10"}) <
          0);
    CHECK(etl::compare_cursor(types, {"2024-01-01 00:00:10.5", "1"}, {"2024-01-01 00:00:10", "2"}) >
          0);
    CHECK(etl::compare_cursor(types, {"2024-01-01 00:00:10.500", "1"},
                              {"2024-01-01 00:00:10.5", "1"}) == 0);
    CHECK(etl::compare_cursor({column_type::decimal}, {"-10.5"}, {"2"}) < 0);
    CHECK(etl::compare_cursor({column_type::text}, {"b"}, {"a"}) > 0);
}

TEST_CASE("copy cursor: lookback steps dates and timestamps back", "[etl][copy]") {
    CHECK(etl::step_back(column_type::timestamp, "2024-03-01 00:04:00", 5min).value() ==
          "2024-02-29 23:59:00");
    CHECK(etl::step_back(column_type::timestamp_tz, "2024-01-01 10:00:00.250000", 1s).value() ==
          "2024-01-01 09:59:59.250000");
    CHECK(etl::step_back(column_type::date, "2024-01-01", 24h).value() == "2023-12-31");
    const auto bad = etl::step_back(column_type::int64, "42", 5min);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().cls == core::error_class::permanent);
    CHECK(etl::seconds_between(column_type::timestamp, "2024-01-01 00:00:00",
                               "2024-01-01 01:00:00.5") == Approx(3600.5));
    CHECK_FALSE(etl::seconds_between(column_type::int64, "1", "2"));
}

TEST_CASE("copy cursor: the checkpoint round-trips through JSON", "[etl][copy]") {
    etl::copy_checkpoint c;
    c.cursor = {"updated_at", "id"};
    c.mark = etl::cursor_values{"2024-01-01 00:00:10", "3"};
    c.intent = etl::batch_bounds{
        connectors::cursor_bound{{"updated_at"}, {"2024"}, true}, {"2024-01-01 00:00:11", "6"}, 3};
    const auto back = etl::checkpoint_from_json(etl::to_json(c));
    REQUIRE(back.has_value());
    CHECK(back->cursor == c.cursor);
    CHECK(back->mark == c.mark);
    REQUIRE(back->intent);
    CHECK(back->intent->hi == c.intent->hi);
    CHECK(back->intent->rows == 3);
    REQUIRE(back->intent->lo);
    CHECK(back->intent->lo->inclusive);
    CHECK_FALSE(etl::checkpoint_from_json("[1]").has_value());
    CHECK_FALSE(etl::checkpoint_from_json(R"({"mark": 5})").has_value());
}

TEST_CASE("copy request: task values are spliced into a source query as literals", "[etl][copy]") {
    const std::map<std::string, std::optional<std::string>> values{
        {"logical_time", "2024-01-01T00:00:00Z"}, {"param_name", "it's"}, {"run_id", std::nullopt}};
    CHECK(etl::bind_query_text("SELECT * FROM t WHERE ts < :logical_time AND n = :PARAM_NAME "
                               "AND r IS :run_id AND x::int = 1 AND s = ':not' -- :neither",
                               values, config::connection_type::postgres)
              .value() ==
          "SELECT * FROM t WHERE ts < '2024-01-01T00:00:00Z' AND n = 'it''s' AND r IS NULL AND "
          "x::int = 1 AND s = ':not' -- :neither");
    CHECK(etl::bind_query_text("SELECT :param_name", {{"param_name", "a\\b"}},
                               config::connection_type::mysql)
              .value() == "SELECT 'a\\\\b'");
    const auto unknown =
        etl::bind_query_text("SELECT :nope", values, config::connection_type::postgres);
    REQUIRE_FALSE(unknown.has_value());
    CHECK_THAT(unknown.error().message, Catch::Contains(":nope") && Catch::Contains(":run_id"));
}

TEST_CASE("select: an upper bound closes the tuple range of a ledger replay", "[etl][copy]") {
    connectors::read_request r;
    r.after = connectors::cursor_bound{{"a", "b"}, {"1", "2"}, false};
    r.until = connectors::cursor_bound{{"a", "b"}, {"3", "4"}, true};
    const connectors::sql_quoting q{
        [](std::string_view n) { return connectors::quote_dotted(n, '"', '"'); },
        [](std::string_view v) { return connectors::quote_standard_literal(v); },
        {}};
    CHECK(connectors::build_predicate(r, q) ==
          "(\"a\", \"b\") > ('1', '2') AND (\"a\", \"b\") <= ('3', '4')");
}
