#include <iostream>

#include "sluice/version.hpp"

int main() {
    std::cout << "sluice " << sluice::version_string << "\n";
    return 0;
}
