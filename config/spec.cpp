#include "config/spec.hpp"

#include <algorithm>

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
std::string_view to_string(interrupt_action v) {
    return name_of(interrupt_action_names, v);
}
std::string_view to_string(deletes_policy v) {
    return name_of(deletes_names, v);
}
std::string_view to_string(file_format v) {
    return name_of(file_format_names, v);
}
std::string_view to_string(store_kind v) {
    return name_of(store_kind_names, v);
}

std::optional<std::string> file_path_problem(std::string_view path) {
    if (path.empty()) {
        return "it is empty";
    }
    if (path.front() == '/') {
        return "it is absolute; paths are relative to the connection's directory";
    }
    for (const char c : path) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            return "it holds a control character";
        }
    }
    std::size_t begin = 0;
    while (begin <= path.size()) {
        const auto end = std::min(path.find('/', begin), path.size());
        if (path.substr(begin, end - begin) == "..") {
            return "it holds a '..' component; paths stay inside the connection's directory";
        }
        begin = end + 1;
    }
    return std::nullopt;
}

bool is_database(connection_type t) {
    return t == connection_type::postgres || t == connection_type::mysql ||
           t == connection_type::clickhouse || t == connection_type::sqlite;
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
