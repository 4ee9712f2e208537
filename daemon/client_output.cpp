#include "daemon/client_output.hpp"

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/api_client.hpp"
#include "daemon/commands.hpp"

namespace sluice::daemon {

int report_failure(const api_failure& failure) {
    std::cerr << "sluice: " << failure.message << "\n";
    return failure.exit_code;
}

std::optional<nlohmann::json> params_object(const std::vector<std::string>& options) {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& p : options) {
        const auto eq = p.find('=');
        if (eq == std::string::npos || eq == 0) {
            std::cerr << "sluice: --param takes NAME=VALUE, got '" << p << "'\n";
            return std::nullopt;
        }
        params[p.substr(0, eq)] = p.substr(eq + 1);
    }
    return params;
}

std::string cell(const nlohmann::json& value) {
    if (value.is_null()) {
        return "-";
    }
    if (value.is_string()) {
        return value.get<std::string>();
    }
    return value.dump();
}

void print_table(const nlohmann::json& rows, const std::vector<std::string>& columns,
                 std::ostream& out) {
    std::vector<std::vector<std::string>> cells;
    std::vector<std::size_t> widths;
    for (const auto& c : columns) {
        widths.push_back(c.size());
    }
    for (const auto& row : rows) {
        std::vector<std::string> line;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            line.push_back(row.contains(columns[i]) ? cell(row[columns[i]]) : "-");
            widths[i] = std::max(widths[i], line.back().size());
        }
        cells.push_back(std::move(line));
    }
    const auto print_line = [&](const std::vector<std::string>& line) {
        for (std::size_t i = 0; i < line.size(); ++i) {
            if (i + 1 == line.size()) {
                out << line[i];
            } else {
                out << std::left << std::setw(static_cast<int>(widths[i] + 2)) << line[i];
            }
        }
        out << "\n";
    };
    std::vector<std::string> header;
    for (const auto& c : columns) {
        std::string upper = c;
        std::transform(upper.begin(), upper.end(), upper.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
        header.push_back(upper);
    }
    print_line(header);
    for (const auto& line : cells) {
        print_line(line);
    }
}

void print_task_outputs(const nlohmann::json& tasks, std::ostream& out) {
    // What a terminal line shows of one value.
    constexpr std::size_t shown_value_bytes = 200;
    bool any = false;
    for (const auto& t : tasks) {
        if (!t.contains("outputs") || !t["outputs"].is_object()) {
            continue;
        }
        for (const auto& [name, value] : t["outputs"].items()) {
            if (!any) {
                out << "\noutputs:\n";
                any = true;
            }
            std::string text = value.is_string() ? value.get<std::string>() : value.dump();
            if (text.size() > shown_value_bytes) {
                text = text.substr(0, shown_value_bytes) + "... (" + std::to_string(text.size()) +
                       " bytes)";
            }
            std::replace(text.begin(), text.end(), '\n', ' ');
            out << "  " << t.value("task", "") << "." << name << " = " << text << "\n";
        }
    }
}

void print_remote_run(const nlohmann::json& run, std::ostream& out) {
    out << "run " << cell(run.value("id", nlohmann::json(nullptr))) << "  job "
        << cell(run.value("job", nlohmann::json(nullptr))) << "  "
        << cell(run.value("state", nlohmann::json(nullptr))) << "\n";
    for (const char* field :
         {"trigger", "logical_time", "created_at", "started_at", "finished_at"}) {
        if (run.contains(field) && !run[field].is_null()) {
            out << "  " << field << ": " << cell(run[field]) << "\n";
        }
    }
    if (run.contains("params") && run["params"].is_object() && !run["params"].empty()) {
        out << "  params: " << run["params"].dump() << "\n";
    }
    if (!run.contains("tasks") || !run["tasks"].is_array()) {
        return;
    }
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& t : run["tasks"]) {
        nlohmann::json row = t;
        row["try"] = std::to_string(t.value("try_number", 0)) + "/" +
                     std::to_string(t.value("max_tries", 0));
        if (t.contains("error") && t["error"].is_object()) {
            row["error"] = t["error"].value("message", "");
        }
        rows.push_back(row);
    }
    out << "\n";
    print_table(rows, {"task", "state", "try", "started_at", "finished_at", "error"}, out);
    print_task_outputs(run["tasks"], out);
    // Every try of the tasks that ran more than once, oldest first.
    nlohmann::json tries = nlohmann::json::array();
    for (const auto& t : run["tasks"]) {
        if (!t.contains("attempts") || !t["attempts"].is_array() || t["attempts"].size() < 2) {
            continue;
        }
        for (const auto& a : t["attempts"]) {
            nlohmann::json row = a;
            row["task"] = t.value("task", "");
            if (a.contains("error") && a["error"].is_object()) {
                row["error"] = a["error"].value("message", "");
            }
            tries.push_back(row);
        }
    }
    if (!tries.empty()) {
        out << "\nattempts:\n";
        print_table(tries, {"task", "try", "state", "started_at", "finished_at", "error"}, out);
    }
}

int wait_until_finished(api_client& api, const std::string& target, bool json,
                        std::chrono::milliseconds poll,
                        void (*print)(const nlohmann::json&, std::ostream&)) {
    api_failure failure;
    for (;;) {
        auto reply = api.call("GET", target, std::nullopt, failure);
        if (!reply) {
            return report_failure(failure);
        }
        const auto state = reply->body.value("state", std::string());
        if (state == "success" || state == "failed" || state == "canceled" ||
            state == "timed_out") {
            if (json) {
                std::cout << reply->body.dump(2) << "\n";
            } else {
                print(reply->body, std::cout);
            }
            return state == "success" ? exit_ok : exit_run_failed;
        }
        std::this_thread::sleep_for(poll);
    }
}

}  // namespace sluice::daemon
