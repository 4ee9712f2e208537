#pragma once

// The SQLite store holds every run's parameters, logs and events: its directory and files are the
// daemon user's alone (docs/operations.md, "Backing up the store").

#include <filesystem>
#include <system_error>

namespace sluice::store::sqlite {

// Creates every missing directory of `dir` with mode 0700 (existing ones are left as they are).
std::error_code create_private_directories(const std::filesystem::path& dir);

// Creates `file` empty with mode 0600 when it does not exist, so that SQLite, which gives its
// -wal and -shm files the database file's mode, never makes any of them readable by others.
std::error_code create_private_file(const std::filesystem::path& file);

}  // namespace sluice::store::sqlite
