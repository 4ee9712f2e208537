// CSV (RFC 4180) and JSON Lines files written by other tools, read by the file source.

#include <fstream>

#include <catch2/catch.hpp>

#include "tests/component/connectors/connector_fixture.hpp"

namespace sluice::test {

namespace {

std::vector<cells> read_file(connector_fixture& fx, const std::string& name,
                             const std::optional<connectors::schema>& expected,
                             connectors::schema* columns = nullptr) {
    auto src = fx.source(engine::csv);
    connectors::read_request r;
    r.table = name;
    r.expected = expected;
    auto reader = src->read(r);
    REQUIRE_OK(reader);
    if (columns != nullptr) {
        *columns = (*reader)->schema();
    }
    std::vector<cells> out;
    connectors::row_batch b;
    for (;;) {
        auto more = (*reader)->next(b);
        REQUIRE_OK(more);
        if (!*more) {
            return out;
        }
        for (std::size_t i = 0; i < b.row_count(); ++i) {
            cells row;
            for (std::size_t c = 0; c < b.column_count(); ++c) {
                row.push_back(b.value(i, c));
            }
            out.push_back(row);
        }
    }
}

}  // namespace

TEST_CASE("csv: quoted fields hold commas, quotes and line breaks; empty unquoted is NULL",
          "[connectors][files]") {
    connector_fixture fx;
    std::ofstream(fx.dir() / "files" / "people.csv", std::ios::binary)
        << "id,name,note\r\n"
           "1,\"Doe, Jane\",\"said \"\"hi\"\"\"\r\n"
           "2,,\"\"\r\n"
           "3,\"multi\nline\r\ntext\",plain\n";
    connectors::schema columns;
    const auto rows = read_file(fx, "people.csv", std::nullopt, &columns);
    REQUIRE(columns.columns.size() == 3);
    CHECK(columns.columns[1].name == "name");
    CHECK(columns.columns[1].type == connectors::column_type::text);
    const std::vector<cells> expected = {{"1", "Doe, Jane", "said \"hi\""},
                                         {"2", std::nullopt, ""},
                                         {"3", "multi\nline\r\ntext", "plain"}};
    CHECK(rows == expected);
}

TEST_CASE("csv: a record with the wrong number of fields fails permanently naming the file",
          "[connectors][files]") {
    connector_fixture fx;
    std::ofstream(fx.dir() / "files" / "bad.csv") << "a,b\n1,2\n3\n";
    auto src = fx.source(engine::csv);
    connectors::read_request r;
    r.table = "bad.csv";
    auto reader = src->read(r);
    REQUIRE_OK(reader);
    connectors::row_batch b;
    auto more = (*reader)->next(b);
    REQUIRE(!more);
    CHECK(more.error().cls == core::error_class::permanent);
    CHECK(more.error().message.find("bad.csv") != std::string::npos);
}

TEST_CASE("json lines: columns come from the first object, values keep their JSON kind",
          "[connectors][files]") {
    connector_fixture fx;
    std::ofstream(fx.dir() / "files" / "events.jsonl")
        << R"({"id":1,"ok":true,"score":1.25,"tags":["a","b"],"name":"x"})"
        << "\n"
        << "\n"
        << R"({"id":2,"ok":false,"name":null,"extra":"ignored"})"
        << "\n";
    connectors::schema columns;
    const auto rows = read_file(fx, "events.jsonl", std::nullopt, &columns);
    using connectors::column_type;
    REQUIRE(columns.columns.size() == 5);
    CHECK(columns.columns[0].type == column_type::int64);
    CHECK(columns.columns[1].type == column_type::boolean);
    CHECK(columns.columns[2].type == column_type::float64);
    CHECK(columns.columns[3].type == column_type::json);
    CHECK(columns.columns[4].type == column_type::text);
    const std::vector<cells> expected = {{"1", "true", "1.25", R"(["a","b"])", "x"},
                                         {"2", "false", std::nullopt, std::nullopt, std::nullopt}};
    CHECK(rows == expected);
}

TEST_CASE("a missing file fails naming it", "[connectors][files]") {
    connector_fixture fx;
    auto src = fx.source(engine::csv);
    connectors::read_request r;
    r.table = "nowhere.csv";
    auto reader = src->read(r);
    REQUIRE(!reader);
    CHECK(reader.error().message.find("nowhere.csv") != std::string::npos);
}

TEST_CASE("a file path that leaves the connection's directory is refused, read or written",
          "[connectors][files]") {
    connector_fixture fx;
    // A file outside the connection's directory that a read would find and a write would touch.
    std::ofstream(fx.dir() / "outside.csv", std::ios::binary) << "id\n1\n";
    auto src = fx.source(engine::csv);
    auto snk = fx.sink(engine::csv);
    for (const std::string name : {"../outside.csv", "/etc/passwd", "a/../../outside.csv"}) {
        INFO(name);
        connectors::read_request r;
        r.table = name;
        auto reader = src->read(r);
        REQUIRE(!reader);
        CHECK(reader.error().message.find("a file path is refused") != std::string::npos);
        auto described = snk->describe_table(name);
        REQUIRE(!described);
        connectors::schema columns;
        connectors::column id;
        id.name = "id";
        id.type = connectors::column_type::int64;
        columns.columns.push_back(id);
        CHECK(!snk->create_table(name, columns, {}));
        CHECK(!snk->begin_replace(name, columns, {}));
    }
    std::ifstream in(fx.dir() / "outside.csv", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text == "id\n1\n");
}

}  // namespace sluice::test
