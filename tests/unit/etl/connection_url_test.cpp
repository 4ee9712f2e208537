#include "connectors/connection_url.hpp"

#include <catch2/catch.hpp>

#include "connectors/sql_errors.hpp"

using namespace sluice;

TEST_CASE("connection url: every part is parsed and percent-decoded", "[etl][url]") {
    auto u = connectors::parse_connection_url(
        "postgresql://etl:p%40ss@w0rd@db.example.com:6543/app%20db?sslmode=require&x=1");
    REQUIRE(u.has_value());
    CHECK(u->scheme == "postgresql");
    CHECK(u->user == "etl");
    CHECK(u->password == "p@ss@w0rd");
    CHECK(u->host == "db.example.com");
    CHECK(u->port == 6543);
    CHECK(u->database == "app db");
    CHECK(u->query_value("sslmode") == "require");
    CHECK(u->query_value("x") == "1");
    CHECK_FALSE(u->query_value("y"));
}

TEST_CASE("connection url: optional parts may be missing", "[etl][url]") {
    auto u = connectors::parse_connection_url("mysql://etl@[::1]/app");
    REQUIRE(u.has_value());
    CHECK(u->host == "::1");
    CHECK_FALSE(u->port);
    CHECK_FALSE(u->password);
    u = connectors::parse_connection_url("mysql://db?socket=/run/mysqld.sock");
    REQUIRE(u.has_value());
    CHECK(u->user.empty());
    CHECK(u->host == "db");
    CHECK(u->database.empty());
    CHECK(u->query_value("socket") == "/run/mysqld.sock");
}

TEST_CASE("connection url: errors never show the password", "[etl][url]") {
    for (const char* url : {"mysql://etl:hunter2@db:99999/app", "mysql://etl:hunter2@db:x/app",
                            "mysql://etl:hunter2@db/%zz", "no-scheme:hunter2@db"}) {
        INFO(url);
        auto u = connectors::parse_connection_url(url);
        REQUIRE_FALSE(u.has_value());
        CHECK(u.error().cls == core::error_class::permanent);
        CHECK_THAT(u.error().message, !Catch::Contains("hunter2"));
    }
    CHECK(connectors::scrub_secret("password hunter2 failed for hunter2", "hunter2") ==
          "password *** failed for ***");
    CHECK(connectors::scrub_secret("text", std::nullopt) == "text");
}

TEST_CASE("sql errors: retryable errors are transient and the rest permanent", "[etl][url]") {
    using core::error_class;
    for (const char* state :
         {"08006", "08001", "40001", "40P01", "55P03", "57014", "57P01", "57P03", "53300"}) {
        INFO(state);
        CHECK(connectors::classify_sqlstate(state) == error_class::transient);
    }
    for (const char* state : {"42601", "42501", "42P01", "42703", "23505", ""}) {
        INFO(state);
        CHECK(connectors::classify_sqlstate(state) == error_class::permanent);
    }
    for (unsigned code : {2006u, 2013u, 1213u, 1205u, 3024u, 1969u, 1053u, 2003u}) {
        INFO(code);
        CHECK(connectors::classify_mysql_errno(code) == error_class::transient);
    }
    for (unsigned code : {1064u, 1142u, 1044u, 1045u, 1146u, 1062u}) {
        INFO(code);
        CHECK(connectors::classify_mysql_errno(code) == error_class::permanent);
    }
    CHECK(connectors::classify_sqlite_code(5) == error_class::transient);    // SQLITE_BUSY
    CHECK(connectors::classify_sqlite_code(517) == error_class::transient);  // BUSY_SNAPSHOT
    CHECK(connectors::classify_sqlite_code(1) == error_class::permanent);    // SQLITE_ERROR
}

TEST_CASE("connection url: a password with an unescaped '/', '?' or '#' is refused, unshown",
          "[etl][url]") {
    for (const char* url :
         {"postgresql://etl:hun/ter2@db/app", "mysql://etl:hun?ter2@db/app",
          "postgresql://etl:hun#ter2@db:5432/app", "mysql://etl:hu@n/ter2@db/x"}) {
        INFO(url);
        auto u = connectors::parse_connection_url(url);
        REQUIRE_FALSE(u.has_value());
        CHECK_THAT(u.error().message, Catch::Contains("percent-encode"));
        for (const char* fragment : {"hun", "ter2"}) {
            CHECK_THAT(u.error().message, !Catch::Contains(fragment));
        }
    }
    auto u = connectors::parse_connection_url("postgresql://etl:hun%2Fter%3F2%23@db/app");
    REQUIRE(u.has_value());
    CHECK(u->password == "hun/ter?2#");
    CHECK(u->host == "db");
    // Without a password an '@' later in the url is no ambiguity.
    u = connectors::parse_connection_url("postgresql://etl@db:5432/app?application_name=a@b");
    REQUIRE(u.has_value());
    CHECK(u->host == "db");
    CHECK(u->query_value("application_name") == "a@b");
}
