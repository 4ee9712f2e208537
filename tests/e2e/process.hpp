#pragma once

#include <string>
#include <vector>

namespace sluice::test {

struct process_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs `program args...` to completion (no shell), capturing stdout and stderr.
process_result run_process(const std::string& program, const std::vector<std::string>& args,
                           const std::vector<std::string>& extra_env = {});

// Runs the sluice binary under test.
process_result run_sluice(const std::vector<std::string>& args,
                          const std::vector<std::string>& extra_env = {});

// Splits output into lines without their '\n'.
std::vector<std::string> lines(const std::string& text);

}  // namespace sluice::test
