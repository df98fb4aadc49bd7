// RemotingServer and RemotingClient over real sockets on 127.0.0.1 (port 0).
#include "broker/frontend/remoting_server.h"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "broker/frontend/remoting_client.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/frame_decoder.h"

namespace dledger::frontend {
namespace {

using namespace std::chrono_literals;
using remoting::RemotingCommand;
using remoting::SerializeType;

constexpr std::int32_t kEchoCode = 9001;
constexpr std::int32_t kDelayedCode = 9002;
constexpr std::int32_t kOnewayCode = 9003;
constexpr std::int32_t kThrowingCode = 9004;
constexpr std::int32_t kWhoAmICode = 9005;
constexpr std::int32_t kHeldCode = 9006;  // answered only when the test releases held_

// A server with an echo handler (replies SUCCESS with the request body and ext field "echo"),
// a handler that answers from another thread after a delay, and a oneway sink.
class RemotingServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RemotingServer::Options options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.io_threads = 2;
    options.max_frame_bytes = 64 * 1024;
    server_ = std::make_unique<RemotingServer>(options);
    server_->register_handler(
        kEchoCode, [](const RemotingCommand& request, Connection&, Responder respond) {
          auto response = remoting::make_response(request, remoting::response_code::kSuccess);
          response.body = request.body;
          auto it = request.ext_fields.find("echo");
          if (it != request.ext_fields.end()) response.ext_fields["echo"] = it->second;
          respond(std::move(response));
        });
    server_->register_handler(
        kDelayedCode, [this](const RemotingCommand& request, Connection&, Responder respond) {
          std::lock_guard<std::mutex> lock(mu_);
          delayed_.emplace_back([request, respond] {
            std::this_thread::sleep_for(50ms);
            auto response = remoting::make_response(request, remoting::response_code::kSuccess);
            response.body = "late:" + request.body;
            respond(response);
            respond(response);  // a second call is ignored
          });
        });
    server_->register_handler(
        kOnewayCode, [this](const RemotingCommand& request, Connection&, Responder respond) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            oneway_bodies_.push_back(request.body);
          }
          cv_.notify_all();
          respond(remoting::make_response(request, remoting::response_code::kSuccess));  // no-op
        });
    server_->register_handler(kThrowingCode, [](const RemotingCommand&, Connection&, Responder) {
      throw std::runtime_error("handler bug");
    });
    server_->register_handler(
        kWhoAmICode, [](const RemotingCommand& request, Connection& conn, Responder respond) {
          auto response = remoting::make_response(request, remoting::response_code::kSuccess);
          response.ext_fields["id"] = std::to_string(conn.id());
          response.ext_fields["remote"] = conn.remote_address();
          respond(std::move(response));
          if (request.body == "close") conn.close("asked to");
        });
    server_->register_handler(
        kHeldCode, [this](const RemotingCommand& request, Connection&, Responder respond) {
          std::lock_guard<std::mutex> lock(mu_);
          held_.emplace_back(request, respond);
        });
    server_->on_connection_closed([this](const ConnectionInfo& info) {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ids_.push_back(info.id);
    });
    ASSERT_TRUE(server_->start().ok());
    ASSERT_NE(server_->port(), 0);
  }

  void TearDown() override {
    server_->stop();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : delayed_) t.join();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  std::unique_ptr<RemotingClient> client() {
    auto connected = RemotingClient::connect(address());
    EXPECT_TRUE(connected.ok()) << (connected.ok() ? "" : connected.error().message);
    return connected.ok() ? std::move(connected).value() : nullptr;
  }

  std::unique_ptr<RemotingServer> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> delayed_;
  std::vector<std::string> oneway_bodies_;
  std::vector<ConnectionId> closed_ids_;
  std::vector<std::pair<RemotingCommand, Responder>> held_;
};

// A raw socket speaking frames by hand, to check exact bytes and send garbage.
class RawPeer {
 public:
  explicit RawPeer(std::uint16_t port) : socket_(io_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  }
  void send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // Next command, or nullopt when the server closed the connection.
  std::optional<RemotingCommand> receive() {
    while (true) {
      auto next = decoder_.next();
      if (!next.ok()) return std::nullopt;
      if (next->has_value()) return std::move(**next);
      char buf[4096];
      asio::error_code ec;
      std::size_t n = socket_.read_some(asio::buffer(buf), ec);
      if (ec) return std::nullopt;
      decoder_.feed(std::string_view(buf, n));
    }
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  remoting::FrameDecoder decoder_;
};

std::string frame_of(const RemotingCommand& cmd) {
  auto frame = remoting::encode_frame(cmd);
  EXPECT_TRUE(frame.ok());
  return frame.ok() ? *frame : std::string();
}

TEST_F(RemotingServerTest, JsonRequestIsAnsweredInJsonWithItsOpaque) {
  RawPeer peer(server_->port());
  RemotingCommand request = remoting::make_request(kEchoCode, 4242);
  request.serialize_type = SerializeType::kJson;
  request.ext_fields["echo"] = "hi";
  request.body = "payload";
  peer.send(frame_of(request));
  auto response = peer.receive();
  ASSERT_TRUE(response.has_value());
  EXPECT_TRUE(response->is_response());
  EXPECT_EQ(response->serialize_type, SerializeType::kJson);
  EXPECT_EQ(response->opaque, 4242);
  EXPECT_EQ(response->code, remoting::response_code::kSuccess);
  EXPECT_EQ(response->body, "payload");
  EXPECT_EQ(response->ext_fields.at("echo"), "hi");
}

TEST_F(RemotingServerTest, BinaryRequestIsAnsweredInBinaryWithItsOpaque) {
  RawPeer peer(server_->port());
  RemotingCommand request = remoting::make_request(kEchoCode, -7);
  request.serialize_type = SerializeType::kRocketmq;
  request.body = std::string("\0\1\2", 3);
  peer.send(frame_of(request));
  auto response = peer.receive();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->serialize_type, SerializeType::kRocketmq);
  EXPECT_EQ(response->opaque, -7);
  EXPECT_EQ(response->body, std::string("\0\1\2", 3));
}

TEST_F(RemotingServerTest, UnknownCodeIsAnsweredRequestCodeNotSupported) {
  auto c = client();
  ASSERT_TRUE(c);
  auto response = c->invoke_sync(remoting::make_request(777, 0), 5s);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->code, remoting::response_code::kRequestCodeNotSupported);
  ASSERT_TRUE(response->remark.has_value());
  EXPECT_NE(response->remark->find("777"), std::string::npos);
}

TEST_F(RemotingServerTest, ThrowingHandlerIsAnsweredSystemErrorAndConnectionSurvives) {
  auto c = client();
  ASSERT_TRUE(c);
  auto response = c->invoke_sync(remoting::make_request(kThrowingCode, 0), 5s);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->code, remoting::response_code::kSystemError);
  EXPECT_NE(response->remark.value_or("").find("handler bug"), std::string::npos);
  auto echo = c->invoke_sync(remoting::make_request(kEchoCode, 0), 5s);
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->code, remoting::response_code::kSuccess);
}

TEST_F(RemotingServerTest, HandlersSeeDistinctConnectionIdsAndThePeerAddress) {
  auto first = client();
  auto second = client();
  ASSERT_TRUE(first && second);
  auto a = first->invoke_sync(remoting::make_request(kWhoAmICode, 0), 5s);
  auto b = second->invoke_sync(remoting::make_request(kWhoAmICode, 0), 5s);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->ext_fields.at("id"), b->ext_fields.at("id"));
  EXPECT_EQ(a->ext_fields.at("remote").rfind("127.0.0.1:", 0), 0u);
}

TEST_F(RemotingServerTest, HandlerCanCloseItsConnectionAfterAnswering) {
  RawPeer peer(server_->port());
  RemotingCommand request = remoting::make_request(kWhoAmICode, 5);
  request.body = "close";
  peer.send(frame_of(request));
  auto response = peer.receive();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->opaque, 5);
  EXPECT_FALSE(peer.receive().has_value());
}

TEST_F(RemotingServerTest, OnewayRequestGetsNoReply) {
  RawPeer peer(server_->port());
  RemotingCommand oneway = remoting::make_request(kOnewayCode, 1);
  oneway.flag |= remoting::kFlagOneway;
  oneway.body = "fire";
  RemotingCommand unknown_oneway = remoting::make_request(12345, 2);
  unknown_oneway.flag |= remoting::kFlagOneway;
  RemotingCommand echo = remoting::make_request(kEchoCode, 3);
  peer.send(frame_of(oneway) + frame_of(unknown_oneway) + frame_of(echo));
  // The first reply on the stream is the echo's: neither oneway request produced one.
  auto response = peer.receive();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->opaque, 3);
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(oneway_bodies_, std::vector<std::string>{"fire"});
}

TEST_F(RemotingServerTest, GarbageClosesOnlyThatConnection) {
  auto good = client();
  ASSERT_TRUE(good);
  RawPeer bad(server_->port());
  // Length prefix 12, then a serialize type byte 7 (unknown).
  bad.send(std::string("\0\0\0\x0c\x07\0\0\x04", 8) + "abcdefgh");
  EXPECT_FALSE(bad.receive().has_value());
  auto response = good->invoke_sync(remoting::make_request(kEchoCode, 0), 5s);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->code, remoting::response_code::kSuccess);
  EXPECT_GE(server_->stats().protocol_errors, 1u);
}

TEST_F(RemotingServerTest, OversizedLengthClosesOnlyThatConnection) {
  auto good = client();
  ASSERT_TRUE(good);
  RawPeer bad(server_->port());
  bad.send(std::string("\x01\0\0\0", 4));  // 16 MiB, over this server's 64 KiB limit
  EXPECT_FALSE(bad.receive().has_value());
  RawPeer negative(server_->port());
  negative.send(std::string("\xff\xff\xff\xf0", 4));
  EXPECT_FALSE(negative.receive().has_value());
  auto response = good->invoke_sync(remoting::make_request(kEchoCode, 0), 5s);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->code, remoting::response_code::kSuccess);
}

TEST_F(RemotingServerTest, HeldRequestDoesNotBlockLaterOnesAndIsAnsweredLaterFromAnotherThread) {
  auto c = client();
  ASSERT_TRUE(c);
  RemotingCommand held = remoting::make_request(kHeldCode, 0);
  held.body = "slow";
  auto held_future = c->invoke(held, 30s);
  RemotingCommand fast = remoting::make_request(kEchoCode, 0);
  fast.body = "fast";
  auto fast_response = c->invoke_sync(fast, 10s);
  ASSERT_TRUE(fast_response.ok());
  EXPECT_EQ(fast_response->body, "fast");
  EXPECT_EQ(held_future.wait_for(0s), std::future_status::timeout);
  std::thread releaser([this] {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [request, respond] : held_) {
      auto response = remoting::make_response(request, remoting::response_code::kSuccess);
      response.body = "late:" + request.body;
      respond(response);
      respond(response);  // a second call is ignored
    }
  });
  releaser.join();
  auto held_response = held_future.get();
  ASSERT_TRUE(held_response.ok()) << held_response.error().message;
  EXPECT_EQ(held_response->body, "late:slow");
  // The connection still works and no stray second reply is matched to a new request.
  auto again = c->invoke_sync(fast, 10s);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->body, "fast");
}

TEST_F(RemotingServerTest, DelayedReplyFromAnotherThreadArrives) {
  auto c = client();
  ASSERT_TRUE(c);
  RemotingCommand slow = remoting::make_request(kDelayedCode, 0);
  slow.body = "slow";
  auto response = c->invoke_sync(slow, 30s);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body, "late:slow");
}

TEST_F(RemotingServerTest, ManyPipelinedRequestsAreAllAnsweredByOpaque) {
  auto c = client();
  ASSERT_TRUE(c);
  constexpr int kRequests = 2000;
  std::vector<std::future<Result<RemotingCommand>>> futures;
  futures.reserve(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    RemotingCommand request = remoting::make_request(kEchoCode, 0);
    request.serialize_type = i % 2 == 0 ? SerializeType::kJson : SerializeType::kRocketmq;
    request.body = std::to_string(i);
    futures.push_back(c->invoke(request, 30s));
  }
  for (int i = 0; i < kRequests; ++i) {
    auto response = futures[i].get();
    ASSERT_TRUE(response.ok()) << i << ": " << response.error().message;
    EXPECT_EQ(response->body, std::to_string(i));
    EXPECT_EQ(response->serialize_type,
              i % 2 == 0 ? SerializeType::kJson : SerializeType::kRocketmq);
  }
}

// Replies completed together on another thread are gathered into few writes (outbox + gathered
// write): every one must still arrive whole, matched to its request, whatever its size.
TEST_F(RemotingServerTest, BurstOfRepliesFromAnotherThreadArrivesWholeAndMatched) {
  auto c = client();
  ASSERT_TRUE(c);
  constexpr int kRequests = 600;
  std::vector<std::future<Result<RemotingCommand>>> futures;
  futures.reserve(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    RemotingCommand request = remoting::make_request(kHeldCode, 0);
    request.serialize_type = i % 3 == 0 ? SerializeType::kRocketmq : SerializeType::kJson;
    request.body = std::to_string(i);
    futures.push_back(c->invoke(request, 30s));
  }
  // Wait until every request is held, then answer all of them in one burst.
  for (int waited_ms = 0; waited_ms < 10000; waited_ms += 5) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (held_.size() == kRequests) break;
    }
    std::this_thread::sleep_for(5ms);
  }
  std::thread releaser([this] {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [request, respond] : held_) {
      auto response = remoting::make_response(request, remoting::response_code::kSuccess);
      // Sizes from a few bytes to ~20 KiB, so gathered writes end mid-frame.
      const int i = std::stoi(request.body);
      response.body =
          request.body + ":" + std::string(static_cast<std::size_t>(i * 37 % 20000), 'r');
      respond(std::move(response));
    }
  });
  releaser.join();
  for (int i = 0; i < kRequests; ++i) {
    auto response = futures[static_cast<std::size_t>(i)].get();
    ASSERT_TRUE(response.ok()) << i << ": " << response.error().message;
    EXPECT_EQ(response->body,
              std::to_string(i) + ":" + std::string(static_cast<std::size_t>(i * 37 % 20000), 'r'));
    EXPECT_EQ(response->serialize_type,
              i % 3 == 0 ? SerializeType::kRocketmq : SerializeType::kJson);
  }
  // The connection is still usable afterwards.
  RemotingCommand echo = remoting::make_request(kEchoCode, 0);
  echo.body = "after";
  auto after = c->invoke_sync(echo, 10s);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->body, "after");
}

TEST(RemotingServerBackPressureTest, PeerThatDoesNotReadIsThrottledNotDisconnected) {
  RemotingServer::Options options;
  options.host = "127.0.0.1";
  options.io_threads = 1;
  options.write_queue_pause_bytes = 64 * 1024;
  options.max_write_queue_bytes = 256 * 1024;
  RemotingServer server(options);
  server.register_handler(
      kEchoCode, [](const RemotingCommand& request, Connection&, Responder respond) {
        auto response = remoting::make_response(request, remoting::response_code::kSuccess);
        response.body = std::string(8 * 1024, 'x');
        respond(std::move(response));
      });
  ASSERT_TRUE(server.start().ok());
  // 2000 requests (16 MB of responses, far above the 256 KiB queue limit) written while nobody
  // reads; the server must pause instead of queueing them all or closing the connection.
  constexpr int kRequests = 2000;
  std::string requests;
  for (int i = 0; i < kRequests; ++i) {
    requests += frame_of(remoting::make_request(kEchoCode, i));
  }
  RawPeer peer(server.port());
  std::thread writer([&] { peer.send(requests); });
  for (int i = 0; i < kRequests; ++i) {
    auto response = peer.receive();
    ASSERT_TRUE(response.has_value()) << "connection closed after " << i << " responses";
    ASSERT_EQ(response->opaque, i);
    ASSERT_EQ(response->body.size(), 8u * 1024);
  }
  writer.join();
  EXPECT_EQ(server.stats().protocol_errors, 0u);
}

TEST_F(RemotingServerTest, ClosedConnectionRunsCloseCallbackAndMakesResponderNoop) {
  Responder kept;
  std::atomic<ConnectionId> seen_id{0};
  // A second server whose handler keeps the Responder without answering.
  RemotingServer::Options options;
  options.host = "127.0.0.1";
  RemotingServer server(options);
  std::mutex mu;
  std::condition_variable cv;
  bool got = false, closed = false;
  server.register_handler(kEchoCode,
                          [&](const RemotingCommand&, Connection& conn, Responder respond) {
                            std::lock_guard<std::mutex> lock(mu);
                            kept = respond;
                            seen_id = conn.id();
                            got = true;
                            cv.notify_all();
                          });
  server.on_connection_closed([&](const ConnectionInfo& info) {
    std::lock_guard<std::mutex> lock(mu);
    closed = info.id == seen_id.load();
    cv.notify_all();
  });
  ASSERT_TRUE(server.start().ok());
  {
    auto connected = RemotingClient::connect("127.0.0.1:" + std::to_string(server.port()));
    ASSERT_TRUE(connected.ok());
    auto pending = (*connected)->invoke(remoting::make_request(kEchoCode, 0), 30s);
    {
      std::unique_lock<std::mutex> lock(mu);
      ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return got; }));
    }
    (*connected)->close();
    auto result = pending.get();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return closed; }));
  }
  Responder copy;
  {
    std::lock_guard<std::mutex> lock(mu);
    copy = kept;
  }
  copy(remoting::make_response(remoting::make_request(kEchoCode, 0), 0));  // no crash, no-op
  EXPECT_TRUE(copy.responded());
  server.stop();
  copy(remoting::make_response(remoting::make_request(kEchoCode, 0), 0));
}

TEST_F(RemotingServerTest, StopWithRepliesOutstandingFailsClientsAndLateRepliesAreNoops) {
  std::vector<std::unique_ptr<RemotingClient>> clients;
  std::vector<std::future<Result<RemotingCommand>>> pending;
  for (int c = 0; c < 4; ++c) {
    clients.push_back(client());
    ASSERT_TRUE(clients.back());
    for (int i = 0; i < 5; ++i) {
      pending.push_back(clients.back()->invoke(remoting::make_request(kHeldCode, 0), 60s));
    }
    // An answered request proves the held ones were dispatched before the stop.
    ASSERT_TRUE(clients.back()->invoke_sync(remoting::make_request(kEchoCode, 0), 10s).ok());
  }
  server_->stop();
  // Late replies from another thread are no-ops.
  std::thread late([this] {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [request, respond] : held_) {
      respond(remoting::make_response(request, remoting::response_code::kSuccess));
    }
  });
  late.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(held_.size(), 20u);
  }
  for (auto& future : pending) {
    auto result = future.get();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  }
  auto after = clients[0]->invoke_sync(remoting::make_request(kEchoCode, 0), 10s);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, ErrorCode::kUnavailable);
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(closed_ids_.size(), 4u);
}

TEST_F(RemotingServerTest, ClientTimesOutWhenNoReplyComes) {
  RemotingServer::Options options;
  options.host = "127.0.0.1";
  RemotingServer silent(options);
  silent.register_handler(kEchoCode, [](const RemotingCommand&, Connection&, Responder) {});
  ASSERT_TRUE(silent.start().ok());
  auto connected = RemotingClient::connect("127.0.0.1:" + std::to_string(silent.port()));
  ASSERT_TRUE(connected.ok());
  auto result = (*connected)->invoke_sync(remoting::make_request(kEchoCode, 0), 100ms);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kTimeout);
}

TEST(RemotingClientTest, ConnectToClosedPortFailsUnavailable) {
  std::uint16_t port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }
  auto connected = RemotingClient::connect("127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(connected.ok());
  EXPECT_EQ(connected.error().code, ErrorCode::kUnavailable);
}

TEST(RemotingClientTest, MalformedAddressIsRejected) {
  for (const char* address : {"nohost", "host:", ":1", "host:0", "host:99999", "host:12a"}) {
    auto connected = RemotingClient::connect(address);
    ASSERT_FALSE(connected.ok()) << address;
    EXPECT_EQ(connected.error().code, ErrorCode::kInvalidArgument) << address;
  }
}

TEST(RemotingServerStartTest, PortInUseIsAnIoError) {
  RemotingServer::Options options;
  options.host = "127.0.0.1";
  RemotingServer first(options);
  ASSERT_TRUE(first.start().ok());
  options.port = first.port();
  RemotingServer second(options);
  auto status = second.start();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace dledger::frontend
