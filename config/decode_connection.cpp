#include <algorithm>
#include <array>
#include <stdexcept>

#include <date/tz.h>

#include "config/decoders.hpp"
#include "core/redact.hpp"
#include "core/time.hpp"

namespace sluice::config {

void retry_overrides::apply_to(retry_policy& policy) const {
    if (max_attempts) {
        policy.max_attempts = *max_attempts;
    }
    if (delay) {
        policy.delay = *delay;
    }
    if (backoff) {
        policy.backoff = *backoff;
    }
    if (max_delay) {
        policy.max_delay = *max_delay;
    }
    if (jitter) {
        policy.jitter = *jitter;
    }
}

retry_overrides decode_retries(decode_context& ctx, const map_entry& e) {
    retry_overrides r;
    // `retries: 3` is short for `retries: {max_attempts: 3}`.
    if (e.value.is_scalar()) {
        r.max_attempts = ctx.small_integer(e.value, "retries", 1, 1000);
        return r;
    }
    map_reader m(ctx, e.value, "'retries'", e.key_pos);
    m.allow({"max_attempts", "delay", "backoff", "max_delay", "jitter"});
    if (const node* v = m.get("max_attempts")) {
        r.max_attempts = ctx.small_integer(*v, "max_attempts", 1, 1000);
    }
    if (const node* v = m.get("delay")) {
        r.delay = ctx.duration(*v, "delay");
    }
    if (const node* v = m.get("backoff")) {
        r.backoff = ctx.number(*v, "backoff", 1.0, 100.0);
    }
    if (const node* v = m.get("max_delay")) {
        r.max_delay = ctx.duration(*v, "max_delay");
    }
    if (const node* v = m.get("jitter")) {
        r.jitter = ctx.number(*v, "jitter", 0.0, 1.0);
    }
    return r;
}

namespace {

// One plain address such as oncall@example.com. It is handed to sendmail in a header: nothing
// that could start a header or a second address.
std::optional<std::string> mail_address(decode_context& ctx, const node& v, std::string_view what) {
    auto address = ctx.scalar(v, what);
    if (!address) {
        return std::nullopt;
    }
    const std::string& a = address->text;
    const auto at = a.find('@');
    const bool plain = a.find_first_of(" \t\r\n<>,;\"'") == std::string::npos;
    if (at == std::string::npos || at == 0 || at + 1 >= a.size() || !plain ||
        a.find('@', at + 1) != std::string::npos) {
        ctx.error(v.pos, "invalid email address " + decode_context::show(*address) + " for '" +
                             std::string(what) +
                             "': expected one address such as oncall@example.com");
        return std::nullopt;
    }
    return a;
}

}  // namespace

notify_spec decode_notify(decode_context& ctx, const map_entry& e) {
    notify_spec n;
    map_reader m(ctx, e.value, "'notify'", e.key_pos);
    if (!m.valid()) {
        return n;
    }
    m.allow({"on", "webhook", "email"});
    if (const node* v = m.get("on")) {
        std::vector<const node*> items;
        if (v->is_sequence()) {
            for (const node& item : v->items) {
                items.push_back(&item);
            }
        } else if (v->is_scalar()) {
            items.push_back(v);
        } else {
            ctx.expect(*v, node_kind::sequence, "on");
        }
        if (!items.empty() || v->is_sequence()) {
            n.on.clear();
        }
        for (const node* item : items) {
            if (auto event = ctx.enumeration(*item, "on", notify_event_names)) {
                if (std::find(n.on.begin(), n.on.end(), *event) == n.on.end()) {
                    n.on.push_back(*event);
                }
            }
        }
    }
    if (const node* v = m.get("webhook")) {
        if (auto url = ctx.scalar(*v, "webhook")) {
            if (url->text.rfind("http://", 0) != 0 && url->text.rfind("https://", 0) != 0) {
                ctx.error(v->pos, "'webhook' must be an http:// or https:// URL, got " +
                                      decode_context::show(*url));
            } else {
                n.webhook = url->text;
                n.webhook_is_secret = url->interpolated;
            }
        }
    }
    if (const node* v = m.get("email")) {
        if (auto address = mail_address(ctx, *v, "email")) {
            n.email = *address;
        }
    }
    if (m.get("webhook") == nullptr && m.get("email") == nullptr) {
        ctx.error(e.key_pos, "'notify' needs a 'webhook' or an 'email' (or both)");
    }
    return n;
}

notifications_spec decode_notifications(decode_context& ctx, const map_entry& e) {
    notifications_spec n;
    map_reader m(ctx, e.value, "'notifications'", e.key_pos);
    if (!m.valid()) {
        return n;
    }
    m.allow({"sendmail", "from", "max_attempts", "retry_delay", "max_retry_delay", "timeout",
             "queue_limit"});
    if (const node* v = m.get("sendmail")) {
        if (auto program = ctx.nonempty_string(*v, "sendmail")) {
            n.sendmail = std::filesystem::path(*program).is_absolute()
                             ? std::filesystem::path(*program)
                             : ctx.base_dir(*v) / *program;
        }
    }
    if (const node* v = m.get("from")) {
        if (auto address = mail_address(ctx, *v, "from")) {
            n.from = *address;
        }
    }
    if (const node* v = m.get("max_attempts")) {
        n.max_attempts = ctx.small_integer(*v, "max_attempts", 1, 100).value_or(n.max_attempts);
    }
    if (const node* v = m.get("retry_delay")) {
        n.retry_delay = ctx.duration(*v, "retry_delay").value_or(n.retry_delay);
    }
    if (const node* v = m.get("max_retry_delay")) {
        n.max_retry_delay = ctx.duration(*v, "max_retry_delay").value_or(n.max_retry_delay);
    }
    if (const node* v = m.get("timeout")) {
        n.timeout = ctx.duration(*v, "timeout", core::duration{1}).value_or(n.timeout);
    }
    if (const node* v = m.get("queue_limit")) {
        n.queue_limit = ctx.small_integer(*v, "queue_limit", 1, 1'000'000).value_or(n.queue_limit);
    }
    return n;
}

bool check_time_zone(decode_context& ctx, const node& n, const std::string& zone) {
    if (core::find_time_zone(zone)) {
        return true;
    }
    // The zone a city or a case slip names first ("Berlin"), then a typo ("Europe/Berln").
    std::string hint;
    if (const auto meant = core::suggest_time_zone(zone)) {
        hint = "; did you mean '" + *meant + "'?";
    } else {
        try {
            std::vector<std::string_view> names;
            const auto& db = date::get_tzdb();
            for (const auto& z : db.zones) {
                names.push_back(z.name());
            }
            hint = did_you_mean(zone, names);
        } catch (const std::runtime_error&) {
            // No readable tz database: the error below stands without a suggestion.
            hint.clear();
        }
    }
    ctx.error(n.pos, "unknown time zone '" + zone + "'" + hint +
                         " (expected an IANA name such as UTC, Europe/Berlin or America/New_York)");
    return false;
}

namespace {

constexpr std::array<std::string_view, 5> common_connection_keys{"type", "url", "pool_size",
                                                                 "connect_timeout", "description"};

std::vector<std::string_view> connection_keys(connection_type t) {
    std::vector<std::string_view> keys(common_connection_keys.begin(),
                                       common_connection_keys.end());
    if (t == connection_type::http) {
        keys.push_back("headers");
        keys.push_back("allow_cross_origin");
    }
    if (t == connection_type::file) {
        keys.push_back("format");
    }
    return keys;
}

// The URL schemes each connection type accepts.
std::vector<std::string_view> schemes_of(connection_type t) {
    switch (t) {
        case connection_type::postgres:
            return {"postgresql://", "postgres://"};
        case connection_type::mysql:
            return {"mysql://", "mariadb://"};
        case connection_type::clickhouse:
        case connection_type::http:
            return {"http://", "https://"};
        case connection_type::sqlite:
            return {"sqlite://"};
        case connection_type::file:
            return {"file://"};
    }
    return {};
}

void check_connection_keys(decode_context& ctx, const map_reader& m, connection_type t) {
    const auto allowed = connection_keys(t);
    for (const auto& e : m.entries()) {
        if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) {
            continue;
        }
        std::string owner;
        for (connection_type other : {connection_type::http, connection_type::file}) {
            const auto keys = connection_keys(other);
            if (other != t && std::find(keys.begin(), keys.end(), e.key) != keys.end()) {
                owner = std::string(to_string(other));
            }
        }
        if (!owner.empty()) {
            ctx.error(e.key_pos, "key '" + e.key + "' does not apply to " +
                                     std::string(to_string(t)) + " connections (only to " + owner +
                                     " connections)");
            continue;
        }
        const std::string hint = did_you_mean(e.key, allowed);
        ctx.error(e.key_pos, "unknown key '" + e.key + "' in " + m.what() +
                                 (hint.empty() ? "; valid keys: " + join_names(allowed) : hint));
    }
}

connection_spec decode_connection(decode_context& ctx, const map_entry& e, decode_scope& scope) {
    connection_spec c;
    c.name = e.key;
    map_reader m(ctx, e.value, "connection '" + e.key + "'", e.key_pos);
    if (!m.valid()) {
        return c;
    }
    std::optional<connection_type> type;
    if (const node* v = m.require("type")) {
        type = ctx.enumeration(*v, "type", connection_type_names);
    }
    if (type) {
        c.type = *type;
        scope.connection_types.emplace(e.key, *type);
        check_connection_keys(ctx, m, *type);
    } else {
        std::vector<std::string_view> all(common_connection_keys.begin(),
                                          common_connection_keys.end());
        all.push_back("headers");
        all.push_back("allow_cross_origin");
        all.push_back("format");
        m.allow(all);
    }
    if (const node* v = m.require("url")) {
        if (auto url = ctx.scalar(*v, "url")) {
            c.url = url->text;
            c.url_is_secret = url->interpolated || core::redact_url(c.url) != c.url;
            if (type) {
                const auto schemes = schemes_of(*type);
                const auto scheme = std::find_if(schemes.begin(), schemes.end(),
                                                 [&](auto s) { return c.url.rfind(s, 0) == 0; });
                if (scheme == schemes.end()) {
                    ctx.error(v->pos,
                              "the url of " + std::string(to_string(*type)) + " connection '" +
                                  e.key + "' must start with " + join_names(schemes) + ", got " +
                                  (url->interpolated ? decode_context::show(*url)
                                                     : "'" + core::redact_url(c.url) + "'"));
                } else if (*type == connection_type::sqlite || *type == connection_type::file) {
                    const std::string path = c.url.substr(scheme->size());
                    if (path.empty()) {
                        ctx.error(v->pos, "the url of connection '" + e.key +
                                              "' needs a path after " + std::string(*scheme));
                    } else {
                        c.local_path = path == ":memory:" ? std::filesystem::path(path)
                                                          : ctx.base_dir(*v) / path;
                    }
                }
            }
        }
    }
    if (const node* v = m.get("pool_size")) {
        c.pool_size = ctx.small_integer(*v, "pool_size", 1, 1000).value_or(c.pool_size);
    }
    if (const node* v = m.get("connect_timeout")) {
        c.connect_timeout =
            ctx.duration(*v, "connect_timeout", core::duration{1}).value_or(c.connect_timeout);
    }
    if (const node* v = m.get("description")) {
        c.description = ctx.string(*v, "description").value_or("");
    }
    if (const node* v = m.get("headers"); v != nullptr && c.type == connection_type::http) {
        if (auto headers = ctx.string_map(*v, "headers")) {
            for (auto& h : *headers) {
                if (h.secret) {
                    c.secret_headers.insert(h.key);
                }
                c.headers.emplace_back(h.key, std::move(h.value));
            }
        }
    }
    if (const node* v = m.get("allow_cross_origin");
        v != nullptr && c.type == connection_type::http) {
        c.allow_cross_origin = ctx.boolean(*v, "allow_cross_origin").value_or(false);
    }
    if (const node* v = m.get("format"); v != nullptr && c.type == connection_type::file) {
        c.format = ctx.enumeration(*v, "format", file_format_names);
    }
    return c;
}

}  // namespace

std::map<std::string, connection_spec> decode_connections(decode_context& ctx, const map_entry& e,
                                                          decode_scope& scope) {
    std::map<std::string, connection_spec> out;
    if (!ctx.expect(e.value, node_kind::mapping, "connections")) {
        return out;
    }
    for (const auto& c : e.value.entries) {
        scope.connection_names.push_back(c.key);
        if (!is_valid_name(c.key)) {
            ctx.error(c.key_pos, "invalid connection name '" + c.key +
                                     "': use letters, digits, '_', '-' and '.'");
        }
        out.emplace(c.key, decode_connection(ctx, c, scope));
    }
    return out;
}

}  // namespace sluice::config
