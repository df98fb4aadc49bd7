// ClientService: the server side of the ledger client protocol (client_protocol.h).
//
// Binds `clientPort` (default 20911; 0 picks a free port, reported by port()) and forwards
// append requests to ClientBackend::append and get requests to ClientBackend::get.
//
// Threads: one I/O thread owns the acceptor and every connection. Backend append callbacks may
// run on any thread; they post the response back to the I/O thread. get() is called on the I/O
// thread (it reads committed entries, normally from the page cache). With
// ClientServiceOptions::io_context the "I/O thread" is the owner's thread running that context
// (the ledger's consensus thread), and get() runs on a reader thread of the service instead, so
// a log read never stalls that context.
//
// Per connection:
//   - requests are pipelined; responses are written in completion order with their request id;
//   - the append requests decoded from one socket read (up to 1 MiB of payload) are handed to
//     ClientBackend::append as ONE batch, so a pipelining client costs one consensus proposal
//     and one completion per read instead of per request; each request still gets its own
//     response (its first index = the batch's first index + the entries before it), and a
//     failed batch answers each of its requests with the batch's error;
//   - at most max_inflight_per_connection requests are outstanding; beyond that the service stops
//     reading from the socket until responses drain (TCP back-pressure instead of unbounded
//     memory);
//   - a malformed frame (client_protocol.h) closes the connection and logs the reason with the
//     peer address; it never affects other connections.
// A kNotLeader reply carries ClientBackend::leader_id() so clients can redirect.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "broker/base/properties.h"
#include "broker/base/result.h"
#include "broker/ledger/server/ledger_server.h"
#include "broker/ledger/service/client_protocol.h"

namespace asio {
class io_context;
}

namespace dledger::service {

inline constexpr std::uint16_t kDefaultClientPort = 20911;

struct ClientServiceOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = kDefaultClientPort;  // 0: any free port
  FrameLimits limits;
  std::uint32_t max_inflight_per_connection = 4096;
  // Run on this context instead of an own I/O thread (the ledger program passes the ledger's
  // consensus context: an append then reaches the consensus core, and its response the socket,
  // without thread hand-offs). Contract: the owner runs the context on ONE thread from start()
  // until stop() has returned (stop() waits for that thread to close every connection), keeps
  // running it until it runs out of work, and destroys the service only after that thread has
  // left run().
  asio::io_context* io_context = nullptr;

  // Reads `clientHost` [0.0.0.0], `clientPort` [20911, 0..65535], `clientMaxFrameBytes`
  // [16777216, 1024..1073741824] and marks them used. Errors name the key and value.
  static Result<ClientServiceOptions> from_properties(const Properties& props);
};

// What the service needs from a ledger replica.
class ClientBackend {
 public:
  virtual ~ClientBackend() = default;
  // Appends the entries (one or a consecutive batch); `done` may run on any thread, exactly once.
  virtual void append(std::vector<std::string> entries, ledger::AppendCallback done) = 0;
  // A committed entry (kOutOfRange outside the committed, retained range).
  virtual Result<ledger::CommittedEntry> get(std::uint64_t index) = 0;
  // The leader this replica currently knows (raft::kNoNode when none).
  virtual raft::NodeId leader_id() = 0;
};

// Adapts a LedgerServer (which must outlive the adapter).
std::unique_ptr<ClientBackend> make_ledger_backend(ledger::LedgerServer& server);

class ClientService {
 public:
  // Binds and starts serving. Errors: address in use / bad host (kIo / kInvalidArgument).
  // `backend` must outlive the service (stop the service first).
  static Result<std::unique_ptr<ClientService>> start(ClientServiceOptions options,
                                                      ClientBackend& backend);
  ~ClientService();

  ClientService(const ClientService&) = delete;
  ClientService& operator=(const ClientService&) = delete;

  // Closes the listener and every connection, joins the I/O thread. Idempotent. Responses of
  // appends still in the backend are dropped.
  void stop();

  // The bound port (the chosen one when options.port was 0).
  std::uint16_t port() const;

  struct Stats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t protocol_errors = 0;  // connections closed for a malformed frame
    std::uint64_t requests = 0;
  };
  Stats stats() const;

  struct Impl;

 private:
  explicit ClientService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dledger::service
