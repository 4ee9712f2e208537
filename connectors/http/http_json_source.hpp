#pragma once

#include <memory>

#include "config/spec.hpp"
#include "connectors/source.hpp"

namespace sluice::connectors {

// A JSON API read page by page: GET the connection url + the request's table (a path), take
// the rows from the `records` field (an array of objects; the top level when the body is an
// array), follow the `next_page` field: a URL (absolute, or a path on the same host) or, when it
// is not one, a cursor token sent back as the `cursor` query parameter. The connection's headers
// go with every request. https uses OpenSSL with the system's CA store and verifies the host.
core::result<std::unique_ptr<source>> open_http_json_source(const config::connection_spec& spec);

}  // namespace sluice::connectors
