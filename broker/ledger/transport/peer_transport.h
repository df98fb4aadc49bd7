// PeerTransport: the TCP transport that carries raft::Message between the members of one group.
//
// Topology: every member listens on its peer address and opens ONE outbound connection to each
// other member of the current Membership. A member sends only on the connections it opened and
// receives only on the ones it accepted, so each direction of a pair has its own TCP stream and
// messages from one sender arrive in the order they were sent (while that connection lives).
//
//   send(msg) ──► encode frame (caller's thread) ──► per-peer queue (bounded, bytes)
//                                                       │ io thread: gather up to
//                                                       ▼ max_write_batch_bytes into one write
//                                         outbound socket ══► acceptor ──► on_message(msg)
//
// Delivery is best effort, which Raft tolerates: a message is dropped (and counted) when its
// peer's queue is full (the oldest queued messages go first), when it is larger than the queue,
// when the connection fails with it in flight, or when its destination is not a member.
// Disconnected peers are retried with jittered exponential backoff (BackoffPolicy); an
// authenticated inbound connection from a peer whose outbound connection is waiting out that
// backoff ends the wait (the peer is evidently up again, e.g. a restarted replica).
//
// Handshake and authentication: see handshake.h. The acceptor refuses peers that are not in the
// membership, name another group or protocol version, or (with a secret configured) fail the
// HMAC challenge. Malformed, oversized or wrong-version frames, undecodable messages and messages
// whose `from`/`to` do not match the handshake close that one connection; every close is logged
// with its reason. Nothing else is affected.
//
// Threads: one io thread owned by the transport runs all socket work and calls `on_message`;
// or, with PeerTransportOptions::io_context set, the thread of the owner that runs that context
// does (no thread of its own). send(), update_membership() and the stats accessors may be called
// from any thread, including from `on_message`. With an own io thread, stop() must not be called
// from `on_message` (it joins the io thread); with an external context it may be called from any
// thread while the context runs.
#pragma once

#include <spdlog/logger.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/raft/types.h"
#include "broker/ledger/transport/backoff.h"
#include "broker/ledger/transport/frame.h"
#include "broker/ledger/transport/message_codec.h"

namespace asio {
class io_context;
}

namespace dledger::transport {

struct PeerTransportOptions {
  std::string group;                     // DLedger group name; peers naming another are refused
  raft::NodeId self_id = raft::kNoNode;  // required
  std::string listen_host = "0.0.0.0";   // IP address or resolvable name
  std::uint16_t listen_port = 0;         // 0: an ephemeral port, see listen_port()
  std::string secret;                    // empty: no authentication (any member may connect)

  std::size_t max_frame_bytes = kDefaultMaxFrameBytes;  // payload limit for received frames
  // Per peer, encoded frame bytes. A message larger than this is dropped (with a warning), so
  // keep it above max_frame_bytes: the default holds any frame a peer would accept.
  std::size_t send_queue_bytes = 80ull << 20;
  std::size_t max_write_batch_bytes = 1ull << 20;  // gathered into one write
  BackoffPolicy reconnect_backoff;                 // 50 ms .. 2 s by default
  std::uint32_t connect_timeout_ms = 5000;         // resolve + connect + handshake, connecting side
  std::uint32_t handshake_timeout_ms = 5000;       // accepting side, from accept to accepted
  // An outbound connection whose pending write makes no progress for this long is closed and
  // reconnected (the peer stopped reading). 0 disables the check.
  std::uint32_t write_timeout_ms = 10'000;
  // Accepted connections open at once (handshaking or established); more are closed at once.
  std::size_t max_inbound_connections = 256;
  CodecLimits codec_limits;

  // Injectable sources (defaults: a randomly seeded mt19937_64, OpenSSL RAND_bytes and the
  // spdlog default logger).
  std::function<std::uint64_t()> random;      // backoff jitter, called on the io thread
  std::function<std::string()> nonce_source;  // kNonceBytes per challenge
  std::shared_ptr<spdlog::logger> logger;

  // Run on this context instead of an own io thread; on_message then runs on the owner's thread,
  // saving a thread hand-off per received message. Contract: the owner runs the context on ONE
  // thread from start() until stop() has returned (stop() waits for that thread to close every
  // connection), then keeps running it until it runs out of work, and destroys the transport
  // only after that thread has left run(). Handlers still queued then see a stopped transport.
  asio::io_context* io_context = nullptr;
};

struct PeerStats {
  raft::NodeId id = raft::kNoNode;
  std::string address;
  bool connected = false;          // handshake completed on the current outbound connection
  std::uint64_t queued_bytes = 0;  // encoded frames waiting (never above send_queue_bytes)
  std::uint64_t queued_messages = 0;
  std::uint64_t sent_messages = 0;  // written to the socket
  std::uint64_t dropped_messages = 0;
  std::uint64_t connections = 0;  // handshakes completed
  std::uint64_t reconnects = 0;   // reconnect attempts scheduled after a failure or close
};

struct TransportStats {
  std::uint64_t inbound_accepted = 0;         // handshakes completed on accepted connections
  std::uint64_t inbound_refused = 0;          // refused: membership, group, version, secret
  std::uint64_t inbound_protocol_errors = 0;  // closed for malformed frames or messages
  std::uint64_t inbound_open = 0;             // accepted connections currently open
  std::uint64_t received_messages = 0;        // delivered to on_message
  std::uint64_t dropped_unknown_peer = 0;     // send() to an id that is not a peer
};

class PeerTransport {
 public:
  // Called on the io thread for every received message; must not block (post it elsewhere).
  using MessageHandler = std::function<void(raft::Message&& message)>;

  PeerTransport(PeerTransportOptions options, MessageHandler on_message);
  ~PeerTransport();  // stop()
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // Binds the listening socket, starts the io thread and connects to every member of
  // `membership` except self_id. Errors: kInvalidArgument (options), kIo (bind / listen, naming
  // the address). Call once.
  Status start(const raft::Membership& membership);

  // Closes every connection and joins the io thread (external context: waits until the
  // context's thread has closed them). Idempotent; a stopped transport stays stopped. Messages
  // still queued are dropped.
  void stop();

  // The bound port (useful with listen_port 0); 0 before start().
  std::uint16_t listen_port() const;

  // New members get a connection; removed members lose theirs (outbound and inbound); a member
  // whose address changed is reconnected. Members whose address cannot be parsed as host:port
  // are skipped with an error log.
  void update_membership(const raft::Membership& membership);

  // Queues `message` for message.to. Never blocks on the network.
  void send(const raft::Message& message);
  void send(const std::vector<raft::Message>& messages);

  std::vector<PeerStats> peer_stats() const;
  std::optional<PeerStats> peer_stats(raft::NodeId id) const;
  TransportStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dledger::transport
