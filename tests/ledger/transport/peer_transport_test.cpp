#include "broker/ledger/transport/peer_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/base/bytes.h"
#include "broker/ledger/transport/frame.h"
#include "broker/ledger/transport/handshake.h"
#include "broker/ledger/transport/message_codec.h"
#include "tests/common/context_thread.h"
#include "tests/ledger/transport/sample_messages.h"

namespace dledger::transport {
namespace {

using namespace std::chrono_literals;
using raft::Membership;
using raft::Message;
using raft::NodeId;

// Polls `condition` until it holds or a generous deadline passes (never asserts a duration).
bool WaitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds deadline = 30'000ms) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return condition();
}

std::string Local(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

Membership MembershipOf(const std::vector<std::pair<NodeId, std::uint16_t>>& members) {
  Membership m;
  for (const auto& [id, port] : members) m.members.push_back({id, Local(port), true});
  return m;
}

Message Heartbeat(NodeId from, NodeId to, std::uint64_t sequence) {
  Message m;
  m.type = raft::MessageType::kAppend;
  m.from = from;
  m.to = to;
  m.term = 1;
  m.commit = sequence;
  return m;
}

// A transport plus everything it delivered.
class Node {
 public:
  explicit Node(NodeId id, std::string group = "group-a", std::string secret = "",
                std::uint16_t port = 0, std::size_t send_queue_bytes = 32ull << 20)
      : Node(id, [&](PeerTransportOptions& o) {
          o.group = group;
          o.secret = secret;
          o.listen_port = port;
          o.send_queue_bytes = send_queue_bytes;
        }) {}

  Node(NodeId id, const std::function<void(PeerTransportOptions&)>& configure) {
    options_.group = "group-a";
    options_.self_id = id;
    options_.listen_host = "127.0.0.1";
    options_.reconnect_backoff = {10, 200};
    options_.max_frame_bytes = 1 << 20;
    std::uint64_t seed = id * 7919;
    options_.random = [seed]() mutable { return seed = seed * 6364136223846793005ull + 1; };
    configure(options_);
    transport_ = std::make_unique<PeerTransport>(options_, [this](Message&& m) {
      std::lock_guard<std::mutex> lock(mu_);
      received_.push_back(std::move(m));
    });
    Status started = transport_->start(MembershipOf({{id, 0}}));
    EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().to_string());
  }

  PeerTransport& transport() { return *transport_; }
  std::uint16_t port() const { return transport_->listen_port(); }
  NodeId id() const { return options_.self_id; }

  std::vector<Message> received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  std::size_t received_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_.size();
  }
  bool connected_to(NodeId peer) {
    auto stats = transport_->peer_stats(peer);
    return stats.has_value() && stats->connected;
  }

 private:
  PeerTransportOptions options_;
  std::mutex mu_;
  std::vector<Message> received_;
  std::unique_ptr<PeerTransport> transport_;
};

// A port nothing listens on (bound by a transport that is then stopped).
std::uint16_t UnusedPort() {
  Node gone(99);
  return gone.port();
}

void Connect(Node& a, Node& b) {
  Membership m = MembershipOf({{a.id(), a.port()}, {b.id(), b.port()}});
  a.transport().update_membership(m);
  b.transport().update_membership(m);
}

// A plain TCP client for feeding hand-made bytes to a transport.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { ::close(fd_); }

  bool connected() const { return connected_; }

  void write(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;  // the peer may already have closed: the test checks that separately
      done += static_cast<std::size_t>(n);
    }
  }

  // The next frame the server sends, or nullopt if none arrives before the deadline.
  std::optional<std::pair<FrameType, std::string>> read_frame() {
    auto until = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < until) {
      auto next = decoder_.next();
      if (!next.ok()) return std::nullopt;
      if (next->has_value()) {
        return std::make_pair((*next)->type, std::string((*next)->payload));
      }
      char buf[4096];
      if (!readable(100)) continue;
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return std::nullopt;
      decoder_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    }
    return std::nullopt;
  }

  // True once the server has closed the connection (EOF or reset) before the deadline.
  bool wait_closed() {
    auto until = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < until) {
      if (!readable(100)) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return true;
    }
    return false;
  }

  // Completes the unauthenticated handshake as member `from`.
  bool handshake(NodeId from, NodeId to, const std::string& group) {
    write(encode_frame(FrameType::kHello, encode_hello({kProtocolVersion, group, from, to})));
    auto ack = read_frame();
    if (!ack || ack->first != FrameType::kHelloAck) return false;
    auto decoded = decode_hello_ack(ack->second);
    return decoded.ok() && decoded->status == HelloStatus::kAccepted;
  }

 private:
  bool readable(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) > 0;
  }

  int fd_ = -1;
  bool connected_ = false;
  FrameDecoder decoder_;
};

// A listener that accepts every handshake and then never reads again, like a
// hung peer process.
class StalledPeer {
 public:
  StalledPeer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~StalledPeer() {
    stop_ = true;
    thread_.join();
    for (int fd : accepted_) ::close(fd);
    ::close(listen_fd_);
  }
  std::uint16_t port() const { return port_; }
  int handshakes() const { return handshakes_.load(); }

 private:
  void run() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      accepted_.push_back(fd);
      FrameDecoder decoder;
      bool hello = false;
      while (!stop_ && !hello) {
        pollfd q{fd, POLLIN, 0};
        if (::poll(&q, 1, 20) <= 0) continue;
        char buf[4096];
        ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) break;
        decoder.feed(std::string_view(buf, static_cast<std::size_t>(n)));
        auto next = decoder.next();
        hello = next.ok() && next->has_value() && (*next)->type == FrameType::kHello;
      }
      if (!hello) continue;
      std::string ack =
          encode_frame(FrameType::kHelloAck, encode_hello_ack({HelloStatus::kAccepted, "", ""}));
      (void)::send(fd, ack.data(), ack.size(), MSG_NOSIGNAL);
      handshakes_.fetch_add(1);
    }
  }

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> accepted_;
  std::atomic<bool> stop_{false};
  std::atomic<int> handshakes_{0};
  std::thread thread_;
};

TEST(PeerTransport, TwoMembersExchangeMessagesInBothDirections) {
  Node a(1), b(2);
  Connect(a, b);
  Message append = testing_samples::append_with_entries(3, 100);  // from n1 to n2
  a.transport().send(append);
  Message response;
  response.type = raft::MessageType::kAppendResponse;
  response.from = 2;
  response.to = 1;
  response.term = 7;
  response.success = true;
  response.match_index = 13;
  b.transport().send(response);

  ASSERT_TRUE(WaitUntil([&] { return b.received_count() == 1 && a.received_count() == 1; }));
  Message got = b.received()[0];
  EXPECT_EQ(got.type, append.type);
  EXPECT_EQ(got.entries, append.entries);
  EXPECT_EQ(got.commit, append.commit);
  Message got_response = a.received()[0];
  EXPECT_EQ(got_response.type, raft::MessageType::kAppendResponse);
  EXPECT_TRUE(got_response.success);
  EXPECT_EQ(got_response.match_index, 13u);
  EXPECT_EQ(a.transport().peer_stats(2)->sent_messages, 1u);
  EXPECT_EQ(b.transport().stats().received_messages, 1u);
}

TEST(PeerTransport, SnapshotMessageArrivesIntact) {
  Node a(1), c(3);
  Connect(a, c);
  Message snapshot = testing_samples::install_snapshot(200'000);  // from n1 to n3, many writes
  a.transport().send(snapshot);
  ASSERT_TRUE(WaitUntil([&] { return c.received_count() == 1; }));
  EXPECT_EQ(c.received()[0].snapshot, snapshot.snapshot);
}

TEST(PeerTransport, ManyMessagesArriveInOrderWithoutLoss) {
  Node a(1), b(2);
  Connect(a, b);
  constexpr std::uint64_t kCount = 20'000;
  std::vector<Message> batch;
  for (std::uint64_t i = 1; i <= kCount; ++i) {
    batch.push_back(Heartbeat(1, 2, i));
    if (batch.size() == 100) {
      a.transport().send(batch);
      batch.clear();
    }
  }
  ASSERT_TRUE(WaitUntil([&] { return b.received_count() >= kCount; }))
      << "received " << b.received_count();
  std::vector<Message> got = b.received();
  ASSERT_EQ(got.size(), kCount);
  for (std::uint64_t i = 0; i < kCount; ++i) ASSERT_EQ(got[i].commit, i + 1) << "position " << i;
  EXPECT_EQ(a.transport().peer_stats(2)->dropped_messages, 0u);
}

TEST(PeerTransport, ReconnectsAfterThePeerRestarts) {
  Node a(1);
  auto b = std::make_unique<Node>(2);
  const std::uint16_t b_port = b->port();
  Connect(a, *b);
  a.transport().send(Heartbeat(1, 2, 1));
  ASSERT_TRUE(WaitUntil([&] { return b->received_count() == 1; }));

  b.reset();  // stops: closes its listener and every connection
  ASSERT_TRUE(WaitUntil([&] { return !a.connected_to(2); }));

  b = std::make_unique<Node>(2, "group-a", "", b_port);
  b->transport().update_membership(MembershipOf({{1, a.port()}, {2, b_port}}));
  // Keep sending until the restarted peer hears one (messages sent while down may be dropped).
  std::uint64_t sequence = 2;
  ASSERT_TRUE(WaitUntil([&] {
    a.transport().send(Heartbeat(1, 2, sequence++));
    return b->received_count() > 0;
  }));
  PeerStats stats = *a.transport().peer_stats(2);
  EXPECT_GE(stats.connections, 2u);
  EXPECT_GE(stats.reconnects, 1u);
  EXPECT_TRUE(stats.connected);
}

TEST(PeerTransport, InboundConnectionFromARestartedPeerEndsTheReconnectBackoff) {
  // After b goes away, a's next attempt to reach it waits 30-60 s: only b's own connection to a
  // can make a reach the restarted b within the 20 s checked below.
  Node a(1, [](PeerTransportOptions& o) { o.reconnect_backoff = {60'000, 60'000}; });
  auto b = std::make_unique<Node>(2);
  const std::uint16_t b_port = b->port();
  Connect(a, *b);
  a.transport().send(Heartbeat(1, 2, 1));
  ASSERT_TRUE(WaitUntil([&] { return b->received_count() == 1; }));
  b.reset();
  ASSERT_TRUE(WaitUntil([&] { return !a.connected_to(2); }));

  b = std::make_unique<Node>(2, "group-a", "", b_port);
  b->transport().update_membership(MembershipOf({{1, a.port()}, {2, b_port}}));
  b->transport().send(Heartbeat(2, 1, 1));  // b connects to a
  ASSERT_TRUE(WaitUntil([&] { return a.received_count() >= 1; }, 20'000ms));
  std::uint64_t sequence = 2;
  EXPECT_TRUE(WaitUntil(
      [&] {
        a.transport().send(Heartbeat(1, 2, sequence++));
        return b->received_count() > 0;
      },
      20'000ms));
  EXPECT_TRUE(a.connected_to(2));
}

TEST(PeerTransport, NonMemberIsRefused) {
  Node a(1), b(2), intruder(9);
  Connect(a, b);
  // The intruder believes it is a member; a's membership says otherwise.
  intruder.transport().update_membership(MembershipOf({{1, a.port()}, {9, intruder.port()}}));
  ASSERT_TRUE(WaitUntil([&] { return a.transport().stats().inbound_refused >= 2; }));
  intruder.transport().send(Heartbeat(9, 1, 1));
  b.transport().send(Heartbeat(2, 1, 1));
  ASSERT_TRUE(WaitUntil([&] { return a.received_count() == 1; }));
  ASSERT_TRUE(WaitUntil([&] { return a.transport().stats().inbound_refused >= 3; }));
  EXPECT_FALSE(intruder.connected_to(1));
  EXPECT_EQ(intruder.transport().peer_stats(1)->connections, 0u);
  for (const Message& m : a.received()) EXPECT_EQ(m.from, 2u);
}

TEST(PeerTransport, WrongGroupNameIsRefused) {
  Node a(1), other(2, "group-b");
  Connect(a, other);
  ASSERT_TRUE(WaitUntil([&] {
    return a.transport().stats().inbound_refused >= 1 &&
           other.transport().stats().inbound_refused >= 1;
  }));
  EXPECT_FALSE(a.connected_to(2));
  EXPECT_FALSE(other.connected_to(1));
  EXPECT_EQ(a.transport().stats().inbound_accepted, 0u);
}

TEST(PeerTransport, WrongOrMissingSecretIsRefusedAndTheRightSecretIsAccepted) {
  Node a(1, "group-a", "right secret");
  Node wrong(2, "group-a", "wrong secret");
  Node missing(3, "group-a", "");
  Node right(4, "group-a", "right secret");
  Membership m =
      MembershipOf({{1, a.port()}, {2, wrong.port()}, {3, missing.port()}, {4, right.port()}});
  a.transport().update_membership(m);
  wrong.transport().update_membership(m);
  missing.transport().update_membership(m);
  right.transport().update_membership(m);

  right.transport().send(Heartbeat(4, 1, 1));
  ASSERT_TRUE(WaitUntil([&] { return a.received_count() == 1; }));
  EXPECT_EQ(a.received()[0].from, 4u);
  // wrong: fails the challenge; missing: cannot answer it. Both keep retrying and being refused.
  ASSERT_TRUE(WaitUntil([&] { return a.transport().stats().inbound_refused >= 4; }));
  EXPECT_FALSE(wrong.connected_to(1));
  EXPECT_FALSE(missing.connected_to(1));
  EXPECT_EQ(wrong.transport().peer_stats(1)->connections, 0u);
  EXPECT_EQ(missing.transport().peer_stats(1)->connections, 0u);
  // A member with a secret refuses to send to one that does not challenge it (no downgrade).
  ASSERT_TRUE(WaitUntil([&] { return wrong.transport().peer_stats(3)->reconnects >= 1; }));
  EXPECT_EQ(wrong.transport().peer_stats(3)->connections, 0u);
  EXPECT_EQ(right.transport().peer_stats(1)->connections, 1u);
}

std::string WithVersion(std::uint16_t version) {
  std::string frame = encode_frame(FrameType::kHello, encode_hello({1, "group-a", 2, 1}));
  std::string header;
  ByteWriter(&header).u16(version);
  frame.replace(4, 2, header);
  return frame;
}

std::string OversizedHeader(std::uint32_t length) {
  std::string frame = encode_frame(FrameType::kRaftMessage, "");
  ByteWriter(&frame).patch_u32(8, length);
  return frame;
}

TEST(PeerTransport, GarbageOversizedOrWrongVersionBeforeHandshakeClosesOnlyThatConnection) {
  Node a(1), b(2);
  Connect(a, b);
  const std::vector<std::string> inputs = {
      "GET / HTTP/1.1\r\nHost: example\r\n\r\n",
      std::string(64, '\0'),
      OversizedHeader(0xfffffff0u),
      WithVersion(2),
      encode_frame(FrameType::kRaftMessage, encode_message(Heartbeat(2, 1, 1))),  // no hello
  };
  std::uint64_t sequence = 0;
  for (const std::string& input : inputs) {
    RawClient client(a.port());
    ASSERT_TRUE(client.connected());
    client.write(input);
    EXPECT_TRUE(client.wait_closed()) << "input of " << input.size() << " bytes";
    // The server keeps serving its real peer.
    b.transport().send(Heartbeat(2, 1, ++sequence));
    ASSERT_TRUE(WaitUntil([&] { return a.received_count() == sequence; }));
  }
  EXPECT_GE(a.transport().stats().inbound_protocol_errors, inputs.size());
}

TEST(PeerTransport, OversizedOrInvalidFramesAfterHandshakeCloseOnlyThatConnection) {
  // n3 is a member played by a raw client (nothing listens at its address).
  Node a(1), b(2);
  Membership m = MembershipOf({{1, a.port()}, {2, b.port()}, {3, UnusedPort()}});
  a.transport().update_membership(m);
  b.transport().update_membership(m);
  Message bad_entry_type = Heartbeat(3, 1, 1);
  bad_entry_type.entries.push_back({1, 1, raft::EntryType::kNormal, "x"});
  std::string bad_payload = encode_message(bad_entry_type);
  constexpr std::size_t kFirstEntryTypeOffset = 71 + 16;  // see the layout in message_codec.h
  ASSERT_EQ(bad_payload[kFirstEntryTypeOffset], 1);
  bad_payload[kFirstEntryTypeOffset] = 0x77;
  const std::vector<std::string> inputs = {
      OversizedHeader((1 << 20) + 1),  // one byte over max_frame_bytes
      encode_frame(FrameType::kRaftMessage, "not a raft message"),
      encode_frame(FrameType::kRaftMessage, bad_payload),
      encode_frame(FrameType::kRaftMessage, encode_message(Heartbeat(2, 1, 1))),  // spoofed from
      encode_frame(FrameType::kHello, encode_hello({1, "group-a", 3, 1})),        // second hello
  };
  std::uint64_t sequence = 0;
  for (const std::string& input : inputs) {
    RawClient client(a.port());
    ASSERT_TRUE(client.handshake(3, 1, "group-a"));
    client.write(input);
    EXPECT_TRUE(client.wait_closed()) << "input of " << input.size() << " bytes";
    b.transport().send(Heartbeat(2, 1, ++sequence));
    ASSERT_TRUE(WaitUntil([&] { return a.received_count() == sequence; }));
  }
  for (const Message& got : a.received()) EXPECT_EQ(got.from, 2u);
  EXPECT_GE(a.transport().stats().inbound_protocol_errors, inputs.size());
}

TEST(PeerTransport, SendQueueStaysWithinItsByteLimitWhileThePeerIsDown) {
  constexpr std::size_t kLimit = 64 * 1024;
  const std::uint16_t dead_port = UnusedPort();
  Node a(1, "group-a", "", 0, kLimit);
  a.transport().update_membership(MembershipOf({{1, a.port()}, {2, dead_port}}));
  constexpr std::uint64_t kMessages = 2'000;
  for (std::uint64_t i = 1; i <= kMessages; ++i) {
    Message m = testing_samples::append_with_entries(1, 1000);
    m.commit = i;
    a.transport().send(m);
    PeerStats stats = *a.transport().peer_stats(2);
    ASSERT_LE(stats.queued_bytes, kLimit) << "after message " << i;
  }
  PeerStats stats = *a.transport().peer_stats(2);
  EXPECT_FALSE(stats.connected);
  EXPECT_GT(stats.dropped_messages, 0u);
  EXPECT_EQ(stats.queued_messages + stats.dropped_messages + stats.sent_messages, kMessages);
  // A message larger than the whole queue is dropped rather than queued.
  a.transport().send(testing_samples::append_with_entries(1, kLimit));
  EXPECT_EQ(a.transport().peer_stats(2)->dropped_messages, stats.dropped_messages + 1);
  EXPECT_LE(a.transport().peer_stats(2)->queued_bytes, kLimit);
}

TEST(PeerTransport, StalledPeerConnectionIsClosedAndReconnected) {
  StalledPeer stalled;
  Node a(1, [](PeerTransportOptions& o) {
    o.write_timeout_ms = 100;
    o.send_queue_bytes = 8 << 20;
  });
  a.transport().update_membership(MembershipOf({{1, a.port()}, {2, stalled.port()}}));
  ASSERT_TRUE(WaitUntil([&] { return a.connected_to(2); }));
  // Fill the socket buffers; the writer then makes no progress and must give up and reconnect.
  Message big = testing_samples::append_with_entries(1, 256 * 1024);
  ASSERT_TRUE(WaitUntil([&] {
    a.transport().send(big);
    return stalled.handshakes() >= 2 && a.transport().peer_stats(2)->connections >= 2;
  }));
  PeerStats stats = *a.transport().peer_stats(2);
  EXPECT_GE(stats.reconnects, 1u);
  EXPECT_GE(stats.connections, 2u);
  EXPECT_LE(stats.queued_bytes, 8u << 20);
}

TEST(PeerTransport, RemovedMemberLosesItsConnections) {
  Node a(1), b(2);
  Connect(a, b);
  a.transport().send(Heartbeat(1, 2, 1));
  ASSERT_TRUE(WaitUntil([&] { return b.received_count() == 1 && b.connected_to(1); }));

  a.transport().update_membership(MembershipOf({{1, a.port()}}));
  EXPECT_FALSE(a.transport().peer_stats(2).has_value());
  // a dropped its outbound connection, and b's reconnects are now refused.
  ASSERT_TRUE(WaitUntil([&] { return b.transport().stats().inbound_open == 0; }));
  ASSERT_TRUE(WaitUntil([&] { return a.transport().stats().inbound_refused >= 1; }));
  a.transport().send(Heartbeat(1, 2, 2));
  EXPECT_GE(a.transport().stats().dropped_unknown_peer, 1u);
}

TEST(PeerTransport, MemberWhoseAddressChangesIsReachedAtTheNewAddress) {
  Node a(1);
  auto b = std::make_unique<Node>(2);
  Connect(a, *b);
  a.transport().send(Heartbeat(1, 2, 1));
  ASSERT_TRUE(WaitUntil([&] { return b->received_count() == 1; }));

  b = std::make_unique<Node>(2);  // same member, new port
  Connect(a, *b);
  EXPECT_EQ(a.transport().peer_stats(2)->address, Local(b->port()));
  std::uint64_t sequence = 2;
  ASSERT_TRUE(WaitUntil([&] {
    a.transport().send(Heartbeat(1, 2, sequence++));
    return b->received_count() > 0;
  }));
}

TEST(PeerTransport, MemberWithAnUnparsableAddressIsSkipped) {
  Node a(1);
  Membership m = MembershipOf({{1, a.port()}});
  m.members.push_back({2, "no-port-here", true});
  m.members.push_back({3, "host:70000", true});
  a.transport().update_membership(m);
  EXPECT_FALSE(a.transport().peer_stats(2).has_value());
  EXPECT_FALSE(a.transport().peer_stats(3).has_value());
  a.transport().send(Heartbeat(1, 2, 1));
  EXPECT_EQ(a.transport().stats().dropped_unknown_peer, 1u);
}

TEST(PeerTransport, InboundConnectionLimitHolds) {
  Node a(1, [](PeerTransportOptions& o) {
    o.max_inbound_connections = 2;
    o.handshake_timeout_ms = 120'000;  // idle clients keep their slots for the whole test
  });
  a.transport().update_membership(MembershipOf({{1, a.port()}, {3, UnusedPort()}}));
  auto first = std::make_unique<RawClient>(a.port());
  RawClient second(a.port());
  ASSERT_TRUE(WaitUntil([&] { return a.transport().stats().inbound_open == 2; }));
  RawClient third(a.port());
  EXPECT_TRUE(third.wait_closed());
  first.reset();
  ASSERT_TRUE(WaitUntil([&] { return a.transport().stats().inbound_open == 1; }));
  RawClient fourth(a.port());
  EXPECT_TRUE(fourth.handshake(3, 1, "group-a"));
  EXPECT_EQ(a.transport().stats().inbound_open, 2u);
}

TEST(PeerTransport, StartFailsWithAClearErrorWhenThePortIsTaken) {
  Node a(1);
  PeerTransportOptions options;
  options.group = "group-a";
  options.self_id = 2;
  options.listen_host = "127.0.0.1";
  options.listen_port = a.port();
  PeerTransport second(options, [](Message&&) {});
  Status started = second.start(MembershipOf({{2, 0}}));
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, ErrorCode::kIo);
  EXPECT_NE(started.error().message.find(Local(a.port())), std::string::npos)
      << started.error().message;
}

// The ledger server runs its transport on the consensus thread's io_context. Messages must then
// arrive on that thread, and stop() - from another thread or from the context's own thread -
// must close every connection and leave nothing running once the owner stops the context.
TEST(PeerTransport, OnAnExternalContextMessagesArriveOnItsThreadAndStopClosesEverything) {
  for (bool stop_from_context_thread : {false, true}) {
    SCOPED_TRACE(stop_from_context_thread ? "stop on the context's thread" : "stop elsewhere");
    dledger::testing::ContextThread owner;
    const std::thread::id owner_id = owner.id();

    std::mutex mu;
    std::vector<Message> received;
    bool wrong_thread = false;
    PeerTransportOptions options;
    options.group = "group-a";
    options.self_id = 1;
    options.listen_host = "127.0.0.1";
    options.reconnect_backoff = {10, 200};
    options.io_context = &owner.context();
    auto a = std::make_unique<PeerTransport>(options, [&](Message&& m) {
      std::lock_guard<std::mutex> lock(mu);
      if (std::this_thread::get_id() != owner_id) wrong_thread = true;
      received.push_back(std::move(m));
    });
    ASSERT_TRUE(a->start(MembershipOf({{1, 0}})).ok());
    Node b(2);
    Membership m = MembershipOf({{1, a->listen_port()}, {2, b.port()}});
    a->update_membership(m);
    b.transport().update_membership(m);

    constexpr std::uint64_t kCount = 2'000;
    for (std::uint64_t i = 1; i <= kCount; ++i) {
      a->send(Heartbeat(1, 2, i));
      b.transport().send(Heartbeat(2, 1, i));
    }
    ASSERT_TRUE(WaitUntil([&] {
      std::lock_guard<std::mutex> lock(mu);
      return received.size() >= kCount && b.received_count() >= kCount;
    }));
    {
      std::lock_guard<std::mutex> lock(mu);
      ASSERT_EQ(received.size(), kCount);
      for (std::uint64_t i = 0; i < kCount; ++i) ASSERT_EQ(received[i].commit, i + 1);
      EXPECT_FALSE(wrong_thread) << "on_message ran off the context's thread";
    }
    std::vector<Message> got = b.received();
    ASSERT_EQ(got.size(), kCount);
    for (std::uint64_t i = 0; i < kCount; ++i) ASSERT_EQ(got[i].commit, i + 1);

    if (stop_from_context_thread) {
      owner.run([&] { a->stop(); });
    } else {
      a->stop();
    }
    // Every connection of the stopped member is closed: b loses its outbound connection to it,
    // and a sends nothing more.
    EXPECT_TRUE(WaitUntil([&] { return !b.connected_to(1); }));
    a->send(Heartbeat(1, 2, kCount + 1));
    owner.finish();  // returns: the stopped transport left no work behind on the context
    a.reset();
    EXPECT_EQ(b.received_count(), kCount);
  }
}

}  // namespace
}  // namespace dledger::transport
