// Helpers shared by tests that run servers: a free loopback port and a polling wait.
//
// free_port(): a TCP port on 127.0.0.1 that was free when asked (the kernel picks it by binding
// port 0), and never one this process was handed before: the kernel may give the same port to two
// consecutive binds once the first socket is closed, and a test that asks for three ports must get
// three. Another process may still take it before the caller binds; tests that can, bind port 0
// themselves and read the port back instead.
//
// eventually(condition, limit): polls `condition` every 10 ms until it holds or `limit` passes;
// returns the last result. The limits are generous on purpose: tests assert outcomes, never
// durations (the CI machines are shared and noisy).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace dledger::testing {

inline std::uint16_t kernel_picked_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("free_port: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("free_port: bind to 127.0.0.1:0 failed");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline std::uint16_t free_port() {
  static std::mutex mutex;
  static std::set<std::uint16_t> handed_out;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::uint16_t port = kernel_picked_port();
    std::lock_guard lock(mutex);
    if (handed_out.insert(port).second) return port;
  }
  throw std::runtime_error("free_port: the kernel kept picking ports this process already used");
}

template <typename Fn>
bool eventually(Fn condition, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace dledger::testing
