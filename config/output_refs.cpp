// check_output_refs (config/decoders.hpp): references to upstream outputs, checked once every
// task of the job is read, since a task may depend on one defined after it.

#include <algorithm>

#include "config/decoders.hpp"
#include "config/task_outputs.hpp"

namespace sluice::config {

namespace {

// The lower-case bind name's prefix for task `t`: "output_<task>_".
std::string bind_prefix(const task_spec& t) {
    std::string full = output_bind_name(t.name, "x");
    full.pop_back();
    return full;
}

bool bind_name_matches(const task_spec& t, const std::string& bind_name) {
    const std::string prefix = bind_prefix(t);
    if (!bind_name.starts_with(prefix) || bind_name.size() == prefix.size()) {
        return false;
    }
    const auto declared = declared_outputs(t);
    if (!declared) {
        return true;  // a shell task's names are known only when it runs
    }
    return std::any_of(declared->begin(), declared->end(), [&](const std::string& name) {
        return output_bind_name(t.name, name) == bind_name;
    });
}

bool http_ref_matches(const task_spec& t, const output_ref& ref) {
    if (t.name != ref.task) {
        return false;
    }
    const auto declared = declared_outputs(t);
    return !declared || std::find(declared->begin(), declared->end(), ref.name) != declared->end();
}

// What the task could name instead, spelled as it wrote the reference.
std::vector<std::string> candidates(const std::vector<const task_spec*>& upstream,
                                    const output_ref& ref) {
    std::vector<std::string> out;
    for (const task_spec* t : upstream) {
        const auto declared = declared_outputs(*t);
        if (!declared) {
            out.push_back(ref.bind_name.empty() ? "output." + t->name + ".NAME"
                                                : ":" + bind_prefix(*t) + "<name>");
            continue;
        }
        for (const std::string& name : *declared) {
            out.push_back(ref.bind_name.empty() ? "output." + t->name + "." + name
                                                : ":" + output_bind_name(t->name, name));
        }
    }
    return out;
}

}  // namespace

void check_output_refs(decode_context& ctx, const job_spec& job,
                       const std::vector<decoded_task>& tasks) {
    for (const decoded_task& task : tasks) {
        if (task.output_refs.empty()) {
            continue;
        }
        const auto upstream = upstream_tasks(job, task.spec.name);
        for (const output_ref& ref : task.output_refs) {
            const bool sql = !ref.bind_name.empty();
            const auto matches = [&](const task_spec& t) {
                return sql ? bind_name_matches(t, ref.bind_name) : http_ref_matches(t, ref);
            };
            if (std::any_of(upstream.begin(), upstream.end(),
                            [&](const task_spec* t) { return matches(*t); })) {
                continue;
            }
            const std::string shown =
                sql ? "':" + ref.bind_name + "'" : "'output." + ref.task + "." + ref.name + "'";
            std::string message = ref.where + "task '" + task.spec.name + "' uses " + shown;
            const auto other = std::find_if(job.tasks.begin(), job.tasks.end(), [&](const auto& t) {
                return t.name != task.spec.name && matches(t);
            });
            if (other != job.tasks.end()) {
                message += ", an output of task '" + other->name +
                           "', which is not upstream of it: a task receives the outputs of the "
                           "tasks it depends on, directly or through others (add '" +
                           other->name + "' to its depends_on)";
            } else {
                const auto names = candidates(upstream, ref);
                const std::string written =
                    sql ? ":" + ref.bind_name : "output." + ref.task + "." + ref.name;
                const std::string hint = did_you_mean(written, names);
                message += ", which no upstream task publishes" +
                           (!hint.empty()   ? hint
                            : names.empty() ? std::string(" (it has no upstream task that "
                                                          "publishes outputs)")
                                            : "; upstream outputs: " + join_names(names));
            }
            ctx.error(ref.pos, std::move(message));
        }
    }
}

}  // namespace sluice::config
