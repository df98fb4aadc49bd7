// LedgerClient against in-process ClientServices over fake backends: pipelining, in-flight
// window, redirects, reconnects, error pass-through, and malformed frames in both directions.
#include "broker/ledger/client/ledger_client.h"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <atomic>
#include <condition_variable>
#include <map>
#include <thread>

#include "broker/ledger/service/client_service.h"
#include "tests/ledger/client/fake_backend.h"

namespace dledger::client {
namespace {

using testing::FakeBackend;
using namespace std::chrono_literals;

std::unique_ptr<service::ClientService> serve(FakeBackend& backend, std::uint16_t port = 0) {
  service::ClientServiceOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  auto started = service::ClientService::start(options, backend);
  EXPECT_TRUE(started.ok()) << started.error().message;
  return std::move(started).value();
}

std::string peer(const char* name, std::uint16_t port) {
  return std::string(name) + "-127.0.0.1:" + std::to_string(port);
}

std::unique_ptr<LedgerClient> connect(const std::string& peers,
                                      std::chrono::milliseconds timeout = 10s,
                                      std::uint32_t max_inflight = 1024) {
  LedgerClientOptions options;
  options.peers = peers;
  options.request_timeout = timeout;
  options.max_inflight = max_inflight;
  auto client = LedgerClient::create(options);
  EXPECT_TRUE(client.ok()) << client.error().message;
  return std::move(client).value();
}

// Polls `condition` every 5 ms for at most 10 s.
template <typename F>
bool eventually(F condition) {
  for (int i = 0; i < 2000; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

// Collects async results.
template <typename T>
struct Results {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Result<T>> by_key;

  std::function<void(Result<T>)> slot(std::string key) {
    return [this, key](Result<T> r) {
      std::lock_guard<std::mutex> lock(mu);
      by_key.emplace(key, std::move(r));
      cv.notify_all();
    };
  }
  bool wait_for(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, 20s, [&] { return by_key.size() >= n; });
  }
};

std::uint16_t unused_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io,
                                   asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

TEST(ClientPeers, ParsesDLedgerPeersString) {
  auto peers = parse_client_peers("n0-host-a:1;n1-127.0.0.1:20911;n12-b:65535;");
  ASSERT_TRUE(peers.ok()) << peers.error().message;
  ASSERT_EQ(peers->size(), 3u);
  EXPECT_EQ((*peers)[0].id, 0u);
  EXPECT_EQ((*peers)[0].host, "host-a");
  EXPECT_EQ((*peers)[2].id, 12u);
  EXPECT_EQ((*peers)[2].port, 65535);
}

TEST(ClientPeers, RejectsMalformedItemsNamingThem) {
  for (const char* bad : {"", "n0-h:0", "n0-h:70000", "x0-h:1", "n0h:1", "n0-h", "n0-h:1;;n1-h:2",
                          "n0-h:1;n0-g:2", "n0-h:1;n1-h:1", "n-h:1", "n0-h:1x"}) {
    auto peers = parse_client_peers(bad);
    EXPECT_FALSE(peers.ok()) << bad;
  }
  auto error = parse_client_peers("n0-h:1;n1-h:99999");
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.error().message.find("n1-h:99999"), std::string::npos);
}

TEST(LedgerClient, AppendedEntriesReadBackWithTheSameBytes) {
  FakeBackend backend(0);
  auto service = serve(backend);
  auto client = connect(peer("n0", service->port()));
  std::vector<std::string> payloads = {"alpha", std::string(100000, 'z'), std::string("\0\1", 2)};
  std::vector<std::uint64_t> indexes;
  for (const auto& p : payloads) {
    auto r = client->append_sync(p);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    indexes.push_back(r->index);
  }
  EXPECT_EQ(indexes, (std::vector<std::uint64_t>{1, 2, 3}));
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    auto e = client->get_sync(indexes[i]);
    ASSERT_TRUE(e.ok()) << e.error().to_string();
    EXPECT_EQ(e->data, payloads[i]);
    EXPECT_EQ(e->index, indexes[i]);
  }
  EXPECT_EQ(client->leader(), 0u);
}

TEST(LedgerClient, BatchAppendReturnsTheFirstIndexOfConsecutiveEntries) {
  FakeBackend backend(0);
  auto service = serve(backend);
  auto client = connect(peer("n0", service->port()));
  ASSERT_TRUE(client->append_sync("one").ok());
  std::promise<Result<ledger::AppendResult>> promise;
  client->append_batch({"a", "b", "c"},
                       [&](Result<ledger::AppendResult> r) { promise.set_value(std::move(r)); });
  auto r = promise.get_future().get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->index, 2u);
  EXPECT_EQ(backend.log(), (std::vector<std::string>{"one", "a", "b", "c"}));
}

TEST(LedgerClient, GetAboveTheCommitIndexReturnsOutOfRange) {
  FakeBackend backend(0);
  auto service = serve(backend);
  auto client = connect(peer("n0", service->port()));
  auto e = client->get_sync(5);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, ErrorCode::kOutOfRange);
}

TEST(LedgerClient, PipelinedAppendsCompletingOutOfOrderReachTheirCallers) {
  FakeBackend backend(0);
  backend.set_hold(true);
  auto service = serve(backend);
  auto client = connect(peer("n0", service->port()));
  constexpr int kAppends = 50;
  Results<ledger::AppendResult> results;
  for (int i = 0; i < kAppends; ++i) {
    std::string data = "entry-" + std::to_string(i);
    client->append(data, results.slot(data));
  }
  // All 50 are in the server at once: they were pipelined on one connection.
  ASSERT_TRUE(eventually([&] { return backend.held_count() == kAppends; }));
  backend.release_held_in_reverse();
  ASSERT_TRUE(results.wait_for(kAppends));
  auto log = backend.log();
  for (auto& [data, result] : results.by_key) {
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    ASSERT_LE(result->index, log.size());
    EXPECT_EQ(log[result->index - 1], data);
  }
}

TEST(LedgerClient, InFlightWindowBoundsRequestsOnTheWire) {
  FakeBackend backend(0);
  backend.set_hold(true);
  auto service = serve(backend);
  auto client = connect(peer("n0", service->port()), 10s, /*max_inflight=*/4);
  Results<ledger::AppendResult> results;
  for (int i = 0; i < 12; ++i) client->append(std::to_string(i), results.slot(std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return backend.held_count() == 4; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(backend.held_count(), 4u);  // the other 8 wait in the client
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(eventually([&] { return backend.held_count() == 4; }));
    backend.release_held_in_reverse();
  }
  ASSERT_TRUE(results.wait_for(12));
  for (auto& [data, result] : results.by_key) EXPECT_TRUE(result.ok());
  EXPECT_EQ(backend.log().size(), 12u);
}

TEST(LedgerClient, FollowsNotLeaderRedirectToTheNamedLeader) {
  FakeBackend follower(0);
  FakeBackend leader(1);
  follower.set_leader(1);
  auto follower_service = serve(follower);
  auto leader_service = serve(leader);
  // The follower is listed first, so the client tries it first.
  auto client =
      connect(peer("n0", follower_service->port()) + ";" + peer("n1", leader_service->port()));
  for (int i = 0; i < 5; ++i) {
    auto r = client->append_sync("v" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->index, static_cast<std::uint64_t>(i + 1));
  }
  EXPECT_EQ(client->leader(), 1u);
  EXPECT_GE(client->stats().redirects, 1u);
  EXPECT_TRUE(follower.log().empty());
  EXPECT_EQ(leader.log().size(), 5u);
}

TEST(LedgerClient, RetriesAcrossReplicasWhileNoLeaderIsKnown) {
  FakeBackend a(0);
  FakeBackend b(1);
  a.set_leader(raft::kNoNode);
  b.set_leader(raft::kNoNode);
  auto sa = serve(a);
  auto sb = serve(b);
  auto client = connect(peer("n0", sa->port()) + ";" + peer("n1", sb->port()));
  std::promise<Result<ledger::AppendResult>> promise;
  client->append("after election", [&](auto r) { promise.set_value(std::move(r)); });
  std::this_thread::sleep_for(50ms);
  b.set_leader(1);  // an election finishes
  auto r = promise.get_future().get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(b.log(), (std::vector<std::string>{"after election"}));
}

TEST(LedgerClient, ReconnectsAfterTheServerRestartsOnTheSamePort) {
  FakeBackend backend(0);
  auto service = serve(backend);
  const std::uint16_t port = service->port();
  auto client = connect(peer("n0", port));
  ASSERT_TRUE(client->append_sync("before").ok());
  service->stop();
  service.reset();
  std::promise<Result<ledger::AppendResult>> promise;
  client->append("during", [&](auto r) { promise.set_value(std::move(r)); });
  std::this_thread::sleep_for(50ms);
  service = serve(backend, port);
  auto r = promise.get_future().get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(backend.log().back(), "during");
  EXPECT_GE(client->stats().connects, 2u);
}

TEST(LedgerClient, NonRetryableBackendErrorsReachTheCallerUnchanged) {
  FakeBackend backend(0);
  backend.fail_with(make_error(ErrorCode::kDiskFull, "no space left in /data"));
  auto service = serve(backend);
  auto client = connect(peer("n0", service->port()));
  auto r = client->append_sync("x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kDiskFull);
  EXPECT_EQ(r.error().message, "no space left in /data");
}

TEST(LedgerClient, TimesOutWhenNoReplicaIsReachable) {
  auto client = connect(peer("n0", unused_port()), 300ms);
  auto r = client->append_sync("x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_NE(r.error().message.find("last error"), std::string::npos) << r.error().message;
}

TEST(LedgerClient, CloseFailsOutstandingRequestsWithStopped) {
  auto client = connect(peer("n0", unused_port()), 10s);
  std::promise<Result<ledger::AppendResult>> promise;
  client->append("x", [&](auto r) { promise.set_value(std::move(r)); });
  client->close();
  auto r = promise.get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kStopped);
  auto after = client->append_sync("y");
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, ErrorCode::kStopped);
}

TEST(LedgerClient, ManyThreadsAppendConcurrentlyWithoutLosingEntries) {
  FakeBackend backend(0);
  auto service = serve(backend);
  auto client = connect(peer("n0", service->port()));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::string data = std::to_string(t) + ":" + std::to_string(i);
        auto r = client->append_sync(data);
        if (!r.ok() || backend.get(r->index)->data != data) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(backend.log().size(), 400u);
}

// Raw socket helpers for malformed-frame tests.
TEST(ClientService, MalformedFrameClosesOnlyThatConnection) {
  FakeBackend backend(0);
  auto service = serve(backend);
  auto client = connect(peer("n0", service->port()));
  ASSERT_TRUE(client->append_sync("ok").ok());

  asio::io_context io;
  asio::ip::tcp::socket raw(io);
  raw.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), service->port()));
  std::string garbage(40, '\x07');  // length 0x07070707: far above the frame limit
  asio::write(raw, asio::buffer(garbage));
  char byte;
  std::error_code ec;
  raw.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_TRUE(eventually([&] { return service->stats().protocol_errors == 1; }));

  // A frame with a good header but a bad checksum, then a response kind sent to the server.
  for (int variant = 0; variant < 2; ++variant) {
    asio::ip::tcp::socket s(io);
    s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), service->port()));
    std::string frame;
    if (variant == 0) {
      service::encode_get_request(1, 1, &frame);
      frame.back() ^= 0x40;
    } else {
      service::encode_append_response(1, service::AppendResponse{1, 1, 1}, &frame);
    }
    asio::write(s, asio::buffer(frame));
    s.read_some(asio::buffer(&byte, 1), ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  }
  EXPECT_TRUE(eventually([&] { return service->stats().protocol_errors == 3; }));

  // The well-behaved client's connection is unaffected.
  auto r = client->append_sync("still ok");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->index, 2u);
}

TEST(LedgerClient, MalformedServerFrameDropsTheConnectionAndReportsWhy) {
  // A server that answers every connection with a frame of an unsupported version.
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io,
                                   asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::uint16_t port = acceptor.local_endpoint().port();
  std::atomic<bool> done{false};
  std::atomic<int> connections{0};
  std::thread server([&] {
    acceptor.non_blocking(true);
    while (!done) {
      std::error_code ec;
      asio::ip::tcp::socket s(io);
      acceptor.accept(s, ec);
      if (ec) {
        std::this_thread::sleep_for(2ms);
        continue;
      }
      connections.fetch_add(1);
      std::string frame;
      service::encode_append_response(1, service::AppendResponse{1, 1, 1}, &frame);
      frame[4] = 9;  // version
      asio::write(s, asio::buffer(frame), ec);
      std::this_thread::sleep_for(20ms);
    }
  });
  auto client = connect(peer("n0", port), 500ms);
  auto r = client->append_sync("x");
  done = true;
  server.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_NE(r.error().message.find("unsupported version 9"), std::string::npos)
      << r.error().message;
  EXPECT_GE(connections.load(), 1);
}

}  // namespace
}  // namespace dledger::client
