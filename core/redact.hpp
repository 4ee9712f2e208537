#pragma once

// The one place that decides what of a URL may be shown (docs/configuration.md, "Interpolated
// values are secrets"). Every log line, error, event and API response that names a database, store
// or HTTP URL prints it through redact_url; nothing else takes a URL apart to hide its password.

#include <string>
#include <string_view>

namespace sluice::core {

// `url` with every secret it may hold replaced by "***":
// - the password of its userinfo, however it is spelled: users paste passwords holding '/',
//   '?', '#', '@' or percent-escapes unescaped, so the userinfo is taken to end at the LAST '@'
//   of the whole text (at worst more than the password is hidden, never less);
// - the value of every query parameter whose name says it is a secret (password, passwd, pwd,
//   sslpassword, secret, token, api_key, apikey, key; any case);
// - in libpq's "key=value" form (no "://"), the values of the same keys.
std::string redact_url(std::string_view url);

// True when `name` (a query or conninfo key) names a secret by the rule above.
bool is_secret_parameter(std::string_view name);

}  // namespace sluice::core
