#pragma once

// GET /api/v1/schedule (api_schedule.cpp).

#include "web/api_impl.hpp"

namespace sluice::web {

// Adds the route listing every job's fires of the next hours (docs/api.md#jobs).
void add_schedule_routes(api::impl& api);

}  // namespace sluice::web
