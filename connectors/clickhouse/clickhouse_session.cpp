#include "connectors/clickhouse/clickhouse_session.hpp"

#include <algorithm>

#include "connectors/clickhouse/clickhouse_link.hpp"

namespace sluice::connectors {

using clickhouse_detail::ch_link;
using clickhouse_detail::ch_literal;

namespace {

// Asks ClickHouse to buffer a statement's output and report its status only at the end, so an
// error raised after some rows were produced is an HTTP error, not text inside a 200 body.
constexpr const char* statement_settings = "&wait_end_of_query=1";
// The text query() keeps of a result: a sql task's outputs are a few small values.
constexpr std::size_t max_query_text = 8 * 1024 * 1024;

}  // namespace

core::result<std::string> splice_clickhouse_params(const std::string& statement,
                                                   const std::vector<sql_value>& params) {
    std::string out;
    out.reserve(statement.size() + params.size() * 16);
    std::size_t next = 0;
    const std::size_t n = statement.size();
    std::size_t i = 0;
    while (i < n) {
        const char c = statement[i];
        if (c == '\'' || c == '"' || c == '`') {
            // The same rules as the script splitter: backslash escapes and doubled quotes.
            std::size_t j = i + 1;
            while (j < n) {
                if (statement[j] == '\\') {
                    j += 2;
                    continue;
                }
                if (statement[j] == c) {
                    if (j + 1 < n && statement[j + 1] == c) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                ++j;
            }
            const std::size_t end = std::min(n, j + 1);
            out.append(statement, i, end - i);
            i = end;
        } else if (c == '-' && i + 1 < n && statement[i + 1] == '-') {
            const auto eol = statement.find('\n', i);
            const std::size_t end = eol == std::string::npos ? n : eol;
            out.append(statement, i, end - i);
            i = end;
        } else if (c == '/' && i + 1 < n && statement[i + 1] == '*') {
            const auto close = statement.find("*/", i + 2);
            const std::size_t end = close == std::string::npos ? n : close + 2;
            out.append(statement, i, end - i);
            i = end;
        } else if (c == '?') {
            if (next >= params.size()) {
                return core::error::permanent("the statement has more '?' placeholders than the " +
                                              std::to_string(params.size()) + " value(s) bound");
            }
            const sql_value& v = params[next++];
            out += v ? ch_literal(*v) : std::string("NULL");
            ++i;
        } else {
            out += c;
            ++i;
        }
    }
    if (next != params.size()) {
        return core::error::permanent("the statement has " + std::to_string(next) +
                                      " '?' placeholder(s) but " + std::to_string(params.size()) +
                                      " value(s) were bound");
    }
    return out;
}

clickhouse_session::clickhouse_session(std::unique_ptr<ch_link> link) : link_(std::move(link)) {}

clickhouse_session::~clickhouse_session() = default;

core::result<std::unique_ptr<clickhouse_session>> clickhouse_session::open(
    const config::connection_spec& spec) {
    auto link = ch_link::open(spec);
    if (!link) {
        return link.error();
    }
    auto probe = (*link)->run("SELECT 1");
    if (!probe) {
        return probe.error();
    }
    return std::unique_ptr<clickhouse_session>(new clickhouse_session(std::move(*link)));
}

core::result<void> clickhouse_session::execute(const std::string& statement,
                                               const std::vector<sql_value>& params) {
    if (canceled_) {
        return core::error::permanent("the statement was canceled");
    }
    auto sql = splice_clickhouse_params(statement, params);
    if (!sql) {
        return sql.error();
    }
    auto started = link_->start(*sql, {}, false, statement_settings);
    if (!started) {
        return started.error();
    }
    // Rows a SELECT returns are read and discarded, as on the other sessions.
    char chunk[clickhouse_detail::read_chunk_bytes / 16];
    for (;;) {
        auto n = link_->read_some(chunk, sizeof chunk);
        if (!n) {
            return n.error();
        }
        if (*n == 0) {
            return {};
        }
    }
}

core::result<sql_rows> clickhouse_session::query(const std::string& statement,
                                                 const std::vector<sql_value>& params,
                                                 std::size_t max_rows) {
    if (canceled_) {
        return core::error::permanent("the statement was canceled");
    }
    auto sql = splice_clickhouse_params(statement, params);
    if (!sql) {
        return sql.error();
    }
    // The format of a statement without a FORMAT clause: the names line, then one line per row.
    auto started = link_->start(
        *sql, {}, false, std::string(statement_settings) + "&default_format=TabSeparatedWithNames");
    if (!started) {
        return started.error();
    }
    // Lines up to the rows asked for (plus one, to tell whether there are more) are kept; the
    // rest of the body is read and dropped, as execute() does.
    std::string text;
    std::size_t lines = 0;
    char chunk[clickhouse_detail::read_chunk_bytes / 16];
    for (;;) {
        auto n = link_->read_some(chunk, sizeof chunk);
        if (!n) {
            return n.error();
        }
        if (*n == 0) {
            break;
        }
        if (lines < max_rows + 2) {
            const std::string_view got(chunk, *n);
            text.append(got);
            lines += static_cast<std::size_t>(std::count(got.begin(), got.end(), '\n'));
            if (text.size() > max_query_text) {
                return core::error::permanent("connection '" + link_->name() +
                                              "': the statement's rows are longer than " +
                                              std::to_string(max_query_text) + " bytes");
            }
        }
    }
    sql_rows out;
    std::vector<std::string_view> fields;
    std::size_t at = 0;
    bool header = true;
    while (at < text.size()) {
        auto eol = text.find('\n', at);
        if (eol == std::string::npos) {
            eol = text.size();
        }
        const std::string_view line(text.data() + at, eol - at);
        at = eol + 1;
        clickhouse_detail::split_tabs(line, fields);
        if (header) {
            header = false;
            for (std::string_view f : fields) {
                append_tsv_unescaped(out.columns.emplace_back(), f);
            }
            continue;
        }
        if (out.rows.size() >= max_rows) {
            out.more = true;
            break;
        }
        auto& row = out.rows.emplace_back();
        for (std::string_view f : fields) {
            if (f == "\\N") {
                row.emplace_back();
            } else {
                std::string value;
                append_tsv_unescaped(value, f);
                row.emplace_back(std::move(value));
            }
        }
    }
    return out;
}

void clickhouse_session::cancel() {
    canceled_ = true;
    link_->cancel();
}

}  // namespace sluice::connectors
