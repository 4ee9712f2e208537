#pragma once

// Who this process is, as the store sees it. Every process that runs the engine (`serve`, `run`)
// takes leases on the attempts it starts under one identity, unique to the process: host name,
// pid and a random start nonce. Two processes on one machine therefore never mistake each
// other's leases for their own (docs/cli.md, "One store, several processes").

#include <string>
#include <string_view>

namespace sluice::daemon {

// This machine's host name, "localhost" when it has none: the identity's host, the default
// notification sender's domain and the host in links when the API listens on every address.
std::string host_name();

struct process_identity {
    std::string host;
    long pid = 0;
    std::string nonce;  // random, fixed for the life of the process
    // Where a pid means this very process: the kernel's boot id and the pid namespace. Two
    // containers may share a host name but never both of these with the same pid.
    std::string boot_id;
    std::string pid_namespace;
    // The process's start time in clock ticks since boot (/proc/PID/stat field 22): a pid
    // reused by a later process has a different one.
    std::string start_ticks;

    // "host:pid:nonce": the lease owner name and the instance row's id.
    std::string id() const;
    // What the instance row's info holds, so that another process can tell whether this one
    // is gone (lease_owner_gone below).
    std::string info_json() const;

    // The identity of the calling process, made once.
    static const process_identity& self();
};

// True only when `info_json` (an instance row's info) describes a process that provably no longer
// runs: one on this kernel and in this pid namespace whose pid is gone or now belongs to a
// process started at another time. Anything it cannot prove (another machine, an older version's
// row without these fields, no /proc) is false: that owner's leases are left to expire.
bool lease_owner_gone(std::string_view info_json);

}  // namespace sluice::daemon
