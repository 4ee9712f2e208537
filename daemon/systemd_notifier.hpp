#pragma once

// sd_notify(3) for `sluice serve` under systemd (Type=notify): READY=1 once store, scheduler
// and HTTP are up, RELOADING=1/READY=1 around a SIGHUP reload, STOPPING=1 at shutdown, and
// WATCHDOG=1 from a timer on the control loop itself, so a stuck loop stops the pings and
// systemd restarts the daemon. Without NOTIFY_SOCKET every call is a no-op.

#include <chrono>
#include <memory>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace sluice::daemon {

class systemd_notifier {
public:
    explicit systemd_notifier(boost::asio::io_context& loop);
    ~systemd_notifier();
    systemd_notifier(const systemd_notifier&) = delete;
    systemd_notifier& operator=(const systemd_notifier&) = delete;

    void ready();
    // RELOADING=1 with MONOTONIC_USEC (systemd matches it to the reload job); call ready() after.
    void reloading();
    void stopping();
    // Starts WATCHDOG=1 pings at half of WATCHDOG_USEC when systemd asked for them (for this
    // pid); returns the ping interval, zero when the watchdog is off.
    std::chrono::microseconds start_watchdog();
    void stop_watchdog();

private:
    void notify(std::string_view state);
    struct watchdog;
    // Each ping is sent by the loop when the timer fires: a loop that stops turning stops pinging.
    static void ping(const std::shared_ptr<watchdog>& w);
    std::shared_ptr<watchdog> watchdog_;
    boost::asio::io_context& loop_;
};

}  // namespace sluice::daemon
