#include "connectors/files/file_connector.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "connectors/document_rows.hpp"
#include "connectors/files/csv_format.hpp"
#include "connectors/text_codec.hpp"

namespace sluice::connectors {

namespace {

using json = nlohmann::ordered_json;

// One JSON line longer than this is refused.
constexpr std::size_t max_record_bytes = csv_splitter::max_record_bytes;

constexpr const char* checkpoint_file = ".sluice_checkpoints.json";

config::file_format format_of(const config::connection_spec& spec, const std::string& name) {
    if (spec.format) {
        return *spec.format;
    }
    const auto ext = std::filesystem::path(name).extension().string();
    return ext == ".csv" ? config::file_format::csv : config::file_format::jsonl;
}

core::error io_error(const std::string& connection, const std::string& what,
                     const std::filesystem::path& path) {
    return core::error::transient("connection '" + connection + "': " + what + " '" +
                                  path.string() + "': " + std::strerror(errno));
}

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
            return io_error(connection_, "cannot open", path_);
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
            object_ = json::parse(line, nullptr, false);
            if (object_.is_discarded() || !object_.is_object()) {
                return with_path(core::error::permanent("line " + std::to_string(line_) +
                                                        " is not a JSON object"));
            }
            return true;
        }
        if (in_.bad()) {
            return io_error(connection_, "cannot read", path_);
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

class file_source final : public source {
public:
    explicit file_source(config::connection_spec spec) : spec_(std::move(spec)) {}

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
        const read_request& request, const std::vector<std::string>& cursor) override {
        read_request r = request;
        r.after.reset();
        r.limit.reset();
        auto reader = open_reader(r);
        if (!reader) {
            return reader.error();
        }
        const auto& columns = (*reader)->schema();
        std::vector<std::size_t> at;
        for (const auto& c : cursor) {
            auto i = columns.index_of(c);
            if (!i) {
                return core::error::permanent("connection '" + spec_.name +
                                              "': no cursor column '" + c + "'");
            }
            at.push_back(*i);
        }
        std::optional<std::vector<std::optional<std::string>>> best;
        row_batch batch;
        for (;;) {
            auto more = (*reader)->next(batch);
            if (!more) {
                return more.error();
            }
            if (!*more) {
                return best;
            }
            for (std::size_t r = 0; r < batch.row_count(); ++r) {
                bool greater = !best;
                for (std::size_t k = 0; best && k < at.size(); ++k) {
                    const auto& mine = (*best)[k];
                    if (batch.is_null(r, at[k])) {
                        break;
                    }
                    if (!mine) {
                        greater = true;
                        break;
                    }
                    const int c =
                        compare_canonical(batch.at(r, at[k]), *mine, columns.columns[at[k]].type);
                    if (c != 0) {
                        greater = c > 0;
                        break;
                    }
                }
                if (greater) {
                    std::vector<std::optional<std::string>> tuple;
                    for (auto i : at) {
                        tuple.push_back(batch.value(r, i));
                    }
                    best = std::move(tuple);
                }
            }
        }
    }

    void cancel() override {}

private:
    core::result<std::unique_ptr<file_reader>> open_reader(const read_request& request) {
        if (!request.table || request.query) {
            return core::error::permanent("connection '" + spec_.name +
                                          "': a file source reads a file name, not a query");
        }
        auto reader = std::make_unique<file_reader>(spec_.name, spec_.local_path / *request.table,
                                                    format_of(spec_, *request.table), request);
        auto opened = reader->open();
        if (!opened) {
            return opened.error();
        }
        return reader;
    }

    config::connection_spec spec_;
};

class file_sink final : public sink {
public:
    explicit file_sink(config::connection_spec spec) : spec_(std::move(spec)) {}

    core::result<std::optional<schema>> describe_table(const std::string& table) override {
        if (!std::filesystem::exists(spec_.local_path / table)) {
            return std::optional<schema>();
        }
        file_source src(spec_);
        read_request r;
        r.table = table;
        auto columns = src.describe(r);
        if (!columns) {
            return columns.error();
        }
        return std::optional<schema>(std::move(*columns));
    }

    core::result<void> create_table(const std::string& table, const schema& columns,
                                    const create_options&) override {
        const auto path = spec_.local_path / table;
        if (std::filesystem::exists(path)) {
            return core::error::permanent("connection '" + spec_.name + "': " + path.string() +
                                          " exists already");
        }
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        std::ofstream out(path, std::ios::binary);
        if (format_of(spec_, table) == config::file_format::csv) {
            std::string header;
            for (std::size_t i = 0; i < columns.columns.size(); ++i) {
                header += i == 0 ? "" : ",";
                append_csv_field(header, columns.columns[i].name);
            }
            out << header << '\n';
        }
        out.flush();
        if (!out) {
            return io_error(spec_.name, "cannot create", path);
        }
        return {};
    }

    // Appends are not transactional: the copy task makes file loads replayable (replace mode).
    bool transactional() const override { return false; }
    core::result<void> begin() override { return {}; }
    core::result<void> commit() override { return {}; }
    core::result<void> rollback() override { return {}; }

    core::result<void> write(const write_request& request, const row_batch& rows) override {
        if (request.columns == nullptr) {
            return core::error::permanent("write without columns (programmer error)");
        }
        if (request.mode != write_mode::append) {
            return core::error::permanent("connection '" + spec_.name + "': a file sink only " +
                                          "appends (or replaces with mode: replace); " +
                                          request.table + " cannot take upsert or scd2");
        }
        const auto path = spec_.local_path / request.table;
        if (!std::filesystem::exists(path)) {
            auto made = create_table(request.table, *request.columns, {});
            if (!made) {
                return made;
            }
        }
        const schema& columns = *request.columns;
        const bool csv = format_of(spec_, request.table) == config::file_format::csv;
        std::string text;
        for (std::size_t r = 0; r < rows.row_count(); ++r) {
            if (csv) {
                for (std::size_t c = 0; c < rows.column_count(); ++c) {
                    text += c == 0 ? "" : ",";
                    if (rows.is_null(r, c)) {
                        continue;
                    }
                    const std::string_view v = rows.at(r, c);
                    if (columns.columns[c].type == column_type::bytes) {
                        std::string encoded;
                        append_base64(encoded, v);
                        append_csv_field(text, encoded);
                    } else {
                        append_csv_field(text, v);
                    }
                }
                text += '\n';
            } else {
                json object = json::object();
                for (std::size_t c = 0; c < rows.column_count(); ++c) {
                    object[columns.columns[c].name] =
                        rows.is_null(r, c) ? json()
                                           : json_value_of(rows.at(r, c), columns.columns[c].type);
                }
                text += object.dump(-1, ' ', false, json::error_handler_t::replace);
                text += '\n';
            }
        }
        std::ofstream out(path, std::ios::binary | std::ios::app);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        out.flush();
        if (!out) {
            return io_error(spec_.name, "cannot write", path);
        }
        return {};
    }

    // replace: the rows go into a hidden file next to the target (same directory, so the rename
    // stays on one file system, and same extension, so it keeps the format), flushed to disk and
    // renamed over the target: readers open the old file or the new one.
    core::result<std::string> begin_replace(const std::string& table, const schema& columns,
                                            const create_options& options) override {
        const std::string staging = staging_name(table);
        std::error_code ec;
        std::filesystem::remove(spec_.local_path / staging, ec);
        if (ec) {
            return core::error::transient("connection '" + spec_.name + "': cannot remove " +
                                          (spec_.local_path / staging).string() + ": " +
                                          ec.message());
        }
        auto made = create_table(staging, columns, options);
        if (!made) {
            return made.error();
        }
        return staging;
    }

    core::result<void> finish_replace(const std::string& staging,
                                      const std::string& table) override {
        const auto from = spec_.local_path / staging;
        const int fd = ::open(from.c_str(), O_RDONLY);
        if (fd < 0 || ::fsync(fd) != 0) {
            auto e = io_error(spec_.name, "cannot flush", from);
            if (fd >= 0) {
                ::close(fd);
            }
            return e;
        }
        ::close(fd);
        std::error_code ec;
        std::filesystem::rename(from, spec_.local_path / table, ec);
        if (ec) {
            return core::error::transient("connection '" + spec_.name + "': cannot replace " +
                                          (spec_.local_path / table).string() + ": " +
                                          ec.message());
        }
        return {};
    }

    core::result<void> abandon_replace(const std::string& staging) override {
        std::error_code ec;
        std::filesystem::remove(spec_.local_path / staging, ec);
        return {};
    }

    core::result<void> write_checkpoint(const checkpoint& mark) override {
        auto all = load_checkpoints();
        if (!all) {
            return all.error();
        }
        (*all)[mark.key] = mark.value;
        const auto path = spec_.local_path / checkpoint_file;
        const auto temp = spec_.local_path / (std::string(checkpoint_file) + ".tmp");
        {
            std::ofstream out(temp, std::ios::binary | std::ios::trunc);
            out << all->dump(2) << '\n';
            out.flush();
            if (!out) {
                return io_error(spec_.name, "cannot write", temp);
            }
        }
        std::error_code ec;
        std::filesystem::rename(temp, path, ec);
        if (ec) {
            return core::error::transient("connection '" + spec_.name + "': cannot replace " +
                                          path.string() + ": " + ec.message());
        }
        return {};
    }

    core::result<std::optional<std::string>> read_checkpoint(const std::string& key) override {
        auto all = load_checkpoints();
        if (!all) {
            return all.error();
        }
        const auto it = all->find(key);
        if (it == all->end() || !it->is_string()) {
            return std::optional<std::string>();
        }
        return std::optional<std::string>(it->get<std::string>());
    }

    void cancel() override {}

private:
    // "dir/orders.csv" -> "dir/.orders.csv.sluice_staging.csv".
    static std::string staging_name(const std::string& table) {
        const std::filesystem::path p(table);
        return (p.parent_path() /
                ("." + p.filename().string() + ".sluice_staging" + p.extension().string()))
            .string();
    }

    core::result<json> load_checkpoints() {
        const auto path = spec_.local_path / checkpoint_file;
        if (!std::filesystem::exists(path)) {
            return core::result<json>(boost::system::in_place_value, json::object());
        }
        std::ifstream in(path, std::ios::binary);
        json all = json::parse(in, nullptr, false);
        if (all.is_discarded() || !all.is_object()) {
            return core::error::permanent("connection '" + spec_.name + "': " + path.string() +
                                          " is not a JSON object; fix or remove it");
        }
        return core::result<json>(boost::system::in_place_value, std::move(all));
    }

    config::connection_spec spec_;
};

}  // namespace

core::result<std::unique_ptr<source>> open_file_source(const config::connection_spec& spec) {
    if (!std::filesystem::is_directory(spec.local_path)) {
        return core::error::permanent("connection '" + spec.name +
                                      "': " + spec.local_path.string() + " is not a directory");
    }
    return std::unique_ptr<source>(std::make_unique<file_source>(spec));
}

core::result<std::unique_ptr<sink>> open_file_sink(const config::connection_spec& spec) {
    std::error_code ec;
    std::filesystem::create_directories(spec.local_path, ec);
    if (!std::filesystem::is_directory(spec.local_path)) {
        return core::error::permanent("connection '" + spec.name + "': cannot use " +
                                      spec.local_path.string() + " as a directory");
    }
    return std::unique_ptr<sink>(std::make_unique<file_sink>(spec));
}

}  // namespace sluice::connectors
