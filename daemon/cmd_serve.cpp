#include <csignal>
#include <fstream>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "config/loader.hpp"
#include "core/clock.hpp"
#include "core/logging.hpp"
#include "daemon/commands.hpp"
#include "daemon/load_config.hpp"
#include "daemon/node_membership.hpp"
#include "daemon/notify/notifier.hpp"
#include "daemon/process_identity.hpp"
#include "daemon/pruner.hpp"
#include "daemon/service.hpp"
#include "daemon/systemd_notifier.hpp"
#include "sluice/version.hpp"
#include "web/api.hpp"
#include "web/auth.hpp"
#include "web/http_server.hpp"
#include "web/page_assets.hpp"

namespace sluice::daemon {

namespace {

web::http_limits limits_of(const config::server_spec& server) {
    web::http_limits limits;
    limits.max_header_bytes = server.max_header_bytes;
    limits.max_body_bytes = server.max_body_bytes;
    limits.read_timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(server.read_timeout);
    limits.max_connections = server.max_connections;
    return limits;
}

// Written after listen() succeeded, atomically (rename), so a reader never sees half a number.
bool write_port_file(const std::string& path, std::uint16_t port) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << port << "\n";
        if (!out) {
            return false;
        }
    }
    return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// Settings a reload cannot change in place: the listener, the store and the HTTP limits belong
// to objects built at startup. A reload that changes them applies its jobs and tokens, and
// says these need a restart.
std::vector<std::string> restart_only_changes(const config::sluice_config& running,
                                              const config::sluice_config& next) {
    std::vector<std::string> changed;
    const auto& a = running.server;
    const auto& b = next.server;
    if (a.listen != b.listen) {
        changed.emplace_back("server.listen");
    }
    if (a.tls.has_value() != b.tls.has_value()) {
        changed.emplace_back("server.tls (on or off)");
    }
    if (a.max_body_bytes != b.max_body_bytes || a.max_header_bytes != b.max_header_bytes ||
        a.read_timeout != b.read_timeout || a.max_connections != b.max_connections ||
        a.sse_queue_limit != b.sse_queue_limit || a.metrics_auth != b.metrics_auth ||
        a.public_url != b.public_url || a.allowed_hosts != b.allowed_hosts) {
        changed.emplace_back("server limits");
    }
    if (running.store != next.store) {
        changed.emplace_back("store");
    }
    if (running.notifications != next.notifications) {
        changed.emplace_back("notifications");
    }
    if (running.retention != next.retention) {
        changed.emplace_back("retention");
    }
    if (running.cluster != next.cluster) {
        changed.emplace_back("cluster");
    }
    return changed;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        out += (out.empty() ? "" : ", ") + n;
    }
    return out.empty() ? "none" : out;
}

// SIGHUP: load and validate the config file again. On an error every problem is logged and the
// running configuration stays. Otherwise the engine applies added, changed and removed jobs
// (runs in flight keep their definition) and the API takes the new jobs and tokens; settings
// that need a restart are named. systemd hears RELOADING=1 first and READY=1 once the reload
// is over either way (only after the start completed: before that there is no READY=1 to
// repeat). The file is small and local; reading it on the loop once per SIGHUP is a bounded
// stall. `running` is the configuration in effect, replaced on success.
// `bound_host` is the address the listener holds until a restart; over HTTPS the certificate
// and key are read again (rotation) before anything else changes. The node row (when there is
// one) gets the new file's hash.
void reload_config(const serve_options& options, const std::string& bound_host,
                   web::http_server& server, systemd_notifier& notifier, bool announce,
                   scheduler::engine& engine, web::api& api, notify::notifier& runs_notifier,
                   node_membership* node, std::shared_ptr<const config::sluice_config>& running) {
    const auto log = core::component_logger("daemon");
    if (announce) {
        notifier.reloading();
    }
    // Every way out says whether the new config was applied: systemd hears READY=1 and /livez
    // counts the reload with its outcome.
    auto finish = [&notifier, &api, announce](bool applied) {
        api.note_reload(applied);
        if (announce) {
            notifier.ready();
        }
    };
    log->info("reload: SIGHUP received, loading {}", options.config_file);
    config::load_options load;
    load.environment = options.environment;
    config::load_result result = config::load_file(options.config_file, load);
    if (!result.config) {
        for (const auto& d : result.diagnostics) {
            log->error("reload: {}", config::format_diagnostic(d));
        }
        log->error("reload: {} error(s) in {}; keeping the running config",
                   result.diagnostics.size(), options.config_file);
        return finish(false);
    }
    auto next = std::make_shared<const config::sluice_config>(std::move(*result.config));
    if (auto policy = web::check_listen_policy(next->server); !policy) {
        log->error("reload: {}; keeping the running config", policy.error().message);
        return finish(false);
    }
    if (auto policy = web::check_reload_policy(next->server, bound_host, server.tls()); !policy) {
        log->error("reload: {}; keeping the running config", policy.error().message);
        return finish(false);
    }
    if (server.tls() && next->server.tls) {
        if (auto rotated = server.use_tls(next->server.tls->cert, next->server.tls->key);
            !rotated) {
            log->error("reload: {}; keeping the running config and certificate",
                       rotated.error().message);
            return finish(false);
        }
        log->info("reload: TLS certificate {} loaded for new connections",
                  next->server.tls->cert.string());
    }
    engine.async_reconfigure(next, [log, next, finish, &api, &runs_notifier, node,
                                    &running](core::result<scheduler::reload_summary> r) {
        if (!r) {
            log->error("reload: {}; keeping the running config", r.error().message);
            return finish(false);
        }
        api.reconfigure(next);
        runs_notifier.reconfigure(next);
        if (node != nullptr) {
            node->reconfigure(config_hash(*next));
        }
        std::vector<std::string> restart = r->restart_needed;
        for (auto& s : restart_only_changes(*running, *next)) {
            restart.push_back(std::move(s));
        }
        running = next;
        log->info("reload: applied ({} job(s): {} added, {} changed, {} removed)",
                  next->jobs.size(), r->added.size(), r->changed.size(), r->removed.size());
        if (!restart.empty()) {
            log->warn("reload: changes to {} take effect after a restart", joined(restart));
        }
        finish(true);
    });
}

// Where links in notifications point: server.public_url, else the address we listen on (a
// wildcard address replaced by the host name).
std::string link_base(const config::server_spec& server, std::uint16_t port) {
    std::string base = server.public_url;
    if (base.empty()) {
        std::string host = server.host;
        if (host == "0.0.0.0" || host == "::") {
            host = host_name();
        } else if (host.find(':') != std::string::npos) {
            host = "[" + host + "]";
        }
        base = (server.tls ? "https://" : "http://") + host + ":" + std::to_string(port);
    }
    while (base.ends_with('/')) {
        base.pop_back();
    }
    return base;
}

// A clean exit: the node row says stopped (never read as lost), then `then`.
void leave_cluster(node_membership* node, std::function<void()> then) {
    if (node != nullptr) {
        node->leave(std::move(then));
    } else {
        then();
    }
}

}  // namespace

int run_serve(const serve_options& options) {
    const auto log = core::component_logger("daemon");
    const auto cfg = load_config_or_report(options.config_file, options.environment);
    if (!cfg) {
        return exit_invalid;
    }
    if (auto policy = web::check_listen_policy(cfg->server); !policy) {
        log->critical("{}", policy.error().message);
        return exit_invalid;
    }
    auto svc = service::open(*cfg, service_options{.run_schedules = true,
                                                   .role = "sluice serve",
                                                   .instance_id = {},
                                                   .cluster_node = true});
    if (!svc) {
        log->critical("cannot open the store: {}", svc.error().message);
        return exit_invalid;
    }
    auto& loop = (*svc)->loop();
    auto& engine = (*svc)->engine();

    // This process's node row (docs/cluster.md), written before the engine takes any lease.
    std::unique_ptr<node_membership> node;
    if (scheduler::node_registry* nodes = (*svc)->nodes()) {
        const process_identity& me = process_identity::self();
        scheduler::node_registration row;
        row.id = me.id();
        row.name = node_name_of(cfg->cluster, me.host, me.pid);
        row.version = sluice::version_string;
        row.config_hash = config_hash(*cfg);
        row.info_json = me.info_json();
        row.lease_ttl = cfg->cluster.lease_ttl;
        row.sole = (*svc)->exclusive();
        node =
            std::make_unique<node_membership>(*nodes, loop, std::move(row), cfg->cluster.heartbeat);
        if (auto joined = node->join(); !joined) {
            log->critical("cannot register this node in the store: {}", joined.error().message);
            return exit_invalid;
        }
        // Before the engine starts: a node that holds the lease catches up at its start.
        engine.cluster_beat(node->scheduler_lease());
        node->on_scheduler_lease([&engine](std::optional<scheduler::scheduler_grant> grant) {
            engine.cluster_beat(grant);
        });
        node->start();
    }

    web::api api(web::api_dependencies{
        *cfg, &engine, &(*svc)->store(), loop, (*svc)->submitter(),
        node ? node->id() : std::string(),
        node ? std::function<scheduler::node_status()>([&node] { return node->status(); })
             : std::function<scheduler::node_status()>()});
    if (node) {
        node->on_heartbeat_seconds([&api](double seconds) { api.observe_lease_renewal(seconds); });
    }
    // The configuration in effect: the startup one (owned below) until a reload replaces it.
    std::shared_ptr<const config::sluice_config> running_config(std::shared_ptr<void>(), &*cfg);
    (*svc)->set_store_commit_observer(
        [&api](double seconds) { api.observe_store_commit(seconds); });
    web::http_server server(loop, limits_of(cfg->server),
                            [&api](web::http_request r, web::responder done) {
                                api.handle(std::move(r), std::move(done));
                            });
    if (cfg->server.tls) {
        if (auto tls = server.use_tls(cfg->server.tls->cert, cfg->server.tls->key); !tls) {
            log->critical("{}", tls.error().message);
            return exit_invalid;
        }
    }
    auto bound = server.listen(cfg->server.host, cfg->server.port);
    if (!bound) {
        log->critical("{}", bound.error().message);
        return exit_invalid;
    }
    log->info("listening on {}{}", *bound, server.tls() ? " (HTTPS)" : "");
    const std::string bound_host = server.bound_address();
    if (!web::page_files().empty()) {
        log->info("admin page: {}/", link_base(cfg->server, server.port()));
    }
    // After listen: links in notifications name the port actually bound.
    const core::system_clock clock;
    notify::notifier notifier_of_runs(notify::notifier_dependencies{
        .config = *cfg,
        .store = (*svc)->store(),
        .clock = clock,
        .loop = loop,
        .link_base = link_base(cfg->server, server.port()),
        .page_base = web::page_files().empty() ? "" : link_base(cfg->server, server.port()),
        .count = [&api](
                     std::string_view channel, std::string_view event,
                     std::string_view result) { api.observe_notification(channel, event, result); },
        .sla_missed = [&api](const std::string& job) { api.observe_sla_miss(job); },
    });
    engine.set_event_observer([&api, &notifier_of_runs](const scheduler::new_event& e) {
        api.publish(e);
        notifier_of_runs.observe(e);
    });
    if (!options.port_file.empty() && !write_port_file(options.port_file, server.port())) {
        log->critical("cannot write the port file {}", options.port_file);
        return exit_invalid;
    }

    // Before the service in destruction order: its thread stops before the store closes.
    pruner history_pruner((*svc)->store(), cfg->retention);

    systemd_notifier notifier(loop);
    bool start_failed = false;
    bool serving = false;  // READY=1 sent
    bool draining = false;
    boost::asio::signal_set signals(loop, SIGINT, SIGTERM);
    // The first signal drains (running attempts get shutdown_grace); a second one is logged and
    // ignored so an impatient Ctrl-C cannot leave half-written state: the drain is bounded.
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int signo) {
            if (ec) {
                return;
            }
            if (!draining) {
                draining = true;
                log->info("received {}, stopping intake and draining running tasks",
                          signo == SIGTERM ? "SIGTERM" : "SIGINT");
                notifier.stopping();
                notifier.stop_watchdog();
                server.stop();
                if (node) {
                    node->drain();
                }
                engine.async_shutdown([&] {
                    log->info("shutdown complete");
                    leave_cluster(node.get(), [&loop] { loop.stop(); });
                });
            } else {
                log->warn("shutdown already in progress (bounded by shutdown_grace)");
            }
            signals.async_wait(on_signal);
        };
    signals.async_wait(on_signal);

    boost::asio::signal_set hangups(loop, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_hangup =
        [&](const boost::system::error_code& ec, int) {
            if (ec) {
                return;
            }
            if (!draining) {
                reload_config(options, bound_host, server, notifier, serving, engine, api,
                              notifier_of_runs, node.get(), running_config);
            } else {
                log->warn("reload: SIGHUP ignored: shutting down");
                api.note_reload(false);
            }
            hangups.async_wait(on_hangup);
        };
    hangups.async_wait(on_hangup);

    engine.async_start([&](core::result<void> started) {
        if (!started) {
            log->critical("cannot start the scheduler: {}", started.error().message);
            start_failed = true;
            leave_cluster(node.get(), [&loop] { loop.stop(); });
            return;
        }
        api.set_started();
        notifier_of_runs.start();
        // Store, scheduler and HTTP are up: systemd may start what depends on us.
        notifier.ready();
        serving = true;
        if (const auto every = notifier.start_watchdog(); every.count() > 0) {
            log->info("systemd watchdog: pinging every {}ms",
                      std::chrono::duration_cast<std::chrono::milliseconds>(every).count());
        }
        log->info("sluice serving {} job{} from {} (store {})", cfg->jobs.size(),
                  cfg->jobs.size() == 1 ? "" : "s", options.config_file,
                  cfg->store.kind == config::store_kind::sqlite ? cfg->store.sqlite_path.string()
                                                                : std::string("postgresql"));
#if defined(__GLIBC__)
        // What startup allocated and freed (the configuration's text and tree, the store reads
        // of registration and recovery) leaves free pages inside the heap that glibc keeps
        // mapped: return them, once (docs/operations.md, "Memory").
        ::malloc_trim(0);
#endif
    });
    loop.run();
    return start_failed ? exit_invalid : exit_ok;
}

}  // namespace sluice::daemon
