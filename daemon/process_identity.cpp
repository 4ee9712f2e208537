#include "daemon/process_identity.hpp"

#include <cerrno>
#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/types.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace sluice::daemon {

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') {
        return "localhost";
    }
    return buf;
}

namespace {

std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

std::string link_target(const std::string& path) {
    char buf[256] = {};
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// Field 22 of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses, so
// fields are counted from the last ')'.
std::string start_ticks_of(long pid) {
    const std::string stat = first_line("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) {
        return {};
    }
    std::istringstream fields(stat.substr(close + 1));
    std::string field;
    for (int i = 3; i <= 22 && (fields >> field); ++i) {
        if (i == 22) {
            return field;
        }
    }
    return {};
}

std::string random_nonce() {
    std::random_device rd;
    std::uniform_int_distribution<unsigned> digit(0, 15);
    std::string s;
    for (int i = 0; i < 8; ++i) {
        s += "0123456789abcdef"[digit(rd)];
    }
    return s;
}

}  // namespace

std::string process_identity::id() const {
    return host + ":" + std::to_string(pid) + ":" + nonce;
}

std::string process_identity::info_json() const {
    return nlohmann::json{{"host", host},
                          {"pid", pid},
                          {"boot_id", boot_id},
                          {"pid_namespace", pid_namespace},
                          {"start_ticks", start_ticks}}
        .dump();
}

const process_identity& process_identity::self() {
    static const process_identity identity = [] {
        process_identity p;
        p.host = host_name();
        p.pid = static_cast<long>(::getpid());
        p.nonce = random_nonce();
        p.boot_id = first_line("/proc/sys/kernel/random/boot_id");
        p.pid_namespace = link_target("/proc/self/ns/pid");
        p.start_ticks = start_ticks_of(p.pid);
        return p;
    }();
    return identity;
}

bool lease_owner_gone(std::string_view info_json) {
    const process_identity& me = process_identity::self();
    const auto info = nlohmann::json::parse(info_json, nullptr, /*allow_exceptions=*/false);
    if (!info.is_object()) {
        return false;
    }
    const auto text = [&](const char* key) {
        const auto it = info.find(key);
        return it != info.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const auto pid_it = info.find("pid");
    if (pid_it == info.end() || !pid_it->is_number_integer()) {
        return false;
    }
    const long pid = pid_it->get<long>();
    const std::string boot_id = text("boot_id");
    const std::string pid_namespace = text("pid_namespace");
    if (pid <= 0 || boot_id.empty() || pid_namespace.empty() || boot_id != me.boot_id ||
        pid_namespace != me.pid_namespace) {
        return false;
    }
    if (pid == me.pid) {
        // Our own pid under another identity: that process has exited (we replaced it).
        return text("start_ticks") != me.start_ticks;
    }
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
        return true;
    }
    const std::string recorded = text("start_ticks");
    const std::string current = start_ticks_of(pid);
    return !recorded.empty() && !current.empty() && recorded != current;
}

}  // namespace sluice::daemon
