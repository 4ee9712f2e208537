#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/document.hpp"
#include "config/enum_names.hpp"
#include "config/interpolation.hpp"
#include "config/loader.hpp"
#include "core/duration.hpp"

// Typed reads of document nodes that report every problem and keep going. A reader returns
// nullopt after reporting; callers keep their default and continue, so one run over a file finds
// every error. Internal to config/.
namespace sluice::config {

// A scalar after interpolation. When `interpolated`, `text` is secret: messages show `raw`.
struct scalar_value {
    std::string text;
    bool interpolated = false;
    const node* source = nullptr;
};

class decode_context {
public:
    decode_context(const std::vector<source_file>& files, const load_options& options,
                   diagnostic_sink& sink);

    void error(const position& pos, std::string message);
    // An error about byte `offset` of a scalar's (raw) text.
    void error_in(const node& scalar, std::size_t offset, std::string message);
    std::size_t error_count() const { return sink_.size(); }
    // Where byte `offset` of a scalar's text is, for an error reported later.
    position position_in(const node& scalar, std::size_t offset) const;

    const load_options& options() const { return options_; }
    const std::vector<source_file>& files() const { return files_; }
    // The directory relative paths written in the node's file resolve against.
    std::filesystem::path base_dir(const node& n) const;
    source_position where(const position& pos) const;

    // Every reader names the value in messages by `what` (a key such as "timeout").
    // `expected` names the type in "expected X for 'what', got a sequence".
    std::optional<scalar_value> scalar(const node& n, std::string_view what,
                                       std::string_view expected = "a string");
    std::optional<std::string> string(const node& n, std::string_view what);
    // A string that must not be empty (names, URLs, table names).
    std::optional<std::string> nonempty_string(const node& n, std::string_view what);
    std::optional<std::int64_t> integer(const node& n, std::string_view what, std::int64_t min,
                                        std::int64_t max);
    std::optional<int> small_integer(const node& n, std::string_view what, int min, int max);
    std::optional<double> number(const node& n, std::string_view what, double min, double max);
    std::optional<bool> boolean(const node& n, std::string_view what);
    // A duration >= `min`.
    std::optional<core::duration> duration(const node& n, std::string_view what,
                                           core::duration min = core::duration{0});
    // A byte size: an integer, or a number with B, KiB, MiB, GiB (or KB, MB, GB).
    std::optional<std::size_t> byte_size(const node& n, std::string_view what);
    // A sequence of strings; when `allow_single`, a lone string is a list of one.
    std::optional<std::vector<std::string>> string_list(const node& n, std::string_view what,
                                                        bool allow_single = true);
    // A string->string mapping (headers, env), in file order, plus which values were secret.
    struct string_pair {
        std::string key;
        std::string value;
        bool secret = false;
        const map_entry* entry = nullptr;
    };
    std::optional<std::vector<string_pair>> string_map(const node& n, std::string_view what);

    template <class E, std::size_t N>
    std::optional<E> enumeration(const node& n, std::string_view what,
                                 const name_table<E, N>& table) {
        const auto v = scalar(n, what);
        if (!v) {
            return std::nullopt;
        }
        std::vector<std::string_view> names;
        for (const auto& [name, value] : table) {
            if (name == v->text) {
                return value;
            }
            names.push_back(name);
        }
        report_bad_choice(*v, what, names);
        return std::nullopt;
    }

    // Reports "expected X for 'what', got Y" when `n` is not of `kind`; returns whether it is.
    bool expect(const node& n, node_kind kind, std::string_view what,
                std::string_view expected = {});

    // How a value reads in a message: "'5x'" or, for an interpolated value, "from ${env:X}".
    static std::string show(const scalar_value& v);

    // "invalid value 'x' for 'what': expected one of a, b, c; did you mean 'b'?".
    void report_bad_choice(const scalar_value& v, std::string_view what,
                           std::span<const std::string_view> valid);

private:
    const std::vector<source_file>& files_;
    const load_options& options_;
    diagnostic_sink& sink_;
    file_cache file_cache_;
    std::size_t interpolated_bytes_ = 0;  // against max_interpolated_bytes
};

// One mapping being decoded: checks its keys against the allowed ones (unknown keys reported
// with a did-you-mean) and hands out values.
class map_reader {
public:
    // `what` names the mapping in messages ("job 'etl'"); `owner` is where "missing key" errors
    // point (the key that introduced the mapping). A non-mapping is reported and reads as empty.
    map_reader(decode_context& ctx, const node& n, std::string what, position owner);

    bool valid() const { return node_ != nullptr; }
    const std::string& what() const { return what_; }
    const position& owner() const { return owner_; }
    const std::vector<map_entry>& entries() const;

    // Reports every key not in `allowed`.
    void allow(std::initializer_list<std::string_view> allowed);
    void allow(std::span<const std::string_view> allowed);

    const node* get(std::string_view key) const;
    const map_entry* entry(std::string_view key) const;
    // Reports "missing required key" at the owner when absent.
    const node* require(std::string_view key) const;

private:
    decode_context& ctx_;
    const node* node_ = nullptr;
    std::string what_;
    position owner_;
};

// The candidate closest to `word` by edit distance, when close enough to be a likely typo.
std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates);
std::string join_names(std::span<const std::string_view> names);
std::string join_names(const std::vector<std::string>& names);
// "; did you mean 'x'?" or "" when nothing is close.
std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates);
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// Names of jobs, tasks, pools, connections, params: letters, digits, '_', '-', '.'.
bool is_valid_name(std::string_view name);
// The items of a list that may also be written as a lone scalar ("a" or [a, b]), each with its
// position for errors.
std::vector<const node*> list_items(const node& n);
// Store variable keys: 1-128 of letters, digits, '_', '-', '.' (as the variables API).
bool is_variable_key(std::string_view key);
// Parameter and environment names: [A-Za-z_][A-Za-z0-9_]*.
bool is_identifier(std::string_view name);

}  // namespace sluice::config
