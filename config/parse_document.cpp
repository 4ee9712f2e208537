// The YAML text to our node tree in one pass over yaml-cpp's parser events. yaml-cpp's own
// node graph (YAML::Load) is never built: on a 10,000-job file building it, converting it and
// freeing it was most of `sluice serve`'s startup and left the heap grown
// (docs/benchmarks.md, "Service").

#include <algorithm>
#include <map>
#include <sstream>
#include <unordered_map>
#include <utility>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "config/document.hpp"
#include "config/root_comma.hpp"

namespace sluice::config {
namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

// What a node's first character says about how its scalar was written.
scalar_style style_at(const std::string& s, std::size_t i) {
    if (i >= s.size()) {
        return scalar_style::plain;
    }
    switch (s[i]) {
        case '"':
            return scalar_style::double_quoted;
        case '\'':
            return scalar_style::single_quoted;
        case '|':
        case '>':
            return scalar_style::block;
        default:
            return scalar_style::plain;
    }
}

// An error found while building, held until the whole text has parsed: a syntax error anywhere
// makes the file one "invalid YAML" diagnostic and nothing else.
struct held_error {
    position pos;
    std::string message;
};

// Builds the tree from parser events. Every node knows its position, duplicate keys are errors,
// "<<" merge keys are applied, and an alias repeats a copy of its anchor's finished tree under
// the bounds of document.hpp (values, text, depth), counted as if the alias were written out.
class tree_builder : public YAML::EventHandler {
public:
    tree_builder(const source_file& file, int file_index, const position& origin)
        : file_(file), file_index_(file_index), origin_(origin) {
        root_.pos = origin;
    }

    node take_root() { return std::move(root_); }
    const std::vector<held_error>& errors() const { return errors_; }

    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override;
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override;
    void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  const std::string& value) override;
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        start(mark, anchor, node_kind::sequence);
    }
    void OnSequenceEnd() override { end(); }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value) override {
        start(mark, anchor, node_kind::mapping);
    }
    void OnMapEnd() override { end(); }

private:
    // Where the next node goes: the document's root, a sequence item, a mapping key, a mapping
    // value, or nowhere (the value of a rejected key).
    enum class slot { root, item, key, value, dropped };
    struct site {
        slot where = slot::root;
        int depth = 0;
        position fallback;  // a node without a mark of its own (null) is reported here
    };

    // A sequence or mapping under construction.
    struct frame {
        enum class expect { key, value, dropped_value };
        node value;
        int depth = 0;
        YAML::anchor_t anchor = YAML::NullAnchor;
        std::size_t count_before = 0;  // count_ before this node
        std::size_t bytes_before = 0;
        int deepest = 0;  // the depth of the deepest node below, aliases expanded
        // Mappings only.
        expect next = expect::key;
        std::string key;
        position key_pos;
        bool merge_key = false;
        std::map<std::string, int, std::less<>> first_line;
        std::vector<node> merges;  // values of "<<" merge keys, applied after explicit keys
    };

    // What an alias repeats, and what repeating it costs against the bounds.
    struct anchored {
        node value;
        position mark;          // the anchored node's own mark (where an alias key is reported)
        bool plain = false;     // a plain scalar: "<<" written through an alias still merges
        std::size_t count = 0;  // values, aliases inside expanded
        std::size_t bytes = 0;  // keys and scalars, aliases inside expanded
        int height = 0;         // levels below the node
        bool complete = false;  // false while its own subtree is being built
        bool defined = false;   // false: the anchor was on a value that was dropped
    };

    site next_site() const {
        if (stack_.empty()) {
            return {slot::root, 0, origin_};
        }
        const frame& f = stack_.back();
        if (f.value.is_sequence()) {
            return {slot::item, f.depth + 1, f.value.pos};
        }
        switch (f.next) {
            case frame::expect::key:
                return {slot::key, f.depth, f.value.pos};
            case frame::expect::value:
                return {slot::value, f.depth + 1, f.key_pos};
            case frame::expect::dropped_value:
                break;
        }
        return {slot::dropped, 0, f.value.pos};
    }

    void error(const position& pos, std::string message) {
        if (errors_.size() <= max_diagnostics) {  // the sink stops the load after that many
            errors_.push_back({pos, std::move(message)});
        }
    }

    position at(const YAML::Mark& m, const position& fallback) const {
        if (m.is_null() || m.line < 0 || m.column < 0 || m.pos < 0) {
            return fallback;
        }
        return position{file_index_, m.line + 1, m.column + 1, static_cast<std::size_t>(m.pos)};
    }

    // yaml-cpp marks a tagged or anchored scalar at its tag/anchor: move to the scalar itself
    // (when it is on the same line).
    position scalar_start(position pos) const {
        const std::string& s = file_.text;
        std::size_t i = pos.offset;
        while (i < s.size() && (s[i] == '!' || s[i] == '&')) {
            while (i < s.size() && !is_blank(s[i]) && s[i] != '\n' && s[i] != '\r') {
                ++i;
            }
            while (i < s.size() && is_blank(s[i])) {
                ++i;
            }
        }
        if (i >= s.size() || s[i] == '\n' || s[i] == '\r') {
            i = pos.offset;
        }
        pos.column += static_cast<int>(i - pos.offset);
        pos.offset = i;
        return pos;
    }

    // Aliases repeat text without repeating it in the file: bound the expanded total.
    bool within_byte_budget(std::size_t size, const position& pos) {
        bytes_ += size;
        if (bytes_ <= max_document_bytes) {
            return true;
        }
        if (!too_long_) {
            too_long_ = true;
            error(pos, "the document holds more than " +
                           std::to_string(max_document_bytes / (1024 * 1024)) +
                           " MiB of text once aliases are expanded");
        }
        return false;
    }

    void too_deep(const position& pos) {
        if (!too_deep_) {
            too_deep_ = true;
            error(pos, "values are nested more than " + std::to_string(max_document_depth) +
                           " levels deep (or an alias refers to itself)");
        }
    }

    bool within_value_budget(const position& pos) {
        if (count_ <= max_document_nodes) {
            return true;
        }
        if (!too_big_) {
            too_big_ = true;
            error(pos, "the document holds more than " + std::to_string(max_document_nodes) +
                           " values once aliases are expanded");
        }
        return false;
    }

    // A value may be kept: within the depth bound and the value bound. Otherwise it becomes
    // null at the site's position and its subtree is skipped.
    bool admit(const site& s) {
        if (s.depth > max_document_depth) {
            too_deep(s.fallback);
            return false;
        }
        ++count_;
        return within_value_budget(s.fallback);
    }

    anchored* anchor_of(YAML::anchor_t id) {
        return id != YAML::NullAnchor && id < anchors_.size() && anchors_[id].defined
                   ? &anchors_[id]
                   : nullptr;
    }

    anchored& new_anchor(YAML::anchor_t id) {
        if (anchors_.size() <= id) {
            anchors_.resize(id + 1);
        }
        anchors_[id] = anchored{};
        anchors_[id].defined = true;
        return anchors_[id];
    }

    node null_at(const position& pos) const {
        node n;
        n.pos = pos;
        return n;
    }

    void deliver(const site& s, node value, int deepest);
    void accept_key(frame& f, const std::string& key, const position& key_pos, bool plain);
    void reject_key(frame& f, const position& key_pos, bool is_null);
    void start(const YAML::Mark& mark, YAML::anchor_t anchor, node_kind kind);
    void end();

    const source_file& file_;
    int file_index_;
    position origin_;
    node root_;
    std::vector<frame> stack_;
    std::vector<anchored> anchors_;  // by yaml-cpp's anchor number (1, 2, ... per document)
    int skip_ = 0;                   // > 0: inside a subtree that is dropped
    std::vector<held_error> errors_;
    std::size_t count_ = 0;
    std::size_t bytes_ = 0;
    bool too_deep_ = false;
    bool too_big_ = false;
    bool too_long_ = false;
};

void tree_builder::deliver(const site& s, node value, int deepest) {
    if (s.where == slot::root) {
        root_ = std::move(value);
        return;
    }
    frame& f = stack_.back();
    f.deepest = std::max(f.deepest, deepest);
    if (s.where == slot::item) {
        f.value.items.push_back(std::move(value));
        return;
    }
    f.next = frame::expect::key;
    if (f.merge_key) {
        f.merges.push_back(std::move(value));
        return;
    }
    f.value.entries.push_back(map_entry{std::move(f.key), f.key_pos, std::move(value)});
}

void tree_builder::accept_key(frame& f, const std::string& key, const position& key_pos,
                              bool plain) {
    f.next = frame::expect::dropped_value;
    if (!within_byte_budget(key.size(), key_pos)) {
        return;
    }
    const auto [seen, inserted] = f.first_line.emplace(key, key_pos.line);
    if (!inserted) {
        error(key_pos, "duplicate key '" + key + "' (first defined at line " +
                           std::to_string(seen->second) + ")");
        return;
    }
    f.next = frame::expect::value;
    f.key = key;
    f.key_pos = key_pos;
    f.merge_key = plain && key == "<<";
}

void tree_builder::reject_key(frame& f, const position& key_pos, bool is_null) {
    error(key_pos, "a mapping key must be a plain string, not " +
                       std::string(is_null ? "null" : "a collection"));
    f.next = frame::expect::dropped_value;
}

void tree_builder::OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (skip_ > 0) {
        return;
    }
    const site s = next_site();
    switch (s.where) {
        case slot::dropped:
            stack_.back().next = frame::expect::key;
            return;
        case slot::key:
            reject_key(stack_.back(), at(mark, s.fallback), true);
            return;
        default:
            break;
    }
    if (admit(s) && anchor != YAML::NullAnchor) {
        anchored& a = new_anchor(anchor);
        a.value = null_at(s.fallback);
        a.mark = at(mark, s.fallback);
        a.count = 1;
        a.complete = true;
    }
    deliver(s, null_at(s.fallback), s.depth);
}

void tree_builder::OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                            const std::string& value) {
    if (skip_ > 0) {
        return;
    }
    const site s = next_site();
    if (s.where == slot::dropped) {
        stack_.back().next = frame::expect::key;
        return;
    }
    const position raw = at(mark, s.fallback);
    node n;
    n.kind = node_kind::scalar;
    n.pos = scalar_start(raw);
    n.style = style_at(file_.text, n.pos.offset);
    if (anchor != YAML::NullAnchor) {
        anchored& a = new_anchor(anchor);
        a.mark = raw;
        a.plain = tag == "?";
        a.count = 1;
        a.bytes = value.size();
        a.complete = true;
        a.value = n;
        a.value.text = value;
    }
    if (s.where == slot::key) {
        accept_key(stack_.back(), value, raw, tag == "?");
        return;
    }
    if (!admit(s) || !within_byte_budget(value.size(), s.fallback)) {
        deliver(s, null_at(s.fallback), s.depth);
        return;
    }
    n.text = value;
    deliver(s, std::move(n), s.depth);
}

void tree_builder::OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (skip_ > 0) {
        return;
    }
    const site s = next_site();
    if (s.where == slot::dropped) {
        stack_.back().next = frame::expect::key;
        return;
    }
    anchored* a = anchor_of(anchor);
    if (s.where == slot::key) {
        frame& f = stack_.back();
        if (a != nullptr && a->complete && a->value.is_scalar()) {
            accept_key(f, a->value.text, a->mark, a->plain);
        } else {
            reject_key(f, a != nullptr ? a->mark : at(mark, s.fallback),
                       a == nullptr || (a->complete && a->value.is_null()));
        }
        return;
    }
    // An anchor inside a dropped subtree: its error is already reported.
    if (a == nullptr) {
        deliver(s, null_at(s.fallback), s.depth);
        return;
    }
    // Still open: the alias refers to a node that contains it, which would expand forever.
    if (!a->complete || s.depth + a->height > max_document_depth) {
        too_deep(s.fallback);
        deliver(s, null_at(s.fallback), s.depth);
        return;
    }
    count_ += a->count;
    if (!within_value_budget(s.fallback) || !within_byte_budget(a->bytes, s.fallback)) {
        deliver(s, null_at(s.fallback), s.depth);
        return;
    }
    node copy = a->value;
    if (copy.is_null()) {
        copy.pos = s.fallback;
    }
    deliver(s, std::move(copy), s.depth + a->height);
}

void tree_builder::start(const YAML::Mark& mark, YAML::anchor_t anchor, node_kind kind) {
    if (skip_ > 0) {
        ++skip_;
        return;
    }
    const site s = next_site();
    switch (s.where) {
        case slot::dropped:
            stack_.back().next = frame::expect::key;
            skip_ = 1;
            return;
        case slot::key:
            reject_key(stack_.back(), at(mark, s.fallback), false);
            skip_ = 1;
            return;
        default:
            break;
    }
    if (!admit(s)) {
        deliver(s, null_at(s.fallback), s.depth);
        skip_ = 1;
        return;
    }
    frame f;
    f.value.kind = kind;
    f.value.pos = at(mark, s.fallback);
    f.depth = s.depth;
    f.deepest = s.depth;
    f.anchor = anchor;
    f.count_before = count_ - 1;
    f.bytes_before = bytes_;
    if (anchor != YAML::NullAnchor) {
        new_anchor(anchor).mark = f.value.pos;
    }
    stack_.push_back(std::move(f));
}

// YAML merge keys: keys already present win over merged ones, earlier merges over later.
void apply_merge(node& out, const node& source) {
    for (const auto& e : source.entries) {
        if (out.find(e.key) == nullptr) {
            out.entries.push_back(e);
        }
    }
}

void tree_builder::end() {
    if (skip_ > 0) {
        --skip_;
        return;
    }
    frame f = std::move(stack_.back());
    stack_.pop_back();
    for (const node& m : f.merges) {
        if (m.is_mapping()) {
            apply_merge(f.value, m);
        } else if (m.is_sequence() && std::all_of(m.items.begin(), m.items.end(),
                                                  [](const node& n) { return n.is_mapping(); })) {
            for (const node& item : m.items) {
                apply_merge(f.value, item);
            }
        } else {
            error(m.pos, "a '<<' merge key needs a mapping or a list of mappings");
        }
    }
    if (anchored* a = anchor_of(f.anchor)) {
        a->value = f.value;
        a->count = count_ - f.count_before;
        a->bytes = bytes_ - f.bytes_before;
        a->height = f.deepest - f.depth;
        a->complete = true;
    }
    deliver(next_site(), std::move(f.value), f.deepest);
}

// The documents after the first are not built: the first node's mark says where the second
// starts.
class later_documents : public YAML::EventHandler {
public:
    std::optional<YAML::Mark> second;  // the root of the second document

    // Whether the document just handled was empty or a lone null: YAML::LoadAll, which this
    // loop replaces, stopped there, and at some malformed input yaml-cpp returns the same null
    // document for ever without reading on (found by config_fuzz).
    bool null_document() const { return !root_seen_ || null_root_; }

    void OnDocumentStart(const YAML::Mark&) override {
        root_seen_ = false;
        null_root_ = false;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { root(mark, true); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { root(mark, false); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  const std::string&) override {
        root(mark, false);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        root(mark, false);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        root(mark, false);
    }
    void OnMapEnd() override {}

private:
    void root(const YAML::Mark& mark, bool null) {
        if (root_seen_) {
            return;  // a node inside the root
        }
        root_seen_ = true;
        null_root_ = null;
        if (!null && !second) {
            second = mark;
        }
    }
    bool root_seen_ = false;
    bool null_root_ = false;
};

}  // namespace

std::optional<node> parse_document(const source_file& file, int file_index, diagnostic_sink& sink) {
    position origin{file_index, 1, 1, 0};
    if (const auto comma = find_root_comma(file.text, file_index)) {
        sink.error(*comma, "invalid YAML: a ',' cannot start a value outside [ ] or { }");
        return std::nullopt;
    }
    try {
        std::istringstream in(file.text);
        YAML::Parser parser(in);
        tree_builder builder(file, file_index, origin);
        if (!parser.HandleNextDocument(builder)) {
            return builder.take_root();  // no document: a null node
        }
        // Every document is parsed, as YAML::LoadAll did (up to the first null one): a syntax
        // error in any is reported.
        later_documents rest;
        while (parser.HandleNextDocument(rest) && !rest.null_document()) {
        }
        if (rest.second) {
            const YAML::Mark& m = *rest.second;
            position second = origin;
            if (!m.is_null() && m.line >= 0) {
                second = position{file_index, m.line + 1, m.column + 1,
                                  static_cast<std::size_t>(std::max(m.pos, 0))};
            }
            sink.error(second,
                       "a configuration file holds one YAML document, but a second one starts "
                       "here (remove the '---' separator)");
        }
        for (const held_error& e : builder.errors()) {
            sink.error(e.pos, e.message);
        }
        return builder.take_root();
    } catch (const YAML::Exception& e) {
        position pos = origin;
        if (!e.mark.is_null() && e.mark.line >= 0 && e.mark.column >= 0) {
            pos.line = e.mark.line + 1;
            pos.column = e.mark.column + 1;
        }
        sink.error(pos, "invalid YAML: " + e.msg);
        return std::nullopt;
    }
}

}  // namespace sluice::config
