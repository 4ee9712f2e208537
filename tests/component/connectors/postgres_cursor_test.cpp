// A PostgreSQL source's cursor values are spliced into its SELECT as literals. They come from
// the source's own rows (a checkpoint), so they are data, not trusted text: they must read the
// same whatever the server's standard_conforming_strings says, and a quote or backslash in one
// must not end the literal.

#include <catch2/catch.hpp>

#include "tests/component/connectors/connector_fixture.hpp"

namespace sluice::test {

TEST_CASE(
    "postgres cursor literals hold quotes and backslashes with standard_conforming_strings "
    "off",
    "[connectors][postgres][security]") {
    connector_fixture fx;
    const std::string table = fx.table(engine::postgres, "cursor_quotes");
    connectors::column id;
    id.name = "id";
    id.type = connectors::column_type::int64;
    id.nullable = false;
    connectors::column k;
    k.name = "k";
    k.type = connectors::column_type::text;
    const connectors::schema columns{{id, k}};
    fx.load(engine::postgres, table, columns,
            {{"1", "a\\"}, {"2", "a\\' OR true --"}, {"3", "b'c"}, {"4", "z"}});

    auto spec = fx.spec(engine::postgres);
    spec.url += std::string(spec.url.find('?') == std::string::npos ? "?" : "&") +
                "options=-c%20standard_conforming_strings%3Doff";
    auto src = fx.registry().open_source(spec);
    REQUIRE_OK(src);
    for (const std::string& after : {std::string("a\\"), std::string("a\\' OR true --")}) {
        INFO(after);
        connectors::read_request r;
        r.table = table;
        r.order_by = {"k"};
        r.after = connectors::cursor_bound{{"k"}, {after}, false};
        auto reader = (*src)->read(r);
        REQUIRE_OK(reader);
        std::vector<std::string> ids;
        connectors::row_batch batch;
        for (;;) {
            auto more = (*reader)->next(batch);
            REQUIRE_OK(more);
            if (!*more) {
                break;
            }
            for (std::size_t i = 0; i < batch.row_count(); ++i) {
                ids.push_back(batch.value(i, 0).value_or("NULL"));
            }
        }
        // In byte order: "a\" < "a\' OR true --" < "b'c" < "z".
        CHECK(ids == (after == "a\\" ? std::vector<std::string>{"2", "3", "4"}
                                     : std::vector<std::string>{"3", "4"}));
    }
}

}  // namespace sluice::test
