// LedgerClient against in-process ClientServices over fake backends: pipelining, in-flight
// window, redirects, reconnects, error pass-through, and malformed frames in both directions.
#include "broker/ledger/client/ledger_client.h"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <atomic>
#include <condition_variable>
#include <map>
#include <set>
#include <thread>

#include "broker/ledger/service/client_service.h"
#include "tests/common/context_thread.h"
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

// A raw connection to a ClientService, for tests that control exactly which bytes go out.
struct RawConnection {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};

  explicit RawConnection(std::uint16_t port) {
    socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  struct Response {
    service::FrameKind kind;
    std::string body;
  };
  // Reads until `count` response frames arrived; keyed by request id (empty on a read error).
  std::map<std::uint64_t, Response> read_responses(std::size_t count) {
    service::FrameReader reader(service::FrameLimits{});
    std::map<std::uint64_t, Response> responses;
    char buffer[4096];
    while (responses.size() < count) {
      std::error_code ec;
      std::size_t n = socket.read_some(asio::buffer(buffer), ec);
      if (ec) return {};
      reader.feed(buffer, n);
      for (;;) {
        auto frame = reader.next();
        if (!frame.ok()) return {};
        if (!frame->has_value()) break;
        responses[(*frame)->header.request_id] =
            Response{(*frame)->header.kind, std::string((*frame)->body)};
      }
    }
    return responses;
  }
};

// Requests that arrive in one read are one backend batch; every request still gets its own
// response naming the index of its own first entry.
TEST(ClientService, AppendRequestsReadTogetherShareOneBackendBatch) {
  FakeBackend backend(0);
  auto service = serve(backend);
  RawConnection raw(service->port());
  // Request r carries r + 1 entries "r.0", "r.1", ...; all frames go out in one write.
  constexpr int kRequests = 8;
  std::string frames;
  for (int r = 0; r < kRequests; ++r) {
    std::vector<std::string> entries;
    for (int e = 0; e <= r; ++e) entries.push_back(std::to_string(r) + "." + std::to_string(e));
    service::encode_append_request(100 + r, entries, &frames);
  }
  asio::write(raw.socket, asio::buffer(frames));
  auto responses = raw.read_responses(kRequests);
  ASSERT_EQ(responses.size(), static_cast<std::size_t>(kRequests));

  const auto log = backend.log();
  ASSERT_EQ(log.size(), static_cast<std::size_t>(kRequests * (kRequests + 1) / 2));
  for (int r = 0; r < kRequests; ++r) {
    const auto& response = responses.at(100 + r);
    ASSERT_EQ(response.kind, service::FrameKind::kAppendResponse);
    auto append = service::decode_append_response(response.body);
    ASSERT_TRUE(append.ok()) << append.error().message;
    EXPECT_EQ(append->count, static_cast<std::uint32_t>(r + 1));
    for (int e = 0; e <= r; ++e) {
      EXPECT_EQ(log.at(append->first_index - 1 + e), std::to_string(r) + "." + std::to_string(e));
    }
  }
  // One write of 8 small frames is one read on loopback: fewer backend calls than requests.
  EXPECT_LT(backend.calls(), static_cast<std::size_t>(kRequests));
}

// A failed batch answers each of its requests with the batch's error.
TEST(ClientService, FailedBatchAnswersEveryRequestWithTheError) {
  FakeBackend backend(0);
  backend.fail_with(make_error(ErrorCode::kOverloaded, "too many appends"));
  auto service = serve(backend);
  RawConnection raw(service->port());
  std::string frames;
  for (int r = 0; r < 5; ++r) service::encode_append_request(7 + r, {"x"}, &frames);
  asio::write(raw.socket, asio::buffer(frames));
  auto responses = raw.read_responses(5);
  std::set<std::uint64_t> answered;
  for (const auto& [id, response] : responses) {
    ASSERT_EQ(response.kind, service::FrameKind::kErrorResponse);
    auto error = service::decode_error_response(response.body);
    ASSERT_TRUE(error.ok());
    EXPECT_EQ(error->code, ErrorCode::kOverloaded);
    EXPECT_EQ(error->message, "too many appends");
    answered.insert(id);
  }
  EXPECT_EQ(answered, (std::set<std::uint64_t>{7, 8, 9, 10, 11}));
  EXPECT_TRUE(backend.log().empty());
}

// Forwards to a FakeBackend and records the threads appends and gets ran on.
class ThreadRecordingBackend final : public service::ClientBackend {
 public:
  explicit ThreadRecordingBackend(FakeBackend& inner) : inner_(inner) {}
  void append(std::vector<std::string> entries, ledger::AppendCallback done) override {
    record(&append_threads_);
    inner_.append(std::move(entries), std::move(done));
  }
  Result<ledger::CommittedEntry> get(std::uint64_t index) override {
    record(&get_threads_);
    return inner_.get(index);
  }
  raft::NodeId leader_id() override { return inner_.leader_id(); }
  std::set<std::thread::id> append_threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return append_threads_;
  }
  std::set<std::thread::id> get_threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return get_threads_;
  }

 private:
  void record(std::set<std::thread::id>* threads) {
    std::lock_guard<std::mutex> lock(mu_);
    threads->insert(std::this_thread::get_id());
  }
  FakeBackend& inner_;
  std::mutex mu_;
  std::set<std::thread::id> append_threads_;
  std::set<std::thread::id> get_threads_;
};

// The ledger program runs the client service on the consensus thread's context: appends must
// then be handed to the backend on that thread (no hand-off), log reads (gets) must stay off it,
// and stop() - from another thread or from the context's own - must close everything and leave
// no work behind on the context.
TEST(ClientService, OnAnExternalContextAppendsRunOnItsThreadGetsOffItAndStopIsClean) {
  for (bool stop_from_context_thread : {false, true}) {
    SCOPED_TRACE(stop_from_context_thread ? "stop on the context's thread" : "stop elsewhere");
    dledger::testing::ContextThread owner;
    const std::thread::id owner_id = owner.id();

    FakeBackend fake(0);
    ThreadRecordingBackend backend(fake);
    service::ClientServiceOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.io_context = &owner.context();
    auto started = service::ClientService::start(options, backend);
    ASSERT_TRUE(started.ok()) << started.error().message;
    std::unique_ptr<service::ClientService> service = std::move(started).value();

    auto client = connect(peer("n0", service->port()));
    for (int i = 1; i <= 20; ++i) {
      auto r = client->append_sync("entry-" + std::to_string(i));
      ASSERT_TRUE(r.ok()) << r.error().to_string();
      EXPECT_EQ(r->index, static_cast<std::uint64_t>(i));
    }
    for (int i = 1; i <= 20; ++i) {
      auto e = client->get_sync(static_cast<std::uint64_t>(i));
      ASSERT_TRUE(e.ok()) << e.error().to_string();
      EXPECT_EQ(e->data, "entry-" + std::to_string(i));
    }
    auto missing = client->get_sync(21);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(backend.append_threads(), std::set<std::thread::id>{owner_id});
    EXPECT_FALSE(backend.get_threads().empty());
    EXPECT_EQ(backend.get_threads().count(owner_id), 0u) << "a get ran on the shared context";
    client->close();

    if (stop_from_context_thread) {
      owner.run([&] { service->stop(); });
    } else {
      service->stop();
    }
    // The listener is closed: a new client cannot reach the service.
    auto late = connect(peer("n0", service->port()), 300ms);
    EXPECT_FALSE(late->append_sync("late").ok());
    late->close();
    owner.finish();  // returns: the stopped service left no work behind on the context
    service.reset();
    EXPECT_EQ(fake.log().size(), 20u);
  }
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
