#include "config/sql_text.hpp"

#include <algorithm>
#include <cctype>

namespace sluice::config {

namespace {

bool ident_start(char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalpha(u) || c == '_';
}

bool ident_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || c == '_';
}

class script_lexer {
public:
    script_lexer(std::string_view script, sql_dialect dialect, bool splice_mode = false)
        : s_(script), dialect_(dialect), splice_mode_(splice_mode) {}

    // Every placeholder met so far, in order: what find_sql_placeholders returns.
    const std::vector<sql_placeholder>& placeholders() const { return placeholders_; }

    core::result<std::vector<sql_statement>> run() {
        while (i_ < s_.size()) {
            const char c = s_[i_];
            const char next = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
            if (c == '-' && next == '-' && line_comment_dash()) {
                copy_until_eol();
            } else if (c == '#' && dialect_ == sql_dialect::mysql) {
                copy_until_eol();
            } else if (c == '/' && next == '*') {
                if (auto r = block_comment(); !r) {
                    return r.error();
                }
            } else if (c == '\'' || c == '"' || c == '`' ||
                       (c == '[' && dialect_ == sql_dialect::sqlite)) {
                if (auto r = quoted(c); !r) {
                    return r.error();
                }
            } else if (c == '$' && dialect_ == sql_dialect::postgres && dollar_tag_length() > 0) {
                if (auto r = dollar_quoted(); !r) {
                    return r.error();
                }
            } else if (c == ':' && next == ':') {
                mark_code();
                current_.append("::");
                i_ += 2;
            } else if (c == ':' && ident_start(next) && (i_ == 0 || s_[i_ - 1] != ':')) {
                placeholder();
            } else if (c == ';') {
                finish_statement();
                ++i_;
            } else if (c == '?' && dialect_ == sql_dialect::clickhouse && !splice_mode_) {
                // A bare '?' would be taken for a bind parameter when values are spliced in.
                return core::error::permanent(
                    "'?' at line " + std::to_string(line_of(i_)) +
                    " of the SQL script: ClickHouse scripts use '?' for bind parameters only; "
                    "write if(cond, a, b) instead of cond ? a : b");
            } else {
                if (!std::isspace(static_cast<unsigned char>(c))) {
                    mark_code();
                }
                current_ += c;
                ++i_;
            }
        }
        finish_statement();
        return std::move(statements_);
    }

private:
    // MySQL needs a blank after "--" ("--1" is minus minus one there).
    bool line_comment_dash() const {
        if (dialect_ != sql_dialect::mysql) {
            return true;
        }
        return i_ + 2 >= s_.size() || std::isspace(static_cast<unsigned char>(s_[i_ + 2]));
    }

    void copy_until_eol() {
        const auto eol = s_.find('\n', i_);
        const std::size_t end = eol == std::string_view::npos ? s_.size() : eol;
        current_.append(s_.substr(i_, end - i_));
        i_ = end;
    }

    core::result<void> block_comment() {
        const std::size_t start = i_;
        int depth = 0;
        while (i_ < s_.size()) {
            if (s_.compare(i_, 2, "/*") == 0) {
                // Only PostgreSQL nests block comments.
                depth = dialect_ == sql_dialect::postgres ? depth + 1 : 1;
                i_ += 2;
            } else if (s_.compare(i_, 2, "*/") == 0) {
                i_ += 2;
                if (--depth == 0) {
                    current_.append(s_.substr(start, i_ - start));
                    return {};
                }
            } else {
                ++i_;
            }
        }
        return unterminated("comment", start);
    }

    // Backslash escapes: always in MySQL strings, in PostgreSQL E'...' strings, in every
    // ClickHouse string and quoted identifier.
    bool backslash_escapes(char quote) const {
        if (dialect_ == sql_dialect::clickhouse) {
            return true;
        }
        if (dialect_ == sql_dialect::mysql) {
            return quote == '\'' || quote == '"';
        }
        if (dialect_ == sql_dialect::postgres && quote == '\'' && i_ > 0) {
            const char prefix = s_[i_ - 1];
            return (prefix == 'E' || prefix == 'e') && (i_ < 2 || !ident_char(s_[i_ - 2]));
        }
        return false;
    }

    core::result<void> quoted(char quote) {
        const char close = quote == '[' ? ']' : quote;
        const bool backslash = backslash_escapes(quote);
        const std::size_t start = i_;
        std::size_t j = i_ + 1;
        while (j < s_.size()) {
            if (backslash && s_[j] == '\\') {
                j += 2;
                continue;
            }
            if (s_[j] == close) {
                // A doubled quote is an escaped quote (not for [identifiers]).
                if (quote != '[' && j + 1 < s_.size() && s_[j + 1] == close) {
                    j += 2;
                    continue;
                }
                mark_code();
                current_.append(s_.substr(start, j + 1 - start));
                i_ = j + 1;
                return {};
            }
            ++j;
        }
        return unterminated(quote == '\'' ? "string" : "quoted identifier", start);
    }

    // The length of the "$tag$" opening at i_, 0 when there is none ("$1" is a parameter).
    std::size_t dollar_tag_length() const {
        if (i_ > 0 && (ident_char(s_[i_ - 1]) || s_[i_ - 1] == '$')) {
            return 0;  // part of an identifier such as a$b
        }
        std::size_t j = i_ + 1;
        if (j < s_.size() && ident_start(s_[j])) {
            while (j < s_.size() && ident_char(s_[j])) {
                ++j;
            }
        }
        return j < s_.size() && s_[j] == '$' ? j + 1 - i_ : 0;
    }

    core::result<void> dollar_quoted() {
        const std::size_t start = i_;
        const std::string_view tag = s_.substr(i_, dollar_tag_length());
        const auto end = s_.find(tag, i_ + tag.size());
        if (end == std::string_view::npos) {
            return unterminated("dollar-quoted string " + std::string(tag), start);
        }
        mark_code();
        i_ = end + tag.size();
        current_.append(s_.substr(start, i_ - start));
        return {};
    }

    void placeholder() {
        std::size_t j = i_ + 1;
        while (j < s_.size() && ident_char(s_[j])) {
            ++j;
        }
        std::string name(s_.substr(i_ + 1, j - i_ - 1));
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        placeholders_.push_back({name, i_, j - i_});
        mark_code();
        if (dialect_ == sql_dialect::postgres) {
            const auto found = std::find(params_.begin(), params_.end(), name);
            const auto index = found - params_.begin();
            if (found == params_.end()) {
                params_.push_back(name);
            }
            current_ += "$" + std::to_string(index + 1);
        } else {
            params_.push_back(name);
            current_ += '?';
        }
        i_ = j;
    }

    void mark_code() {
        if (code_start_ == std::string_view::npos) {
            code_start_ = i_;
        }
    }

    void finish_statement() {
        if (code_start_ != std::string_view::npos) {
            const auto first = current_.find_first_not_of(" \t\r\n\f\v");
            const auto last = current_.find_last_not_of(" \t\r\n\f\v");
            sql_statement st;
            st.text = current_.substr(first, last - first + 1);
            st.params = std::move(params_);
            st.line = line_of(code_start_);
            statements_.push_back(std::move(st));
        }
        current_.clear();
        params_.clear();
        code_start_ = std::string_view::npos;
    }

    int line_of(std::size_t offset) const {
        return 1 + static_cast<int>(
                       std::count(s_.begin(), s_.begin() + static_cast<long>(offset), '\n'));
    }

    core::error unterminated(const std::string& what, std::size_t start) const {
        return core::error::permanent("unterminated " + what + " starting at line " +
                                      std::to_string(line_of(start)) + " of the SQL script");
    }

    std::string_view s_;
    sql_dialect dialect_;
    // Values are spliced into the text (a copy source query), so a '?' is no placeholder there.
    bool splice_mode_ = false;
    std::vector<sql_placeholder> placeholders_;
    std::size_t i_ = 0;
    std::string current_;
    std::vector<std::string> params_;
    std::size_t code_start_ = std::string_view::npos;
    std::vector<sql_statement> statements_;
};

}  // namespace

core::result<std::vector<sql_statement>> parse_sql_script(std::string_view script,
                                                          sql_dialect dialect) {
    return script_lexer(script, dialect).run();
}

core::result<std::vector<sql_placeholder>> find_sql_placeholders(std::string_view text,
                                                                 sql_dialect dialect) {
    script_lexer lexer(text, dialect, /*splice_mode=*/true);
    if (auto r = lexer.run(); !r) {
        return r.error();
    }
    return lexer.placeholders();
}

std::optional<sql_dialect> sql_dialect_of(connection_type type) {
    switch (type) {
        case connection_type::postgres:
            return sql_dialect::postgres;
        case connection_type::mysql:
            return sql_dialect::mysql;
        case connection_type::sqlite:
            return sql_dialect::sqlite;
        case connection_type::clickhouse:
            return sql_dialect::clickhouse;
        default:
            return std::nullopt;
    }
}

}  // namespace sluice::config
