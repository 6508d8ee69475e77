#include <iostream>

#include "apps/commands.h"

int main(int argc, char** argv) {
    std::ios::sync_with_stdio(false);
    return kiln::run_kiln({argv + 1, argv + argc}, std::cout, std::cerr);
}
