#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include <date/date.h>

#include "config/decoders.hpp"
#include "core/time.hpp"
#include "scheduler/cron/cron_expression.hpp"

namespace sluice::config {

std::vector<std::string> decode_inherit_env(decode_context& ctx, const node& n) {
    std::vector<std::string> names;
    if (!ctx.string_list(n, "inherit_env")) {
        return names;  // reported
    }
    for (const node* item : list_items(n)) {
        const std::string& name = item->text;
        const bool prefix = !name.empty() && name.back() == '*';
        const std::string_view stem =
            std::string_view(name).substr(0, name.size() - (prefix ? 1 : 0));
        if (prefix && stem.empty()) {
            // The daemon's environment holds the ${env:...} passwords of the config.
            ctx.error(item->pos,
                      "inherit_env: '*' would pass the daemon's whole environment, the "
                      "passwords of the configuration included; name the variables, or a "
                      "prefix such as 'AWS_*'");
        } else if (!is_identifier(stem)) {
            ctx.error(item->pos, "inherit_env: invalid variable name '" + name +
                                     "': use letters, digits and '_', optionally ending in '*'");
        } else if (stem.rfind("SLUICE_", 0) == 0) {
            ctx.error(item->pos,
                      "inherit_env: variables starting with SLUICE_ are set by "
                      "Sluice itself ('" +
                          name + "')");
        } else if (std::find(names.begin(), names.end(), name) == names.end()) {
            names.push_back(name);
        }
    }
    return names;
}

std::optional<std::string> check_param_value(param_type type, const std::string& value) {
    switch (type) {
        case param_type::string:
            return std::nullopt;
        case param_type::integer: {
            std::int64_t v = 0;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
            if (value.empty() || ec != std::errc{} || end != value.data() + value.size()) {
                return "expected an integer";
            }
            return std::nullopt;
        }
        case param_type::number: {
            double v = 0;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
            if (value.empty() || ec != std::errc{} || end != value.data() + value.size() ||
                !std::isfinite(v)) {
                return "expected a number";
            }
            return std::nullopt;
        }
        case param_type::boolean:
            if (value != "true" && value != "false") {
                return "expected true or false";
            }
            return std::nullopt;
        case param_type::date: {
            int y = 0;
            unsigned m = 0;
            unsigned d = 0;
            const bool shape = value.size() == 10 && value[4] == '-' && value[7] == '-';
            auto num = [&](std::size_t pos, std::size_t len, auto& out) {
                const auto [end, ec] =
                    std::from_chars(value.data() + pos, value.data() + pos + len, out);
                return ec == std::errc{} && end == value.data() + pos + len;
            };
            if (!shape || !num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d) ||
                !date::year_month_day{date::year{y}, date::month{m}, date::day{d}}.ok()) {
                return "expected a date such as 2026-03-29";
            }
            return std::nullopt;
        }
        case param_type::timestamp:
            if (!core::parse_rfc3339(value)) {
                return "expected an RFC 3339 timestamp such as 2026-03-29T01:30:00Z";
            }
            return std::nullopt;
    }
    return std::nullopt;
}

namespace {

// A scheduled run takes every param from its default (docs/configuration.md "params"), so a job
// with a schedule cannot require one.
param_spec decode_param(decode_context& ctx, const map_entry& e, const job_spec& job) {
    param_spec p;
    p.name = e.key;
    if (!is_identifier(e.key)) {
        ctx.error(e.key_pos, "invalid param name '" + e.key +
                                 "': use letters, digits and '_' (it becomes SLUICE_PARAM_" +
                                 e.key + " and :param_" + e.key + ")");
    }
    if (e.value.is_null()) {
        return p;  // `name:` alone is an optional string param
    }
    map_reader m(ctx, e.value, "param '" + e.key + "'", e.key_pos);
    m.allow({"type", "default", "required", "description", "values"});
    bool type_ok = true;
    if (const node* v = m.get("type")) {
        const auto t = ctx.enumeration(*v, "type", param_type_names);
        type_ok = t.has_value();
        p.type = t.value_or(p.type);
    }
    if (const node* v = m.get("required")) {
        p.required = ctx.boolean(*v, "required").value_or(false);
        if (p.required && job.schedule && !m.get("default")) {
            ctx.error(v->pos, "param '" + p.name + "' is required, but job '" + job.name +
                                  "' has a schedule: its scheduled runs would have no value for "
                                  "it; give the param a default instead");
        }
    }
    if (const node* v = m.get("description")) {
        p.description = ctx.string(*v, "description").value_or("");
    }
    auto check = [&](const node& n, const scalar_value& value, std::string_view what) {
        if (!type_ok) {
            return true;
        }
        if (auto why = check_param_value(p.type, value.text)) {
            ctx.error(n.pos, "invalid " + std::string(what) + " " + decode_context::show(value) +
                                 " for param '" + p.name + "' of type " +
                                 std::string(to_string(p.type)) + ": " + *why);
            return false;
        }
        return true;
    };
    if (const node* v = m.get("values")) {
        if (ctx.expect(*v, node_kind::sequence, "values")) {
            for (const node& item : v->items) {
                if (auto value = ctx.scalar(item, "values");
                    value && check(item, *value, "value")) {
                    p.values.push_back(value->text);
                }
            }
        }
    }
    if (const node* v = m.get("default")) {
        if (auto value = ctx.scalar(*v, "default"); value && check(*v, *value, "default")) {
            if (!p.values.empty() &&
                std::find(p.values.begin(), p.values.end(), value->text) == p.values.end()) {
                ctx.error(v->pos, "the default " + decode_context::show(*value) + " of param '" +
                                      p.name +
                                      "' is not one of its values: " + join_names(p.values));
            }
            p.default_value = value->text;
        }
        if (p.required) {
            ctx.error(v->pos, "param '" + p.name + "' is required, so it cannot have a default");
        }
    }
    return p;
}

std::vector<std::string> task_names(const std::vector<decoded_task>& tasks) {
    std::vector<std::string> names;
    for (const auto& t : tasks) {
        names.push_back(t.spec.name);
    }
    return names;
}

// Reports each distinct cycle of a graph once, named from its first node in file order.
// `edges[u]` lists (v, position of the reference u -> v).
void report_cycles(decode_context& ctx, const std::vector<std::string>& names,
                   const std::vector<std::vector<std::pair<std::size_t, position>>>& edges,
                   const std::string& prefix, const std::string& suffix) {
    const std::size_t n = names.size();
    std::vector<int> color(n, 0);  // 0 unvisited, 1 on the stack, 2 done
    std::set<std::vector<std::size_t>> reported;
    struct frame {
        std::size_t node;
        std::size_t next_edge;
    };
    for (std::size_t start = 0; start < n; ++start) {
        if (color[start] != 0) {
            continue;
        }
        std::vector<frame> stack{{start, 0}};
        color[start] = 1;
        while (!stack.empty()) {
            frame& f = stack.back();
            if (f.next_edge == edges[f.node].size()) {
                color[f.node] = 2;
                stack.pop_back();
                continue;
            }
            const std::size_t v = edges[f.node][f.next_edge++].first;
            if (color[v] == 0) {
                color[v] = 1;
                stack.push_back({v, 0});
                continue;
            }
            if (color[v] != 1) {
                continue;
            }
            std::vector<std::size_t> cycle;
            auto it = std::find_if(stack.begin(), stack.end(),
                                   [&](const frame& s) { return s.node == v; });
            for (; it != stack.end(); ++it) {
                cycle.push_back(it->node);
            }
            std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
            if (!reported.insert(cycle).second) {
                continue;
            }
            std::string text;
            for (std::size_t i : cycle) {
                text += names[i] + " -> ";
            }
            text += names[cycle.front()];
            const std::size_t next = cycle.size() > 1 ? cycle[1] : cycle[0];
            position at;
            for (const auto& [target, pos] : edges[cycle.front()]) {
                if (target == next) {
                    at = pos;
                    break;
                }
            }
            ctx.error(at, prefix + text + suffix);
        }
    }
}

void check_task_graph(decode_context& ctx, const job_spec& job,
                      const std::vector<decoded_task>& tasks) {
    const auto names = task_names(tasks);
    std::map<std::string, std::size_t, std::less<>> index;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        index.emplace(tasks[i].spec.name, i);
    }
    std::vector<std::vector<std::pair<std::size_t, position>>> edges(tasks.size());
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        const auto& t = tasks[i];
        std::set<std::string> seen;
        for (std::size_t d = 0; d < t.spec.depends_on.size(); ++d) {
            const std::string& dep = t.spec.depends_on[d];
            const position& pos = t.depends_on_pos[d];
            if (!seen.insert(dep).second) {
                ctx.error(pos,
                          "task '" + t.spec.name + "' lists '" + dep + "' twice in depends_on");
                continue;
            }
            const auto target = index.find(dep);
            if (target == index.end()) {
                const std::string hint = did_you_mean(dep, names);
                ctx.error(
                    pos,
                    "unknown task '" + dep + "' in depends_on of task '" + t.spec.name + "'" +
                        (hint.empty() ? "; tasks of job '" + job.name + "': " + join_names(names)
                                      : hint));
                continue;
            }
            edges[i].emplace_back(target->second, pos);
        }
    }
    report_cycles(ctx, names, edges, "dependency cycle in job '" + job.name + "': ",
                  " (each task depends on the next)");
}

job_spec decode_job(decode_context& ctx, const map_entry& e, const decode_scope& scope,
                    std::vector<decoded_task>& tasks) {
    job_spec job;
    job.name = e.key;
    job.defined_at = ctx.where(e.key_pos);
    job.timezone = scope.defaults.timezone;
    job.notify = scope.defaults.notify;
    job.inherit_env = scope.defaults.inherit_env;
    map_reader m(ctx, e.value, "job '" + e.key + "'", e.key_pos);
    if (!m.valid()) {
        return job;
    }
    m.allow({"description", "tags", "schedule", "timezone", "catchup", "max_catchup_runs",
             "concurrency", "max_active_runs", "max_active_tasks", "paused", "timeout", "sla",
             "params", "notify", "retries", "inherit_env", "tasks"});
    if (const node* v = m.get("description")) {
        job.description = ctx.string(*v, "description").value_or("");
    }
    if (const node* v = m.get("tags")) {
        job.tags = ctx.string_list(*v, "tags").value_or(std::vector<std::string>{});
    }
    if (const node* v = m.get("schedule"); v != nullptr && !v->is_null()) {
        if (auto s = ctx.scalar(*v, "schedule")) {
            if (s->text.empty()) {
                ctx.error(v->pos,
                          "the schedule is empty; remove 'schedule' for a job that only "
                          "runs when triggered");
            } else if (auto parsed = scheduler::cron_expression::parse(s->text); !parsed) {
                const auto& problem = parsed.error();
                if (s->interpolated) {
                    ctx.error(v->pos, "invalid schedule " + decode_context::show(*s) +
                                          " (the expanded value is not shown)");
                } else {
                    ctx.error_in(*v, problem.offset,
                                 "invalid schedule '" + s->text + "': " + problem.message);
                }
            } else {
                job.schedule = s->text;
            }
        }
    }
    if (const node* v = m.get("timezone")) {
        if (auto zone = ctx.nonempty_string(*v, "timezone")) {
            check_time_zone(ctx, *v, *zone);
            job.timezone = *zone;
        }
    }
    if (const node* v = m.get("catchup")) {
        job.catchup = ctx.enumeration(*v, "catchup", catchup_names).value_or(job.catchup);
    }
    if (const node* v = m.get("max_catchup_runs")) {
        job.max_catchup_runs =
            ctx.small_integer(*v, "max_catchup_runs", 1, 100'000).value_or(job.max_catchup_runs);
    }
    if (const node* v = m.get("concurrency")) {
        job.concurrency =
            ctx.enumeration(*v, "concurrency", concurrency_names).value_or(job.concurrency);
    }
    if (const node* v = m.get("max_active_runs")) {
        job.max_active_runs =
            ctx.small_integer(*v, "max_active_runs", 1, 10'000).value_or(job.max_active_runs);
        if (job.concurrency != concurrency_policy::allow) {
            ctx.error(v->pos, "'max_active_runs' applies only with concurrency: allow (job '" +
                                  job.name + "' uses " + std::string(to_string(job.concurrency)) +
                                  ", which runs one at a time)");
        }
    }
    if (const node* v = m.get("max_active_tasks")) {
        job.max_active_tasks = ctx.small_integer(*v, "max_active_tasks", 1, 100'000);
    }
    if (const node* v = m.get("paused")) {
        job.paused = ctx.boolean(*v, "paused").value_or(false);
    }
    if (const node* v = m.get("timeout")) {
        job.timeout = ctx.duration(*v, "timeout", core::duration{1});
    }
    if (const node* v = m.get("sla")) {
        job.sla = ctx.duration(*v, "sla", core::duration{1});
    }
    if (const node* v = m.get("params");
        v != nullptr && ctx.expect(*v, node_kind::mapping, "params")) {
        for (const auto& p : v->entries) {
            job.params.push_back(decode_param(ctx, p, job));
        }
    }
    if (const map_entry* n = m.entry("notify")) {
        job.notify = decode_notify(ctx, *n);
    }
    if (const node* v = m.get("inherit_env")) {
        for (auto& name : decode_inherit_env(ctx, *v)) {
            if (std::find(job.inherit_env.begin(), job.inherit_env.end(), name) ==
                job.inherit_env.end()) {
                job.inherit_env.push_back(std::move(name));
            }
        }
    }
    retry_overrides job_retries;
    if (const map_entry* r = m.entry("retries")) {
        job_retries = decode_retries(ctx, *r);
    }
    if (const node* v = m.require("tasks");
        v != nullptr && ctx.expect(*v, node_kind::mapping, "tasks")) {
        if (v->entries.empty()) {
            ctx.error(v->pos, "job '" + job.name +
                                  "' has no tasks; add at least one (a noop "
                                  "task will do)");
        }
        for (const auto& t : v->entries) {
            tasks.push_back(decode_task(ctx, t, job, job_retries, scope));
        }
        check_task_graph(ctx, job, tasks);
    }
    for (const auto& t : tasks) {
        job.tasks.push_back(t.spec);
    }
    check_output_refs(ctx, job, tasks);
    return job;
}

// trigger_job tasks: the target exists, gets params it declares with values of the right
// types and every required one, and no chain of triggers comes back to its start.
void check_triggers(decode_context& ctx, const std::vector<job_spec>& jobs,
                    const std::vector<std::vector<decoded_task>>& tasks,
                    const std::vector<std::string>& job_names) {
    std::map<std::string, std::size_t, std::less<>> index;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        index.emplace(jobs[i].name, i);
    }
    std::vector<std::vector<std::pair<std::size_t, position>>> edges(jobs.size());
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        for (const auto& t : tasks[j]) {
            const auto* trigger = std::get_if<trigger_job_spec>(&t.spec.kind);
            if (trigger == nullptr || t.job_node == nullptr || trigger->job.empty()) {
                continue;
            }
            const auto target = index.find(trigger->job);
            if (target == index.end()) {
                const std::string hint = did_you_mean(trigger->job, job_names);
                ctx.error(t.job_node->pos,
                          "unknown job '" + trigger->job + "' in trigger_job task '" + t.spec.name +
                              "'" + (hint.empty() ? "; jobs: " + join_names(job_names) : hint));
                continue;
            }
            edges[j].emplace_back(target->second, t.job_node->pos);
            const job_spec& callee = jobs[target->second];
            std::set<std::string> given;
            if (t.params_node != nullptr && t.params_node->is_mapping()) {
                for (const auto& p : t.params_node->entries) {
                    given.insert(p.key);
                    const auto declared =
                        std::find_if(callee.params.begin(), callee.params.end(),
                                     [&](const param_spec& s) { return s.name == p.key; });
                    if (declared == callee.params.end()) {
                        std::vector<std::string> names;
                        for (const auto& s : callee.params) {
                            names.push_back(s.name);
                        }
                        const std::string hint = did_you_mean(p.key, names);
                        ctx.error(p.key_pos,
                                  "job '" + callee.name + "' has no param '" + p.key + "'" +
                                      (!hint.empty()   ? hint
                                       : names.empty() ? " (it declares none)"
                                                       : "; its params: " + join_names(names)));
                        continue;
                    }
                    const auto value =
                        std::find_if(trigger->params.begin(), trigger->params.end(),
                                     [&](const auto& kv) { return kv.first == p.key; });
                    if (value == trigger->params.end()) {
                        continue;  // already reported as a bad scalar
                    }
                    if (auto why = check_param_value(declared->type, value->second)) {
                        ctx.error(p.value.pos, "invalid value for param '" + p.key + "' of job '" +
                                                   callee.name + "' (type " +
                                                   std::string(to_string(declared->type)) +
                                                   "): " + *why);
                    } else if (!declared->values.empty() &&
                               std::find(declared->values.begin(), declared->values.end(),
                                         value->second) == declared->values.end()) {
                        ctx.error(p.value.pos,
                                  "param '" + p.key + "' of job '" + callee.name +
                                      "' must be one of: " + join_names(declared->values));
                    }
                }
            }
            for (const auto& s : callee.params) {
                if (s.required && given.count(s.name) == 0) {
                    ctx.error(t.name_pos, "trigger_job task '" + t.spec.name +
                                              "' must pass param '" + s.name + "', which job '" +
                                              callee.name + "' requires");
                }
            }
        }
    }
    std::vector<std::string> names;
    for (const auto& j : jobs) {
        names.push_back(j.name);
    }
    report_cycles(ctx, names, edges, "trigger_job cycle: ", " (each job triggers the next)");
}

}  // namespace

std::vector<job_spec> decode_jobs(decode_context& ctx, const map_entry& e,
                                  const decode_scope& scope) {
    std::vector<job_spec> jobs;
    if (!ctx.expect(e.value, node_kind::mapping, "jobs")) {
        return jobs;
    }
    std::vector<std::vector<decoded_task>> tasks;
    for (const auto& j : e.value.entries) {
        if (!is_valid_name(j.key)) {
            ctx.error(j.key_pos,
                      "invalid job name '" + j.key +
                          "': use letters, digits, '_', '-' and '.' (it appears in URLs)");
        }
        tasks.emplace_back();
        jobs.push_back(decode_job(ctx, j, scope, tasks.back()));
    }
    check_triggers(ctx, jobs, tasks, scope.job_names);
    return jobs;
}

}  // namespace sluice::config
