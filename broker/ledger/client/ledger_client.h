// LedgerClient: the C++ client of a ledger group (client protocol in
// broker/ledger/service/client_protocol.h).
//
// Configured with the replicas' CLIENT addresses in DLedger peers format
// ("n0-host:port;n1-host:port;n2-host:port"). It keeps one connection, to the replica it believes
// leads, pipelines requests on it, and:
//   - follows NotLeader(leader id) replies to the named member;
//   - on connection loss, refused connections, unknown leader, Transferring / Overloaded /
//     Unavailable / Stopped replies, retries with exponential backoff (backoff_initial doubling up
//     to backoff_max), trying the next replica when the current one is unreachable;
//   - fails a request with kTimeout (message: the last error seen) once request_timeout has passed
//     since the call, and with kStopped after close();
//   - keeps at most max_inflight requests on the wire; further requests wait, in call order, in the
//     client until responses free the window.
// Delivery: an append whose connection broke after it was sent is sent again, so an append can be
// stored twice (at-least-once, like DLedger's client); every successful callback names the index
// the entry was committed at. Other errors (InvalidArgument, OutOfRange, DiskFull, Timeout from the
// server, ...) are returned to the caller unchanged.
//
// Gets go to the current target replica too; to read from one particular replica, give the client
// only that replica's address (followers serve committed entries).
//
// Threads: one internal I/O thread; callbacks run on it and must not block (never call the *_sync
// functions or close() from a callback). All public functions are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/raft/types.h"
#include "broker/ledger/server/ledger_server.h"
#include "broker/ledger/service/client_protocol.h"

namespace dledger::client {

struct ClientPeer {
  raft::NodeId id = raft::kNoNode;
  std::string name;  // "n0"
  std::string host;
  std::uint16_t port = 0;
  std::string address() const { return host + ":" + std::to_string(port); }
};

// Parses "n0-host:port;n1-host:port" with the rules of raft::membership_from_peers (id = text
// before the first '-', 'n' + 1-9 digits; host may contain '-'; port 1-65535; a trailing ';' is
// allowed; no duplicate ids or addresses). Errors name the offending item.
Result<std::vector<ClientPeer>> parse_client_peers(std::string_view peers);

struct LedgerClientOptions {
  std::string peers;
  std::chrono::milliseconds request_timeout{10000};  // per call, across retries and redirects
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds backoff_initial{5};
  std::chrono::milliseconds backoff_max{200};
  std::uint32_t max_inflight = 1024;
  service::FrameLimits limits;
};

class LedgerClient {
 public:
  using AppendCallback = std::function<void(Result<ledger::AppendResult>)>;
  using GetCallback = std::function<void(Result<ledger::CommittedEntry>)>;

  // Validates the options (peers string, positive window and timeouts) and starts the I/O thread.
  // Connects lazily, on the first request.
  static Result<std::unique_ptr<LedgerClient>> create(LedgerClientOptions options);
  ~LedgerClient();  // close()

  LedgerClient(const LedgerClient&) = delete;
  LedgerClient& operator=(const LedgerClient&) = delete;

  // `done` runs exactly once, on the client's I/O thread. A batch is stored as consecutive
  // entries; the result names the first.
  void append(std::string data, AppendCallback done);
  void append_batch(std::vector<std::string> entries, AppendCallback done);
  void get(std::uint64_t index, GetCallback done);

  // Blocking conveniences (not from callbacks).
  Result<ledger::AppendResult> append_sync(std::string data);
  Result<ledger::CommittedEntry> get_sync(std::uint64_t index);

  // Fails every outstanding request with kStopped and joins the I/O thread. Idempotent.
  void close();

  // The leader id last learned (kNoNode when unknown).
  raft::NodeId leader() const;

  struct Stats {
    std::uint64_t connects = 0;   // successful connections
    std::uint64_t redirects = 0;  // NotLeader replies followed
    std::uint64_t retries = 0;    // requests sent again
  };
  Stats stats() const;

  struct Impl;

 private:
  explicit LedgerClient(std::shared_ptr<Impl> impl);
  bool closing() const;
  std::shared_ptr<Impl> impl_;
};

}  // namespace dledger::client
