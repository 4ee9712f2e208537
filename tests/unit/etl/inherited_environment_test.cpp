// What children take from the daemon's environment (docs/task-kinds.md#environment).
#include "etl/inherited_environment.hpp"

#include <catch2/catch.hpp>

using namespace sluice;

namespace {

struct fake_environment {
    std::vector<std::string> entries;
    std::vector<char*> pointers;

    explicit fake_environment(std::vector<std::string> e) : entries(std::move(e)) {
        for (auto& entry : entries) {
            pointers.push_back(entry.data());
        }
        pointers.push_back(nullptr);
    }
    char** get() { return pointers.data(); }
};

}  // namespace

TEST_CASE("environment: the base set and inherit_env only, never the rest", "[etl][environment]") {
    fake_environment env({"PATH=/opt/bin:/usr/bin", "HOME=/var/lib/sluice", "LANG=C.UTF-8",
                          "PGPASSWORD=hunter2", "DB_URL=postgresql://u:p@h/db",
                          "AWS_REGION=eu-west-1", "AWS_SECRET_ACCESS_KEY=k", "AWSX=no",
                          "http_proxy=http://proxy:3128", "=odd", "no-equals"});
    const std::map<std::string, std::string> base{
        {"HOME", "/var/lib/sluice"}, {"LANG", "C.UTF-8"}, {"PATH", "/opt/bin:/usr/bin"}};
    CHECK(etl::inherited_environment({}, env.get()) == base);

    auto with = base;
    with["AWS_REGION"] = "eu-west-1";
    with["AWS_SECRET_ACCESS_KEY"] = "k";
    with["http_proxy"] = "http://proxy:3128";
    CHECK(etl::inherited_environment({"AWS_*", "http_proxy", "NOT_SET"}, env.get()) == with);
}

TEST_CASE("environment: PATH has a default when the daemon has none", "[etl][environment]") {
    fake_environment env({"TZ=Europe/Berlin"});
    const auto vars = etl::inherited_environment({}, env.get());
    CHECK(vars == std::map<std::string, std::string>{{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                                                     {"TZ", "Europe/Berlin"}});
    CHECK(etl::environment_entries(vars) ==
          std::vector<std::string>{"PATH=/usr/local/bin:/usr/bin:/bin", "TZ=Europe/Berlin"});
}

TEST_CASE("environment: a pattern is a name, or a prefix ending in '*'", "[etl][environment]") {
    CHECK(etl::environment_name_matches("AWS_*", "AWS_REGION"));
    CHECK(etl::environment_name_matches("AWS_*", "AWS_"));
    CHECK_FALSE(etl::environment_name_matches("AWS_*", "AWSX"));
    CHECK(etl::environment_name_matches("LANGUAGE", "LANGUAGE"));
    CHECK_FALSE(etl::environment_name_matches("LANG", "LANGUAGE"));
}
