// NameServer: the route table behind a RemotingServer. Registers the handlers of
// namesrv_handlers.h, drops brokers whose connection closes, and scans for silent brokers every
// `scan_interval_ms` (brokers re-register every 30 s; an entry expires after broker_expire_ms).
// The route table is guarded by one mutex; requests are short, so io threads never wait long.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "broker/base/properties.h"
#include "broker/base/result.h"
#include "broker/frontend/remoting_server.h"
#include "broker/namesrv/route_table.h"

namespace dledger::namesrv {

inline constexpr std::uint16_t kDefaultListenPort = 9876;

struct NameServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = kDefaultListenPort;  // 0: any free port
  int io_threads = 4;
  std::int64_t broker_expire_ms = kDefaultBrokerExpireMs;
  std::int64_t scan_interval_ms = 10'000;

  // Reads listenPort [9876, 0..65535], brokerExpireSeconds [120, 1..86400],
  // serverWorkerThreads [4, 1..64] and marks them used. Errors name the key and value.
  static Result<NameServerOptions> from_properties(const Properties& props);
};

class NameServer {
 public:
  // Binds and serves. Errors: those of RemotingServer::start().
  static Result<std::unique_ptr<NameServer>> start(NameServerOptions options);
  ~NameServer();
  NameServer(const NameServer&) = delete;
  NameServer& operator=(const NameServer&) = delete;

  void stop();  // idempotent
  std::uint16_t port() const { return server_.port(); }

 private:
  explicit NameServer(NameServerOptions options);
  void scan_loop();

  NameServerOptions options_;
  std::mutex mu_;
  RouteTable table_;  // guarded by mu_
  frontend::RemotingServer server_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread scanner_;
};

}  // namespace dledger::namesrv
