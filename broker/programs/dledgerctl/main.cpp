// dledgerctl: the dledger admin command line. One subcommand per file (its options and run
// function); command_line.cpp declares every flag. Exit codes: 0 ok, 1 operation failed, 2 usage.
#include "broker/programs/dledgerctl/command_line.h"

int main(int argc, char** argv) {
  return dledger::ctl::run_command_line(argc, argv);
}
