#include "connectors/bounded_cancel.hpp"

#include <fcntl.h>
#include <future>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace sluice::connectors {

bounded_cancel::bounded_cancel(int socket, std::chrono::seconds wait)
    : socket_(socket >= 0 ? ::fcntl(socket, F_DUPFD_CLOEXEC, 0) : -1), wait_(wait) {}

bounded_cancel::~bounded_cancel() {
    if (socket_ >= 0) {
        ::close(socket_);
    }
}

void bounded_cancel::operator()(std::function<void()> request) {
    if (!pending_->exchange(true)) {
        auto answered = std::make_shared<std::promise<void>>();
        auto future = answered->get_future();
        bool started = true;
        try {
            std::thread([request = std::move(request), pending = pending_, answered] {
                request();
                pending->store(false);
                answered->set_value();
            }).detach();
        } catch (const std::system_error&) {
            // No thread to spare: the socket alone ends the statement.
            pending_->store(false);
            started = false;
        }
        if (started && future.wait_for(wait_) == std::future_status::ready) {
            return;
        }
    }
    if (socket_ >= 0) {
        ::shutdown(socket_, SHUT_RDWR);
    }
}

}  // namespace sluice::connectors
