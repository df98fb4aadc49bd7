#include "broker/programs/dledger-bench/process_group.h"

#include "broker/base/loopback_port.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "broker/admin/admin_client.h"

namespace dledger::bench {

namespace {

// In a forked child, before exec: SIGKILL when `parent` (the forking thread) dies, and exit now
// if it already has (the fork raced with its death).
void die_with_parent(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
}

}  // namespace

Result<pid_t> spawn_logged(const std::string& binary, const std::vector<std::string>& args,
                           const std::string& log_path) {
  std::vector<std::string> argv_storage = {binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return make_error(ErrorCode::kIo, "fork failed for " + binary);
  if (pid == 0) {
    die_with_parent(parent);
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::uint16_t pick_free_port() {
  return pick_loopback_port();
}

std::string exited_message(const std::string& who, const std::string& log_path,
                           std::size_t max_lines) {
  std::ifstream in(log_path);
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(std::move(line));
    if (last.size() > max_lines) last.pop_front();
  }
  std::string out = who + " exited; see " + log_path;
  if (last.empty()) return out + " (empty or unreadable)";
  out += "; its last lines:";
  for (const std::string& line : last) out += "\n  " + line;
  return out;
}

ProcessGroup::ProcessGroup(std::string binary, std::string extra_config)
    : binary_(std::move(binary)), extra_config_(std::move(extra_config)) {
  std::string templ = (fs::temp_directory_path() / "dledger-process-XXXXXX").string();
  char* made = ::mkdtemp(templ.data());
  dir_ = made != nullptr ? std::string(made) : templ;
}

ProcessGroup::~ProcessGroup() {
  for (auto& [id, r] : replicas_) {
    if (r.pid > 0) kill9(id);
  }
  if (std::getenv("DLEDGER_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  } else {
    std::cerr << "kept configs, logs and data in " << dir_ << "\n";
  }
}

void ProcessGroup::add_member(int id) {
  ReplicaSpec spec;
  spec.id = id;
  // Distinct ports even if the kernel hands out a recently used one twice.
  auto fresh = [&] {
    for (;;) {
      std::uint16_t p = pick_free_port();
      bool used = false;
      for (auto& [other_id, r] : replicas_) {
        used = used || p == r.peer_port || p == r.client_port || p == r.admin_port;
      }
      used = used || p == spec.peer_port || p == spec.client_port;
      if (p != 0 && !used) return p;
    }
  };
  spec.peer_port = fresh();
  spec.client_port = fresh();
  spec.admin_port = fresh();
  replicas_[id] = spec;
}

std::vector<int> ProcessGroup::ids() const {
  std::vector<int> out;
  for (auto& [id, r] : replicas_) out.push_back(id);
  return out;
}

std::string ProcessGroup::peers(const std::vector<int>& ids) const {
  std::string out;
  for (int id : ids) {
    out +=
        (out.empty() ? "" : ";") + std::string("n") + std::to_string(id) + "-" + peer_address(id);
  }
  return out;
}

std::string ProcessGroup::client_peers(const std::vector<int>& ids) const {
  std::string out;
  for (int id : ids) {
    out += (out.empty() ? "" : ";") + std::string("n") + std::to_string(id) +
           "-127.0.0.1:" + std::to_string(replicas_.at(id).client_port);
  }
  return out;
}

std::string ProcessGroup::admin_address(int id) const {
  return "127.0.0.1:" + std::to_string(replicas_.at(id).admin_port);
}
std::string ProcessGroup::peer_address(int id) const {
  return "127.0.0.1:" + std::to_string(replicas_.at(id).peer_port);
}
std::string ProcessGroup::data_dir(int id) const {
  return dir_ + "/store/dledger-n" + std::to_string(id);
}
std::string ProcessGroup::log_path(int id) const {
  return dir_ + "/n" + std::to_string(id) + ".log";
}

Status ProcessGroup::start(int id, const std::string& peers, const std::string& member_config) {
  ReplicaSpec& r = replicas_.at(id);
  r.peers = peers;
  std::string admin_peers;
  for (auto& [other, spec] : replicas_) {
    admin_peers += (admin_peers.empty() ? "" : ";") + std::string("n") + std::to_string(other) +
                   "-127.0.0.1:" + std::to_string(spec.admin_port);
  }
  const std::string conf = dir_ + "/n" + std::to_string(id) + ".conf";
  {
    std::ofstream out(conf, std::ios::trunc);
    out << "dLegerGroup = process-test\n"
        << "dLegerPeers = " << peers << "\n"
        << "dLegerSelfId = n" << id << "\n"
        << "storePathRootDir = " << dir_ << "/store\n"
        << "clientHost = 127.0.0.1\n"
        << "clientPort = " << r.client_port << "\n"
        << "adminHost = 127.0.0.1\n"
        << "adminPort = " << r.admin_port << "\n"
        << "adminPeers = " << admin_peers << "\n"
        << extra_config_ << "\n"
        << member_config << "\n";
    if (!out) return make_error(ErrorCode::kIo, "cannot write " + conf);
  }
  auto pid = spawn_logged(binary_, {"-c", conf}, log_path(id));
  if (!pid.ok()) return pid.error();
  r.pid = *pid;
  return Status::ok_status();
}

void kill_and_reap(pid_t& pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  pid = -1;
}

int terminate_and_reap(pid_t& pid) {
  if (pid <= 0) return -1;
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 300; ++i) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(50ms);
  }
  kill_and_reap(pid);
  return -1;
}

bool still_running(pid_t& pid) {
  if (pid <= 0) return false;
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) {
    pid = -1;
    return false;
  }
  return true;
}

void ProcessGroup::kill9(int id) {
  kill_and_reap(replicas_.at(id).pid);
}

int ProcessGroup::terminate(int id) {
  return terminate_and_reap(replicas_.at(id).pid);
}

bool ProcessGroup::running(int id) {
  return still_running(replicas_.at(id).pid);
}

std::optional<double> process_cpu_seconds(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // Fields after the parenthesised command name: state is field 3; utime 14, stime 15.
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close_paren + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int n = 3; n <= 15 && fields >> field; ++n) {
    if (n == 14) utime = std::stoull(field);
    if (n == 15) stime = std::stoull(field);
  }
  const long ticks_per_s = ::sysconf(_SC_CLK_TCK);
  if (ticks_per_s <= 0) return std::nullopt;
  return static_cast<double>(utime + stime) / static_cast<double>(ticks_per_s);
}

std::optional<double> ProcessGroup::cpu_seconds(int id) const {
  return process_cpu_seconds(replicas_.at(id).pid);
}

Result<admin::ReplicaStatus> ProcessGroup::status(int id) const {
  admin::AdminClientOptions options;
  options.timeout = 2s;
  admin::AdminClient client(options);
  return client.status(admin_address(id));
}

Result<int> wait_for_single_leader(const std::vector<int>& ids,
                                   const std::function<bool(int)>& running,
                                   const std::function<Result<admin::ReplicaStatus>(int)>& status,
                                   const std::function<std::string(int)>& exited,
                                   std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    int leaders = 0;
    int leader = -1;
    std::set<std::string> named;
    std::set<std::uint64_t> terms;
    bool all_answered = true;
    for (int id : ids) {
      if (!running(id)) {
        return make_error(ErrorCode::kUnavailable, exited(id));
      }
      auto s = status(id);
      if (!s.ok()) {
        all_answered = false;
        last = s.error().message;
        break;
      }
      if (s->role == admin::kRoleLeader) {
        ++leaders;
        leader = id;
      }
      named.insert(s->leader_id);
      terms.insert(s->term);
    }
    if (all_answered && leaders == 1 && named.size() == 1 && terms.size() == 1 &&
        *named.begin() == "n" + std::to_string(leader)) {
      return leader;
    }
    std::this_thread::sleep_for(50ms);
  }
  return make_error(ErrorCode::kTimeout, "no single agreed leader; last error: " + last);
}

Result<int> ProcessGroup::wait_for_leader(const std::vector<int>& ids,
                                          std::chrono::milliseconds limit) {
  return wait_for_single_leader(
      ids, [this](int id) { return running(id); }, [this](int id) { return status(id); },
      [this](int id) { return exited_message("n" + std::to_string(id), log_path(id)); }, limit);
}

bool ProcessGroup::wait_for_commit(int id, std::uint64_t index, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = status(id);
    if (s.ok() && s->commit_index >= index) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

std::pair<int, std::string> ProcessGroup::run_to_exit(const std::string& binary,
                                                      const std::vector<std::string>& args) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {-1, "pipe failed"};
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    die_with_parent(parent);
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  std::string output;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0) output.append(buf, n);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace dledger::bench
