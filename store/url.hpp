#pragma once

#include <string>
#include <string_view>

namespace sluice::store {

// The URL with the password of its userinfo replaced by "***"
// ("postgresql://etl:s3cret@db/x" -> "postgresql://etl:***@db/x"); safe for logs and errors.
std::string redact_url(std::string_view url);

}  // namespace sluice::store
