#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "config/placeholders.hpp"
#include "config/sql_parameters.hpp"
#include "config/task_body.hpp"
#include "config/task_outputs.hpp"
#include "core/redact.hpp"

namespace sluice::config {

std::optional<connection_type> check_connection_ref(decode_context& ctx, const node& n,
                                                    const std::string& name,
                                                    const decode_scope& scope) {
    const auto& names = scope.connection_names;
    if (std::find(names.begin(), names.end(), name) == names.end()) {
        const std::string hint = did_you_mean(name, names);
        ctx.error(n.pos, "unknown connection '" + name + "'" +
                             (!hint.empty()   ? hint
                              : names.empty() ? "; no connections are defined (add it under "
                                                "'connections:')"
                                              : "; defined connections: " + join_names(names)));
        return std::nullopt;
    }
    const auto it = scope.connection_types.find(name);
    if (it == scope.connection_types.end()) {
        return std::nullopt;
    }
    return it->second;
}

namespace {

// Exit codes a shell task retries on: an integer or a sequence of integers.
std::vector<int> decode_exit_codes(decode_context& ctx, const node& n) {
    std::vector<int> codes;
    for (const node* item : list_items(n)) {
        if (auto code = ctx.small_integer(*item, "retry_on_exit_codes", 1, 255)) {
            codes.push_back(*code);
        }
    }
    return codes;
}

// A sql task's `outputs`: the columns of its last statement's row, each a valid output name
// (they become SLUICE_OUTPUT_<TASK>_<NAME> and :output_<task>_<name> downstream), once each.
std::vector<std::string> decode_sql_outputs(decode_context& ctx, const node& n) {
    std::vector<std::string> names;
    if (!ctx.expect(n, node_kind::sequence, "outputs", "a sequence of column names")) {
        return names;
    }
    if (n.items.size() > max_outputs_per_task) {
        ctx.error(n.pos, "'outputs' lists " + std::to_string(n.items.size()) +
                             " columns; a task publishes at most " +
                             std::to_string(max_outputs_per_task));
    }
    for (const node& item : n.items) {
        auto name = ctx.nonempty_string(item, "outputs");
        if (!name) {
            continue;
        }
        if (!is_output_name(*name)) {
            ctx.error(item.pos, "invalid output name '" + *name +
                                    "': use 1 to 64 letters, digits and '_' (the column's name "
                                    "or alias in the last statement)");
            continue;
        }
        const auto same = std::find_if(names.begin(), names.end(), [&](const std::string& other) {
            return std::equal(other.begin(), other.end(), name->begin(), name->end(),
                              [](char a, char b) {
                                  return std::tolower(static_cast<unsigned char>(a)) ==
                                         std::tolower(static_cast<unsigned char>(b));
                              });
        });
        if (same != names.end()) {
            ctx.error(item.pos, "output '" + *name +
                                    "' is listed twice (names are compared "
                                    "without case: they become bind names)");
            continue;
        }
        names.push_back(std::move(*name));
    }
    return names;
}

// The placeholders of an http task's url, a header or its body (config/placeholders.hpp):
// known, params the job declares, outputs kept for check_output_refs, and in a JSON body only
// inside strings. `exact`: `text` is the node's own text, so offsets map to columns.
void check_placeholders(const task_body_context& b, const node& n, std::string_view text,
                        bool exact, bool json_body, std::string_view what) {
    decode_context& ctx = b.ctx;
    const auto at = [&](std::size_t offset) { return exact ? ctx.position_in(n, offset) : n.pos; };
    const placeholder_scan scan = find_placeholders(text);
    if (scan.error) {
        ctx.error(at(scan.error->first), "in the " + std::string(what) + " of task '" +
                                             b.task.spec.name + "': " + scan.error->second);
    }
    for (const text_placeholder& p : scan.found) {
        if (json_body && !inside_json_string(text, p.offset)) {
            ctx.error(at(p.offset), "a placeholder in the body of task '" + b.task.spec.name +
                                        "' must stand inside a JSON string (its value is "
                                        "inserted JSON-escaped): write \"{{ ... }}\"");
            continue;
        }
        if (p.from == text_placeholder::source::output) {
            b.task.output_refs.push_back(output_ref{{}, p.first, p.second, at(p.offset), {}});
        } else if (p.from == text_placeholder::source::param) {
            std::vector<std::string> params;
            for (const param_spec& declared : b.job.params) {
                params.push_back(declared.name);
            }
            if (std::find(params.begin(), params.end(), p.first) == params.end()) {
                const std::string hint = did_you_mean(p.first, params);
                ctx.error(at(p.offset),
                          "job '" + b.job.name + "' has no param '" + p.first + "'" +
                              (!hint.empty()    ? hint
                               : params.empty() ? " (it declares none)"
                                                : "; its params: " + join_names(params)));
            }
        }
    }
}

// HTTP header names are tokens; values must not be able to split a header.
void decode_headers(decode_context& ctx, const node& n,
                    std::vector<std::pair<std::string, std::string>>& headers,
                    std::set<std::string>& secret) {
    auto pairs = ctx.string_map(n, "headers");
    if (!pairs) {
        return;
    }
    for (auto& h : *pairs) {
        const bool token = std::all_of(h.key.begin(), h.key.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) ||
                   std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
        });
        if (h.key.empty() || !token) {
            ctx.error(h.entry->key_pos, "invalid HTTP header name '" + h.key + "'");
            continue;
        }
        if (h.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
            ctx.error(h.entry->value.pos,
                      "the value of header '" + h.key + "' must not contain CR, LF or NUL");
            continue;
        }
        if (h.secret) {
            secret.insert(h.key);
        }
        headers.emplace_back(h.key, std::move(h.value));
    }
}

bool is_json_number(std::string_view s) {
    std::size_t i = 0;
    auto digits = [&] {
        const std::size_t start = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
            ++i;
        }
        return i > start;
    };
    if (i < s.size() && s[i] == '-') {
        ++i;
    }
    if (i < s.size() && s[i] == '0') {
        ++i;
    } else if (!digits()) {
        return false;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (!digits()) {
            return false;
        }
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
            ++i;
        }
        if (!digits()) {
            return false;
        }
    }
    return i == s.size();
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    static constexpr char hex[] = "0123456789abcdef";
                    out += "\\u00";
                    out += hex[(c >> 4) & 0xf];
                    out += hex[c & 0xf];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

// A YAML body as JSON: plain scalars that read as JSON literals or numbers stay unquoted.
bool append_json(decode_context& ctx, const node& n, std::string& out, bool& secret) {
    switch (n.kind) {
        case node_kind::null:
            out += "null";
            return true;
        case node_kind::scalar: {
            const auto v = ctx.scalar(n, "body");
            if (!v) {
                return false;
            }
            secret = secret || v->interpolated;
            const bool literal = v->text == "true" || v->text == "false" || v->text == "null" ||
                                 is_json_number(v->text);
            if (n.style == scalar_style::plain && !v->interpolated && literal) {
                out += v->text;
            } else {
                append_json_string(out, v->text);
            }
            return true;
        }
        case node_kind::sequence: {
            out += '[';
            bool ok = true;
            for (std::size_t i = 0; i < n.items.size(); ++i) {
                out += i == 0 ? "" : ",";
                ok = append_json(ctx, n.items[i], out, secret) && ok;
            }
            out += ']';
            return ok;
        }
        case node_kind::mapping: {
            out += '{';
            bool ok = true;
            for (std::size_t i = 0; i < n.entries.size(); ++i) {
                out += i == 0 ? "" : ",";
                append_json_string(out, n.entries[i].key);
                out += ':';
                ok = append_json(ctx, n.entries[i].value, out, secret) && ok;
            }
            out += '}';
            return ok;
        }
    }
    return false;
}

bool is_http_url(const std::string& url) {
    return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

}  // namespace

shell_spec decode_shell(const task_body_context& b) {
    shell_spec s;
    decode_context& ctx = b.ctx;
    const node* command = b.m.get("command");
    const node* argv = b.m.get("argv");
    if (command != nullptr) {
        s.command = ctx.nonempty_string(*command, "command");
    }
    if (argv != nullptr && ctx.expect(*argv, node_kind::sequence, "argv")) {
        if (argv->items.empty()) {
            ctx.error(argv->pos, "'argv' needs at least the program to run");
        }
        for (std::size_t i = 0; i < argv->items.size(); ++i) {
            auto arg = i == 0 ? ctx.nonempty_string(argv->items[i], "argv")
                              : ctx.string(argv->items[i], "argv");
            s.argv.push_back(arg.value_or(""));
        }
    }
    if (command != nullptr && argv != nullptr) {
        ctx.error(b.m.entry("argv")->key_pos,
                  "use either 'command' (run by /bin/sh -c) or 'argv', not both");
    } else if (command == nullptr && argv == nullptr) {
        ctx.error(b.m.owner(), "shell task '" + b.task.spec.name +
                                   "' needs 'command' (run by /bin/sh -c) or 'argv' (run "
                                   "directly)");
    }
    if (const node* v = b.m.get("env")) {
        if (auto vars = ctx.string_map(*v, "env")) {
            for (auto& var : *vars) {
                if (!is_identifier(var.key)) {
                    ctx.error(var.entry->key_pos, "invalid environment variable name '" + var.key +
                                                      "': use letters, digits and '_'");
                    continue;
                }
                if (var.key.rfind("SLUICE_", 0) == 0) {
                    ctx.error(var.entry->key_pos,
                              "environment variables starting with SLUICE_ "
                              "are set by Sluice itself; choose another "
                              "name than '" +
                                  var.key + "'");
                    continue;
                }
                if (var.secret) {
                    s.secret_env.insert(var.key);
                }
                s.env.emplace_back(var.key, std::move(var.value));
            }
        }
    }
    if (const node* v = b.m.get("secrets"); v != nullptr && ctx.string_list(*v, "secrets")) {
        for (const node* item : list_items(*v)) {
            if (!is_variable_key(item->text)) {
                ctx.error(item->pos, "secrets: invalid variable key '" + item->text +
                                         "': a key is 1-128 characters of letters, digits, "
                                         "'_', '-' and '.'");
            } else if (std::find(s.secrets.begin(), s.secrets.end(), item->text) !=
                       s.secrets.end()) {
                ctx.error(item->pos, "secrets: '" + item->text + "' is listed twice");
            } else {
                s.secrets.push_back(item->text);
            }
        }
    }
    if (const node* v = b.m.get("cwd")) {
        if (auto dir = ctx.nonempty_string(*v, "cwd")) {
            s.cwd = ctx.base_dir(*v) / *dir;
        }
    }
    if (const node* v = b.m.get("kill_grace")) {
        s.kill_grace = ctx.duration(*v, "kill_grace").value_or(s.kill_grace);
    }
    if (const node* v = b.m.get("retry_on_exit_codes")) {
        s.retry_on_exit_codes = decode_exit_codes(ctx, *v);
    }
    return s;
}

sql_spec decode_sql(const task_body_context& b) {
    sql_spec s;
    decode_context& ctx = b.ctx;
    std::optional<connection_type> type;
    if (const node* v = b.m.require("connection")) {
        if (auto name = ctx.nonempty_string(*v, "connection")) {
            s.connection = *name;
            type = check_connection_ref(ctx, *v, *name, b.scope);
            if (type && !is_database(*type)) {
                ctx.error(v->pos,
                          "sql tasks run on database connections (postgres, mysql, "
                          "clickhouse, sqlite), but '" +
                              *name + "' is a " + std::string(to_string(*type)) + " connection");
            }
        }
    }
    const node* sql = b.m.get("sql");
    const node* file = b.m.get("file");
    if (sql != nullptr) {
        s.sql = ctx.nonempty_string(*sql, "sql");
    }
    if (file != nullptr) {
        if (auto path = ctx.nonempty_string(*file, "file")) {
            s.file = ctx.base_dir(*file) / *path;
        }
    }
    if (sql != nullptr && file != nullptr) {
        ctx.error(b.m.entry("file")->key_pos, "use either 'sql' or 'file', not both");
    } else if (sql == nullptr && file == nullptr) {
        ctx.error(b.m.owner(), "sql task '" + b.task.spec.name +
                                   "' needs 'sql' (the statements) or 'file' (a .sql file)");
    } else if (type) {
        const std::string what = "task '" + b.task.spec.name + "'";
        if (sql != nullptr && s.sql) {
            check_sql_parameters(ctx, *sql, *s.sql, *type, b.job, what, /*script=*/true,
                                 b.task.output_refs);
        } else if (file != nullptr && s.file) {
            check_sql_file_parameters(ctx, *file, s.file->string(), *type, b.job, what,
                                      b.task.output_refs);
        }
    }
    if (const node* v = b.m.get("outputs")) {
        s.outputs = decode_sql_outputs(ctx, *v);
    }
    return s;
}

http_spec decode_http(const task_body_context& b) {
    http_spec h;
    decode_context& ctx = b.ctx;
    if (const node* v = b.m.get("method")) {
        if (auto method = ctx.scalar(*v, "method")) {
            std::string upper = method->text;
            std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) {
                return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            });
            static constexpr std::array<std::string_view, 6> methods{"GET",   "POST",   "PUT",
                                                                     "PATCH", "DELETE", "HEAD"};
            if (std::find(methods.begin(), methods.end(), upper) == methods.end()) {
                ctx.report_bad_choice(*method, "method", methods);
            } else {
                h.method = upper;
            }
        }
    }
    if (const node* v = b.m.require("url")) {
        if (auto url = ctx.scalar(*v, "url")) {
            if (!is_http_url(url->text)) {
                ctx.error(v->pos,
                          "'url' must start with http:// or https://, got " +
                              (url->interpolated ? decode_context::show(*url)
                                                 : "'" + core::redact_url(url->text) + "'"));
            } else {
                h.url = url->text;
                h.url_is_secret = url->interpolated || core::redact_url(url->text) != url->text;
                check_placeholders(b, *v, url->text, !url->interpolated, false, "url");
            }
        }
    }
    if (const node* v = b.m.get("headers")) {
        decode_headers(ctx, *v, h.headers, h.secret_headers);
        for (const map_entry& e : v->entries) {  // empty unless a mapping
            const auto header = std::find_if(h.headers.begin(), h.headers.end(),
                                             [&](const auto& kv) { return kv.first == e.key; });
            if (header != h.headers.end()) {
                check_placeholders(b, e.value, header->second, header->second == e.value.text,
                                   false, "header '" + e.key + "'");
            }
        }
    }
    if (const node* v = b.m.get("body")) {
        if (h.method == "GET" || h.method == "HEAD") {
            ctx.error(b.m.entry("body")->key_pos,
                      "a " + h.method + " request has no body; use method: POST, PUT or PATCH");
        }
        if (v->is_scalar()) {
            if (auto text = ctx.scalar(*v, "body")) {
                h.body = text->text;
                h.body_is_secret = text->interpolated;
                check_placeholders(b, *v, text->text, !text->interpolated, true, "body");
            }
        } else {
            std::string json;
            if (append_json(ctx, *v, json, h.body_is_secret)) {
                h.body = std::move(json);
                check_placeholders(b, *v, *h.body, false, true, "body");
            }
        }
    }
    if (const node* v = b.m.get("expected_status")) {
        std::vector<const node*> items;
        if (v->is_sequence()) {
            for (const node& item : v->items) {
                items.push_back(&item);
            }
        } else {
            items.push_back(v);
        }
        for (const node* item : items) {
            if (auto code = ctx.small_integer(*item, "expected_status", 100, 599)) {
                h.expected_status.push_back(*code);
            }
        }
    }
    return h;
}

trigger_job_spec decode_trigger_job(const task_body_context& b) {
    trigger_job_spec t;
    decode_context& ctx = b.ctx;
    if (const node* v = b.m.require("job")) {
        if (auto job = ctx.nonempty_string(*v, "job")) {
            t.job = *job;
            b.task.job_node = v;  // existence, params and cycles are checked once all jobs are read
        }
    }
    if (const node* v = b.m.get("params")) {
        b.task.params_node = v;
        if (ctx.expect(*v, node_kind::mapping, "params")) {
            for (const auto& p : v->entries) {
                if (auto value = ctx.scalar(p.value, p.key)) {
                    t.params.emplace_back(p.key, std::move(value->text));
                }
            }
        }
    }
    if (const node* v = b.m.get("wait")) {
        t.wait = ctx.boolean(*v, "wait").value_or(t.wait);
    }
    return t;
}

}  // namespace sluice::config
