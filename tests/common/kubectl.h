// Running the real kubectl from tests: kubectl_path() is /usr/bin/kubectl unless
// $DLEDGER_KUBECTL names another one; run_kubectl() runs it in `dir` with HOME=`dir` (so the
// discovery cache is per test) and KUBECONFIG=`dir`/kubeconfig, bounded by `timeout
// <timeout_seconds>`, and returns its exit code and combined stdout + stderr.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace dledger::testing {

struct CommandResult {
  int exit_code = -1;  // -1: could not run, or killed by a signal
  std::string output;  // stdout and stderr
};

inline std::string kubectl_path() {
  const char* configured = std::getenv("DLEDGER_KUBECTL");
  return configured != nullptr && *configured != '\0' ? configured : "/usr/bin/kubectl";
}

inline CommandResult run_kubectl(const std::string& dir, const std::string& args,
                                 int timeout_seconds = 60) {
  const std::string command = "cd '" + dir + "' && HOME='" + dir + "' KUBECONFIG='" + dir +
                              "/kubeconfig' timeout " + std::to_string(timeout_seconds) + " '" +
                              kubectl_path() + "' " + args + " 2>&1";
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t bytes;
  while ((bytes = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, bytes);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace dledger::testing
