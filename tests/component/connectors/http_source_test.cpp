// The HTTP JSON source against a small local server (json_pages_server.py): pages followed by
// next links and cursor tokens, every type moved into every sink, HTTP errors classified.

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "connectors/document_rows.hpp"
#include "tests/component/connectors/connector_fixture.hpp"

extern char** environ;

namespace sluice::test {

namespace {

using json = nlohmann::ordered_json;

// The page server as a child process, killed on destruction.
class page_server {
public:
    explicit page_server(const std::filesystem::path& dir, const std::string& cert_pem = {}) {
        const std::filesystem::path script = std::filesystem::path(SLUICE_SOURCE_DIR) /
                                             "tests/component/connectors/json_pages_server.py";
        const std::string port_file = (dir / "port").string();
        std::vector<std::string> args = {"python3", script.string(), dir.string(), port_file};
        if (!cert_pem.empty()) {
            args.push_back(cert_pem);
        }
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        if (posix_spawnp(&pid_, "python3", nullptr, nullptr, argv.data(), environ) != 0) {
            FAIL("cannot start python3 " << script);
        }
        for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        std::ifstream in(port_file);
        if (!(in >> port_)) {
            FAIL("the JSON page server did not start");
        }
    }
    ~page_server() {
        kill(pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
    int port() const { return port_; }

private:
    pid_t pid_ = -1;
    int port_ = 0;
};

void write_page(const std::filesystem::path& file, const std::vector<cells>& rows,
                const json& next) {
    const auto columns = golden_schema();
    json page = json::object();
    page["data"] = json::array();
    for (const auto& row : rows) {
        json record = json::object();
        for (std::size_t c = 0; c < row.size(); ++c) {
            record[columns.columns[c].name] =
                row[c] ? connectors::json_value_of(*row[c], columns.columns[c].type) : json();
        }
        page["data"].push_back(std::move(record));
    }
    page["next"] = next;
    std::ofstream(file) << page.dump(-1, ' ', false, json::error_handler_t::replace);
}

config::connection_spec http_spec(int port, const std::string& scheme = "http") {
    config::connection_spec s;
    s.name = "api";
    s.type = config::connection_type::http;
    s.url = scheme + "://127.0.0.1:" + std::to_string(port) + "/";
    s.headers = {{"X-Api-Key", "test-key"}};
    s.connect_timeout = std::chrono::seconds(5);
    return s;
}

}  // namespace

TEST_CASE("every type survives an http json source to every sink", "[connectors][types][http]") {
    connector_fixture fx;
    const auto pages = fx.dir() / "pages";
    std::filesystem::create_directories(pages);
    const auto rows = golden_rows();
    // Page 1 links page 2 by path; page 2 hands out a cursor token; page 3 ends.
    write_page(pages / "items.json", {rows[0], rows[1]}, "/items?page=2");
    write_page(pages / "items__page=2.json", {rows[2], rows[3]}, "tok3");
    write_page(pages / "items__cursor=tok3.json", {rows[4], rows[5]}, nullptr);
    page_server server(pages);
    const auto golden = golden_schema();

    for (engine to : all_engines()) {
        const std::string what = "http -> " + engine_name(to);
        INFO(what);
        auto src = fx.registry().open_source(http_spec(server.port()));
        REQUIRE_OK(src);
        connectors::read_request r;
        r.table = "items";
        r.records_field = "data";
        r.next_page_field = "next";
        r.expected = golden;
        r.limits.max_rows = 4;
        auto reader = (*src)->read(r);
        REQUIRE_OK(reader);
        const connectors::schema columns = (*reader)->schema();
        REQUIRE(columns.columns.size() == golden.columns.size());

        auto out = fx.sink(to);
        const std::string table = fx.table(to, "from_http");
        connectors::create_options options;
        options.key = {"id"};
        REQUIRE_OK(out->create_table(table, columns, options));
        connectors::write_request w;
        w.table = table;
        w.columns = &columns;
        connectors::row_batch batch;
        int batches = 0;
        for (;;) {
            auto more = (*reader)->next(batch);
            REQUIRE_OK(more);
            if (!*more) {
                break;
            }
            ++batches;
            REQUIRE_OK(out->write(w, batch));
        }
        CHECK(batches == 2);
        require_equal_rows(golden, expected_after(rows, {to}), fx.read_all(to, table, golden),
                           what);
    }
}

TEST_CASE("http json source errors: 401 is permanent, 503 and a dead port transient",
          "[connectors][errors][http]") {
    connector_fixture fx;
    const auto pages = fx.dir() / "pages";
    std::filesystem::create_directories(pages);
    page_server server(pages);
    connectors::read_request r;
    r.table = "unavailable";

    auto spec = http_spec(server.port());
    auto src = fx.registry().open_source(spec);
    REQUIRE_OK(src);
    auto reader = (*src)->read(r);
    REQUIRE(!reader);
    CHECK(reader.error().cls == core::error_class::transient);
    CHECK(reader.error().message.find("503") != std::string::npos);

    spec.headers.clear();
    src = fx.registry().open_source(spec);
    REQUIRE_OK(src);
    reader = (*src)->read(r);
    REQUIRE(!reader);
    CHECK(reader.error().cls == core::error_class::permanent);
    CHECK(reader.error().message.find("401") != std::string::npos);

    spec.url = "http://127.0.0.1:1/";
    src = fx.registry().open_source(spec);
    REQUIRE_OK(src);
    reader = (*src)->read(r);
    REQUIRE(!reader);
    CHECK(reader.error().cls == core::error_class::transient);
}

TEST_CASE("https: the certificate is verified against the trusted CAs and the host",
          "[connectors][http]") {
    connector_fixture fx;
    const auto pages = fx.dir() / "pages";
    std::filesystem::create_directories(pages);
    write_page(pages / "items.json", {golden_rows()[1]}, nullptr);
    // A self-signed certificate for 127.0.0.1, made for this test.
    const auto pem = fx.dir() / "server.pem";
    const std::string make_cert =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout '" +
        (fx.dir() / "key.pem").string() + "' -out '" + (fx.dir() / "cert.pem").string() +
        "' >/dev/null 2>&1 && cat '" + (fx.dir() / "cert.pem").string() + "' '" +
        (fx.dir() / "key.pem").string() + "' > '" + pem.string() + "'";
    if (std::system(make_cert.c_str()) != 0) {
        FAIL("cannot make a test certificate with the openssl command (apt-get install openssl)");
    }
    page_server server(pages, pem.string());
    connectors::read_request r;
    r.table = "items";
    r.records_field = "data";
    r.expected = golden_schema();

    // Not trusted by the system CAs: a permanent failure that says so.
    auto src = fx.registry().open_source(http_spec(server.port(), "https"));
    REQUIRE_OK(src);
    auto reader = (*src)->read(r);
    REQUIRE(!reader);
    INFO(reader.error().message);
    CHECK(reader.error().cls == core::error_class::permanent);
    CHECK(reader.error().message.find("certificate") != std::string::npos);

    // Trusted through OpenSSL's SSL_CERT_FILE: the page is read over TLS.
    ::setenv("SSL_CERT_FILE", (fx.dir() / "cert.pem").c_str(), 1);
    src = fx.registry().open_source(http_spec(server.port(), "https"));
    REQUIRE_OK(src);
    reader = (*src)->read(r);
    ::unsetenv("SSL_CERT_FILE");
    REQUIRE_OK(reader);
    connectors::row_batch b;
    auto more = (*reader)->next(b);
    REQUIRE_OK(more);
    REQUIRE(b.row_count() == 1);
    CHECK(b.at(0, 8) == "plain");
}

namespace {

// Reads every record of `table` through `spec`, as JSON text per row.
core::result<std::vector<std::string>> read_records(connector_fixture& fx,
                                                    const config::connection_spec& spec,
                                                    const std::string& table) {
    auto src = fx.registry().open_source(spec);
    REQUIRE_OK(src);
    connectors::read_request r;
    r.table = table;
    r.records_field = "data";
    r.next_page_field = "next";
    auto reader = (*src)->read(r);
    if (!reader) {
        return reader.error();
    }
    std::vector<std::string> out;
    connectors::row_batch batch;
    for (;;) {
        auto more = (*reader)->next(batch);
        if (!more) {
            return more.error();
        }
        if (!*more) {
            return out;
        }
        for (std::size_t i = 0; i < batch.row_count(); ++i) {
            std::string row;
            for (std::size_t c = 0; c < batch.column_count(); ++c) {
                row += (c == 0 ? "" : "|") + batch.value(i, c).value_or("NULL");
            }
            out.push_back(row);
        }
    }
}

}  // namespace

TEST_CASE("http json source: next links stay on the origin unless allowed, then bare",
          "[connectors][http][security]") {
    connector_fixture fx;
    const auto pages = fx.dir() / "pages";
    std::filesystem::create_directories(pages);
    page_server home(pages);
    const auto other_pages = fx.dir() / "other_pages";  // its own port file
    std::filesystem::create_directories(other_pages);
    page_server other(other_pages);
    REQUIRE(other.port() != home.port());
    const std::string elsewhere = "http://127.0.0.1:" + std::to_string(other.port()) + "/headers";
    std::ofstream(pages / "start.json")
        << R"({"data": [{"api_key": "first", "authorization": "x"}], "next": ")" + elsewhere +
               "\"}";
    auto spec = http_spec(home.port());
    spec.url = "http://reader:s3cret@127.0.0.1:" + std::to_string(home.port()) + "/";

    // By default the link to another port (another origin) is refused before it is requested.
    auto refused = read_records(fx, spec, "start");
    REQUIRE(!refused);
    CHECK(refused.error().cls == core::error_class::permanent);
    CHECK(refused.error().message.find("another origin") != std::string::npos);
    CHECK(refused.error().message.find("allow_cross_origin") != std::string::npos);

    // Allowed: followed, without the connection's X-Api-Key and without its credentials.
    spec.allow_cross_origin = true;
    auto followed = read_records(fx, spec, "start");
    REQUIRE_OK(followed);
    CHECK(*followed == std::vector<std::string>{"first|x", "NULL|NULL"});

    // A link holding a line break would add a header to the request: refused.
    std::ofstream(pages / "start.json", std::ios::trunc)
        << R"({"data": [], "next": "/items\r\nX-Injected: 1"})";
    auto injected = read_records(fx, spec, "start");
    REQUIRE(!injected);
    CHECK(injected.error().message.find("control character") != std::string::npos);
}

}  // namespace sluice::test
