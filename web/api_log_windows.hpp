#pragma once

// GET /api/v1/runs/{id}/tasks/{task}/logs?format=json (api_log_windows.cpp), served from the
// logs route of api_streams.cpp.

#include "web/api_impl.hpp"

namespace sluice::web {

// A window of a task's log by line number, or a search in it (docs/api.md).
void serve_log_json(api::impl& api, request_context& ctx, responder done);

}  // namespace sluice::web
