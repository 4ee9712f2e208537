// Reading one CSV or JSON Lines file as rows (docs/etl.md, files). Split from file_connector.cpp,
// which opens files by name and writes them.
#include "connectors/files/file_reader.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "connectors/document_rows.hpp"
#include "connectors/files/csv_format.hpp"
#include "connectors/text_codec.hpp"

namespace sluice::connectors {

core::error file_io_error(const std::string& connection, const std::string& what,
                          const std::filesystem::path& path) {
    return core::error::transient("connection '" + connection + "': " + what + " '" +
                                  path.string() + "': " + std::strerror(errno));
}

namespace {

using json = nlohmann::ordered_json;

// One JSON line longer than this is refused.
constexpr std::size_t max_record_bytes = csv_splitter::max_record_bytes;

// Maps the selected columns of a file to their positions in it.
struct projection {
    schema file_columns;          // every column of the file, typed
    std::vector<std::size_t> of;  // output column i comes from file column of[i]
    schema output;
};

core::result<projection> project(schema file_columns, const read_request& request) {
    projection p;
    p.file_columns = std::move(file_columns);
    for (const auto& e : request.expressions) {
        if (e) {
            return core::error::permanent(
                "file sources do not evaluate column expressions; list plain column names");
        }
    }
    if (request.columns.empty()) {
        for (std::size_t i = 0; i < p.file_columns.columns.size(); ++i) {
            p.of.push_back(i);
        }
    } else {
        for (const auto& name : request.columns) {
            auto i = p.file_columns.index_of(name);
            if (!i) {
                return core::error::permanent("the file has no column '" + name + "'");
            }
            p.of.push_back(*i);
        }
    }
    for (auto i : p.of) {
        p.output.columns.push_back(p.file_columns.columns[i]);
    }
    return p;
}

column typed_column(const std::string& name, const std::optional<schema>& expected) {
    if (expected) {
        if (auto i = expected->index_of(name)) {
            return expected->columns[*i];
        }
    }
    column c;
    c.name = name;
    c.type = column_type::text;
    return c;
}

class file_reader final : public row_reader {
public:
    file_reader(std::string connection, std::filesystem::path path, config::file_format format,
                const read_request& request)
        : connection_(std::move(connection)),
          path_(std::move(path)),
          format_(format),
          request_(request),
          in_(path_, std::ios::binary),
          csv_(in_) {}

    core::result<void> open() {
        if (!in_) {
            return file_io_error(connection_, "cannot open", path_);
        }
        connectors::schema file_columns;
        if (format_ == config::file_format::csv) {
            std::vector<csv_splitter::field> header;
            auto got = csv_.next(header);
            if (!got) {
                return with_path(got.error());
            }
            for (const auto& f : header) {
                file_columns.columns.push_back(
                    typed_column(std::string(f.text), request_.expected));
            }
        } else {
            // The first object names the columns; it is parsed again as the first row.
            auto got = next_object();
            if (!got) {
                return got.error();
            }
            if (*got) {
                file_columns = schema_of_object(object_, request_.expected);
                pending_object_ = true;
            }
        }
        auto p = project(std::move(file_columns), request_);
        if (!p) {
            return with_path(p.error());
        }
        projection_ = std::move(*p);
        return {};
    }

    const connectors::schema& schema() const override { return projection_.output; }

    core::result<bool> next(row_batch& out) override {
        const std::size_t width = projection_.file_columns.columns.size();
        out.reset(projection_.output.columns.size());
        row_.reset(width);
        while (!done_ && !request_.limits.reached(out)) {
            if (request_.limit && produced_ >= *request_.limit) {
                done_ = true;
                break;
            }
            row_.clear();
            auto got = format_ == config::file_format::csv ? next_csv_row() : next_json_row();
            if (!got) {
                out.clear();
                return got.error();
            }
            if (!*got) {
                done_ = true;
                break;
            }
            if (!passes_after(request_, projection_.file_columns, row_, 0)) {
                continue;
            }
            for (auto i : projection_.of) {
                out.add_optional(row_.value(0, i));
            }
            ++produced_;
        }
        return !out.empty();
    }

private:
    core::error with_path(core::error e) const {
        e.message = "connection '" + connection_ + "': " + path_.string() + ": " + e.message;
        return e;
    }

    core::result<bool> next_csv_row() {
        auto got = csv_.next(fields_);
        if (!got) {
            return with_path(got.error());
        }
        if (!*got) {
            return false;
        }
        ++line_;
        if (fields_.size() == 1 && fields_[0].text.empty() && !fields_[0].quoted &&
            projection_.file_columns.columns.size() != 1) {
            return next_csv_row();  // a blank line
        }
        if (fields_.size() != projection_.file_columns.columns.size()) {
            return with_path(core::error::permanent(
                "record " + std::to_string(line_) + " has " + std::to_string(fields_.size()) +
                " fields, the header " + std::to_string(projection_.file_columns.columns.size())));
        }
        for (std::size_t i = 0; i < fields_.size(); ++i) {
            if (fields_[i].text.empty() && !fields_[i].quoted) {
                row_.add_null();
            } else {
                add_document_text(row_, fields_[i].text, projection_.file_columns.columns[i].type);
            }
        }
        return true;
    }

    core::result<bool> next_object() {
        std::string line;
        while (std::getline(in_, line)) {
            ++line_;
            if (line.size() > max_record_bytes) {
                return with_path(
                    core::error::permanent("line " + std::to_string(line_) + " is too long"));
            }
            if (line.find_first_not_of(" \t\r") == std::string::npos) {
                continue;
            }
            auto parsed = parse_document(line);
            if (!parsed || !parsed->is_object()) {
                return with_path(core::error::permanent(
                    "line " + std::to_string(line_) + " is not a JSON object" +
                    (parsed ? std::string() : ": " + parsed.error().message)));
            }
            object_ = std::move(*parsed);
            return true;
        }
        if (in_.bad()) {
            return file_io_error(connection_, "cannot read", path_);
        }
        return false;
    }

    core::result<bool> next_json_row() {
        if (pending_object_) {
            pending_object_ = false;
        } else {
            auto got = next_object();
            if (!got || !*got) {
                return got;
            }
        }
        for (const auto& c : projection_.file_columns.columns) {
            const auto it = object_.find(c.name);
            if (it == object_.end()) {
                row_.add_null();
            } else {
                add_json_value(row_, *it, c.type);
            }
        }
        return true;
    }

    std::string connection_;
    std::filesystem::path path_;
    config::file_format format_;
    read_request request_;
    std::ifstream in_;
    csv_splitter csv_;
    projection projection_;
    std::vector<csv_splitter::field> fields_;
    json object_;
    bool pending_object_ = false;
    row_batch row_;
    std::size_t line_ = 0;
    std::uint64_t produced_ = 0;
    bool done_ = false;
};

}  // namespace

core::result<std::unique_ptr<row_reader>> open_file_reader(const std::string& connection,
                                                           const std::filesystem::path& path,
                                                           config::file_format format,
                                                           const read_request& request) {
    auto reader = std::make_unique<file_reader>(connection, path, format, request);
    auto opened = reader->open();
    if (!opened) {
        return opened.error();
    }
    return std::unique_ptr<row_reader>(std::move(reader));
}

}  // namespace sluice::connectors
