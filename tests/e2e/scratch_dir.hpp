#pragma once

// A temporary directory that tasks under test write into, outside the daemon's own directory
// (which a restart replaces), removed with everything in it when the test ends.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace sluice::test {

struct scratch_dir {
    std::filesystem::path path;

    explicit scratch_dir(const std::string& prefix = "sluice-e2e") {
        std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    // The lines of the file `name` in the directory; none when it does not exist.
    std::vector<std::string> lines_of(const std::string& name) const {
        std::ifstream in(path / name);
        std::vector<std::string> out;
        for (std::string line; std::getline(in, line);) {
            out.push_back(line);
        }
        return out;
    }
};

}  // namespace sluice::test
