#include "tests/operator/e2e/child_process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <thread>

namespace dledger::e2e {
namespace {

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ChildProcess::~ChildProcess() {
  kill();
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), exit_status_(other.exit_status_) {
  other.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    kill();
    pid_ = other.pid_;
    exit_status_ = other.exit_status_;
    other.pid_ = -1;
  }
  return *this;
}

Status ChildProcess::start(const std::vector<std::string>& argv, const std::string& log_path) {
  if (running()) return Error{ErrorCode::kBusy, "already running as pid " + std::to_string(pid_)};
  if (argv.empty()) return Error{ErrorCode::kInvalidArgument, "empty argv"};
  // Everything the child needs is prepared before fork(): between fork and exec only
  // async-signal-safe calls are allowed (the parent has other threads).
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Error{ErrorCode::kIo, "open " + log_path + ": " + std::strerror(errno)};
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return Error{ErrorCode::kIo, std::string("fork: ") + std::strerror(errno)};
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  pid_ = pid;
  exit_status_.reset();
  return Status();
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == 0) return true;
  exit_status_ = done == pid_ ? decode_wait_status(status) : -1;
  pid_ = -1;
  return false;
}

void ChildProcess::signal(int signal_number) {
  if (pid_ > 0) ::kill(pid_, signal_number);
}

void ChildProcess::reap_blocking() {
  if (pid_ <= 0) return;
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, 0);
  exit_status_ = done == pid_ ? decode_wait_status(status) : -1;
  pid_ = -1;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) return exit_status_.value_or(-1);
  signal(SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      signal(SIGKILL);
      reap_blocking();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_.value_or(-1);
}

void ChildProcess::kill() {
  if (pid_ <= 0) return;
  signal(SIGKILL);
  reap_blocking();
}

}  // namespace dledger::e2e
