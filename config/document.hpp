#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.hpp"

// The configuration as a tree of our own nodes, converted from yaml-cpp once: every node knows
// its file and position (overlays mix two files), duplicate keys are found while converting
// (yaml-cpp keeps both silently), and aliases are expanded under a size bound. Internal.
namespace sluice::config {

enum class node_kind { null, scalar, sequence, mapping };
enum class scalar_style { plain, single_quoted, double_quoted, block };

// Where a node starts: the index of its file in the load's file list, a 1-based line and byte
// column, and the byte offset of the node's first character in that file.
struct position {
    int file = 0;
    int line = 1;
    int column = 1;
    std::size_t offset = 0;
};

struct map_entry;

struct node {
    node_kind kind = node_kind::null;
    std::string text;  // scalar text as YAML decoded it, before interpolation
    scalar_style style = scalar_style::plain;
    position pos;
    std::vector<node> items;         // sequence
    std::vector<map_entry> entries;  // mapping, in file order, keys unique

    bool is_mapping() const { return kind == node_kind::mapping; }
    bool is_sequence() const { return kind == node_kind::sequence; }
    bool is_scalar() const { return kind == node_kind::scalar; }
    bool is_null() const { return kind == node_kind::null; }
    const map_entry* find(std::string_view key) const;
    map_entry* find(std::string_view key);
};

struct map_entry {
    std::string key;
    position key_pos;
    node value;
};

struct source_file {
    std::string name;           // as printed in diagnostics
    std::string text;           // the whole file, for locating fields inside scalars
    std::filesystem::path dir;  // base of relative paths found in this file
};

// Thrown by diagnostic_sink once max_diagnostics errors are held: the load stops there, as a
// compiler's error limit does. Aliases can multiply a handful of mistakes into millions of
// messages; nobody reads past the first thousand.
struct diagnostic_limit_reached {};

inline constexpr std::size_t max_diagnostics = 1000;

// Errors found while loading, kept with their file index so that they sort base-file-first.
class diagnostic_sink {
public:
    // Throws diagnostic_limit_reached when this is error number max_diagnostics + 1.
    void error(const position& pos, std::string message);
    void file_error(int file, std::string message);  // line 0: about the file as a whole
    bool empty() const { return entries_.empty(); }
    std::size_t size() const { return entries_.size(); }
    // Sorted by file index, line, column (stable), exact duplicates dropped.
    std::vector<diagnostic> take(const std::vector<source_file>& files);

private:
    struct entry {
        position pos;
        bool whole_file = false;
        std::string message;
    };
    std::vector<entry> entries_;
};

// Bounds that keep hostile input (alias bombs, self-referencing aliases, deep nesting) cheap.
inline constexpr std::size_t max_document_nodes = 250'000;
inline constexpr int max_document_depth = 64;
inline constexpr std::size_t max_document_bytes = 32 * 1024 * 1024;  // keys and scalars

// Parses the first document of `file` (a second document is an error). Returns nullopt after
// reporting a YAML syntax error; an empty file gives a null node.
std::optional<node> parse_document(const source_file& file, int file_index, diagnostic_sink& sink);

// Deep merge: mappings merge key by key (recursively), anything else in `overlay` replaces the
// value in `base`. A null overlay changes nothing.
void merge_into(node& base, const node& overlay);

// The position of byte `offset` of a scalar's decoded text, mapped through quotes and escapes
// back to the file, and through the indentation of a literal block scalar (`|`). Falls back to
// the scalar's start where the mapping is not exact (folded `>` blocks, multi-line flow
// scalars).
position position_in_scalar(const std::vector<source_file>& files, const node& scalar,
                            std::size_t offset);

// "a string", "a sequence", "a mapping", "null": how a value reads in "got ..." messages.
std::string_view describe_kind(const node& n);

}  // namespace sluice::config
