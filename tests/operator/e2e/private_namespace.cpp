#include "tests/operator/e2e/private_namespace.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace dledger::e2e {
namespace {

Error errno_error(const std::string& what) {
  return Error{ErrorCode::kIo, what + ": " + std::strerror(errno)};
}

Status bring_loopback_up() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return errno_error("socket() for the loopback interface");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  Status status;
  if (::ioctl(fd, SIOCGIFFLAGS, &request) != 0) {
    status = errno_error("SIOCGIFFLAGS lo");
  } else {
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(fd, SIOCSIFFLAGS, &request) != 0) status = errno_error("SIOCSIFFLAGS lo up");
  }
  ::close(fd);
  return status;
}

}  // namespace

Status write_hosts_file(const std::string& hosts_path, const std::string& extra_lines) {
  std::ofstream out(hosts_path, std::ios::trunc);
  if (!out) return Error{ErrorCode::kIo, "cannot write " + hosts_path};
  out << "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n" << extra_lines;
  out.flush();
  if (!out) return Error{ErrorCode::kIo, "short write to " + hosts_path};
  return Status();
}

Status enter_private_namespaces(const std::string& hosts_path) {
  if (Status written = write_hosts_file(hosts_path, ""); !written.ok()) return written;
  if (::unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) {
    return errno_error("unshare(CLONE_NEWNS | CLONE_NEWNET) (the drills need root)");
  }
  // Mounts made from now on must not propagate back to the machine's mount namespace.
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return errno_error("mount --make-rprivate /");
  }
  if (::mount(hosts_path.c_str(), "/etc/hosts", nullptr, MS_BIND, nullptr) != 0) {
    return errno_error("mount --bind " + hosts_path + " /etc/hosts");
  }
  return bring_loopback_up();
}

}  // namespace dledger::e2e
