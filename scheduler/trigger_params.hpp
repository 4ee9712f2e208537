#pragma once

// Trigger parameters (docs/configuration.md#params): the values a run is started with,
// checked against the params the job declares (type, allowed values, default, required). Values
// travel as text, as they arrive from the CLI (--param K=V) and from the HTTP layer.

#include <map>
#include <string>
#include <string_view>

#include "config/spec.hpp"
#include "core/error.hpp"

namespace sluice::scheduler {

using param_values = std::map<std::string, std::string>;

// The values a run gets: `given` checked against `job.params`, defaults filled in. Fails
// (permanent, naming the job and parameter) on an unknown name, a value that is not of the
// declared type or not among the allowed values, or a required parameter without a value.
core::result<param_values> resolve_params(const config::job_spec& job, const param_values& given);

// The values of a scheduled run: the declared defaults (a parameter without one is left out).
param_values default_params(const config::job_spec& job);

// A JSON object of strings, as stored in runs.params_json.
std::string params_to_json(const param_values& values);
// Parses params_json back; non-string values keep their JSON text.
core::result<param_values> params_from_json(std::string_view json);

}  // namespace sluice::scheduler
