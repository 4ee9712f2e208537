#include <iostream>

#include "daemon/commands.hpp"
#include "web/auth.hpp"

namespace sluice::daemon {

int run_token_new(const token_options& options) {
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
