#include "scheduler/trigger_params.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <regex>

#include <nlohmann/json.hpp>

#include "core/time.hpp"

namespace sluice::scheduler {

namespace {

bool is_integer(const std::string& text) {
    static const std::regex pattern(R"([+-]?[0-9]+)");
    if (!std::regex_match(text, pattern)) {
        return false;
    }
    errno = 0;
    char* end = nullptr;
    (void)std::strtoll(text.c_str(), &end, 10);
    return errno != ERANGE;
}

bool is_number(const std::string& text) {
    static const std::regex pattern(R"([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?)");
    return std::regex_match(text, pattern);
}

bool is_date(const std::string& text) {
    static const std::regex pattern(R"([0-9]{4}-[0-9]{2}-[0-9]{2})");
    if (!std::regex_match(text, pattern)) {
        return false;
    }
    return core::parse_rfc3339(text + "T00:00:00Z").has_value();
}

// "an integer", "a date".
std::string article(config::param_type type) {
    return type == config::param_type::integer ? "an " : "a ";
}

bool has_type(config::param_type type, const std::string& value) {
    switch (type) {
        case config::param_type::string:
            return true;
        case config::param_type::integer:
            return is_integer(value);
        case config::param_type::number:
            return is_number(value);
        case config::param_type::boolean:
            return value == "true" || value == "false";
        case config::param_type::date:
            return is_date(value);
        case config::param_type::timestamp:
            return core::parse_rfc3339(value).has_value();
    }
    return false;
}

}  // namespace

core::result<param_values> resolve_params(const config::job_spec& job, const param_values& given) {
    for (const auto& [name, value] : given) {
        auto declared = std::find_if(job.params.begin(), job.params.end(),
                                     [&](const config::param_spec& p) { return p.name == name; });
        if (declared == job.params.end()) {
            std::string known;
            for (const config::param_spec& p : job.params) {
                known += (known.empty() ? "" : ", ") + p.name;
            }
            return core::error::permanent("job " + job.name + " has no parameter '" + name +
                                          "' (declared: " + (known.empty() ? "none" : known) + ")");
        }
    }
    param_values out;
    for (const config::param_spec& p : job.params) {
        auto it = given.find(p.name);
        if (it == given.end()) {
            if (p.default_value) {
                out[p.name] = *p.default_value;
            } else if (p.required) {
                return core::error::permanent("job " + job.name + ": parameter '" + p.name +
                                              "' is required");
            }
            continue;
        }
        if (!has_type(p.type, it->second)) {
            return core::error::permanent(
                "job " + job.name + ": parameter '" + p.name + "' must be " + article(p.type) +
                std::string(config::to_string(p.type)) + ", got '" + it->second + "'");
        }
        if (!p.values.empty() &&
            std::find(p.values.begin(), p.values.end(), it->second) == p.values.end()) {
            std::string allowed;
            for (const std::string& v : p.values) {
                allowed += (allowed.empty() ? "" : ", ") + v;
            }
            return core::error::permanent("job " + job.name + ": parameter '" + p.name +
                                          "' must be one of " + allowed + ", got '" + it->second +
                                          "'");
        }
        out[p.name] = it->second;
    }
    return out;
}

param_values default_params(const config::job_spec& job) {
    param_values out;
    for (const config::param_spec& p : job.params) {
        if (p.default_value) {
            out[p.name] = *p.default_value;
        }
    }
    return out;
}

std::string params_to_json(const param_values& values) {
    nlohmann::json object = nlohmann::json::object();
    for (const auto& [name, value] : values) {
        object[name] = value;
    }
    return object.dump();
}

core::result<param_values> params_from_json(std::string_view json) {
    nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object()) {
        return core::error::permanent("run params are not a JSON object: " + std::string(json));
    }
    param_values out;
    for (const auto& [name, value] : parsed.items()) {
        out[name] = value.is_string() ? value.get<std::string>() : value.dump();
    }
    return out;
}

}  // namespace sluice::scheduler
