// Catch2's main, compiled once and linked into every test program.
#define CATCH_CONFIG_RUNNER
#include <cstdio>

#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
    // Nothing may wait in stdout's buffer when a test forks the shell keeper, which never execs:
    // under ThreadSanitizer its _exit flushes what it inherited into the task's output.
    std::setvbuf(stdout, nullptr, _IONBF, 0);
    return Catch::Session().run(argc, argv);
}
