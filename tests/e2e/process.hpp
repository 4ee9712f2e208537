#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace sluice::test {

struct process_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Starts `program args...` (no shell) with stdin on /dev/null, stdout and stderr on the given
// descriptors and this process's environment plus `extra_env`; returns its pid. Throws when it
// cannot start.
pid_t spawn_process(const std::string& program, const std::vector<std::string>& args,
                    const std::vector<std::string>& extra_env, int out_fd, int err_fd);

// Runs `program args...` to completion (no shell), capturing stdout and stderr.
process_result run_process(const std::string& program, const std::vector<std::string>& args,
                           const std::vector<std::string>& extra_env = {});

// Runs the sluice binary under test.
process_result run_sluice(const std::vector<std::string>& args,
                          const std::vector<std::string>& extra_env = {});

// Splits output into lines without their '\n'.
std::vector<std::string> lines(const std::string& text);

}  // namespace sluice::test
