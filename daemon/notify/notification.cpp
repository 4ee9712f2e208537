#include "daemon/notify/notification.hpp"

#include <ctime>

#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "core/time.hpp"

namespace sluice::daemon::notify {

namespace {

// Slack's limit on the text of one section block is 3,000 characters; stay below it.
constexpr std::size_t max_block_text = 2900;
// Task sections in Slack blocks (the JSON `tasks` field lists up to max_listed_tasks).
constexpr std::size_t max_task_blocks = 5;
// The error shown in a one-line summary.
constexpr std::size_t max_summary_error = 300;

std::string time_text(const std::optional<core::time_point>& t) {
    return t ? core::format_rfc3339_utc(std::chrono::floor<std::chrono::seconds>(*t)) : "";
}

nlohmann::json time_json(const std::optional<core::time_point>& t) {
    return t ? nlohmann::json(time_text(t)) : nlohmann::json(nullptr);
}

// The first line of an error, clipped: a summary stays one line.
std::string first_line(std::string_view text, std::size_t limit) {
    std::string line(text.substr(0, text.find('\n')));
    if (line.size() > limit) {
        line = clip_log_line(line.substr(0, limit));
    }
    return line;
}

// Control characters (CR above all) would let a log line rewrite what a mail reader shows.
std::string printable(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
            c = ' ';
        }
    }
    return out;
}

// Slack mrkdwn treats &, < and > as markup.
std::string slack_escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '&') {
            out += "&amp;";
        } else if (c == '<') {
            out += "&lt;";
        } else if (c == '>') {
            out += "&gt;";
        } else {
            out += c;
        }
    }
    return out;
}

std::string run_title(const notification& n) {
    return "job " + n.run.job + " run " + std::to_string(n.run.id.value);
}

// "failed on try 3/3 (permanent): exit code 1"
std::string task_outcome(const task_summary& t) {
    std::string out = std::string(scheduler::to_string(t.state));
    if (t.try_number > 0) {
        out += " on try " + std::to_string(t.try_number) + "/" + std::to_string(t.max_tries);
    }
    if (t.error_cls) {
        out += " (" + std::string(scheduler::to_string(*t.error_cls)) + ")";
    }
    if (t.error_message && !t.error_message->empty()) {
        out += ": " + first_line(*t.error_message, max_summary_error);
    }
    return out;
}

std::string when_scheduled(const notification& n) {
    if (n.run.trigger == scheduler::trigger_kind::scheduled && n.run.logical_time) {
        return "its scheduled time " + time_text(n.run.logical_time);
    }
    return "its creation at " + time_text(n.run.created_at);
}

// The log tail as a code block that fits a section: the newest lines win.
std::string log_block(const std::vector<std::string>& lines, std::size_t budget) {
    std::vector<std::string> shown;
    std::size_t size = 8;  // the fences
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        std::string line = slack_escape(printable(*it));
        // A fence inside the block would end it early.
        for (std::size_t p = line.find("```"); p != std::string::npos; p = line.find("```", p)) {
            line.replace(p, 3, "'''");
        }
        if (size + line.size() + 1 > budget) {
            break;
        }
        size += line.size() + 1;
        shown.push_back(std::move(line));
    }
    if (shown.empty()) {
        return "";
    }
    std::string out = "```";
    for (auto it = shown.rbegin(); it != shown.rend(); ++it) {
        out += *it + "\n";
    }
    return out + "```";
}

nlohmann::json task_json(const task_summary& t) {
    nlohmann::json error = nullptr;
    if (t.error_message && !t.error_message->empty()) {
        error = {{"class", t.error_cls ? nlohmann::json(scheduler::to_string(*t.error_cls))
                                       : nlohmann::json(nullptr)},
                 {"message", *t.error_message}};
    }
    return {{"task", t.task},
            {"state", scheduler::to_string(t.state)},
            {"try_number", t.try_number},
            {"max_tries", t.max_tries},
            {"error", error},
            {"started_at", time_json(t.started_at)},
            {"finished_at", time_json(t.finished_at)},
            {"next_attempt_at", time_json(t.next_attempt_at)},
            {"log_tail", t.log_tail}};
}

std::string mail_date(core::time_point at) {
    const std::time_t t = std::chrono::system_clock::to_time_t(at);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

std::string subject(const notification& n) {
    const std::string run = n.run.job + " run " + std::to_string(n.run.id.value);
    switch (n.event) {
        case config::notify_event::failure:
            return "[sluice] " + run + " " + std::string(scheduler::to_string(n.run.state));
        case config::notify_event::success:
            return "[sluice] " + run + " succeeded";
        case config::notify_event::retry:
            return "[sluice] " + run + ": task " +
                   (n.tasks.empty() ? std::string("?") : n.tasks.front().task) + " will retry";
        case config::notify_event::sla_miss:
            return "[sluice] " + run + " missed its SLA" +
                   (n.sla ? " of " + core::format_duration(*n.sla) : "");
    }
    return "[sluice] " + run;
}

}  // namespace

std::string clip_log_line(std::string_view line) {
    if (line.size() <= max_log_line_bytes) {
        return std::string(line);
    }
    std::size_t end = max_log_line_bytes;
    // Back up over continuation bytes (10xxxxxx) to the start of the cut sequence.
    while (end > 0 && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) {
        --end;
    }
    return std::string(line.substr(0, end)) + "...";
}

std::string summary(const notification& n) {
    std::string out = run_title(n);
    switch (n.event) {
        case config::notify_event::failure: {
            out += " " + std::string(scheduler::to_string(n.run.state));
            if (!n.tasks.empty()) {
                out += ": task " + n.tasks.front().task + " " + task_outcome(n.tasks.front());
                const std::size_t more = n.tasks.size() - 1 + n.tasks_not_listed;
                if (more > 0) {
                    out += " (and " + std::to_string(more) + " more failed task" +
                           (more == 1 ? ")" : "s)");
                }
            }
            break;
        }
        case config::notify_event::success:
            out += " succeeded";
            if (n.run.started_at && n.run.finished_at) {
                out += " in " + core::format_duration(std::chrono::duration_cast<core::duration>(
                                    *n.run.finished_at - *n.run.started_at));
            }
            break;
        case config::notify_event::retry:
            if (!n.tasks.empty()) {
                const task_summary& t = n.tasks.front();
                out += ": task " + t.task + " failed try " + std::to_string(t.try_number) + "/" +
                       std::to_string(t.max_tries) + " and will be retried";
                if (t.next_attempt_at) {
                    out += " at " + time_text(t.next_attempt_at);
                }
                if (t.error_message && !t.error_message->empty()) {
                    out += ": " + first_line(*t.error_message, max_summary_error);
                }
            } else {
                out += ": a task will be retried";
            }
            break;
        case config::notify_event::sla_miss:
            out += " missed its SLA: not finished " +
                   (n.sla ? core::format_duration(*n.sla) : std::string("?")) + " after " +
                   when_scheduled(n) + " (state " + std::string(scheduler::to_string(n.run.state)) +
                   ")";
            break;
    }
    if (n.problem) {
        out += " [details unavailable: " + first_line(*n.problem, max_summary_error) + "]";
    }
    return out;
}

std::string webhook_body(const notification& n) {
    const std::string text = summary(n);
    std::string head = "*" + slack_escape(text) + "*";
    // People follow the link: the admin page's run view when there is one, else the API.
    const std::string& link = n.page_url.empty() ? n.run_url : n.page_url;
    const std::string run_ref = link.empty()
                                    ? "run " + std::to_string(n.run.id.value)
                                    : "<" + link + "|run " + std::to_string(n.run.id.value) + ">";
    head += "\nJob `" + n.run.job + "` · " + run_ref + " · state *" +
            std::string(scheduler::to_string(n.run.state)) + "* · trigger " +
            std::string(scheduler::to_string(n.run.trigger));
    if (n.run.logical_time) {
        head += " · scheduled " + time_text(n.run.logical_time);
    }
    nlohmann::json blocks = nlohmann::json::array();
    blocks.push_back(
        {{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", clip_log_line(head)}}}});
    std::size_t shown = 0;
    for (const task_summary& t : n.tasks) {
        if (shown == max_task_blocks) {
            break;
        }
        std::string section = "*Task `" + t.task + "`* " + slack_escape(printable(task_outcome(t)));
        if (section.size() > max_block_text / 2) {
            section = clip_log_line(section.substr(0, max_block_text / 2));
        }
        const std::string logs = log_block(t.log_tail, max_block_text - section.size() - 1);
        if (!logs.empty()) {
            section += "\n" + logs;
        }
        blocks.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", section}}}});
        ++shown;
    }
    const std::size_t hidden = n.tasks.size() - shown + n.tasks_not_listed;
    if (hidden > 0) {
        blocks.push_back({{"type", "context"},
                          {"elements",
                           {{{"type", "mrkdwn"},
                             {"text", std::to_string(hidden) + " more task(s): see the run"}}}}});
    }
    nlohmann::json tasks = nlohmann::json::array();
    for (const task_summary& t : n.tasks) {
        tasks.push_back(task_json(t));
    }
    nlohmann::json run{
        {"id", n.run.id.value},
        {"state", scheduler::to_string(n.run.state)},
        {"trigger", scheduler::to_string(n.run.trigger)},
        {"logical_time", time_json(n.run.logical_time)},
        {"created_at", time_json(n.run.created_at)},
        {"started_at", time_json(n.run.started_at)},
        {"finished_at", time_json(n.run.finished_at)},
        {"url", n.run_url.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.run_url)},
        {"page_url", n.page_url.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.page_url)}};
    nlohmann::json body{{"text", "[sluice] " + slack_escape(text) +
                                     (link.empty() ? "" : " <" + link + "|open run>")},
                        {"blocks", blocks},
                        {"event", config::to_string(n.event)},
                        {"job", n.run.job},
                        {"run", run},
                        {"tasks", tasks},
                        {"tasks_not_listed", n.tasks_not_listed},
                        {"raised_at", time_json(n.raised_at)}};
    if (n.event == config::notify_event::sla_miss) {
        body["sla"] = n.sla ? nlohmann::json(core::format_duration(*n.sla)) : nullptr;
        body["sla_deadline"] = time_json(n.sla_deadline);
    }
    if (n.problem) {
        body["problem"] = *n.problem;
    }
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string mail_message(const notification& n, std::string_view from, std::string_view to) {
    std::string m;
    m += "From: " + std::string(from) + "\n";
    m += "To: " + std::string(to) + "\n";
    m += "Subject: " + printable(subject(n)) + "\n";
    m += "Date: " + mail_date(n.raised_at) + "\n";
    m += "MIME-Version: 1.0\n";
    m += "Content-Type: text/plain; charset=utf-8\n";
    m += "Content-Transfer-Encoding: 8bit\n";
    m += "Auto-Submitted: auto-generated\n";
    m += "X-Sluice-Event: " + std::string(config::to_string(n.event)) + "\n";
    m += "X-Sluice-Job: " + n.run.job + "\n";
    m += "X-Sluice-Run: " + std::to_string(n.run.id.value) + "\n";
    m += "\n";
    m += printable(summary(n)) + "\n\n";
    m += "Job:       " + n.run.job + "\n";
    m += "Run:       " + std::to_string(n.run.id.value) + " (" +
         std::string(scheduler::to_string(n.run.trigger)) + ")\n";
    m += "State:     " + std::string(scheduler::to_string(n.run.state)) + "\n";
    if (n.run.logical_time) {
        m += "Scheduled: " + time_text(n.run.logical_time) + "\n";
    }
    m += "Created:   " + time_text(n.run.created_at) + "\n";
    if (n.run.started_at) {
        m += "Started:   " + time_text(n.run.started_at) + "\n";
    }
    if (n.run.finished_at) {
        m += "Finished:  " + time_text(n.run.finished_at) + "\n";
    }
    if (n.sla_deadline) {
        m += "SLA due:   " + time_text(n.sla_deadline) + "\n";
    }
    if (!n.page_url.empty()) {
        m += "Page:      " + n.page_url + "\n";
    }
    if (!n.run_url.empty()) {
        m += "Link:      " + n.run_url + "\n";
    }
    for (const task_summary& t : n.tasks) {
        m += "\nTask " + t.task + ": " + printable(task_outcome(t)) + "\n";
        if (t.error_message && t.error_message->find('\n') != std::string::npos) {
            m += "Error:\n";
            std::string_view rest = *t.error_message;
            while (!rest.empty()) {
                const auto nl = rest.find('\n');
                m += "  " + printable(clip_log_line(rest.substr(0, nl))) + "\n";
                rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
            }
        }
        if (!t.log_tail.empty()) {
            m += "Last " + std::to_string(t.log_tail.size()) + " log line(s):\n";
            for (const std::string& line : t.log_tail) {
                m += "  " + printable(line) + "\n";
            }
        }
    }
    if (n.tasks_not_listed > 0) {
        m += "\n" + std::to_string(n.tasks_not_listed) + " more task(s) not listed.\n";
    }
    if (n.problem) {
        m += "\nDetails unavailable: " + printable(*n.problem) + "\n";
    }
    return m;
}

}  // namespace sluice::daemon::notify
