#pragma once

#include <string>
#include <string_view>

namespace sluice::core {

// `text` made safe for one line of the daemon's log: control bytes (a CR or LF decoded from a
// request path could otherwise start a forged line), bytes that are not valid UTF-8 and the
// backslash itself are written as \xNN (backslash as \\), everything else as it is. Used for
// every value a client chooses that reaches a log line (docs/api.md, the audit log).
std::string printable(std::string_view text);

}  // namespace sluice::core
