#include "tests/component/store/test_databases.hpp"

#include <atomic>
#include <cstdlib>
#include <random>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "store/open_store.hpp"

namespace sluice::test {

namespace {

std::string unique_suffix() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    return std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
           std::to_string(rd() % 100000);
}

// postgresql://u@h:p/db?x -> postgresql://u@h:p/NAME?x
std::string with_database(const std::string& url, const std::string& name) {
    std::size_t authority = url.find("://") + 3;
    std::size_t path = url.find('/', authority);
    std::size_t query = url.find('?', authority);
    std::string out = url.substr(0, path == std::string::npos ? query : path);
    out += "/" + name;
    if (query != std::string::npos) {
        out += url.substr(query);
    }
    return out;
}

}  // namespace

std::unique_ptr<scheduler::run_store> open_migrated(const std::string& url) {
    auto store = store::open_store(url);
    if (!store) {
        FAIL("open_store(" << url << "): " << store.error().message);
    }
    auto migrated = (*store)->migrate();
    if (!migrated) {
        FAIL("migrate: " << migrated.error().message);
    }
    return std::move(*store);
}

sqlite_database::sqlite_database() {
    const char* tmp = std::getenv("TMPDIR");
    dir_ = std::filesystem::path(tmp != nullptr ? tmp : "/tmp") /
           ("sluice_store_test_" + unique_suffix());
    // The store creates the missing parent directory itself.
    url_ = "sqlite://" + (dir_ / "state" / "sluice.db").string();
}

sqlite_database::~sqlite_database() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

postgres_database::postgres_database() {
    const char* url = std::getenv("SLUICE_TEST_PG_URL");
    if (url == nullptr || *url == '\0') {
        FAIL(
            "SLUICE_TEST_PG_URL is not set. The PostgreSQL store suite needs a server: run "
            "`make test` (or scripts/run-tests.sh BUILD_DIR), which starts one through "
            "scripts/test-servers.sh, or export SLUICE_TEST_PG_URL=postgresql://...");
    }
    admin_url_ = url;
    name_ = "sluice_t_" + unique_suffix();
    pqxx::connection admin(admin_url_);
    pqxx::nontransaction tx(admin);
    // template0: nobody is ever connected to it, so parallel test processes never collide on it.
    tx.exec("CREATE DATABASE " + name_ + " TEMPLATE template0");
    url_ = with_database(admin_url_, name_);
}

postgres_database::~postgres_database() {
    if (name_.empty()) {
        return;
    }
    try {
        pqxx::connection admin(admin_url_);
        pqxx::nontransaction tx(admin);
        tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception& e) {
        WARN("could not drop test database " << name_ << ": " << e.what());
    }
}

}  // namespace sluice::test
