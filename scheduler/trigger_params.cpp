#include "scheduler/trigger_params.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/time.hpp"

namespace sluice::scheduler {

namespace {

// Hand-written scanners, not std::regex: libstdc++'s regex matcher recurses once per character,
// so a parameter of a few hundred KiB from a trigger body overflowed the stack.
bool all_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view without_sign(std::string_view text) {
    if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
        text.remove_prefix(1);
    }
    return text;
}

bool is_integer(const std::string& text) {
    if (!all_digits(without_sign(text))) {
        return false;
    }
    errno = 0;
    char* end = nullptr;
    (void)std::strtoll(text.c_str(), &end, 10);
    return errno != ERANGE;
}

// [+-]?(DIGITS(.DIGITS?)?|.DIGITS)([eE][+-]?DIGITS)?
bool is_number(const std::string& text) {
    std::string_view rest = without_sign(text);
    const auto exponent = rest.find_first_of("eE");
    if (exponent != std::string_view::npos &&
        !all_digits(without_sign(rest.substr(exponent + 1)))) {
        return false;
    }
    const std::string_view mantissa = rest.substr(0, exponent);
    const auto dot = mantissa.find('.');
    if (dot == std::string_view::npos) {
        return all_digits(mantissa);
    }
    const std::string_view whole = mantissa.substr(0, dot);
    const std::string_view fraction = mantissa.substr(dot + 1);
    if (whole.empty()) {
        return all_digits(fraction);
    }
    return all_digits(whole) && (fraction.empty() || all_digits(fraction));
}

bool is_date(const std::string& text) {
    const std::string_view t = text;
    if (t.size() != 10 || t[4] != '-' || t[7] != '-' || !all_digits(t.substr(0, 4)) ||
        !all_digits(t.substr(5, 2)) || !all_digits(t.substr(8, 2))) {
        return false;
    }
    return core::parse_rfc3339(text + "T00:00:00Z").has_value();
}

// A value quoted in an error message: long ones are cut (a message is read by a person).
std::string quoted(const std::string& value) {
    constexpr std::size_t shown = 64;
    if (value.size() <= shown) {
        return "'" + value + "'";
    }
    return "'" + value.substr(0, shown) + "...' (" + std::to_string(value.size()) + " bytes)";
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
    for (const auto& entry : given) {
        // Not a structured binding: clang 14 (make fuzz) cannot capture one in the lambda.
        const std::string& name = entry.first;
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
                std::string(config::to_string(p.type)) + ", got " + quoted(it->second));
        }
        if (!p.values.empty() &&
            std::find(p.values.begin(), p.values.end(), it->second) == p.values.end()) {
            std::string allowed;
            for (const std::string& v : p.values) {
                allowed += (allowed.empty() ? "" : ", ") + v;
            }
            return core::error::permanent("job " + job.name + ": parameter '" + p.name +
                                          "' must be one of " + allowed + ", got " +
                                          quoted(it->second));
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
        return core::error::permanent("run params are not a JSON object: " +
                                      quoted(std::string(json.substr(0, 100))));
    }
    param_values out;
    for (const auto& [name, value] : parsed.items()) {
        out[name] = value.is_string() ? value.get<std::string>() : value.dump();
    }
    return out;
}

}  // namespace sluice::scheduler
