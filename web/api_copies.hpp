#pragma once

// GET /api/v1/copies (api_copies.cpp).

#include "web/api_impl.hpp"

namespace sluice::web {

// Adds the route listing every copy task with its latest figures and stored mark
// (docs/api.md#copies).
void add_copy_routes(api::impl& api);

}  // namespace sluice::web
