// utracker: the command line for people. All the work is in commands.cc.
#include <iostream>

#include "commands.h"

int main(int argc, char** argv) {
  return utracker::cli::Run(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
