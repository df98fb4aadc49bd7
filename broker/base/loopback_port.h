// pick_loopback_port(): a TCP port on 127.0.0.1 for a server that a test or benchmark starts
// (and may restart on the same port), chosen so that nothing else is likely to take it first.
//
// The kernel's bind(0) hands out ports from the ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range, usually 32768-60999), the same range every outgoing
// connection of every process takes its local port from. A port picked that way and released
// can be taken by any connect() before the server binds it, and a killed server's port while
// it is down: "Address already in use" at a restart. So the port is picked at random below the
// ephemeral range (from 10000 up), and only one that can be bound right now (no socket, not
// even one in TIME_WAIT, holds it) is returned. Falls back to bind(0) when the ephemeral range
// starts too low to leave room. Returns 0 only if no port could be bound at all.
//
// Another process using the same scheme may still pick the same port in the moment between the
// check and its owner's bind; with ~20,000 candidates that is rare, and callers that can bind
// port 0 themselves and read the port back should do that instead.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <random>

namespace dledger {

// True if a TCP socket can be bound to 127.0.0.1:port now (port 0: any). On success *bound
// receives the port bound (the kernel's choice for 0).
inline bool try_bind_loopback(std::uint16_t port, std::uint16_t* bound) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  socklen_t len = sizeof(addr);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (ok && bound != nullptr) *bound = ntohs(addr.sin_port);
  return ok;
}

// The lowest port of the kernel's ephemeral range (32768 when it cannot be read).
inline std::uint32_t ephemeral_port_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  std::uint32_t low = 0;
  std::uint32_t high = 0;
  if (in >> low >> high && low > 0 && low <= high) return low;
  return 32768;
}

inline std::uint16_t pick_loopback_port() {
  constexpr std::uint32_t kFirst = 10000;
  const std::uint32_t end = ephemeral_port_low();  // exclusive
  if (end >= kFirst + 1000) {
    thread_local std::mt19937 random{std::random_device{}()};
    std::uniform_int_distribution<std::uint32_t> pick(kFirst, end - 1);
    for (int attempt = 0; attempt < 200; ++attempt) {
      const auto port = static_cast<std::uint16_t>(pick(random));
      if (try_bind_loopback(port, nullptr)) return port;
    }
  }
  std::uint16_t port = 0;
  return try_bind_loopback(0, &port) ? port : 0;
}

}  // namespace dledger
