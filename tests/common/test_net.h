// Helpers shared by tests that run servers: a free loopback port and a polling wait.
//
// free_port(): a TCP port on 127.0.0.1 that was free when asked, below the kernel's ephemeral
// range so that no outgoing connection takes it before the caller binds it (pick_loopback_port,
// broker/base/loopback_port.h), and never one this process was handed before: a test that asks
// for three ports must get three. Another process may still take it before the caller binds;
// tests that can, bind port 0 themselves and read the port back instead.
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

#include "broker/base/loopback_port.h"

namespace dledger::testing {

inline std::uint16_t free_port() {
  static std::mutex mutex;
  static std::set<std::uint16_t> handed_out;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::uint16_t port = pick_loopback_port();
    if (port == 0) throw std::runtime_error("free_port: no port on 127.0.0.1 could be bound");
    std::lock_guard lock(mutex);
    if (handed_out.insert(port).second) return port;
  }
  throw std::runtime_error("free_port: only found ports this process was already handed");
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
