#include "config/spec.hpp"

#include "config/decode_context.hpp"
#include "config/enum_names.hpp"

namespace sluice::config {

std::string_view to_string(catchup_policy v) {
    return name_of(catchup_names, v);
}
std::string_view to_string(concurrency_policy v) {
    return name_of(concurrency_names, v);
}
std::string_view to_string(trigger_rule v) {
    return name_of(trigger_rule_names, v);
}
std::string_view to_string(task_type v) {
    return name_of(task_type_names, v);
}
std::string_view to_string(connection_type v) {
    return name_of(connection_type_names, v);
}
std::string_view to_string(sink_mode v) {
    return name_of(sink_mode_names, v);
}
std::string_view to_string(token_role v) {
    return name_of(token_role_names, v);
}
std::string_view to_string(param_type v) {
    return name_of(param_type_names, v);
}
std::string_view to_string(notify_event v) {
    return name_of(notify_event_names, v);
}
std::string_view to_string(create_table_policy v) {
    return name_of(create_table_names, v);
}
std::string_view to_string(file_format v) {
    return name_of(file_format_names, v);
}
std::string_view to_string(store_kind v) {
    return name_of(store_kind_names, v);
}

bool is_database(connection_type t) {
    return t == connection_type::postgres || t == connection_type::mysql ||
           t == connection_type::clickhouse || t == connection_type::sqlite;
}

std::string redact_url(std::string_view url) {
    std::string out(url);
    // scheme://user:password@host -> scheme://user:***@host
    const auto scheme_end = out.find("://");
    if (scheme_end != std::string::npos) {
        const auto authority_begin = scheme_end + 3;
        auto authority_end = out.find_first_of("/?#", authority_begin);
        if (authority_end == std::string::npos) {
            authority_end = out.size();
        }
        // The last '@' ends the userinfo: an unescaped '@' inside a password is common.
        const auto at = out.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
        if (at != std::string::npos && at >= authority_begin) {
            const auto colon = out.find(':', authority_begin);
            if (colon != std::string::npos && colon < at) {
                out.replace(colon + 1, at - colon - 1, "***");
            }
        }
    }
    // ?password=secret&... (ClickHouse's HTTP interface accepts credentials this way)
    const auto query = out.find('?');
    if (query != std::string::npos) {
        std::size_t pos = query + 1;
        while (pos < out.size()) {
            auto end = out.find('&', pos);
            if (end == std::string::npos) {
                end = out.size();
            }
            const std::string_view param(out.data() + pos, end - pos);
            constexpr std::string_view key = "password=";
            if (param.size() > key.size() && param.substr(0, key.size()) == key) {
                out.replace(pos + key.size(), end - pos - key.size(), "***");
                end = pos + key.size() + 3;
            }
            pos = end + 1;
        }
    }
    return out;
}

const task_spec* job_spec::find_task(std::string_view task_name) const {
    for (const auto& t : tasks) {
        if (t.name == task_name) {
            return &t;
        }
    }
    return nullptr;
}

const job_spec* sluice_config::find_job(std::string_view job_name) const {
    for (const auto& j : jobs) {
        if (j.name == job_name) {
            return &j;
        }
    }
    return nullptr;
}

std::string sluice_config::unknown_job_message(std::string_view job_name) const {
    std::vector<std::string> names;
    for (const auto& j : jobs) {
        names.push_back(j.name);
    }
    std::string hint = did_you_mean(job_name, names);
    if (hint.empty()) {
        hint = names.empty() ? "; no jobs are configured" : "; jobs: " + join_names(names);
    }
    return "no job named '" + std::string(job_name) + "'" + hint;
}

std::string redact_webhook_url(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return "***";
    }
    const std::size_t host_begin = scheme_end + 3;
    std::size_t host_end = url.find_first_of("/?#", host_begin);
    if (host_end == std::string_view::npos) {
        host_end = url.size();
    }
    std::string_view authority = url.substr(host_begin, host_end - host_begin);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority = authority.substr(at + 1);  // user:password never shown
    }
    std::string out = std::string(url.substr(0, host_begin)) + std::string(authority);
    if (host_end < url.size()) {
        out += "/***";
    }
    return out;
}

}  // namespace sluice::config
