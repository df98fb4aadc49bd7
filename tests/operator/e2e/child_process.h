// ChildProcess: one program started by a drill (a broker pod, the name server, the operator).
// stdout and stderr go to `log_path` (appended). The child gets SIGKILL if the thread that
// started it exits (PR_SET_PDEATHSIG), so a crashed test leaves no brokers behind.
// Not thread-safe: one owner per object. The destructor kills a still-running child (SIGKILL)
// and reaps it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "broker/base/result.h"

namespace dledger::e2e {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;

  // argv[0] is the program path. Errors: already running, fork failure.
  Status start(const std::vector<std::string>& argv, const std::string& log_path);
  // True while the child runs; reaps it (recording the exit status) once it has ended.
  bool running();
  // Exit status of the last run once reaped: the exit code, or 128 + signal number.
  std::optional<int> exit_status() const { return exit_status_; }
  pid_t pid() const { return pid_; }

  // Sends `signal` (nothing when not running).
  void signal(int signal_number);
  // SIGTERM, waits up to `grace` for the exit, then SIGKILL. Returns the exit status.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // SIGKILL and reap.
  void kill();

 private:
  void reap_blocking();

  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

}  // namespace dledger::e2e
