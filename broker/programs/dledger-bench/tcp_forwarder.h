// TcpForwarder: an in-process TCP forwarder that stands for a Kubernetes Service in front of a
// broker group (the `brokerGroupAddress` of docs/broker.md), for `dledger-bench group-failover`.
//
//   client ──connect──▶ forwarder 127.0.0.1:<port> ──connect──▶ one live backend (round-robin)
//   client ◀══════════ bytes both ways, unchanged ══════════▶ backend
//
// Each accepted connection asks `backends()` for the current list ("ip:port" literals) and
// connects to the next one in round-robin order; a backend whose connect fails (refused, or not
// connected within `connect_timeout`) is skipped and the next one tried, as kube-proxy does with
// a Service whose endpoints are the ready pods. When none accepts, the client connection is
// closed. Once paired, bytes are copied both ways; when either side closes or fails, both are
// closed (the client sees its connection break exactly when the backend's does).
//
// Threads: one io thread, started by start() and joined by stop() / the destructor. backends()
// runs on that thread and must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/base/result.h"

namespace dledger::bench {

class TcpForwarder {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{1000};
    std::function<std::vector<std::string>()> backends;  // "ip:port", e.g. "127.0.0.1:10911"
  };
  struct Stats {
    std::uint64_t accepted = 0;                  // client connections accepted
    std::uint64_t paired = 0;                    // ... connected to a backend
    std::uint64_t backend_connect_failures = 0;  // backends skipped (refused, timeout, bad addr)
    std::uint64_t closed_without_backend = 0;    // client connections no backend accepted
  };

  // Listens on 127.0.0.1 (port 0: the kernel picks one; see address()). Errors: kInvalidArgument
  // without a backends function, kIo when the listening socket cannot be set up.
  static Result<std::unique_ptr<TcpForwarder>> start(Options options);
  ~TcpForwarder();
  TcpForwarder(const TcpForwarder&) = delete;
  TcpForwarder& operator=(const TcpForwarder&) = delete;

  std::string address() const;  // "127.0.0.1:<port>"
  Stats stats() const;
  // Stops accepting, closes every connection, joins the io thread. Idempotent.
  void stop();

 private:
  struct Impl;
  explicit TcpForwarder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dledger::bench
