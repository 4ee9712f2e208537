#include "daemon/systemd_notifier.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "core/logging.hpp"

namespace sluice::daemon {

struct systemd_notifier::watchdog {
    explicit watchdog(boost::asio::io_context& loop) : timer(loop) {}
    boost::asio::steady_timer timer;
    std::chrono::microseconds interval{0};
    bool stopped = false;
};

systemd_notifier::systemd_notifier(boost::asio::io_context& loop) : loop_(loop) {}

systemd_notifier::~systemd_notifier() {
    stop_watchdog();
}

void systemd_notifier::notify(std::string_view state) {
    // unset_environment=0: the watchdog keeps reading WATCHDOG_USEC; children get a clean env
    // from the task runners anyway.
    const int rc = ::sd_notify(0, std::string(state).c_str());
    if (rc < 0) {
        core::component_logger("daemon")->warn("sd_notify({}) failed: {}", state,
                                               std::strerror(-rc));
    }
}

void systemd_notifier::ready() {
    notify("READY=1\nSTATUS=serving");
}

void systemd_notifier::reloading() {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const auto usec = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000U +
                      static_cast<std::uint64_t>(now.tv_nsec) / 1000U;
    notify("RELOADING=1\nSTATUS=reloading the config\nMONOTONIC_USEC=" + std::to_string(usec));
}

void systemd_notifier::stopping() {
    notify("STOPPING=1\nSTATUS=draining running tasks");
}

std::chrono::microseconds systemd_notifier::start_watchdog() {
    std::uint64_t usec = 0;
    if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
        return std::chrono::microseconds(0);
    }
    watchdog_ = std::make_shared<watchdog>(loop_);
    watchdog_->interval = std::chrono::microseconds(usec / 2);
    ping(watchdog_);
    return watchdog_->interval;
}

void systemd_notifier::stop_watchdog() {
    if (watchdog_) {
        watchdog_->stopped = true;
        watchdog_->timer.cancel();
        watchdog_.reset();
    }
}

void systemd_notifier::ping(const std::shared_ptr<watchdog>& w) {
    ::sd_notify(0, "WATCHDOG=1");
    w->timer.expires_after(w->interval);
    w->timer.async_wait([w](const boost::system::error_code& ec) {
        if (!ec && !w->stopped) {
            ping(w);
        }
    });
}

}  // namespace sluice::daemon
