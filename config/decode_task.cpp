#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "config/decoders.hpp"
#include "config/task_body.hpp"

namespace sluice::config {
namespace {

constexpr std::array<std::string_view, 10> common_task_keys{
    "type",    "description", "depends_on",       "trigger_rule",      "pool",
    "timeout", "retries",     "retry_on_timeout", "max_interruptions", "on_interrupt"};

std::vector<std::string_view> kind_keys(task_type t) {
    switch (t) {
        case task_type::noop:
            return {};
        case task_type::shell:
            return {
                "command", "argv", "env", "secrets", "cwd", "kill_grace", "retry_on_exit_codes"};
        case task_type::sql:
            return {"connection", "sql", "file", "outputs"};
        case task_type::copy:
            return {"source",
                    "sink",
                    "batch_rows",
                    "sleep_between_batches",
                    "max_batches_per_run",
                    "create_table",
                    "deletes"};
        case task_type::http:
            return {"method", "url", "headers", "body", "expected_status"};
        case task_type::trigger_job:
            return {"job", "params", "wait"};
    }
    return {};
}

constexpr std::array<task_type, 6> all_task_types{task_type::noop, task_type::shell,
                                                  task_type::sql,  task_type::copy,
                                                  task_type::http, task_type::trigger_job};

// Unknown keys; a key of another task type says which type it belongs to.
void check_task_keys(decode_context& ctx, const map_reader& m, std::optional<task_type> type) {
    std::vector<std::string_view> allowed(common_task_keys.begin(), common_task_keys.end());
    for (task_type t : all_task_types) {
        if (!type || t == *type) {
            const auto keys = kind_keys(t);
            allowed.insert(allowed.end(), keys.begin(), keys.end());
        }
    }
    for (const auto& e : m.entries()) {
        if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) {
            continue;
        }
        std::vector<std::string> owners;
        for (task_type t : all_task_types) {
            const auto keys = kind_keys(t);
            if (std::find(keys.begin(), keys.end(), e.key) != keys.end()) {
                owners.emplace_back(to_string(t));
            }
        }
        if (type && !owners.empty()) {
            ctx.error(e.key_pos, "key '" + e.key + "' does not apply to " +
                                     std::string(to_string(*type)) + " tasks (it belongs to " +
                                     join_names(owners) + " tasks)");
            continue;
        }
        const std::string hint = did_you_mean(e.key, allowed);
        ctx.error(e.key_pos, "unknown key '" + e.key + "' in " + m.what() +
                                 (hint.empty() ? "; valid keys: " + join_names(allowed) : hint));
    }
}

void decode_depends_on(decode_context& ctx, const node& n, decoded_task& out) {
    std::vector<const node*> items;
    if (n.is_scalar()) {
        items.push_back(&n);
    } else if (n.is_sequence()) {
        for (const node& item : n.items) {
            items.push_back(&item);
        }
    } else {
        ctx.error(n.pos, "expected a task name or a sequence of task names for 'depends_on', got " +
                             std::string(describe_kind(n)));
    }
    for (const node* item : items) {
        if (auto name = ctx.nonempty_string(*item, "depends_on")) {
            out.spec.depends_on.push_back(*name);
            out.depends_on_pos.push_back(item->pos);
        }
    }
}

}  // namespace

decoded_task decode_task(decode_context& ctx, const map_entry& e, const job_spec& job,
                         const retry_overrides& job_retries, const decode_scope& scope) {
    decoded_task out;
    task_spec& t = out.spec;
    t.name = e.key;
    t.defined_at = ctx.where(e.key_pos);
    out.name_pos = e.key_pos;
    t.retry = scope.defaults.retries;
    job_retries.apply_to(t.retry);
    if (!is_valid_name(e.key)) {
        ctx.error(e.key_pos,
                  "invalid task name '" + e.key + "': use letters, digits, '_', '-' and '.'");
    }
    map_reader m(ctx, e.value, "task '" + e.key + "' of job '" + job.name + "'", e.key_pos);
    if (!m.valid()) {
        return out;
    }
    std::optional<task_type> type;
    if (const node* v = m.require("type")) {
        type = ctx.enumeration(*v, "type", task_type_names);
    }
    check_task_keys(ctx, m, type);
    if (const node* v = m.get("description")) {
        t.description = ctx.string(*v, "description").value_or("");
    }
    if (const node* v = m.get("depends_on")) {
        decode_depends_on(ctx, *v, out);
    }
    if (const node* v = m.get("trigger_rule")) {
        t.rule = ctx.enumeration(*v, "trigger_rule", trigger_rule_names).value_or(t.rule);
    }
    if (const node* v = m.get("pool")) {
        if (auto pool = ctx.nonempty_string(*v, "pool")) {
            const auto& pools = scope.pool_names;
            if (std::find(pools.begin(), pools.end(), *pool) == pools.end()) {
                const std::string hint = did_you_mean(*pool, pools);
                ctx.error(v->pos, "unknown pool '" + *pool + "'" +
                                      (!hint.empty()   ? hint
                                       : pools.empty() ? "; no pools are defined (add it under "
                                                         "'pools:' with its number of slots)"
                                                       : "; defined pools: " + join_names(pools)));
            }
            t.pool = *pool;
        }
    }
    if (const node* v = m.get("timeout")) {
        t.timeout = ctx.duration(*v, "timeout", core::duration{1});
    }
    if (const map_entry* r = m.entry("retries")) {
        decode_retries(ctx, *r).apply_to(t.retry);
    }
    if (const node* v = m.get("retry_on_timeout")) {
        t.retry_on_timeout = ctx.boolean(*v, "retry_on_timeout").value_or(false);
    }
    if (const node* v = m.get("max_interruptions")) {
        t.max_interruptions =
            ctx.small_integer(*v, "max_interruptions", 0, 1000).value_or(t.max_interruptions);
    }
    if (const node* v = m.get("on_interrupt")) {
        t.on_interrupt =
            ctx.enumeration(*v, "on_interrupt", interrupt_action_names).value_or(t.on_interrupt);
    }
    if (!type) {
        return out;
    }
    t.type = *type;
    const task_body_context body{ctx, m, scope, job, out};
    switch (*type) {
        case task_type::noop:
            t.kind = noop_spec{};
            break;
        case task_type::shell:
            t.kind = decode_shell(body);
            break;
        case task_type::sql:
            t.kind = decode_sql(body);
            break;
        case task_type::copy:
            t.kind = decode_copy(body);
            break;
        case task_type::http:
            t.kind = decode_http(body);
            break;
        case task_type::trigger_job:
            t.kind = decode_trigger_job(body);
            break;
    }
    return out;
}

}  // namespace sluice::config
