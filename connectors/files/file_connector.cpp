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
#include "connectors/files/file_reader.hpp"
#include "connectors/text_codec.hpp"

namespace sluice::connectors {

namespace {

using json = nlohmann::ordered_json;

constexpr const char* checkpoint_file = ".sluice_checkpoints.json";

config::file_format format_of(const config::connection_spec& spec, const std::string& name) {
    if (spec.format) {
        return *spec.format;
    }
    const auto ext = std::filesystem::path(name).extension().string();
    return ext == ".csv" ? config::file_format::csv : config::file_format::jsonl;
}

// DIR/NAME for a file of the connection, refused when NAME would leave DIR (config validation
// refuses such paths too; this holds for every caller, whatever its origin).
core::result<std::filesystem::path> file_in(const config::connection_spec& spec,
                                            const std::string& name) {
    if (auto problem = config::file_path_problem(name)) {
        return core::error::permanent("connection '" + spec.name +
                                      "': a file path is refused: " + *problem);
    }
    return spec.local_path / name;
}

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
    core::result<std::unique_ptr<row_reader>> open_reader(const read_request& request) {
        if (!request.table || request.query) {
            return core::error::permanent("connection '" + spec_.name +
                                          "': a file source reads a file name, not a query");
        }
        auto path = file_in(spec_, *request.table);
        if (!path) {
            return path.error();
        }
        return open_file_reader(spec_.name, *path, format_of(spec_, *request.table), request);
    }

    config::connection_spec spec_;
};

class file_sink final : public sink {
public:
    explicit file_sink(config::connection_spec spec) : spec_(std::move(spec)) {}

    core::result<std::optional<schema>> describe_table(const std::string& table) override {
        auto path = file_in(spec_, table);
        if (!path) {
            return path.error();
        }
        if (!std::filesystem::exists(*path)) {
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
        auto checked = file_in(spec_, table);
        if (!checked) {
            return checked.error();
        }
        const std::filesystem::path& path = *checked;
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
            return file_io_error(spec_.name, "cannot create", path);
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
        auto checked = file_in(spec_, request.table);
        if (!checked) {
            return checked.error();
        }
        const std::filesystem::path& path = *checked;
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
            return file_io_error(spec_.name, "cannot write", path);
        }
        return {};
    }

    // replace: the rows go into a hidden file next to the target (same directory, so the rename
    // stays on one file system, and same extension, so it keeps the format), flushed to disk and
    // renamed over the target: readers open the old file or the new one.
    core::result<std::string> begin_replace(const std::string& table, const schema& columns,
                                            const create_options& options) override {
        if (auto target = file_in(spec_, table); !target) {
            return target.error();
        }
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
        if (auto target = file_in(spec_, table); !target) {
            return target.error();
        }
        const auto from = spec_.local_path / staging;
        const int fd = ::open(from.c_str(), O_RDONLY);
        if (fd < 0 || ::fsync(fd) != 0) {
            auto e = file_io_error(spec_.name, "cannot flush", from);
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
                return file_io_error(spec_.name, "cannot write", temp);
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
