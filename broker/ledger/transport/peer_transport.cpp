#include "broker/ledger/transport/peer_transport.h"

#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <atomic>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string_view>
#include <thread>
#include <utility>

#include "broker/base/thread_name.h"
#include "broker/ledger/transport/handshake.h"

namespace dledger::transport {
namespace {

using asio::ip::tcp;

constexpr std::size_t kChunkTargetBytes = 64 * 1024;  // small frames are packed up to this size
constexpr std::size_t kReadBufferBytes = 64 * 1024;
constexpr std::uint32_t kAcceptRetryMs = 100;

std::string id_name(raft::NodeId id) {
  return id == raft::kNoNode ? std::string("none") : "n" + std::to_string(id);
}

// "host:port" or "[v6]:port" -> host, port. Errors name the address.
Result<std::pair<std::string, std::string>> split_host_port(const std::string& address) {
  std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "peer address '" + address + "' is not host:port");
  }
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned long value = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || port.size() > 5) {
      return make_error(ErrorCode::kInvalidArgument,
                        "peer address '" + address + "' has a bad port '" + port + "'");
    }
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value == 0 || value > 65535) {
    return make_error(ErrorCode::kInvalidArgument,
                      "peer address '" + address + "' has a port outside 1-65535");
  }
  return std::make_pair(host, port);
}

// Frames packed together; `messages` counts the raft messages inside.
struct Chunk {
  std::string bytes;
  std::uint32_t messages = 0;
};

struct Outbound;

struct Peer {
  Peer(asio::io_context& io, raft::NodeId peer_id, std::string peer_address, std::string h,
       std::string p)
      : id(peer_id),
        address(std::move(peer_address)),
        host(std::move(h)),
        port(std::move(p)),
        retry_timer(io) {}

  const raft::NodeId id;
  const std::string address;
  const std::string host;
  const std::string port;

  // Guarded by mu (touched by senders and the io thread).
  std::mutex mu;
  std::deque<Chunk> queue;
  std::size_t queued_bytes = 0;
  std::size_t queued_messages = 0;
  bool pump_pending = false;  // the io thread will look at the queue again
  bool connected = false;     // mirrors `connected_flag`, read under mu by senders
  std::uint64_t sent_messages = 0;
  std::uint64_t dropped_messages = 0;

  // io thread only.
  std::shared_ptr<Outbound> conn;
  asio::steady_timer retry_timer;
  std::uint32_t failed_attempts = 0;
  bool removed = false;

  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> reconnects{0};
};

struct Outbound {
  enum class State { kConnecting, kHandshaking, kEstablished, kClosed };

  Outbound(asio::io_context& io, std::shared_ptr<Peer> p)
      : peer(std::move(p)),
        socket(io),
        resolver(io),
        deadline(io),
        read_buffer(new char[kReadBufferBytes]) {}

  std::shared_ptr<Peer> peer;
  tcp::socket socket;
  tcp::resolver resolver;
  asio::steady_timer deadline;
  FrameDecoder decoder{kMaxHandshakeFrameBytes};
  std::unique_ptr<char[]> read_buffer;
  State state = State::kConnecting;
  bool challenged = false;
  bool writing = false;
  std::uint64_t writes_completed = 0;       // progress counter for the stall check
  std::uint64_t writes_completed_seen = 0;  // its value at the previous stall check
  bool writing_seen = false;                // `writing` at the previous stall check
  std::vector<Chunk> inflight;
  std::vector<asio::const_buffer> buffers;
};

struct Inbound {
  enum class State { kAwaitHello, kAwaitAuth, kEstablished, kRefusing, kClosed };

  Inbound(asio::io_context& io, tcp::socket s)
      : socket(std::move(s)), deadline(io), read_buffer(new char[kReadBufferBytes]) {}

  tcp::socket socket;
  asio::steady_timer deadline;
  FrameDecoder decoder{kMaxHandshakeFrameBytes};
  std::unique_ptr<char[]> read_buffer;
  State state = State::kAwaitHello;
  raft::NodeId peer_id = raft::kNoNode;
  std::string nonce;
  std::string remote;  // "ip:port" for logs
};

}  // namespace

class PeerTransport::Impl {
 public:
  Impl(PeerTransportOptions options, MessageHandler on_message)
      : options_(std::move(options)),
        on_message_(std::move(on_message)),
        io_(options_.io_context != nullptr ? *options_.io_context : own_io_),
        acceptor_(io_),
        accept_retry_timer_(io_) {
    if (!options_.logger) options_.logger = spdlog::default_logger();
    if (!options_.random) {
      auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
      options_.random = [engine] { return (*engine)(); };
    }
    if (!options_.nonce_source) options_.nonce_source = [] { return random_nonce(); };
  }

  ~Impl() { stop(); }

  Status start(const raft::Membership& membership);
  void stop();
  std::uint16_t listen_port() const { return bound_port_.load(); }
  void update_membership(const raft::Membership& membership);
  void send(const raft::Message& message);
  std::vector<PeerStats> peer_stats() const;
  std::optional<PeerStats> peer_stats(raft::NodeId id) const;
  TransportStats stats() const;

 private:
  // Outbound side (io thread).
  void connect(const std::shared_ptr<Peer>& peer);
  void start_outbound_read(const std::shared_ptr<Outbound>& conn);
  void on_outbound_frame(const std::shared_ptr<Outbound>& conn, const FrameView& frame);
  void outbound_write_control(const std::shared_ptr<Outbound>& conn, std::string frame);
  void established(const std::shared_ptr<Outbound>& conn);
  void arm_stall_check(const std::shared_ptr<Outbound>& conn);
  // `conn` by value: callers may pass peer->conn, which this resets.
  void close_outbound(std::shared_ptr<Outbound> conn, const std::string& reason, bool was_error);
  void schedule_reconnect(const std::shared_ptr<Peer>& peer);
  void reconnect_now_if_waiting(raft::NodeId id);
  // The member `id`'s peer state, nullptr when it is not a member.
  std::shared_ptr<Peer> find_peer(raft::NodeId id) const;
  void pump(const std::shared_ptr<Peer>& peer);

  // Inbound side (io thread).
  void accept_next();
  void start_inbound_read(const std::shared_ptr<Inbound>& conn);
  void on_inbound_frame(const std::shared_ptr<Inbound>& conn, const FrameView& frame);
  void on_hello(const std::shared_ptr<Inbound>& conn, std::string_view payload);
  void accept_peer(const std::shared_ptr<Inbound>& conn);
  void refuse(const std::shared_ptr<Inbound>& conn, const std::string& reason);
  void inbound_write(const std::shared_ptr<Inbound>& conn, std::string frame, bool close_after);
  void close_inbound(std::shared_ptr<Inbound> conn, const std::string& reason);
  void protocol_error(const std::shared_ptr<Inbound>& conn, const std::string& reason);

  // Membership (any thread for the lookups).
  bool is_member(raft::NodeId id) const;
  void apply_membership(const raft::Membership& membership);
  void enqueue(const std::shared_ptr<Peer>& peer, std::string frame);

  std::string prefix() const { return "transport " + id_name(options_.self_id); }
  std::string describe(const Peer& peer) const {
    return prefix() + " -> " + id_name(peer.id) + " (" + peer.address + ")";
  }
  std::string describe(const Inbound& conn) const {
    return prefix() + " <- " +
           (conn.peer_id == raft::kNoNode ? std::string("?") : id_name(conn.peer_id)) + " (" +
           conn.remote + ")";
  }

  PeerTransportOptions options_;
  MessageHandler on_message_;
  asio::io_context own_io_;  // unused when options_.io_context is set
  asio::io_context& io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_timer_;
  std::atomic<std::uint16_t> bound_port_{0};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  std::mutex lifecycle_mu_;

  mutable std::mutex peers_mu_;
  std::map<raft::NodeId, std::shared_ptr<Peer>> peers_;  // guarded by peers_mu_
  raft::Membership membership_;                          // guarded by peers_mu_

  // io thread only.
  std::set<std::shared_ptr<Inbound>> inbound_;
  std::map<raft::NodeId, std::weak_ptr<Inbound>> established_inbound_;

  std::atomic<std::uint64_t> inbound_accepted_{0};
  std::atomic<std::uint64_t> inbound_refused_{0};
  std::atomic<std::uint64_t> inbound_protocol_errors_{0};
  std::atomic<std::uint64_t> inbound_open_{0};
  std::atomic<std::uint64_t> received_messages_{0};
  std::atomic<std::uint64_t> dropped_unknown_peer_{0};
};

// ---------------------------------------------------------------------------------------------
// Lifecycle

Status PeerTransport::Impl::start(const raft::Membership& membership) {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  if (started_.load()) return make_error(ErrorCode::kInvalidArgument, "transport already started");
  if (options_.self_id == raft::kNoNode) {
    return make_error(ErrorCode::kInvalidArgument, "transport: self_id is not set");
  }
  if (options_.group.empty() || options_.group.size() > kMaxGroupBytes) {
    return make_error(ErrorCode::kInvalidArgument, "transport: group name must be 1-" +
                                                       std::to_string(kMaxGroupBytes) +
                                                       " bytes, got '" + options_.group + "'");
  }
  if (options_.max_write_batch_bytes == 0 || options_.send_queue_bytes == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "transport: send_queue_bytes and max_write_batch_bytes must be positive");
  }
  std::string listen = options_.listen_host + ":" + std::to_string(options_.listen_port);
  asio::error_code ec;
  tcp::resolver resolver(io_);
  auto endpoints = resolver.resolve(options_.listen_host, std::to_string(options_.listen_port),
                                    tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "transport: cannot resolve listen address " + listen + ": " + ec.message());
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close();
    return make_error(ErrorCode::kIo,
                      "transport: cannot listen on " + listen + ": " + ec.message());
  }
  bound_port_ = acceptor_.local_endpoint(ec).port();
  options_.logger->info("{}: listening on {}:{} for group '{}'{}", prefix(), options_.listen_host,
                        bound_port_.load(), options_.group,
                        options_.secret.empty() ? "" : " (secret required)");
  started_ = true;
  if (options_.io_context == nullptr) {
    work_.emplace(asio::make_work_guard(io_));
    accept_next();
  } else {
    // The owner's thread may already run the context: touch the acceptor only from it.
    asio::post(io_, [this] {
      if (!stopping_.load()) accept_next();
    });
  }
  apply_membership(membership);  // thread-safe: connections start on the io context
  if (options_.io_context == nullptr) thread_ = named_thread("ledger-peers", [this] { io_.run(); });
  return Status();
}

void PeerTransport::Impl::stop() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  if (!started_.load() || stopping_.exchange(true)) return;
  auto close_all = [this] {
    asio::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_timer_.cancel();
    std::vector<std::shared_ptr<Peer>> peers;
    {
      std::lock_guard<std::mutex> lock(peers_mu_);
      for (auto& [id, peer] : peers_) peers.push_back(peer);
    }
    for (auto& peer : peers) {
      peer->retry_timer.cancel();
      if (peer->conn) close_outbound(peer->conn, "transport stopping", false);
    }
    std::vector<std::shared_ptr<Inbound>> inbound(inbound_.begin(), inbound_.end());
    for (auto& conn : inbound) close_inbound(conn, "transport stopping");
  };
  if (options_.io_context == nullptr) {
    asio::post(io_, close_all);
  } else if (io_.get_executor().running_in_this_thread()) {
    close_all();
  } else {
    // The owner's thread runs the context: close there and wait, so that nothing of this
    // transport is touched after stop() returns except the aborted handlers the owner's context
    // still runs (they only see closed sockets and stopping_).
    std::promise<void> closed;
    auto done = closed.get_future();
    asio::post(io_, [&] {
      close_all();
      closed.set_value();
    });
    done.wait();
  }
  work_.reset();
  if (thread_.joinable()) thread_.join();
  options_.logger->info("{}: stopped", prefix());
}

// ---------------------------------------------------------------------------------------------
// Membership

bool PeerTransport::Impl::is_member(raft::NodeId id) const {
  std::lock_guard<std::mutex> lock(peers_mu_);
  for (const raft::Member& m : membership_.members) {
    if (m.id == id) return true;
  }
  return false;
}

void PeerTransport::Impl::update_membership(const raft::Membership& membership) {
  if (!started_.load()) {
    std::lock_guard<std::mutex> lock(peers_mu_);
    membership_ = membership;
    return;
  }
  apply_membership(membership);
}

void PeerTransport::Impl::apply_membership(const raft::Membership& membership) {
  std::vector<std::shared_ptr<Peer>> added;
  std::vector<std::shared_ptr<Peer>> removed;
  {
    std::lock_guard<std::mutex> lock(peers_mu_);
    membership_ = membership;
    std::map<raft::NodeId, std::shared_ptr<Peer>> next;
    for (const raft::Member& m : membership.members) {
      if (m.id == options_.self_id) continue;
      auto it = peers_.find(m.id);
      if (it != peers_.end() && it->second->address == m.address) {
        next[m.id] = it->second;
        peers_.erase(it);
        continue;
      }
      auto host_port = split_host_port(m.address);
      if (!host_port.ok()) {
        options_.logger->error("{}: skipping member {}: {}", prefix(), id_name(m.id),
                               host_port.error().message);
        continue;
      }
      auto peer = std::make_shared<Peer>(io_, m.id, m.address, host_port->first, host_port->second);
      next[m.id] = peer;
      added.push_back(peer);
    }
    for (auto& [id, peer] : peers_) removed.push_back(peer);
    peers_ = std::move(next);
  }
  asio::post(io_, [this, added = std::move(added), removed = std::move(removed)] {
    if (stopping_.load()) return;
    for (const auto& peer : removed) {
      peer->removed = true;
      peer->retry_timer.cancel();
      if (peer->conn) close_outbound(peer->conn, "removed from the membership", false);
      std::lock_guard<std::mutex> lock(peer->mu);
      peer->dropped_messages += peer->queued_messages;
      peer->queue.clear();
      peer->queued_bytes = 0;
      peer->queued_messages = 0;
    }
    std::vector<std::shared_ptr<Inbound>> inbound(inbound_.begin(), inbound_.end());
    for (const auto& conn : inbound) {
      if (conn->peer_id != raft::kNoNode && !is_member(conn->peer_id)) {
        close_inbound(conn, id_name(conn->peer_id) + " is no longer a member");
      }
    }
    for (const auto& peer : added) connect(peer);
  });
}

// ---------------------------------------------------------------------------------------------
// Sending

std::shared_ptr<Peer> PeerTransport::Impl::find_peer(raft::NodeId id) const {
  std::lock_guard<std::mutex> lock(peers_mu_);
  auto it = peers_.find(id);
  return it != peers_.end() ? it->second : nullptr;
}

void PeerTransport::Impl::send(const raft::Message& message) {
  std::shared_ptr<Peer> peer = find_peer(message.to);
  if (stopping_.load()) return;
  if (!peer) {
    dropped_unknown_peer_.fetch_add(1);
    return;
  }
  std::string frame;
  frame.reserve(kFrameHeaderBytes + encoded_message_size(message));
  std::size_t header = begin_frame(&frame);
  encode_message(message, &frame);
  end_frame(FrameType::kRaftMessage, header, &frame);
  enqueue(peer, std::move(frame));
}

void PeerTransport::Impl::enqueue(const std::shared_ptr<Peer>& peer, std::string frame) {
  bool post_pump = false;
  {
    std::lock_guard<std::mutex> lock(peer->mu);
    const std::size_t limit = options_.send_queue_bytes;
    if (frame.size() > limit) {
      ++peer->dropped_messages;
      options_.logger->warn("{}: dropped a {}-byte message larger than send_queue_bytes ({})",
                            describe(*peer), frame.size(), limit);
      return;
    }
    // Drop the oldest queued messages to make room: the newest carry the freshest state.
    while (peer->queued_bytes + frame.size() > limit && !peer->queue.empty()) {
      Chunk& oldest = peer->queue.front();
      peer->queued_bytes -= oldest.bytes.size();
      peer->queued_messages -= oldest.messages;
      peer->dropped_messages += oldest.messages;
      peer->queue.pop_front();
    }
    peer->queued_bytes += frame.size();
    peer->queued_messages += 1;
    if (!peer->queue.empty() &&
        peer->queue.back().bytes.size() + frame.size() <= kChunkTargetBytes) {
      peer->queue.back().bytes.append(frame);
      peer->queue.back().messages += 1;
    } else {
      peer->queue.push_back(Chunk{std::move(frame), 1});
    }
    if (peer->connected && !peer->pump_pending) {
      peer->pump_pending = true;
      post_pump = true;
    }
  }
  if (post_pump) asio::post(io_, [this, peer] { pump(peer); });
}

void PeerTransport::Impl::pump(const std::shared_ptr<Peer>& peer) {
  std::shared_ptr<Outbound> conn = peer->conn;
  std::size_t batch_bytes = 0;
  {
    std::lock_guard<std::mutex> lock(peer->mu);
    if (!conn || conn->state != Outbound::State::kEstablished) {
      peer->pump_pending = false;
      return;
    }
    if (conn->writing) return;  // the write completion pumps again
    if (peer->queue.empty()) {
      peer->pump_pending = false;
      return;
    }
    while (!peer->queue.empty() &&
           (conn->inflight.empty() ||
            batch_bytes + peer->queue.front().bytes.size() <= options_.max_write_batch_bytes)) {
      Chunk& chunk = peer->queue.front();
      batch_bytes += chunk.bytes.size();
      peer->queued_bytes -= chunk.bytes.size();
      peer->queued_messages -= chunk.messages;
      conn->inflight.push_back(std::move(chunk));
      peer->queue.pop_front();
    }
    peer->pump_pending = true;
  }
  conn->writing = true;
  conn->buffers.clear();
  for (const Chunk& chunk : conn->inflight) conn->buffers.push_back(asio::buffer(chunk.bytes));
  asio::async_write(conn->socket, conn->buffers, [this, conn](asio::error_code ec, std::size_t) {
    conn->writing = false;
    if (conn->state == Outbound::State::kClosed) return;  // in-flight counted as dropped
    if (ec) {
      close_outbound(conn, "write failed: " + ec.message(), true);
      return;
    }
    std::uint64_t written = 0;
    for (const Chunk& chunk : conn->inflight) written += chunk.messages;
    conn->inflight.clear();
    ++conn->writes_completed;
    {
      std::lock_guard<std::mutex> lock(conn->peer->mu);
      conn->peer->sent_messages += written;
    }
    pump(conn->peer);
  });
}

// ---------------------------------------------------------------------------------------------
// Outbound connections

void PeerTransport::Impl::connect(const std::shared_ptr<Peer>& peer) {
  if (stopping_.load() || peer->removed || peer->conn) return;
  auto conn = std::make_shared<Outbound>(io_, peer);
  peer->conn = conn;
  conn->deadline.expires_after(std::chrono::milliseconds(options_.connect_timeout_ms));
  conn->deadline.async_wait([this, conn](asio::error_code ec) {
    if (ec || conn->state == Outbound::State::kClosed ||
        conn->state == Outbound::State::kEstablished) {
      return;
    }
    close_outbound(
        conn, "no accepted handshake within " + std::to_string(options_.connect_timeout_ms) + " ms",
        true);
  });
  conn->resolver.async_resolve(
      peer->host, peer->port,
      [this, conn](asio::error_code ec, tcp::resolver::results_type results) {
        if (conn->state == Outbound::State::kClosed) return;
        if (ec) {
          close_outbound(conn, "cannot resolve " + conn->peer->host + ": " + ec.message(), true);
          return;
        }
        asio::async_connect(
            conn->socket, results, [this, conn](asio::error_code connect_ec, const tcp::endpoint&) {
              if (conn->state == Outbound::State::kClosed) return;
              if (connect_ec) {
                close_outbound(conn, "connect failed: " + connect_ec.message(), true);
                return;
              }
              asio::error_code ignored;
              conn->socket.set_option(tcp::no_delay(true), ignored);
              conn->socket.set_option(asio::socket_base::keep_alive(true), ignored);
              conn->state = Outbound::State::kHandshaking;
              HelloPayload hello{kProtocolVersion, options_.group, options_.self_id,
                                 conn->peer->id};
              outbound_write_control(conn, encode_frame(FrameType::kHello, encode_hello(hello)));
              start_outbound_read(conn);
            });
      });
}

void PeerTransport::Impl::outbound_write_control(const std::shared_ptr<Outbound>& conn,
                                                 std::string frame) {
  // Handshake frames only: the protocol alternates, so no raft write can be in flight.
  auto bytes = std::make_shared<std::string>(std::move(frame));
  asio::async_write(conn->socket, asio::buffer(*bytes),
                    [this, conn, bytes](asio::error_code ec, std::size_t) {
                      if (ec && conn->state != Outbound::State::kClosed) {
                        close_outbound(conn, "handshake write failed: " + ec.message(), true);
                      }
                    });
}

void PeerTransport::Impl::start_outbound_read(const std::shared_ptr<Outbound>& conn) {
  conn->socket.async_read_some(
      asio::buffer(conn->read_buffer.get(), kReadBufferBytes),
      [this, conn](asio::error_code ec, std::size_t n) {
        if (conn->state == Outbound::State::kClosed) return;
        if (ec) {
          close_outbound(conn,
                         ec == asio::error::eof ? std::string("peer closed the connection")
                                                : "read failed: " + ec.message(),
                         true);
          return;
        }
        conn->decoder.feed(std::string_view(conn->read_buffer.get(), n));
        while (conn->state != Outbound::State::kClosed) {
          auto next = conn->decoder.next();
          if (!next.ok()) {
            close_outbound(conn, "bad frame from peer: " + next.error().message, true);
            return;
          }
          if (!next->has_value()) break;
          on_outbound_frame(conn, **next);
        }
        if (conn->state != Outbound::State::kClosed) start_outbound_read(conn);
      });
}

void PeerTransport::Impl::on_outbound_frame(const std::shared_ptr<Outbound>& conn,
                                            const FrameView& frame) {
  if (frame.type == FrameType::kPing) return;
  if (conn->state != Outbound::State::kHandshaking || frame.type != FrameType::kHelloAck) {
    close_outbound(
        conn, std::string("unexpected ") + frame_type_name(frame.type) + " frame from peer", true);
    return;
  }
  auto ack = decode_hello_ack(frame.payload);
  if (!ack.ok()) {
    close_outbound(conn, "bad hello-ack: " + ack.error().message, true);
    return;
  }
  switch (ack->status) {
    case HelloStatus::kRefused:
      close_outbound(conn, "refused by peer: " + ack->reason, true);
      return;
    case HelloStatus::kChallenge:
      if (options_.secret.empty()) {
        close_outbound(conn, "peer requires a group secret and none is configured", true);
        return;
      }
      if (conn->challenged) {
        close_outbound(conn, "peer sent a second challenge", true);
        return;
      }
      conn->challenged = true;
      outbound_write_control(
          conn,
          encode_frame(FrameType::kAuth, compute_auth_proof(options_.secret, ack->nonce,
                                                            options_.group, options_.self_id)));
      return;
    case HelloStatus::kAccepted:
      if (!options_.secret.empty() && !conn->challenged) {
        close_outbound(conn,
                       "peer accepted without a challenge but a group secret is configured "
                       "(peer has no secret?)",
                       true);
        return;
      }
      established(conn);
      return;
  }
}

void PeerTransport::Impl::established(const std::shared_ptr<Outbound>& conn) {
  conn->state = Outbound::State::kEstablished;
  conn->deadline.cancel();
  std::shared_ptr<Peer> peer = conn->peer;
  peer->failed_attempts = 0;
  peer->connections.fetch_add(1);
  {
    std::lock_guard<std::mutex> lock(peer->mu);
    peer->connected = true;
  }
  options_.logger->info("{}: connected", describe(*peer));
  arm_stall_check(conn);
  pump(peer);
}

// A peer that stops reading (hung process, silent network loss) would otherwise pin the
// connection until TCP gives up, minutes later; a write making no progress for a whole
// write_timeout_ms period closes it so the reconnect logic takes over.
void PeerTransport::Impl::arm_stall_check(const std::shared_ptr<Outbound>& conn) {
  if (options_.write_timeout_ms == 0) return;
  conn->deadline.expires_after(std::chrono::milliseconds(options_.write_timeout_ms));
  conn->deadline.async_wait([this, conn](asio::error_code ec) {
    if (ec || conn->state != Outbound::State::kEstablished) return;
    // Writes are sequential: pending now and at the previous check with none completed in
    // between means one write has been stuck for at least a whole period.
    if (conn->writing && conn->writing_seen &&
        conn->writes_completed == conn->writes_completed_seen) {
      close_outbound(conn,
                     "write made no progress for " + std::to_string(options_.write_timeout_ms) +
                         " ms (peer not reading)",
                     true);
      return;
    }
    conn->writes_completed_seen = conn->writes_completed;
    conn->writing_seen = conn->writing;
    arm_stall_check(conn);
  });
}

void PeerTransport::Impl::close_outbound(std::shared_ptr<Outbound> conn, const std::string& reason,
                                         bool was_error) {
  if (conn->state == Outbound::State::kClosed) return;
  const bool was_established = conn->state == Outbound::State::kEstablished;
  conn->state = Outbound::State::kClosed;
  asio::error_code ignored;
  conn->socket.close(ignored);
  conn->resolver.cancel();
  conn->deadline.cancel();
  std::shared_ptr<Peer> peer = conn->peer;
  {
    std::lock_guard<std::mutex> lock(peer->mu);
    for (const Chunk& chunk : conn->inflight) peer->dropped_messages += chunk.messages;
    peer->connected = false;
  }
  conn->inflight.clear();
  // Repeated failures to reach a down peer are logged once per outage at warn, then at debug.
  if (was_established || peer->failed_attempts == 0 || !was_error) {
    options_.logger->log(was_error ? spdlog::level::warn : spdlog::level::info,
                         "{}: connection closed: {}", describe(*peer), reason);
  } else {
    options_.logger->debug("{}: connection closed: {}", describe(*peer), reason);
  }
  if (peer->conn == conn) {
    peer->conn.reset();
    schedule_reconnect(peer);
  }
}

void PeerTransport::Impl::schedule_reconnect(const std::shared_ptr<Peer>& peer) {
  if (stopping_.load() || peer->removed) return;
  std::uint32_t delay_ms =
      backoff_delay_ms(options_.reconnect_backoff, peer->failed_attempts, options_.random());
  ++peer->failed_attempts;
  peer->reconnects.fetch_add(1);
  peer->retry_timer.expires_after(std::chrono::milliseconds(delay_ms));
  peer->retry_timer.async_wait([this, peer](asio::error_code ec) {
    if (ec || stopping_.load() || peer->removed) return;
    connect(peer);
  });
}

// ---------------------------------------------------------------------------------------------
// Inbound connections

void PeerTransport::Impl::accept_next() {
  acceptor_.async_accept([this](asio::error_code ec, tcp::socket socket) {
    if (stopping_.load() || ec == asio::error::operation_aborted) return;
    if (ec) {
      // E.g. too many open files: back off briefly instead of spinning.
      options_.logger->warn("{}: accept failed: {}", prefix(), ec.message());
      accept_retry_timer_.expires_after(std::chrono::milliseconds(kAcceptRetryMs));
      accept_retry_timer_.async_wait([this](asio::error_code timer_ec) {
        if (!timer_ec && !stopping_.load()) accept_next();
      });
      return;
    }
    if (inbound_.size() >= options_.max_inbound_connections) {
      asio::error_code ignored;
      auto remote = socket.remote_endpoint(ignored);
      options_.logger->warn(
          "{}: closing connection from {}:{}: {} inbound connections open "
          "(max_inbound_connections)",
          prefix(), remote.address().to_string(), remote.port(), inbound_.size());
      socket.close(ignored);
      accept_next();
      return;
    }
    auto conn = std::make_shared<Inbound>(io_, std::move(socket));
    asio::error_code ignored;
    conn->socket.set_option(tcp::no_delay(true), ignored);
    conn->socket.set_option(asio::socket_base::keep_alive(true), ignored);
    auto remote = conn->socket.remote_endpoint(ignored);
    conn->remote = remote.address().to_string() + ":" + std::to_string(remote.port());
    inbound_.insert(conn);
    inbound_open_.fetch_add(1);
    conn->deadline.expires_after(std::chrono::milliseconds(options_.handshake_timeout_ms));
    conn->deadline.async_wait([this, conn](asio::error_code timer_ec) {
      if (timer_ec || conn->state == Inbound::State::kEstablished ||
          conn->state == Inbound::State::kClosed) {
        return;
      }
      close_inbound(conn, "no completed handshake within " +
                              std::to_string(options_.handshake_timeout_ms) + " ms");
    });
    start_inbound_read(conn);
    accept_next();
  });
}

void PeerTransport::Impl::start_inbound_read(const std::shared_ptr<Inbound>& conn) {
  conn->socket.async_read_some(
      asio::buffer(conn->read_buffer.get(), kReadBufferBytes),
      [this, conn](asio::error_code ec, std::size_t n) {
        if (conn->state == Inbound::State::kClosed) return;
        if (ec) {
          close_inbound(conn, ec == asio::error::eof ? std::string("peer closed the connection")
                                                     : "read failed: " + ec.message());
          return;
        }
        if (conn->state == Inbound::State::kRefusing) {
          start_inbound_read(conn);  // drain until the refusal is written and we close
          return;
        }
        conn->decoder.feed(std::string_view(conn->read_buffer.get(), n));
        while (conn->state != Inbound::State::kClosed && conn->state != Inbound::State::kRefusing) {
          auto next = conn->decoder.next();
          if (!next.ok()) {
            protocol_error(conn, "bad frame: " + next.error().message);
            return;
          }
          if (!next->has_value()) break;
          on_inbound_frame(conn, **next);
        }
        if (conn->state != Inbound::State::kClosed) start_inbound_read(conn);
      });
}

void PeerTransport::Impl::on_inbound_frame(const std::shared_ptr<Inbound>& conn,
                                           const FrameView& frame) {
  if (frame.type == FrameType::kPing) return;
  switch (conn->state) {
    case Inbound::State::kAwaitHello:
      if (frame.type != FrameType::kHello) {
        protocol_error(conn, std::string("expected Hello, got ") + frame_type_name(frame.type));
        return;
      }
      on_hello(conn, frame.payload);
      return;
    case Inbound::State::kAwaitAuth:
      if (frame.type != FrameType::kAuth) {
        protocol_error(conn, std::string("expected Auth, got ") + frame_type_name(frame.type));
        return;
      }
      if (!verify_auth_proof(frame.payload, options_.secret, conn->nonce, options_.group,
                             conn->peer_id)) {
        refuse(conn, "authentication failed: wrong proof of the group secret");
        return;
      }
      accept_peer(conn);
      return;
    case Inbound::State::kEstablished: {
      if (frame.type != FrameType::kRaftMessage) {
        protocol_error(conn, std::string("unexpected ") + frame_type_name(frame.type) + " frame");
        return;
      }
      Result<raft::Message> message = decode_message(frame.payload, options_.codec_limits);
      if (!message.ok()) {
        protocol_error(conn, message.error().message);
        return;
      }
      if (message->from != conn->peer_id || message->to != options_.self_id) {
        protocol_error(conn, "message from " + id_name(message->from) + " to " +
                                 id_name(message->to) + " on a connection authenticated as " +
                                 id_name(conn->peer_id) + " -> " + id_name(options_.self_id));
        return;
      }
      received_messages_.fetch_add(1);
      on_message_(std::move(*message));
      return;
    }
    case Inbound::State::kRefusing:
    case Inbound::State::kClosed:
      return;
  }
}

void PeerTransport::Impl::on_hello(const std::shared_ptr<Inbound>& conn, std::string_view payload) {
  Result<HelloPayload> hello = decode_hello(payload);
  if (!hello.ok()) {
    protocol_error(conn, hello.error().message);
    return;
  }
  conn->peer_id = hello->from;
  if (hello->protocol_version != kProtocolVersion) {
    refuse(conn, "protocol version " + std::to_string(hello->protocol_version) +
                     " is not supported (this member speaks " + std::to_string(kProtocolVersion) +
                     ")");
    return;
  }
  if (hello->group != options_.group) {
    refuse(conn, "group '" + hello->group + "' does not match this member's group '" +
                     options_.group + "'");
    return;
  }
  if (hello->from == options_.self_id) {
    refuse(conn, id_name(hello->from) + " is this member's own id");
    return;
  }
  if (!is_member(hello->from)) {
    refuse(conn, id_name(hello->from) + " is not a member of group '" + options_.group + "'");
    return;
  }
  if (hello->to != options_.self_id) {
    refuse(conn, "connection meant for " + id_name(hello->to) + " reached " +
                     id_name(options_.self_id) + " (stale address?)");
    return;
  }
  if (options_.secret.empty()) {
    accept_peer(conn);
    return;
  }
  conn->nonce = options_.nonce_source();
  if (conn->nonce.size() != kNonceBytes) {
    refuse(conn, "internal error: nonce source returned " + std::to_string(conn->nonce.size()) +
                     " bytes");
    return;
  }
  conn->state = Inbound::State::kAwaitAuth;
  inbound_write(conn,
                encode_frame(FrameType::kHelloAck,
                             encode_hello_ack({HelloStatus::kChallenge, conn->nonce, ""})),
                false);
}

void PeerTransport::Impl::accept_peer(const std::shared_ptr<Inbound>& conn) {
  conn->state = Inbound::State::kEstablished;
  conn->deadline.cancel();
  conn->decoder.set_max_payload_bytes(options_.max_frame_bytes);
  inbound_accepted_.fetch_add(1);
  auto previous = established_inbound_[conn->peer_id].lock();
  established_inbound_[conn->peer_id] = conn;
  if (previous && previous != conn) {
    close_inbound(previous, "replaced by a newer connection from " + id_name(conn->peer_id));
  }
  options_.logger->info("{}: accepted", describe(*conn));
  inbound_write(
      conn, encode_frame(FrameType::kHelloAck, encode_hello_ack({HelloStatus::kAccepted, "", ""})),
      false);
  reconnect_now_if_waiting(conn->peer_id);
}

// A peer that just connected to us is up: if our own connection to it is waiting out a reconnect
// backoff (up to reconnect_backoff.max_ms after an outage), connect now instead. A restarted
// replica is then reached as soon as it listens, not a backoff period later.
void PeerTransport::Impl::reconnect_now_if_waiting(raft::NodeId id) {
  std::shared_ptr<Peer> peer = find_peer(id);
  if (!peer || peer->removed || peer->conn || stopping_.load()) return;
  peer->retry_timer.cancel();  // a handler already queued finds peer->conn set and returns
  peer->failed_attempts = 0;
  connect(peer);
}

void PeerTransport::Impl::refuse(const std::shared_ptr<Inbound>& conn, const std::string& reason) {
  inbound_refused_.fetch_add(1);
  options_.logger->warn("{}: refused: {}", describe(*conn), reason);
  conn->state = Inbound::State::kRefusing;
  inbound_write(
      conn,
      encode_frame(FrameType::kHelloAck, encode_hello_ack({HelloStatus::kRefused, "", reason})),
      true);
}

void PeerTransport::Impl::inbound_write(const std::shared_ptr<Inbound>& conn, std::string frame,
                                        bool close_after) {
  // Handshake replies only; each answers one request, so at most one is in flight.
  auto bytes = std::make_shared<std::string>(std::move(frame));
  asio::async_write(conn->socket, asio::buffer(*bytes),
                    [this, conn, bytes, close_after](asio::error_code ec, std::size_t) {
                      if (conn->state == Inbound::State::kClosed) return;
                      if (ec) {
                        close_inbound(conn, "write failed: " + ec.message());
                      } else if (close_after) {
                        close_inbound(conn, "handshake refused");
                      }
                    });
}

void PeerTransport::Impl::protocol_error(const std::shared_ptr<Inbound>& conn,
                                         const std::string& reason) {
  inbound_protocol_errors_.fetch_add(1);
  close_inbound(conn, "protocol error: " + reason);
}

void PeerTransport::Impl::close_inbound(std::shared_ptr<Inbound> conn, const std::string& reason) {
  if (conn->state == Inbound::State::kClosed) return;
  const bool quiet = conn->state == Inbound::State::kRefusing;  // reason already logged
  conn->state = Inbound::State::kClosed;
  asio::error_code ignored;
  conn->socket.close(ignored);
  conn->deadline.cancel();
  if (inbound_.erase(conn) > 0) inbound_open_.fetch_sub(1);
  auto it = established_inbound_.find(conn->peer_id);
  if (it != established_inbound_.end() && it->second.lock() == conn) {
    established_inbound_.erase(it);
  }
  if (quiet) {
    options_.logger->debug("{}: connection closed: {}", describe(*conn), reason);
  } else {
    options_.logger->info("{}: connection closed: {}", describe(*conn), reason);
  }
}

// ---------------------------------------------------------------------------------------------
// Stats

namespace {
PeerStats snapshot_stats(Peer& peer) {
  PeerStats s;
  s.id = peer.id;
  s.address = peer.address;
  s.connections = peer.connections.load();
  s.reconnects = peer.reconnects.load();
  std::lock_guard<std::mutex> lock(peer.mu);
  s.connected = peer.connected;
  s.queued_bytes = peer.queued_bytes;
  s.queued_messages = peer.queued_messages;
  s.sent_messages = peer.sent_messages;
  s.dropped_messages = peer.dropped_messages;
  return s;
}
}  // namespace

std::vector<PeerStats> PeerTransport::Impl::peer_stats() const {
  std::lock_guard<std::mutex> lock(peers_mu_);
  std::vector<PeerStats> out;
  for (const auto& [id, peer] : peers_) out.push_back(snapshot_stats(*peer));
  return out;
}

std::optional<PeerStats> PeerTransport::Impl::peer_stats(raft::NodeId id) const {
  std::lock_guard<std::mutex> lock(peers_mu_);
  auto it = peers_.find(id);
  if (it == peers_.end()) return std::nullopt;
  return snapshot_stats(*it->second);
}

TransportStats PeerTransport::Impl::stats() const {
  TransportStats s;
  s.inbound_accepted = inbound_accepted_.load();
  s.inbound_refused = inbound_refused_.load();
  s.inbound_protocol_errors = inbound_protocol_errors_.load();
  s.inbound_open = inbound_open_.load();
  s.received_messages = received_messages_.load();
  s.dropped_unknown_peer = dropped_unknown_peer_.load();
  return s;
}

// ---------------------------------------------------------------------------------------------
// Public facade

PeerTransport::PeerTransport(PeerTransportOptions options, MessageHandler on_message)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(on_message))) {}
PeerTransport::~PeerTransport() = default;
Status PeerTransport::start(const raft::Membership& membership) {
  return impl_->start(membership);
}
void PeerTransport::stop() {
  impl_->stop();
}
std::uint16_t PeerTransport::listen_port() const {
  return impl_->listen_port();
}
void PeerTransport::update_membership(const raft::Membership& membership) {
  impl_->update_membership(membership);
}
void PeerTransport::send(const raft::Message& message) {
  impl_->send(message);
}
void PeerTransport::send(const std::vector<raft::Message>& messages) {
  for (const raft::Message& m : messages) impl_->send(m);
}
std::vector<PeerStats> PeerTransport::peer_stats() const {
  return impl_->peer_stats();
}
std::optional<PeerStats> PeerTransport::peer_stats(raft::NodeId id) const {
  return impl_->peer_stats(id);
}
TransportStats PeerTransport::stats() const {
  return impl_->stats();
}

}  // namespace dledger::transport
