#include "manual_trigger.hpp"

#include <fstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "http_client.hpp"

namespace sluice::test {

std::vector<std::string> serve_args_with_port(const std::filesystem::path& config,
                                              const std::filesystem::path& port_file) {
    return {"serve", "-c", config.string(), "--port-file", port_file.string()};
}

std::int64_t trigger_when_ready(const std::filesystem::path& port_file, const std::string& job,
                                std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::uint16_t port = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (port == 0) {
            std::ifstream in(port_file);
            int read = 0;
            if (in >> read && read > 0 && read < 65536) {
                port = static_cast<std::uint16_t>(read);
            }
        }
        if (port != 0 && http_call(port, "GET", "/readyz").status == 200) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    INFO("port file " << port_file << ", port " << port);
    REQUIRE(port != 0);
    const http_reply r = http_call(port, "POST", "/api/v1/jobs/" + job + "/runs", "{}",
                                   {{"Content-Type", "application/json"}});
    INFO(r.body);
    REQUIRE(r.status == 201);
    return nlohmann::json::parse(r.body).at("run_id").get<std::int64_t>();
}

}  // namespace sluice::test
