// GCC 12 reports std::optional<std::string> members of an inlined read_request copy as maybe
// uninitialized (a known false positive of -O2 -Wmaybe-uninitialized).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "connectors/select_statement.hpp"

#include <catch2/catch.hpp>

namespace sluice::connectors {

namespace {

sql_quoting standard() {
    return {[](std::string_view n) { return quote_dotted(n, '"', '"'); },
            [](std::string_view v) { return quote_standard_literal(v); },
            {}};
}

}  // namespace

TEST_CASE("names and literals are quoted per part and doubled inside", "[connectors][sql]") {
    CHECK(quote_dotted("public.orders", '"', '"') == R"("public"."orders")");
    CHECK(quote_dotted(R"(we"ird)", '"', '"') == R"("we""ird")");
    CHECK(quote_dotted("a`b", '`', '`') == "`a``b`");
    CHECK(quote_standard_literal("it's") == "'it''s'");
    CHECK(quote_escape_literal("it's a \\ path") == "E'it''s a \\\\ path'");
    CHECK(quote_escape_literal("a\\'") == "E'a\\\\'''");
}

TEST_CASE("an incremental read selects after the cursor tuple in cursor order",
          "[connectors][sql]") {
    read_request r;
    r.table = "app.orders";
    r.columns = {"id", "amount"};
    r.expressions = {std::nullopt, std::string("CAST(amount AS numeric(12,2))")};
    r.after = cursor_bound{{"updated_at", "id"}, {"2026-01-01 00:00:00", "42"}, false};
    r.where = "region = 'eu'";
    r.order_by = {"updated_at", "id"};
    r.limit = 500;
    CHECK(build_select(r, standard()) ==
          R"(SELECT "id", CAST(amount AS numeric(12,2)) AS "amount" FROM "app"."orders" WHERE )"
          R"(("updated_at", "id") > ('2026-01-01 00:00:00', '42') AND (region = 'eu') )"
          R"(ORDER BY "updated_at", "id" LIMIT 500)");
}

TEST_CASE("a lookback bounds the leading cursor column inclusively", "[connectors][sql]") {
    read_request r;
    r.query = "SELECT * FROM t";
    r.after = cursor_bound{{"ts", "id"}, {"2026-01-01 00:00:00"}, true};
    CHECK(build_select(r, standard()) ==
          R"(SELECT * FROM (SELECT * FROM t) AS sluice_q WHERE "ts" >= '2026-01-01 00:00:00')");
}

TEST_CASE("cursor values go through the dialect's typed literal when it has one",
          "[connectors][sql]") {
    sql_quoting q = standard();
    q.cursor_literal = [](std::string_view column, std::string_view value) {
        return column == "id" ? std::string(value) : quote_standard_literal(value);
    };
    read_request r;
    r.table = "t";
    r.after = cursor_bound{{"ts", "id"}, {"x", "7"}, false};
    CHECK(build_predicate(r, q) == R"(("ts", "id") > ('x', 7))");
}

}  // namespace sluice::connectors
