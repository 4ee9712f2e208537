#pragma once

// Starting a run at a moment the test controls. A schedule due a few seconds after the test
// starts the daemon fires only if the daemon registered its job before that instant (ticks
// from before a job existed are never due: docs/configuration.md#catch-up), which a slow start
// on a loaded machine, under sanitizers or beside other suites, can miss. A trigger through the
// API once the daemon is ready cannot.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sluice::test {

// `sluice serve -c CONFIG --port-file PORT_FILE`: the daemon writes the port it listens on.
std::vector<std::string> serve_args_with_port(const std::filesystem::path& config,
                                              const std::filesystem::path& port_file);

// Waits (up to `limit`) until the daemon that writes `port_file` answers /readyz with 200, then
// triggers `job` through POST /api/v1/jobs/JOB/runs; returns the new run's id. Fails the test
// when the daemon never becomes ready or refuses the trigger.
std::int64_t trigger_when_ready(const std::filesystem::path& port_file, const std::string& job,
                                std::chrono::seconds limit = std::chrono::seconds(120));

}  // namespace sluice::test
