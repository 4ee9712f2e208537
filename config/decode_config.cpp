#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

#include "config/decoders.hpp"
#include "core/redact.hpp"

namespace sluice::config {
namespace {

constexpr std::string_view listen_example = "expected HOST:PORT such as 127.0.0.1:8080";

// Splits "HOST:PORT" / "[V6]:PORT" into the server spec; reports at the offending part.
void decode_listen(decode_context& ctx, const node& n, server_spec& server) {
    const auto v = ctx.scalar(n, "listen");
    if (!v) {
        return;
    }
    const std::string& text = v->text;
    const std::string shown = decode_context::show(*v);
    auto fail = [&](std::size_t offset, const std::string& why) {
        if (v->interpolated) {
            ctx.error(n.pos, "invalid listen address " + shown + ": " + why);
        } else {
            ctx.error_in(n, offset, "invalid listen address " + shown + ": " + why);
        }
    };
    std::string host;
    std::size_t port_begin = 0;
    if (!text.empty() && text[0] == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            fail(0, std::string(listen_example) + " or [::1]:8080");
            return;
        }
        host = text.substr(1, close - 1);
        port_begin = close + 2;
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos) {
            fail(0, std::string(listen_example));
            return;
        }
        host = text.substr(0, colon);
        if (host.find(':') != std::string::npos) {
            fail(0, "an IPv6 address needs brackets, as in [::1]:8080");
            return;
        }
        port_begin = colon + 1;
    }
    if (host.empty()) {
        fail(0, "missing host; use 0.0.0.0:PORT to listen on every interface");
        return;
    }
    const std::string port = text.substr(port_begin);
    const bool digits =
        !port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c));
        });
    if (!digits || std::stoi(port) > 65535) {
        fail(port_begin, "the port must be a number from 0 to 65535");
        return;
    }
    server.listen = text;
    server.host = host;
    server.port = static_cast<std::uint16_t>(std::stoi(port));
}

void decode_tokens(decode_context& ctx, const node& n, server_spec& server) {
    if (!ctx.expect(n, node_kind::sequence, "tokens")) {
        return;
    }
    std::map<std::string, int> names;           // name -> line
    std::map<std::string, std::string> hashes;  // sha256 -> token name
    for (const node& item : n.items) {
        map_reader m(ctx, item, "a token", item.pos);
        if (!m.valid()) {
            continue;
        }
        m.allow({"name", "sha256", "role"});
        token_spec token;
        if (const node* v = m.require("name")) {
            if (auto name = ctx.nonempty_string(*v, "name")) {
                token.name = *name;
                const auto [it, inserted] = names.emplace(*name, v->pos.line);
                if (!inserted) {
                    ctx.error(v->pos, "duplicate token name '" + *name +
                                          "' (first defined at line " + std::to_string(it->second) +
                                          ")");
                }
            }
        }
        if (const node* v = m.require("sha256")) {
            if (auto hash = ctx.scalar(*v, "sha256")) {
                std::string h = hash->text;
                std::transform(h.begin(), h.end(), h.begin(), [](char c) {
                    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                });
                const bool hex = h.size() == 64 && std::all_of(h.begin(), h.end(), [](char c) {
                                     return std::isxdigit(static_cast<unsigned char>(c));
                                 });
                if (!hex) {
                    ctx.error(
                        v->pos,
                        "'sha256' must be 64 hexadecimal digits (the SHA-256 of the "
                        "token; `sluice token new` prints it)" +
                            std::string(hash->interpolated
                                            ? " (it expands " + decode_context::show(*hash) + ")"
                                            : ""));
                } else {
                    const auto [it, inserted] = hashes.emplace(h, token.name);
                    if (!inserted) {
                        ctx.error(v->pos, "token '" + token.name +
                                              "' has the same sha256 as token '" + it->second +
                                              "'");
                    }
                    token.sha256 = h;
                }
            }
        }
        if (const node* v = m.get("role")) {
            if (auto role = ctx.enumeration(*v, "role", token_role_names)) {
                token.role = *role;
            }
        }
        server.tokens.push_back(std::move(token));
    }
}

}  // namespace

server_spec decode_server(decode_context& ctx, const map_entry& e) {
    server_spec server;
    map_reader m(ctx, e.value, "'server'", e.key_pos);
    m.allow({"listen", "tokens", "metrics_auth", "max_body_size", "max_header_size", "read_timeout",
             "max_connections", "sse_queue_limit", "public_url", "allowed_hosts", "tls",
             "allow_plaintext_tokens"});
    if (const node* v = m.get("listen")) {
        decode_listen(ctx, *v, server);
    }
    if (const node* v = m.get("tokens")) {
        decode_tokens(ctx, *v, server);
    }
    if (const node* v = m.get("metrics_auth")) {
        server.metrics_auth = ctx.boolean(*v, "metrics_auth").value_or(server.metrics_auth);
    }
    if (const node* v = m.get("max_body_size")) {
        server.max_body_bytes = ctx.byte_size(*v, "max_body_size").value_or(server.max_body_bytes);
    }
    if (const node* v = m.get("max_header_size")) {
        server.max_header_bytes =
            ctx.byte_size(*v, "max_header_size").value_or(server.max_header_bytes);
    }
    if (const node* v = m.get("read_timeout")) {
        server.read_timeout =
            ctx.duration(*v, "read_timeout", core::duration{1}).value_or(server.read_timeout);
    }
    if (const node* v = m.get("max_connections")) {
        server.max_connections =
            ctx.small_integer(*v, "max_connections", 1, 1'000'000).value_or(server.max_connections);
    }
    if (const node* v = m.get("sse_queue_limit")) {
        server.sse_queue_limit = static_cast<std::size_t>(
            ctx.integer(*v, "sse_queue_limit", 1, 1'000'000)
                .value_or(static_cast<std::int64_t>(server.sse_queue_limit)));
    }
    if (const node* v = m.get("public_url")) {
        if (auto url = ctx.scalar(*v, "public_url")) {
            if (url->text.rfind("http://", 0) != 0 && url->text.rfind("https://", 0) != 0) {
                ctx.error(v->pos, "'public_url' must start with http:// or https://, got " +
                                      decode_context::show(*url));
            } else {
                server.public_url = url->text;
            }
        }
    }
    if (const map_entry* t = m.entry("tls")) {
        map_reader tm(ctx, t->value, "'server.tls'", t->key_pos);
        tm.allow({"cert", "key"});
        const node* cert = tm.require("cert");
        const node* key = tm.require("key");
        auto path = [&](const node* n,
                        std::string_view what) -> std::optional<std::filesystem::path> {
            if (n == nullptr) {
                return std::nullopt;
            }
            auto text = ctx.nonempty_string(*n, what);
            return text ? std::optional(ctx.base_dir(*n) / *text) : std::nullopt;
        };
        auto cert_path = path(cert, "cert");
        auto key_path = path(key, "key");
        if (cert_path && key_path) {
            server.tls = tls_spec{*cert_path, *key_path};
        }
    }
    if (const node* v = m.get("allow_plaintext_tokens")) {
        server.allow_plaintext_tokens =
            ctx.boolean(*v, "allow_plaintext_tokens").value_or(server.allow_plaintext_tokens);
    }
    if (const node* v = m.get("allowed_hosts")) {
        if (auto hosts = ctx.string_list(*v, "allowed_hosts", /*allow_single=*/false)) {
            for (auto& h : *hosts) {
                if (h.empty() || h.find_first_of(" /:@") != std::string::npos) {
                    ctx.error(v->pos,
                              "'allowed_hosts' holds host names without port or scheme "
                              "(\"sluice.example.com\", or \"*\" for any), got \"" +
                                  h + "\"");
                }
                std::transform(h.begin(), h.end(), h.begin(), [](char c) {
                    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                });
            }
            server.allowed_hosts = std::move(*hosts);
        }
    }
    return server;
}

store_spec decode_store(decode_context& ctx, const map_entry& e) {
    store_spec store;
    map_reader m(ctx, e.value, "'store'", e.key_pos);
    m.allow({"url", "pool_size", "timeout"});
    if (const node* v = m.require("url")) {
        if (auto url = ctx.scalar(*v, "url")) {
            const std::string& text = url->text;
            if (text.rfind("sqlite://", 0) == 0) {
                const std::string path = text.substr(9);
                if (path.empty()) {
                    ctx.error(v->pos,
                              "the store url needs a path after sqlite://, as in "
                              "sqlite://var/sluice.db");
                } else {
                    store.kind = store_kind::sqlite;
                    store.url = text;
                    store.sqlite_path =
                        path == ":memory:" ? std::filesystem::path(path) : ctx.base_dir(*v) / path;
                }
            } else if (text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0) {
                store.kind = store_kind::postgres;
                store.url = text;
                store.sqlite_path.clear();
            } else {
                ctx.error(v->pos, "unsupported store url " + decode_context::show(*url) +
                                      ": expected sqlite://PATH, postgresql://... or "
                                      "postgres://...");
            }
            store.url_is_secret = url->interpolated || core::redact_url(text) != text;
        }
    }
    if (const node* v = m.get("pool_size")) {
        store.pool_size = ctx.small_integer(*v, "pool_size", 1, 1000).value_or(store.pool_size);
    }
    if (const node* v = m.get("timeout")) {
        store.timeout =
            ctx.duration(*v, "timeout", std::chrono::seconds(1)).value_or(store.timeout);
    }
    return store;
}

std::map<std::string, int> decode_pools(decode_context& ctx, const map_entry& e) {
    std::map<std::string, int> pools;
    if (!ctx.expect(e.value, node_kind::mapping, "pools")) {
        return pools;
    }
    for (const auto& p : e.value.entries) {
        if (!is_valid_name(p.key)) {
            ctx.error(p.key_pos,
                      "invalid pool name '" + p.key + "': use letters, digits, '_', '-' and '.'");
            continue;
        }
        // A pool whose slots are invalid still exists, so that tasks naming it do not also
        // report an unknown pool.
        pools[p.key] = ctx.small_integer(p.value, p.key, 1, 100'000).value_or(1);
    }
    return pools;
}

void decode_defaults(decode_context& ctx, const map_entry& e, decode_scope& scope) {
    map_reader m(ctx, e.value, "'defaults'", e.key_pos);
    m.allow({"timezone", "retries", "notify", "inherit_env"});
    if (const node* v = m.get("inherit_env")) {
        scope.defaults.inherit_env = decode_inherit_env(ctx, *v);
    }
    if (const node* v = m.get("timezone")) {
        if (auto zone = ctx.nonempty_string(*v, "timezone")) {
            scope.default_timezone_valid = check_time_zone(ctx, *v, *zone);
            scope.defaults.timezone = *zone;
        } else {
            scope.default_timezone_valid = false;
        }
    }
    if (const map_entry* r = m.entry("retries")) {
        scope.default_retries = decode_retries(ctx, *r);
        scope.default_retries.apply_to(scope.defaults.retries);
    }
    if (const map_entry* n = m.entry("notify")) {
        scope.defaults.notify = decode_notify(ctx, *n);
    }
}

namespace {

retention_spec decode_retention(decode_context& ctx, const map_entry& e) {
    retention_spec r;
    map_reader m(ctx, e.value, "'retention'", e.key_pos);
    m.allow({"runs", "logs", "events"});
    const auto age = [&](std::string_view key, core::duration& out) {
        if (const node* v = m.get(key)) {
            // A bare 0 (keep forever) reads as YAML's integer, not a duration.
            out = v->is_scalar() && v->text == "0" ? core::duration{0}
                                                   : ctx.duration(*v, key).value_or(out);
        }
    };
    age("runs", r.runs);
    age("logs", r.logs);
    age("events", r.events);
    return r;
}

// A node name: what `sluice nodes` shows and an operator types, so a short word without spaces.
bool is_valid_node_name(std::string_view name) {
    return !name.empty() && name.size() <= 100 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
               c == ':';
    });
}

// `cluster:` (docs/cluster.md#settings). The heartbeat must come well inside the lease: a node
// whose heartbeat is older than lease_ttl reads as lost to every other node.
cluster_spec decode_cluster(decode_context& ctx, const map_entry& e) {
    cluster_spec c;
    map_reader m(ctx, e.value, "'cluster'", e.key_pos);
    m.allow({"node_name", "lease_ttl", "heartbeat"});
    if (const node* v = m.get("node_name")) {
        if (auto name = ctx.nonempty_string(*v, "node_name")) {
            if (is_valid_node_name(*name)) {
                c.node_name = *name;
            } else {
                ctx.error(v->pos, "invalid node_name '" + *name +
                                      "': use at most 100 letters, digits, '_', '-', '.' and ':'");
            }
        }
    }
    if (const node* v = m.get("lease_ttl")) {
        c.lease_ttl = ctx.duration(*v, "lease_ttl", std::chrono::seconds(1)).value_or(c.lease_ttl);
        if (c.lease_ttl > std::chrono::hours(1)) {
            ctx.error(v->pos, "'lease_ttl' is at most 1h (a lost node goes unnoticed that long)");
            c.lease_ttl = std::chrono::hours(1);
        }
    }
    c.heartbeat = c.lease_ttl / 3;
    if (const node* v = m.get("heartbeat")) {
        if (auto beat = ctx.duration(*v, "heartbeat", std::chrono::milliseconds(100))) {
            if (*beat >= c.lease_ttl) {
                ctx.error(v->pos, "'heartbeat' (" + core::format_duration(*beat) +
                                      ") must be below 'lease_ttl' (" +
                                      core::format_duration(c.lease_ttl) +
                                      "); lease_ttl / 3 leaves room for two missed beats");
            } else {
                c.heartbeat = *beat;
            }
        }
    }
    return c;
}

}  // namespace

sluice_config decode_config(decode_context& ctx, const node& root) {
    sluice_config cfg;
    map_reader top(ctx, root, "the configuration", root.pos);
    if (!top.valid()) {
        return cfg;
    }
    top.allow({"server", "store", "workers", "shutdown_grace", "pools", "defaults", "connections",
               "jobs", "notifications", "retention", "cluster"});
    if (const map_entry* e = top.entry("server")) {
        cfg.server = decode_server(ctx, *e);
    }
    if (const map_entry* e = top.entry("store")) {
        cfg.store = decode_store(ctx, *e);
    } else {
        cfg.store.sqlite_path = ctx.base_dir(root) / "var/sluice.db";
    }
    if (const node* v = top.get("workers")) {
        cfg.workers = ctx.small_integer(*v, "workers", 1, 4096).value_or(cfg.workers);
    }
    if (const node* v = top.get("shutdown_grace")) {
        cfg.shutdown_grace = ctx.duration(*v, "shutdown_grace").value_or(cfg.shutdown_grace);
    }
    if (const map_entry* e = top.entry("retention")) {
        cfg.retention = decode_retention(ctx, *e);
    }
    if (const map_entry* e = top.entry("cluster")) {
        cfg.cluster = decode_cluster(ctx, *e);
    }
    decode_scope scope;
    if (const map_entry* e = top.entry("pools")) {
        cfg.pools = decode_pools(ctx, *e);
        for (const auto& [name, slots] : cfg.pools) {
            scope.pool_names.push_back(name);
        }
    }
    if (const map_entry* e = top.entry("defaults")) {
        decode_defaults(ctx, *e, scope);
    }
    if (const map_entry* e = top.entry("notifications")) {
        cfg.notifications = decode_notifications(ctx, *e);
    }
    if (const map_entry* e = top.entry("connections")) {
        cfg.connections = decode_connections(ctx, *e, scope);
    }
    if (const map_entry* e = top.entry("jobs")) {
        if (e->value.is_mapping()) {
            for (const auto& j : e->value.entries) {
                scope.job_names.push_back(j.key);
            }
        }
        cfg.jobs = decode_jobs(ctx, *e, scope);
    }
    cfg.defaults = scope.defaults;
    return cfg;
}

}  // namespace sluice::config
