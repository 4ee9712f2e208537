#include <algorithm>
#include <cctype>
#include <iostream>

#include "daemon/commands.hpp"
#include "web/auth.hpp"

namespace sluice::daemon {

int run_token_new(const token_options& options) {
    // The name is printed into a YAML line and shown in audit records: keep it plain.
    const bool plain =
        !options.name.empty() && options.name.size() <= 64 &&
        std::all_of(options.name.begin(), options.name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
        });
    if (!plain) {
        std::cerr << "sluice: a token name is 1-64 letters, digits, '_', '-' or '.'\n";
        return exit_usage;
    }
    auto token = web::generate_token();
    if (!token) {
        std::cerr << "sluice: " << token.error().message << "\n";
        return exit_invalid;
    }
    // The token goes to stdout once; the config keeps only its hash.
    std::cout << "token: " << *token << "\n"
              << "Give the token to its user (it is shown only now) and add this entry to "
                 "server.tokens:\n"
              << "  - {name: " << options.name << ", sha256: " << web::sha256_hex(*token)
              << ", role: " << options.role << "}\n";
    return exit_ok;
}

}  // namespace sluice::daemon
