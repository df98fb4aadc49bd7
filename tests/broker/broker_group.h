// A broker group in-process for handler tests: `replicas` members, each a LedgerServer +
// MessageStore + BrokerHandlers + RemotingServer on 127.0.0.1 (port 0) with a RemotingClient
// connected to it. Data lives in a fresh temporary directory removed at destruction.
//
//   BrokerGroup group({.replicas = 1});
//   int master = group.wait_for_master();          // -1 if none became master in 30 s
//   group.at(master).client->invoke_sync(...);
//   group.create_topic(master, "orders", 2);
//   group.stop(master);                            // then wait_for_master() finds the next one
//
// `configure` may adjust each replica's store and handler options before it starts (inject
// clocks, metrics, ...). Header-only; shared by the tests in tests/broker.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/base/properties.h"
#include "broker/broker/broker_handlers.h"
#include "broker/frontend/remoting_client.h"
#include "broker/frontend/remoting_server.h"
#include "broker/remoting/codes.h"
#include "tests/common/test_net.h"

namespace dledger::broker::testing {

struct BrokerReplica {
  std::unique_ptr<store::MessageStore> store;
  std::unique_ptr<ledger::LedgerServer> ledger;
  std::unique_ptr<BrokerHandlers> handlers;
  std::unique_ptr<frontend::RemotingServer> server;
  std::unique_ptr<frontend::RemotingClient> client;
  bool stopped = false;
};

class BrokerGroup {
 public:
  struct Options {
    int replicas = 3;
    std::function<void(int, store::MessageStoreOptions&, BrokerHandlers::Options&)> configure;
  };

  explicit BrokerGroup(Options options) {
    static std::atomic<int> sequence{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("broker-group-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(sequence.fetch_add(1)));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::string peers;
    for (int i = 0; i < options.replicas; ++i) {
      peers += (i ? ";" : "") + std::string("n") + std::to_string(i) +
               "-127.0.0.1:" + std::to_string(dledger::testing::free_port());
    }
    replicas_.resize(static_cast<std::size_t>(options.replicas));
    for (int i = 0; i < options.replicas; ++i) {
      Properties props;
      props.set("dLegerGroup", "g");
      props.set("dLegerPeers", peers);
      props.set("dLegerSelfId", "n" + std::to_string(i));
      props.set("storePathRootDir", dir_.string());
      auto ledger_options = ledger::LedgerOptions::from_properties(props);
      EXPECT_TRUE(ledger_options.ok());
      BrokerReplica& r = at(i);
      store::MessageStoreOptions store_options;
      store_options.store_host =
          remoting::HostAddress::ipv4(127, 0, 0, 1, static_cast<std::uint16_t>(10911 + i));
      BrokerHandlers::Options handler_options;
      if (options.configure) options.configure(i, store_options, handler_options);
      r.store = std::make_unique<store::MessageStore>(store_options);
      auto server =
          ledger::LedgerServer::start(std::move(ledger_options).value(), r.store->snapshot_hooks());
      EXPECT_TRUE(server.ok()) << server.error().to_string();
      r.ledger = std::move(server).value();
      EXPECT_TRUE(r.store->start(r.ledger.get()).ok());
      r.handlers = std::make_unique<BrokerHandlers>(*r.store, handler_options);
      frontend::RemotingServer::Options server_options;
      server_options.host = "127.0.0.1";
      server_options.port = 0;
      r.server = std::make_unique<frontend::RemotingServer>(server_options);
      r.handlers->register_with(*r.server);
      EXPECT_TRUE(r.server->start().ok());
      auto client =
          frontend::RemotingClient::connect("127.0.0.1:" + std::to_string(r.server->port()));
      EXPECT_TRUE(client.ok());
      r.client = std::move(client).value();
    }
  }
  ~BrokerGroup() {
    for (int i = 0; i < size(); ++i) stop(i);
    replicas_.clear();
    std::filesystem::remove_all(dir_);
  }

  // Stops replica `i` (a crash as far as the others can tell); idempotent. Its objects stay
  // allocated until the group is destroyed.
  void stop(int i) {
    BrokerReplica& r = at(i);
    if (r.stopped) return;
    r.stopped = true;
    r.client->close();
    r.handlers->stop();
    r.server->stop();
    r.store->stop();
    r.ledger->stop();
  }
  BrokerGroup(const BrokerGroup&) = delete;
  BrokerGroup& operator=(const BrokerGroup&) = delete;

  // Index of the replica ready as master, -1 if none within 30 s.
  int wait_for_master() {
    int master = -1;
    dledger::testing::eventually(
        [&] {
          for (std::size_t i = 0; i < replicas_.size(); ++i) {
            if (!replicas_[i].stopped && replicas_[i].store->ready_as_master()) {
              master = static_cast<int>(i);
            }
          }
          return master >= 0;
        },
        std::chrono::seconds(30));
    return master;
  }

  // UPDATE_AND_CREATE_TOPIC through replica `i`; the remoting reply code.
  std::int32_t create_topic(int i, const std::string& topic, int queues) {
    auto create = remoting::make_request(remoting::request_code::kUpdateAndCreateTopic, 0);
    create.ext_fields["topic"] = topic;
    create.ext_fields["readQueueNums"] = std::to_string(queues);
    create.ext_fields["writeQueueNums"] = std::to_string(queues);
    auto reply = at(i).client->invoke_sync(create, std::chrono::seconds(10));
    if (!reply.ok()) return -1;
    return reply->code;
  }

  // Points every replica's leader forwarder at the other replicas' remoting ports (bound at
  // start, so unknown to the handler options), so followers forward leader-only requests.
  void route_forwarding_within_group() {
    for (auto& r : replicas_) {
      for (int j = 0; j < size(); ++j) {
        r.handlers->context().forwarder->set_client_address(
            static_cast<raft::NodeId>(j), "127.0.0.1:" + std::to_string(at(j).server->port()));
      }
    }
  }

  BrokerReplica& at(int i) { return replicas_[static_cast<std::size_t>(i)]; }
  int size() const { return static_cast<int>(replicas_.size()); }

 private:
  std::filesystem::path dir_;
  std::vector<BrokerReplica> replicas_;
};

// Base of a test suite whose tests share one single-member group: call start_group() from the
// suite's SetUpTestSuite(); TearDownTestSuite() stops it (a suite that overrides it calls
// SingleBrokerTest::TearDownTestSuite() last).
class SingleBrokerTest : public ::testing::Test {
 protected:
  // Starts the group (`configure` as in BrokerGroup::Options) and waits until it is master.
  static void start_group(
      std::function<void(int, store::MessageStoreOptions&, BrokerHandlers::Options&)> configure =
          {}) {
    group_ = new BrokerGroup({.replicas = 1, .configure = std::move(configure)});
    ASSERT_EQ(group_->wait_for_master(), 0);
  }
  static void TearDownTestSuite() {
    delete group_;
    group_ = nullptr;
  }

  static frontend::RemotingClient& client() { return *group_->at(0).client; }
  static store::MessageStore& store() { return *group_->at(0).store; }

  static inline BrokerGroup* group_ = nullptr;
};

}  // namespace dledger::broker::testing
