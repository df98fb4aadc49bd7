// dledgerctl's command line: every subcommand and flag, declared in this one place so that only
// command_line.cpp compiles the (header-only, slow to compile) CLI11 library. Each subcommand's
// options struct and run function live in its own *_command.h/.cpp.
#pragma once

namespace dledger::ctl {

// Parses argv, runs the chosen subcommand (output on std::cout, errors on std::cerr) and returns
// the exit code: kExitOk, kExitFailed, or kExitUsage for bad flags (help and usage errors are
// printed by the parser; --help exits kExitOk).
int run_command_line(int argc, char** argv);

}  // namespace dledger::ctl
