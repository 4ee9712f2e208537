#include "store/engine_lock.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "store/sqlite/private_files.hpp"
#include "store/sqlite_store.hpp"

namespace sluice::store {
namespace {

std::string read_holder(int fd) {
    char buf[512] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string s = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.pop_back();
    }
    return s;
}

}  // namespace

core::result<std::unique_ptr<engine_lock>> engine_lock::acquire(
    std::string_view store_url, std::string_view holder, std::chrono::milliseconds patience) {
    if (!store_url.starts_with("sqlite://")) {
        return std::unique_ptr<engine_lock>();
    }
    auto database = sqlite_path_from_url(store_url);
    if (!database) {
        return database.error();
    }
    const std::string path = *database + ".lock";
    if (const auto dir = std::filesystem::path(path).parent_path(); !dir.empty()) {
        sqlite::create_private_directories(dir);  // a failure shows in the open below
    }
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return core::error::permanent("cannot open the store's lock file '" + path +
                                      "': " + std::strerror(errno));
    }
    // flock, not fcntl: SQLite's own POSIX locks on the database would be dropped by any close
    // of a descriptor of that file in this process, and flock locks do not interfere with them.
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        if (err != EWOULDBLOCK && err != EINTR) {
            ::close(fd);
            return core::error::permanent("cannot lock the store's lock file '" + path +
                                          "': " + std::strerror(err));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            std::string who = read_holder(fd);
            ::close(fd);
            if (who.empty()) {
                who = "another process (starting)";
            }
            return core::error::permanent(
                "the SQLite store " + *database + " is in use by " + who +
                ": only one process runs jobs on a SQLite store at a time; stop it first, or "
                "talk to it with --server (read-only commands such as `runs list` work beside "
                "it)");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::string line = std::string(holder) + "\n";
    if (::ftruncate(fd, 0) != 0 ||
        ::pwrite(fd, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) {
        const int err = errno;
        ::close(fd);
        return core::error::permanent("cannot write the store's lock file '" + path +
                                      "': " + std::strerror(err));
    }
    return std::unique_ptr<engine_lock>(new engine_lock(fd, path));
}

engine_lock::~engine_lock() {
    // Closing releases the lock; the file stays (removing it would let a third process lock a
    // new file while a second still waits on the old one).
    ::close(fd_);
}

}  // namespace sluice::store
