// docs/openapi.yaml documents exactly the routes the server serves.
#include <algorithm>
#include <set>

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include "web/api.hpp"

TEST_CASE("every served route is in docs/openapi.yaml and the other way round", "[web][docs]") {
    const YAML::Node doc = YAML::LoadFile(std::string(SLUICE_SOURCE_DIR) + "/docs/openapi.yaml");
    REQUIRE(doc["openapi"].as<std::string>().starts_with("3."));
    std::set<std::pair<std::string, std::string>> documented;
    for (const auto& path : doc["paths"]) {
        for (const auto& op : path.second) {
            std::string method = op.first.as<std::string>();
            if (method == "parameters") {
                continue;
            }
            std::transform(method.begin(), method.end(), method.begin(), ::toupper);
            documented.emplace(method, path.first.as<std::string>());
        }
    }
    std::set<std::pair<std::string, std::string>> served;
    for (const auto& r : sluice::web::api::route_table()) {
        served.insert(r);
    }
    std::vector<std::pair<std::string, std::string>> undocumented, unserved;
    std::set_difference(served.begin(), served.end(), documented.begin(), documented.end(),
                        std::back_inserter(undocumented));
    std::set_difference(documented.begin(), documented.end(), served.begin(), served.end(),
                        std::back_inserter(unserved));
    for (const auto& [m, p] : undocumented) {
        UNSCOPED_INFO("served but not documented: " << m << " " << p);
    }
    for (const auto& [m, p] : unserved) {
        UNSCOPED_INFO("documented but not served: " << m << " " << p);
    }
    CHECK(undocumented.empty());
    CHECK(unserved.empty());
    CHECK(served.size() >= 17);
}
