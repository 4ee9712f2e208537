#include "connectors/http/http_json_source.hpp"

#include <nlohmann/json.hpp>

#include "connectors/connection_url.hpp"
#include "connectors/document_rows.hpp"
#include "connectors/http_client.hpp"
#include "connectors/text_codec.hpp"

namespace sluice::connectors {

namespace {

using json = nlohmann::ordered_json;

// One page is parsed whole: this bounds its size.
constexpr std::size_t max_page_bytes = 64 * 1024 * 1024;

bool same_origin(const http_endpoint& a, const http_endpoint& b) {
    return a.tls == b.tls && a.port == b.port && a.host == b.host;
}

std::string origin_of(const http_endpoint& e) {
    return std::string(e.tls ? "https://" : "http://") + e.host + ":" + std::to_string(e.port);
}

// A server that keeps handing out next links is stopped here.
constexpr int max_pages = 1000000;
constexpr std::chrono::milliseconds io_timeout{60000};

std::string with_parameter(const std::string& target, const std::string& name,
                           const std::string& value) {
    return target + (target.find('?') == std::string::npos ? "?" : "&") + url_encode(name) + "=" +
           url_encode(value);
}

class http_json_reader final : public row_reader {
public:
    http_json_reader(config::connection_spec spec, http_location first, read_request request)
        : spec_(std::move(spec)),
          first_(first),
          location_(std::move(first)),
          request_(std::move(request)) {}

    core::result<void> open() {
        auto page = fetch();
        if (!page) {
            return page.error();
        }
        if (!records_.empty()) {
            file_columns_ = schema_of_object(records_.front(), request_.expected);
        } else if (request_.expected) {
            file_columns_ = *request_.expected;
        }
        if (request_.columns.empty()) {
            for (std::size_t i = 0; i < file_columns_.columns.size(); ++i) {
                of_.push_back(i);
            }
        } else {
            for (const auto& name : request_.columns) {
                auto i = file_columns_.index_of(name);
                if (!i) {
                    return core::error::permanent("connection '" + spec_.name +
                                                  "': the records have no field '" + name + "'");
                }
                of_.push_back(*i);
            }
        }
        for (auto i : of_) {
            output_.columns.push_back(file_columns_.columns[i]);
        }
        return {};
    }

    const connectors::schema& schema() const override { return output_; }

    core::result<bool> next(row_batch& out) override {
        out.reset(output_.columns.size());
        row_.reset(file_columns_.columns.size());
        while (!request_.limits.reached(out)) {
            if (request_.limit && produced_ >= *request_.limit) {
                break;
            }
            if (index_ == records_.size()) {
                if (!next_target_) {
                    break;
                }
                auto page = fetch();
                if (!page) {
                    out.clear();
                    return page.error();
                }
                continue;
            }
            const json& record = records_[index_++];
            if (!record.is_object()) {
                out.clear();
                return core::error::permanent("connection '" + spec_.name + "': page " +
                                              std::to_string(pages_) +
                                              " holds a record that is not a JSON object");
            }
            row_.clear();
            for (const auto& c : file_columns_.columns) {
                const auto it = record.find(c.name);
                if (it == record.end()) {
                    row_.add_null();
                } else {
                    add_json_value(row_, *it, c.type);
                }
            }
            if (!passes_after(request_, file_columns_, row_, 0)) {
                continue;
            }
            for (auto i : of_) {
                out.add_optional(row_.value(0, i));
            }
            ++produced_;
        }
        return !out.empty();
    }

private:
    // GETs the next page into records_ and works out the one after it.
    core::result<void> fetch() {
        if (++pages_ > max_pages) {
            return core::error::permanent("connection '" + spec_.name + "': more than " +
                                          std::to_string(max_pages) + " pages");
        }
        if (next_target_) {
            location_.target = *next_target_;
        }
        if (!client_ || client_->endpoint().host != location_.endpoint.host ||
            client_->endpoint().port != location_.endpoint.port ||
            client_->endpoint().tls != location_.endpoint.tls) {
            client_ = std::make_unique<http_client>(
                location_.endpoint,
                std::chrono::duration_cast<std::chrono::milliseconds>(spec_.connect_timeout),
                io_timeout);
        }
        // The connection's headers and credentials go to its own origin only: a next link may
        // lead elsewhere (allow_cross_origin), and that server gets neither.
        const bool home = same_origin(location_.endpoint, first_.endpoint);
        std::vector<std::pair<std::string, std::string>> headers;
        if (home) {
            headers = spec_.headers;
        }
        headers.emplace_back("Accept", "application/json");
        if (home && first_.authorization) {
            headers.emplace_back("Authorization", *first_.authorization);
        }
        const std::string where = "connection '" + spec_.name + "': GET " +
                                  (location_.endpoint.tls ? "https://" : "http://") +
                                  location_.endpoint.host + ":" +
                                  std::to_string(location_.endpoint.port) +
                                  location_.target.substr(0, location_.target.find('?'));
        auto head = client_->send("GET", location_.target, headers, {});
        if (!head) {
            return core::error{head.error().cls, where + ": " + head.error().message};
        }
        auto body = client_->read_body(max_page_bytes);
        if (!body) {
            return core::error{body.error().cls, where + ": " + body.error().message};
        }
        if (head->status < 200 || head->status > 299) {
            const bool retry = head->status >= 500 || head->status == 429 || head->status == 408;
            return core::error{retry ? core::error_class::transient : core::error_class::permanent,
                               where + ": HTTP status " + std::to_string(head->status) + ": " +
                                   body->substr(0, 512)};
        }
        auto parsed = parse_document(*body);
        if (!parsed) {
            return core::error::permanent(
                where + ": the response is not usable JSON: " + parsed.error().message);
        }
        json page = std::move(*parsed);
        json rows;
        if (request_.records_field) {
            const auto it = page.find(*request_.records_field);
            if (!page.is_object() || it == page.end() || !it->is_array()) {
                return core::error::permanent(where + ": the response has no array field '" +
                                              *request_.records_field + "'");
            }
            rows = std::move(*it);
        } else if (page.is_array()) {
            rows = std::move(page);
        } else {
            return core::error::permanent(where +
                                          ": the response is not an array (set the records field)");
        }
        next_target_.reset();
        if (request_.next_page_field && page.is_object()) {
            const auto it = page.find(*request_.next_page_field);
            if (it != page.end() && !it->is_null()) {
                const std::string next = it->is_string() ? it->get<std::string>() : it->dump();
                if (!next.empty()) {
                    auto target = resolve_next(next);
                    if (!target) {
                        return target.error();
                    }
                    next_target_ = *target;
                }
            }
        }
        records_.clear();
        for (auto& r : rows) {
            records_.push_back(std::move(r));
        }
        index_ = 0;
        return {};
    }

    // A next link (absolute url or path) or a cursor token for the first page's url. The server
    // writes it: a control character or space (which would split the request line or add a
    // header) is refused, and so is another origin unless the connection allows it.
    core::result<std::string> resolve_next(const std::string& next) {
        for (const char c : next) {
            if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
                return core::error::permanent("connection '" + spec_.name +
                                              "': the next-page link holds a control character "
                                              "or a space; refused");
            }
        }
        if (next.rfind("http://", 0) == 0 || next.rfind("https://", 0) == 0) {
            auto loc = locate_http_url(next);
            if (!loc) {
                return loc.error();
            }
            if (!same_origin(loc->endpoint, first_.endpoint) && !spec_.allow_cross_origin) {
                return core::error::permanent(
                    "connection '" + spec_.name +
                    "': the next-page link leads to another origin (" + origin_of(loc->endpoint) +
                    ", not " + origin_of(first_.endpoint) +
                    "); set allow_cross_origin: true on the connection to follow it (its headers "
                    "and credentials are not sent there)");
            }
            location_.endpoint = loc->endpoint;
            return loc->target;
        }
        if (next.front() == '/') {
            return next;
        }
        if (next.front() == '?') {
            location_.endpoint = first_.endpoint;
            return first_.target.substr(0, first_.target.find('?')) + next;
        }
        location_.endpoint = first_.endpoint;
        return with_parameter(first_.target, request_.cursor_parameter, next);
    }

    config::connection_spec spec_;
    http_location first_;
    http_location location_;
    read_request request_;
    std::unique_ptr<http_client> client_;
    std::vector<json> records_;
    std::size_t index_ = 0;
    std::optional<std::string> next_target_;
    int pages_ = 0;
    connectors::schema file_columns_;
    std::vector<std::size_t> of_;
    connectors::schema output_;
    row_batch row_;
    std::uint64_t produced_ = 0;
};

class http_json_source final : public source {
public:
    explicit http_json_source(config::connection_spec spec) : spec_(std::move(spec)) {}

    core::result<schema> describe(const read_request& request) override {
        auto reader = open_reader(request);
        if (!reader) {
            return reader.error();
        }
        return (*reader)->schema();
    }

    core::result<std::unique_ptr<row_reader>> read(const read_request& request) override {
        auto reader = open_reader(request);
        if (!reader) {
            return reader.error();
        }
        return std::unique_ptr<row_reader>(std::move(*reader));
    }

    core::result<std::optional<std::vector<std::optional<std::string>>>> max_cursor(
        const read_request&, const std::vector<std::string>&) override {
        // Reading every page to find a maximum would cost a full extract: lag is unknown.
        return std::optional<std::vector<std::optional<std::string>>>();
    }

    void cancel() override {}

private:
    core::result<std::unique_ptr<http_json_reader>> open_reader(const read_request& request) {
        if (request.query) {
            return core::error::permanent("connection '" + spec_.name +
                                          "': an HTTP source reads a path, not a query");
        }
        std::string url = spec_.url;
        if (request.table && !request.table->empty()) {
            const bool slash_end = !url.empty() && url.back() == '/';
            const bool slash_start = request.table->front() == '/';
            url += slash_end && slash_start   ? request.table->substr(1)
                   : slash_end || slash_start ? *request.table
                                              : "/" + *request.table;
        }
        auto loc = locate_http_url(url);
        if (!loc) {
            return core::error{loc.error().cls,
                               "connection '" + spec_.name + "': " + loc.error().message};
        }
        auto reader = std::make_unique<http_json_reader>(spec_, std::move(*loc), request);
        auto opened = reader->open();
        if (!opened) {
            return opened.error();
        }
        return reader;
    }

    config::connection_spec spec_;
};

}  // namespace

core::result<std::unique_ptr<source>> open_http_json_source(const config::connection_spec& spec) {
    return std::unique_ptr<source>(std::make_unique<http_json_source>(spec));
}

}  // namespace sluice::connectors
