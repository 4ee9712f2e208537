// What a shell task's processes receive from the daemon: descriptors 0-2 only.
// Nothing else: no socket the daemon holds, no other task's pipe (etl/child_process.cpp).
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "etl/child_process.hpp"
#include "etl/shell_task.hpp"
#include "tests/component/etl/attempt_fixture.hpp"

using namespace sluice;
using status = scheduler::task_outcome::status;
using stream = scheduler::output_line::stream;

namespace {

// A descriptor of the test process, closed by the destructor.
struct owned_fd {
    int fd = -1;
    explicit owned_fd(int f) : fd(f) {}
    ~owned_fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    owned_fd(const owned_fd&) = delete;
    owned_fd& operator=(const owned_fd&) = delete;
};

// Whether a non-blocking read end reports end-of-file now (every write end closed).
bool at_end_of_file(int read_fd) {
    pollfd p{read_fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) {
        return false;
    }
    char c = 0;
    return ::read(read_fd, &c, 1) == 0;
}

}  // namespace

TEST_CASE("shell: a task's processes hold descriptors 0-2 only, close-on-exec or not",
          "[etl][shell][isolation]") {
    // Like Asio's listening socket: not close-on-exec.
    owned_fd socket(::socket(AF_INET, SOCK_STREAM, 0));
    REQUIRE(socket.fd > 2);
    int pipe_ends[2] = {-1, -1};
    REQUIRE(::pipe2(pipe_ends, O_CLOEXEC) == 0);
    owned_fd pipe_r(pipe_ends[0]);
    owned_fd pipe_w(pipe_ends[1]);

    // `ls` lists the shell's descriptors, not its own.
    test::attempt_fixture f(
        "jobs:\n  j:\n    tasks:\n      t:\n        type: shell\n"
        "        command: ls /proc/$$/fd\n");
    etl::shell_task runner;
    const auto outcome = f.run(runner);
    INFO(outcome.message);
    REQUIRE(outcome.result == status::success);
    CHECK(f.texts(stream::out) == std::vector<std::string>{"0", "1", "2"});
}

TEST_CASE("shell: a running task's keeper holds no other task's pipe", "[etl][shell][isolation]") {
    // Another task's output pipe, open while this child is forked: when that task's command
    // ends, its reader must see end-of-file at once, not when this child ends.
    int other[2] = {-1, -1};
    REQUIRE(::pipe2(other, O_CLOEXEC | O_NONBLOCK) == 0);
    owned_fd other_r(other[0]);
    owned_fd other_w(other[1]);

    etl::child_spec spec;
    spec.argv = {"/bin/sleep", "60"};
    spec.environment = {"PATH=/usr/bin:/bin"};
    auto child = etl::child_process::spawn(spec);
    REQUIRE(child.has_value());
    ::close(other_w.fd);
    other_w.fd = -1;
    // The child still runs (it sleeps for a minute) ...
    REQUIRE_FALSE((*child)->try_reap().has_value());
    // ... and the pipe's only write end is closed: no copy lives on in the keeper.
    CHECK(at_end_of_file(other_r.fd));
}
