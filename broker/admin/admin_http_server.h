// AdminHttpServer: the replica's admin HTTP endpoint (docs/admin-api.md is the contract).
//
//   GET    /healthz                    200 "ok" while the process is alive
//   GET    /readyz                     200 when is_ready(backend.status()), else 503
//   GET    /status                     status_to_json(backend.status())
//   GET    /metrics                    Prometheus text format of registry()
//   POST   /v1/leadership/transfer     {"target":"n2"}; "" / omitted / empty body = any voter
//   POST   /v1/members                 {"id":"n3","address":"host:40911"}: add a learner
//   POST   /v1/members/{id}/promote    learner -> voter
//   DELETE /v1/members/{id}            remove a member
//
// Mutating requests need `Authorization: Bearer <token>` when options.token is set (401
// otherwise; compared in constant time). Errors are {"error":"<Code>","message":"..."} with the
// status from http_status_for(); a NotLeader answer also carries leader_id and leader_admin taken
// from backend.status(). Bad JSON, missing or mistyped fields and invalid ids/addresses are 400
// naming the field. Unknown paths are 404, a known path with the wrong method 405. Requests are
// served on cpprestsdk's thread pool; the mutating endpoints block one worker until the backend
// call returns (bounded by options.operation_timeout).
//
// Port 0: cpprestsdk's listener cannot report the port it bound, so for port 0 start() picks a
// free port itself (bind a socket to port 0, read the port, close it, then open the listener
// there) and retries with a new port if another process took it in between. port() reports the
// port in use. Tests use this; production configures a fixed adminPort.
//
// stop(): cpprestsdk serves every listener of a process from one shared server object and only
// closes listening sockets when the last listener of the process closes. So when several
// AdminHttpServers run in one process (tests), a stopped one's port keeps accepting and answers
// 404 with an empty body until all have stopped; AdminClient reports that as kUnavailable.
// Ports are also tracked per process so that starting a second server on a port already used
// here fails cleanly instead of disturbing the first (cpprestsdk would tear it down).
//
// The cpprestsdk headers are not exposed here; dledger_admin still exports
// _TURN_OFF_PLATFORM_STRING to its users in case they include them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "broker/admin/admin_backend.h"
#include "broker/base/result.h"

namespace prometheus {
class Registry;
}

namespace dledger::admin {

struct AdminServerOptions {
  std::string host = "0.0.0.0";  // address to bind; "127.0.0.1" in tests
  std::uint16_t port = 10980;    // adminPort; 0 = pick a free port (see above)
  std::string token;             // "" = no authentication for mutating requests
  // Upper bound handed to the backend's mutating calls.
  std::chrono::milliseconds operation_timeout{10000};
  std::size_t max_body_bytes = 64 * 1024;  // larger request bodies are refused with 413
  // Registry rendered by /metrics; nullptr = the server creates its own.
  std::shared_ptr<prometheus::Registry> registry;
};

class AdminHttpServer {
 public:
  // Binds and starts serving. Errors: kInvalidArgument (bad host), kUnavailable (bind failed,
  // message names host:port and the reason).
  static Result<std::unique_ptr<AdminHttpServer>> start(AdminServerOptions options,
                                                        std::shared_ptr<AdminBackend> backend);
  ~AdminHttpServer();
  AdminHttpServer(const AdminHttpServer&) = delete;
  AdminHttpServer& operator=(const AdminHttpServer&) = delete;

  // Stops listening and waits for the listener to close. Idempotent; the destructor calls it.
  void stop();

  std::uint16_t port() const;
  // "host:port" as bound, e.g. "127.0.0.1:10980".
  std::string address() const;
  // Shared registry rendered by /metrics; the ledger server and broker add their families here.
  std::shared_ptr<prometheus::Registry> registry() const;

  class Impl;

 private:
  explicit AdminHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Constant-time comparison (time depends on the lengths only), for tokens.
bool constant_time_equals(const std::string& a, const std::string& b);

}  // namespace dledger::admin
