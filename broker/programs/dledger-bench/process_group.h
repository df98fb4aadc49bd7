// ProcessGroup: runs dledger-ledger replicas as real processes on 127.0.0.1 for process-level
// tests and the benchmark. Each replica gets free ports (peer, client, admin), a config file and
// a log file under a private temporary directory, and is stopped by PID (SIGKILL or SIGTERM).
// The destructor kills every replica still running and removes the directory (kept when
// DLEDGER_KEEP_TEST_DIRS is set, for post-mortems).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/admin/admin_backend.h"
#include "broker/base/result.h"

namespace dledger::bench {

// A loopback port that was free a moment ago, below the ephemeral range so that no outgoing
// connection takes it before (or while a replica is down between) its binds
// (broker/base/loopback_port.h).
std::uint16_t pick_free_port();

// Child-process helpers shared by ProcessGroup and BrokerGroup.
//
// Starts `binary` with `args`, stdout and stderr appended to `log_path`. Returns the pid. The
// child is SIGKILLed by the kernel if this process dies first (PR_SET_PDEATHSIG), so a
// benchmark stopped by a signal (timeout, Ctrl-C) leaves no replica running. Call it from a
// thread that lives as long as the child: the signal follows the thread that forked.
Result<pid_t> spawn_logged(const std::string& binary, const std::vector<std::string>& args,
                           const std::string& log_path);
// The helpers below take the pid by reference and set it to -1 once the process is reaped; a
// pid <= 0 means "not running".
void kill_and_reap(pid_t& pid);  // SIGKILL, then wait
// SIGTERM, then waits (bounded, 15 s) for exit: the exit status (128 + signal when killed by
// one), or -1 when it had to be SIGKILLed or was not running.
int terminate_and_reap(pid_t& pid);
bool still_running(pid_t& pid);  // reaps it when it has exited
// CPU time (user + system, seconds) process `pid` has used so far, from /proc/<pid>/stat;
// nullopt when pid <= 0 or the file cannot be read (the process is gone).
std::optional<double> process_cpu_seconds(pid_t pid);

// "<who> exited; see <log_path>" followed by the log's last `max_lines` lines, so a failure
// message says why even after the test's directory is removed.
std::string exited_message(const std::string& who, const std::string& log_path,
                           std::size_t max_lines = 20);

// Polls (bounded by `limit`) until every id in `ids` is running, exactly one reports role leader
// and all of them name that leader ("n<id>") in the same term; returns the leader's id. Errors:
// kUnavailable when a process exited (message from `exited(id)`), kTimeout otherwise.
Result<int> wait_for_single_leader(const std::vector<int>& ids,
                                   const std::function<bool(int)>& running,
                                   const std::function<Result<admin::ReplicaStatus>(int)>& status,
                                   const std::function<std::string(int)>& exited,
                                   std::chrono::milliseconds limit);

struct ReplicaSpec {
  int id = 0;  // member id N of "nN"
  std::uint16_t peer_port = 0;
  std::uint16_t client_port = 0;
  std::uint16_t admin_port = 0;
  pid_t pid = -1;
  std::string peers;  // the dLegerPeers it was (last) started with
};

class ProcessGroup {
 public:
  // `binary`: path of dledger-ledger. `extra_config`: lines appended to every config.
  ProcessGroup(std::string binary, std::string extra_config = "");
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  // Allocates ports for a new member id (does not start it).
  void add_member(int id);
  // "n0-127.0.0.1:p0;..." over `ids` (peer, client or admin ports).
  std::string peers(const std::vector<int>& ids) const;
  std::string client_peers(const std::vector<int>& ids) const;
  std::string admin_address(int id) const;
  std::string peer_address(int id) const;
  std::vector<int> ids() const;

  // Writes the config (dLegerPeers = `peers`, then the group's extra config, then
  // `member_config`, e.g. "dLegerJoining = true\n") and starts the process. Errors if fork/exec
  // fails.
  Status start(int id, const std::string& peers, const std::string& member_config = "");
  void kill9(int id);
  // SIGTERM, then waits (bounded) for exit; returns the exit status (or -1 if it had to be killed).
  int terminate(int id);
  bool running(int id);
  // CPU time (user + system, seconds) replica `id` has used so far, from /proc/<pid>/stat;
  // nullopt when it is not running or the file cannot be read.
  std::optional<double> cpu_seconds(int id) const;

  std::string data_dir(int id) const;
  std::string log_path(int id) const;
  std::string dir() const { return dir_; }

  Result<admin::ReplicaStatus> status(int id) const;
  // Waits (bounded by `limit`) until every id in `ids` is running, exactly one reports role
  // leader and all of them name that leader in the same term. Returns the leader's id.
  Result<int> wait_for_leader(const std::vector<int>& ids,
                              std::chrono::milliseconds limit = std::chrono::seconds(30));
  // Waits until replica `id` reports commit_index >= `index`.
  bool wait_for_commit(int id, std::uint64_t index,
                       std::chrono::milliseconds limit = std::chrono::seconds(30));

  // Runs dledger-ledger with `args` to completion and returns its exit status and output.
  static std::pair<int, std::string> run_to_exit(const std::string& binary,
                                                 const std::vector<std::string>& args);

 private:
  std::string binary_;
  std::string extra_config_;
  std::string dir_;
  std::map<int, ReplicaSpec> replicas_;
};

}  // namespace dledger::bench
