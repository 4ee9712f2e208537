#!/usr/bin/env bash
# Prints, after a failed ctest run, where each failed test failed: its assertion lines (Catch2's
# "FAILED:" with the expansion that follows) or, for other runners, the end of its output. The
# full outputs are in BUILD_DIR/Testing/Temporary/LastTest.log and were streamed by
# --output-on-failure already; this summary comes last because a CI log is often read from its
# tail, where ctest's own summary only names the tests.
# Usage: scripts/show-failures.sh BUILD_DIR
set -uo pipefail
log="${1:-build}/Testing/Temporary/LastTest.log"
[ -f "$log" ] || exit 0
awk '
function show(pattern, before, after,   i, j, lo, hi) {
    for (i = 1; i <= lines && printed < 80; i++) {
        if (out[i] !~ pattern) { continue }
        lo = i - before; hi = i + after
        if (lo < 1) { lo = 1 }
        if (hi > lines) { hi = lines }
        for (j = lo; j <= hi && printed < 80; j++) {
            if (!(j in shown)) { print substr(out[j], 1, 400); shown[j] = 1; printed++ }
        }
    }
}
function flush(   i) {
    if (!failed) { return }
    print "==== " name
    printed = 0
    # Catch2 assertions first, then what other runners (node, shell) print when they fail.
    show("FAILED:|due to unexpected exception", 2, 8)
    show("not ok|✖|[Tt]imeout|timed out|Error|error:", 2, 4)
    if (printed == 0) {
        for (i = (lines > 40 ? lines - 40 : 1); i <= lines; i++) { print substr(out[i], 1, 400) }
    }
    delete shown
}
/^[0-9]+\/[0-9]+ Testing: / { flush(); name = substr($0, index($0, ": ") + 2); lines = 0; inout = 0; failed = 0; next }
/^Output:$/ { inout = 1; getline; next }
/^<end of output>$/ { inout = 0; next }
inout { out[++lines] = $0; next }
/^Test / && !/^Test (Passed|time)/ { failed = 1 }
END { flush() }
' "$log"
