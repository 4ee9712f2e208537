#pragma once

#include <string>
#include <utility>

#include <boost/system/result.hpp>

namespace sluice::core {

// How a failure should be treated by whoever retries work: transient failures are retried per
// policy, permanent ones fail fast.
enum class error_class { transient, permanent };

// An error crossing a runtime boundary: a class for retry decisions and a message written for the
// operator. Messages never contain secrets.
struct error {
    error_class cls = error_class::permanent;
    std::string message;

    static error permanent(std::string message) {
        return {error_class::permanent, std::move(message)};
    }
    static error transient(std::string message) {
        return {error_class::transient, std::move(message)};
    }
};

// Thrown by result<T>::value() on an error; only reached on programmer error or at startup.
class error_exception : public std::runtime_error {
public:
    explicit error_exception(const error& e) : std::runtime_error(e.message), error_(e) {}
    const core::error& err() const noexcept { return error_; }

private:
    core::error error_;
};

// Found by boost::system::result through ADL.
[[noreturn]] inline void throw_exception_from_error(const error& e, const boost::source_location&) {
    throw error_exception(e);
}

template <class T>
using result = boost::system::result<T, error>;

}  // namespace sluice::core
