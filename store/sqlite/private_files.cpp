#include "store/sqlite/private_files.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sluice::store::sqlite {

std::error_code create_private_directories(const std::filesystem::path& dir) {
    std::filesystem::path at;
    for (const auto& part : dir) {
        at /= part;
        if (::mkdir(at.c_str(), 0700) != 0 && errno != EEXIST) {
            return {errno, std::generic_category()};
        }
    }
    return {};
}

std::error_code create_private_file(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return errno == EEXIST ? std::error_code()
                               : std::error_code(errno, std::generic_category());
    }
    ::close(fd);
    return {};
}

}  // namespace sluice::store::sqlite
