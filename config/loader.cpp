#include "config/loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>
#include <utility>

#include "config/decoders.hpp"
#include "config/document.hpp"

namespace sluice::config {

std::string format_diagnostic(const diagnostic& d) {
    if (d.line <= 0) {
        return d.file + ": error: " + d.message;
    }
    return d.file + ":" + std::to_string(d.line) + ":" + std::to_string(d.column) +
           ": error: " + d.message;
}

namespace {

// Configuration files are small; the bound keeps a wrong path (a log file, a device) harmless.
constexpr std::uintmax_t max_config_bytes = 16 * 1024 * 1024;

std::optional<std::string> read_text_file(const std::filesystem::path& path, std::string& error) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec) {
        error = ec.message();
        return std::nullopt;
    }
    if (!std::filesystem::is_regular_file(status)) {
        error = "not a regular file";
        return std::nullopt;
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > max_config_bytes) {
        error = "larger than 16 MiB";
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = std::strerror(errno);
        return std::nullopt;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
        error = "read error";
        return std::nullopt;
    }
    return text;
}

// An overlay found next to the base file: NAME.ENV.yaml beside NAME.yaml.
struct sibling_overlays {
    std::filesystem::path dir;
    std::string stem;
    std::string extension;
    bool enabled = false;

    std::filesystem::path file_for(const std::string& environment) const {
        return dir / (stem + "." + environment + extension);
    }

    std::vector<std::string> names() const {
        std::vector<std::string> out;
        std::error_code ec;
        const std::string prefix = stem + ".";
        for (std::filesystem::directory_iterator it(dir.empty() ? "." : dir, ec), end;
             !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (name.size() <= prefix.size() + extension.size() || name.rfind(prefix, 0) != 0 ||
                name.compare(name.size() - extension.size(), extension.size(), extension) != 0) {
                continue;
            }
            const std::string env =
                name.substr(prefix.size(), name.size() - prefix.size() - extension.size());
            if (env.find('.') == std::string::npos) {
                out.push_back(env);
            }
        }
        std::sort(out.begin(), out.end());  // directory order is arbitrary
        return out;
    }
};

class config_loader {
public:
    explicit config_loader(const load_options& options) : options_(options) {}

    load_result fail_file(const std::string& name, const std::string& message) {
        files_.push_back({name, "", {}});
        sink_.file_error(0, message);
        return finish(std::nullopt);
    }

    load_result load(std::string text, const std::string& name, const sibling_overlays& siblings) {
        const std::filesystem::path dir = std::filesystem::path(name).parent_path();
        files_.push_back({name, std::move(text), dir});
        try {
            std::optional<node> root = parse_document(files_[0], 0, sink_);
            if (!root) {
                return finish(std::nullopt);
            }
            const std::optional<map_entry> environments = take_environments(*root);
            if (!options_.environment.empty()) {
                apply_environment(*root, environments, siblings);
            }
            return finish(std::move(root));
        } catch (const diagnostic_limit_reached&) {
            // The errors so far are reported; the note says the list is cut short.
            sink_.file_error(
                0, "too many errors: stopped after the first " + std::to_string(max_diagnostics));
            return finish(std::nullopt);
        }
    }

private:
    // Removes the `environments:` section from the base (it is not part of the configuration
    // itself) and checks its shape.
    std::optional<map_entry> take_environments(node& root) {
        if (!root.is_mapping()) {
            return std::nullopt;
        }
        auto it = std::find_if(root.entries.begin(), root.entries.end(),
                               [](const map_entry& e) { return e.key == "environments"; });
        if (it == root.entries.end()) {
            return std::nullopt;
        }
        map_entry section = std::move(*it);
        root.entries.erase(it);
        if (section.value.is_null()) {
            return section;
        }
        if (!section.value.is_mapping()) {
            sink_.error(section.value.pos,
                        "expected a mapping of environment names to overlays "
                        "for 'environments', got " +
                            std::string(describe_kind(section.value)));
            section.value = node{};
            return section;
        }
        for (const auto& env : section.value.entries) {
            if (!is_valid_name(env.key)) {
                sink_.error(env.key_pos, "invalid environment name '" + env.key +
                                             "': use letters, digits, '_', '-' and '.'");
            }
            if (!env.value.is_mapping() && !env.value.is_null()) {
                sink_.error(env.value.pos, "expected a mapping for environment '" + env.key +
                                               "', got " + std::string(describe_kind(env.value)));
            }
        }
        return section;
    }

    void merge_overlay(node& root, node overlay) {
        if (overlay.is_mapping()) {
            auto it = std::find_if(overlay.entries.begin(), overlay.entries.end(),
                                   [](const map_entry& e) { return e.key == "environments"; });
            if (it != overlay.entries.end()) {
                sink_.error(it->key_pos,
                            "'environments' cannot appear inside an environment "
                            "overlay");
                overlay.entries.erase(it);
            }
        } else if (!overlay.is_null()) {
            sink_.error(overlay.pos, "an environment overlay must be a mapping, got " +
                                         std::string(describe_kind(overlay)));
            return;
        }
        merge_into(root, overlay);
    }

    void apply_environment(node& root, const std::optional<map_entry>& environments,
                           const sibling_overlays& siblings) {
        const std::string& env = options_.environment;
        if (!is_valid_name(env)) {
            sink_.file_error(
                0, "invalid environment name '" + env + "': use letters, digits, '_', '-' and '.'");
            return;
        }
        bool found = false;
        if (environments && environments->value.is_mapping()) {
            if (const map_entry* overlay = environments->value.find(env)) {
                found = true;
                merge_overlay(root, overlay->value);
            }
        }
        if (siblings.enabled) {
            const auto path = siblings.file_for(env);
            std::error_code ec;
            if (std::filesystem::exists(path, ec)) {
                found = true;
                std::string error;
                const auto text = read_text_file(path, error);
                const int index = static_cast<int>(files_.size());
                files_.push_back({path.string(), text.value_or(""), path.parent_path()});
                if (!text) {
                    sink_.file_error(index, "cannot read environment overlay: " + error);
                } else if (auto overlay = parse_document(files_.back(), index, sink_)) {
                    merge_overlay(root, std::move(*overlay));
                }
            }
        }
        if (found) {
            return;
        }
        std::vector<std::string> known;
        if (environments && environments->value.is_mapping()) {
            for (const auto& e : environments->value.entries) {
                known.push_back(e.key);
            }
        }
        if (siblings.enabled) {
            for (auto& name : siblings.names()) {
                if (std::find(known.begin(), known.end(), name) == known.end()) {
                    known.push_back(std::move(name));
                }
            }
        }
        std::string message = "unknown environment '" + env + "'";
        if (known.empty()) {
            message += "; no environments are defined (add an 'environments:' section";
            message += siblings.enabled
                           ? " or a file " + siblings.file_for(env).filename().string() + ")"
                           : ")";
        } else {
            message += "; defined environments: " + join_names(known) + did_you_mean(env, known);
        }
        if (environments) {
            sink_.error(environments->key_pos, message);
        } else {
            sink_.file_error(0, message);
        }
    }

    load_result finish(std::optional<node> root) {
        load_result result;
        std::optional<sluice_config> config;
        if (root) {
            decode_context ctx(files_, options_, sink_);
            config = decode_config(ctx, *root);
        }
        result.diagnostics = sink_.take(files_);
        if (result.diagnostics.empty() && config) {
            config->environment = options_.environment;
            for (const auto& f : files_) {
                config->files.emplace_back(f.name);
            }
            config->base_dir = files_.front().dir;
            result.config = std::move(config);
        }
        return result;
    }

    const load_options& options_;
    std::vector<source_file> files_;
    diagnostic_sink sink_;
};

}  // namespace

load_result load_string(std::string_view yaml, const std::string& file_name,
                        const load_options& options) {
    config_loader loader(options);
    return loader.load(std::string(yaml), file_name, sibling_overlays{});
}

load_result load_file(const std::filesystem::path& path, const load_options& options) {
    config_loader loader(options);
    std::string error;
    auto text = read_text_file(path, error);
    if (!text) {
        return loader.fail_file(path.string(), "cannot read configuration file: " + error);
    }
    sibling_overlays siblings;
    siblings.enabled = true;
    siblings.dir = path.parent_path();
    siblings.stem = path.stem().string();
    siblings.extension = path.extension().string();
    return loader.load(std::move(*text), path.string(), siblings);
}

}  // namespace sluice::config
