#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

// What a child process (a shell task, sendmail) takes from the daemon's own environment: a base
// set, plus what the job names in `inherit_env`. Nothing else: the daemon's environment holds
// the ${env:...} passwords of the configuration (docs/task-kinds.md#environment).
namespace sluice::etl {

// PATH (a default when the daemon has none), HOME, USER, LOGNAME, LANG, LC_ALL, TZ, TMPDIR.
const std::vector<std::string_view>& base_environment_names();

// True when `name` is `pattern`, or `pattern` ends in '*' and `name` starts with the rest.
bool environment_name_matches(std::string_view pattern, std::string_view name);

// The base variables the daemon has, then those matching `inherit`, from `environment` (the
// daemon's `environ` unless given, for tests).
std::map<std::string, std::string> inherited_environment(const std::vector<std::string>& inherit,
                                                         char** environment = nullptr);

// "KEY=VALUE" entries for execve.
std::vector<std::string> environment_entries(const std::map<std::string, std::string>& vars);

}  // namespace sluice::etl
