#pragma once

// One file of a file connection read as rows; file_connector.hpp describes the formats.

#include <filesystem>
#include <memory>
#include <string>

#include "config/spec.hpp"
#include "connectors/source.hpp"

namespace sluice::connectors {

// Opens `path` (already checked to lie inside the connection's directory) for `request`.
core::result<std::unique_ptr<row_reader>> open_file_reader(const std::string& connection,
                                                           const std::filesystem::path& path,
                                                           config::file_format format,
                                                           const read_request& request);

// "connection 'NAME': WHAT 'PATH': strerror(errno)", transient.
core::error file_io_error(const std::string& connection, const std::string& what,
                          const std::filesystem::path& path);

}  // namespace sluice::connectors
