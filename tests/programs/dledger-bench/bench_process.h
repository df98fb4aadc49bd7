// Runs the dledger-bench binary under test as a child process (tests of its subcommands).
//
//   BenchRun run = run_bench("produce", "--producers 4 --duration-s 1");
//
// The bench gets the namesrv and broker binaries of this build (--namesrv-binary,
// --broker-binary). Returns its exit code (-1 if it did not exit normally), stdout and stderr.
#pragma once

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace dledger::testing {

struct BenchRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline BenchRun run_bench(const std::string& subcommand, const std::string& args) {
  static int counter = 0;
  const std::string err_path =
      (std::filesystem::temp_directory_path() /
       ("bench-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".err"))
          .string();
  const std::string command = std::string(DLEDGER_BENCH_BINARY) + " " + subcommand + " " + args +
                              " --namesrv-binary " + DLEDGER_NAMESRV_BINARY + " --broker-binary " +
                              DLEDGER_BROKER_BINARY + " 2>" + err_path;
  BenchRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.out.append(buffer, n);
  int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  std::stringstream text;
  text << err.rdbuf();
  run.err = text.str();
  std::filesystem::remove(err_path);
  return run;
}

}  // namespace dledger::testing
