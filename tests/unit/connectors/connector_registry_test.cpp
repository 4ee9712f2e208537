#include "connectors/connector_registry.hpp"

#include <stdexcept>

#include <catch2/catch.hpp>

namespace sluice::connectors {

TEST_CASE("the connector registry knows every built-in type; http is a source only",
          "[connectors][registry]") {
    connector_registry r;
    register_builtin_connectors(r);
    using config::connection_type;
    for (auto t : {connection_type::postgres, connection_type::mysql, connection_type::clickhouse,
                   connection_type::sqlite, connection_type::file}) {
        CHECK(r.has_source(t));
        CHECK(r.has_sink(t));
    }
    CHECK(r.has_source(connection_type::http));
    CHECK(!r.has_sink(connection_type::http));

    config::connection_spec api;
    api.name = "api";
    api.type = connection_type::http;
    api.url = "https://example.invalid/";
    auto opened = r.open_sink(api);
    REQUIRE(!opened);
    CHECK(opened.error().cls == core::error_class::permanent);
    CHECK(opened.error().message.find("'api'") != std::string::npos);

    const sink_factory another = [](const config::connection_spec&) {
        return core::result<std::unique_ptr<sink>>(core::error::permanent("unused"));
    };
    CHECK_THROWS_AS(r.add_sink(connection_type::postgres, another), std::logic_error);
}

}  // namespace sluice::connectors
