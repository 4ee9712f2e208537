#pragma once

#include <string>

namespace sluice::config {

// One configuration error at a 1-based line and column (in bytes) of a file. A line of 0 means
// the error concerns the file as a whole (it could not be read, an environment is unknown).
struct diagnostic {
    std::string file;
    int line = 0;
    int column = 0;
    std::string message;
};

// "FILE:LINE:COL: error: MESSAGE", or "FILE: error: MESSAGE" when the line is 0.
std::string format_diagnostic(const diagnostic& d);

}  // namespace sluice::config
