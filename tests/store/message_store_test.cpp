// MessageStore over a real 3-member LedgerServer group in-process on 127.0.0.1 (real sockets,
// files and threads): puts, failover, offsets and replica agreement.
#include "broker/store/message_store.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <atomic>
#include <functional>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "broker/base/properties.h"

namespace dledger::store {
namespace {

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

template <typename Fn>
bool eventually(Fn condition, std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

// A replica: its ledger and the message store on top.
struct Replica {
  std::unique_ptr<MessageStore> store;
  std::unique_ptr<ledger::LedgerServer> ledger;
};

class StoreGroup {
 public:
  explicit StoreGroup(int size, std::function<void(double)> on_append_committed = {})
      : on_append_committed_(std::move(on_append_committed)),
        dir_(std::filesystem::temp_directory_path() /
             ("message-store-test-" + std::to_string(::getpid()) + "-" +
              std::to_string(counter_++))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    for (int i = 0; i < size; ++i) {
      peers_ += (i ? ";" : "") + std::string("n") + std::to_string(i) +
                "-127.0.0.1:" + std::to_string(free_port());
    }
    replicas_.resize(size);
    for (int i = 0; i < size; ++i) start(i);
  }
  ~StoreGroup() {
    for (int i = 0; i < size(); ++i) stop(i);
    std::filesystem::remove_all(dir_);
  }

  void start(int i) {
    Properties props;
    props.set("dLegerGroup", "g");
    props.set("dLegerPeers", peers_);
    props.set("dLegerSelfId", "n" + std::to_string(i));
    props.set("storePathRootDir", dir_.string());
    props.set("segmentBytes", "65536");
    auto options = ledger::LedgerOptions::from_properties(props);
    ASSERT_TRUE(options.ok()) << options.error().to_string();
    MessageStoreOptions store_options;
    store_options.store_host =
        remoting::HostAddress::ipv4(127, 0, 0, 1, 10911 + static_cast<std::int32_t>(i));
    store_options.on_append_committed = on_append_committed_;
    Replica r;
    r.store = std::make_unique<MessageStore>(store_options);
    auto server =
        ledger::LedgerServer::start(std::move(options).value(), r.store->snapshot_hooks());
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    r.ledger = std::move(server).value();
    Status started = r.store->start(r.ledger.get());
    ASSERT_TRUE(started.ok()) << started.error().to_string();
    replicas_[i] = std::move(r);
  }
  void stop(int i) {
    if (replicas_[i].store) replicas_[i].store->stop();
    if (replicas_[i].ledger) replicas_[i].ledger->stop();
    replicas_[i].store.reset();
    replicas_[i].ledger.reset();
  }
  MessageStore* store(int i) { return replicas_[i].store.get(); }
  ledger::LedgerServer* ledger_of(int i) { return replicas_[i].ledger.get(); }
  bool running(int i) const { return replicas_[i].store != nullptr; }
  int size() const { return static_cast<int>(replicas_.size()); }

  // The replica that leads and has applied everything committed (the role passthrough rule).
  int wait_for_master() {
    int found = -1;
    eventually([&] {
      for (int i = 0; i < size(); ++i) {
        if (running(i) && store(i)->ready_as_master()) {
          found = i;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  // Waits until every running replica applied at least `index`.
  bool wait_applied(std::uint64_t index) {
    return eventually([&] {
      for (int i = 0; i < size(); ++i) {
        if (running(i) && store(i)->applied_index() < index) return false;
      }
      return true;
    });
  }

 private:
  static inline int counter_ = 0;
  std::function<void(double)> on_append_committed_;
  std::filesystem::path dir_;
  std::string peers_;
  std::vector<Replica> replicas_;
};

StoredMessage message(std::int32_t queue_id, const std::string& body) {
  StoredMessage m;
  m.topic = "orders";
  m.queue_id = queue_id;
  m.born_timestamp_ms = 1700000000000;
  m.born_host = remoting::HostAddress::ipv4(127, 0, 0, 1, 50000);
  m.properties = std::string("TAGS\x01") + "A\x02";
  m.body = body;
  return m;
}

// Reads a whole queue from `store` (as record bytes) from offset 0.
std::string read_queue(MessageStore& store, std::int32_t queue_id) {
  std::string all;
  std::int64_t offset = 0;
  while (true) {
    auto r = store.get_messages("orders", queue_id, offset, 4, 1 << 20);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    if (!r.ok() || r->status != GetStatus::kFound) break;
    all += r->records;
    offset = r->next_begin_offset;
  }
  return all;
}

TEST(MessageStore, EveryCommittedAppendIsReportedWithItsLatency) {
  std::atomic<int> observed{0};
  std::atomic<bool> negative{false};
  StoreGroup g(1, [&](double seconds) {
    if (seconds < 0) negative = true;
    ++observed;
  });
  int leader = g.wait_for_master();
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(g.store(leader)->update_topic(TopicConfig{"orders", 2, 2, 6, 0}).ok());
  const int before = observed.load();  // the topic command is an append too
  EXPECT_GE(before, 1);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(g.store(leader)->put_message_sync(message(0, "x")).ok());
  ASSERT_TRUE(g.store(leader)->put_batch_sync({message(1, "b0"), message(1, "b1")}).ok());
  EXPECT_EQ(observed.load(), before + 6);
  EXPECT_FALSE(negative.load());
}

TEST(MessageStore, NewLeaderServesTheSameBytesAtTheSameOffsetsAfterFailover) {
  StoreGroup g(3);
  int leader = g.wait_for_master();
  ASSERT_GE(leader, 0);
  Status created = g.store(leader)->update_topic(TopicConfig{"orders", 2, 2, 6, 0});
  ASSERT_TRUE(created.ok()) << created.error().to_string();

  std::map<std::string, std::pair<std::int32_t, std::int64_t>> acked;  // msgId -> (queue, offset)
  for (int i = 0; i < 12; ++i) {
    auto put = g.store(leader)->put_message_sync(message(i % 2, "m" + std::to_string(i)));
    ASSERT_TRUE(put.ok()) << put.error().to_string();
    EXPECT_EQ(put->queue_offset, i / 2);
    acked[put->msg_id] = {put->queue_id, put->queue_offset};
  }
  auto batch =
      g.store(leader)->put_batch_sync({message(0, "b0"), message(0, "b1"), message(0, "b2")});
  ASSERT_TRUE(batch.ok()) << batch.error().to_string();
  EXPECT_EQ(batch->queue_offset, 6);
  ASSERT_EQ(batch->msg_ids.size(), 3u);
  for (int i = 0; i < 3; ++i) acked[batch->msg_ids[i]] = {0, 6 + i};
  EXPECT_EQ(acked.size(), 15u);  // msgIds are unique

  ASSERT_TRUE(g.store(leader)->commit_offset_sync("cg", "orders", 0, 7).ok());
  ASSERT_TRUE(g.store(leader)->commit_offset_sync("cg", "orders", 1, 4).ok());
  EXPECT_EQ(g.store(leader)->query_offset("cg", "orders", 0), 7);

  std::string q0 = read_queue(*g.store(leader), 0);
  std::string q1 = read_queue(*g.store(leader), 1);
  auto records = remoting::decode_message_records(q0);
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  ASSERT_EQ(records->size(), 9u);
  for (const auto& r : *records) {
    auto it = acked.find(remoting::offset_msg_id(r));
    ASSERT_NE(it, acked.end());
    EXPECT_EQ(it->second.second, r.queue_offset);
  }

  // A damaged entry in the ledger is skipped by every replica alike.
  auto garbage = g.ledger_of(leader)->append_sync("not a store command");
  ASSERT_TRUE(garbage.ok()) << garbage.error().to_string();
  ASSERT_TRUE(g.store(leader)->commit_offset_sync("cg", "orders", 1, 4).ok());

  // Every replica applies the same entries into the same state.
  ASSERT_TRUE(g.wait_applied(g.store(leader)->applied_index()));
  for (int i = 0; i < g.size(); ++i) {
    EXPECT_EQ(g.store(i)->state_fingerprint(), g.store(leader)->state_fingerprint()) << i;
    EXPECT_EQ(g.store(i)->skipped_entries(), 1u) << i;
  }

  g.stop(leader);
  int next = g.wait_for_master();
  ASSERT_GE(next, 0);
  ASSERT_NE(next, leader);
  EXPECT_EQ(read_queue(*g.store(next), 0), q0);
  EXPECT_EQ(read_queue(*g.store(next), 1), q1);
  EXPECT_EQ(g.store(next)->query_offset("cg", "orders", 0), 7);
  EXPECT_EQ(g.store(next)->query_offset("cg", "orders", 1), 4);
  EXPECT_EQ(g.store(next)->max_offset("orders", 0), 9);

  // Offsets continue densely under the new leader.
  auto after = g.store(next)->put_message_sync(message(0, "after failover"));
  ASSERT_TRUE(after.ok()) << after.error().to_string();
  EXPECT_EQ(after->queue_offset, 9);
  EXPECT_EQ(acked.count(after->msg_id), 0u);

  // The old leader restarts, rebuilds its consume queues from its ledger and catches up.
  g.start(leader);
  ASSERT_TRUE(g.wait_applied(g.store(next)->applied_index()));
  for (int i = 0; i < g.size(); ++i) {
    EXPECT_EQ(g.store(i)->state_fingerprint(), g.store(next)->state_fingerprint()) << i;
  }
  EXPECT_EQ(read_queue(*g.store(leader), 1), q1);
}

TEST(MessageStore, ConcurrentPipelinedPutsGetDenseUniqueOffsetsAndReadBackExactlyOnce) {
  StoreGroup g(3);
  int leader = g.wait_for_master();
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(g.store(leader)->update_topic(TopicConfig{"orders", 2, 2, 6, 0}).ok());

  constexpr int kThreads = 4;
  constexpr int kPerThread = 40;
  std::mutex mu;
  std::condition_variable cv;
  int outstanding = kThreads * kPerThread;
  std::map<std::pair<std::int32_t, std::int64_t>, std::string> acked;  // (queue, offset) -> body
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string body = "t" + std::to_string(t) + "-" + std::to_string(i);
        g.store(leader)->put_message(message(i % 2, body), [&, body](Result<PutResult> r) {
          std::lock_guard<std::mutex> lock(mu);
          if (r.ok()) {
            bool inserted =
                acked.emplace(std::make_pair(r->queue_id, r->queue_offset), body).second;
            if (!inserted) failures.push_back("duplicate offset for " + body);
          } else {
            failures.push_back(r.error().to_string());
          }
          if (--outstanding == 0) cv.notify_all();
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return outstanding == 0; }));
  }
  EXPECT_TRUE(failures.empty()) << failures.front();
  ASSERT_EQ(acked.size(), static_cast<std::size_t>(kThreads * kPerThread));
  for (std::int32_t q = 0; q < 2; ++q) {
    std::int64_t expected = 0;
    for (const auto& [key, body] : acked) {
      if (key.first != q) continue;
      EXPECT_EQ(key.second, expected++) << "queue " << q << " offsets are not dense";
    }
    EXPECT_EQ(g.store(leader)->max_offset("orders", q), expected);
  }
  ASSERT_TRUE(g.wait_applied(g.store(leader)->applied_index()));
  for (int i = 0; i < g.size(); ++i) {
    for (std::int32_t q = 0; q < 2; ++q) {
      auto records = remoting::decode_message_records(read_queue(*g.store(i), q));
      ASSERT_TRUE(records.ok());
      for (const auto& r : *records) {
        auto it = acked.find({q, r.queue_offset});
        ASSERT_NE(it, acked.end());
        EXPECT_EQ(it->second, r.body) << "replica " << i;
      }
      EXPECT_EQ(records->size(), static_cast<std::size_t>(kThreads * kPerThread / 2));
    }
  }
}

TEST(MessageStore, FollowersRefuseWritesAndServeLongPollingReaders) {
  StoreGroup g(3);
  int leader = g.wait_for_master();
  ASSERT_GE(leader, 0);
  int follower = (leader + 1) % g.size();
  ASSERT_TRUE(g.store(leader)->update_topic(TopicConfig{"orders", 1, 1, 6, 0}).ok());

  auto refused = g.store(follower)->commit_offset_sync("cg", "orders", 0, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kNotLeader);

  ASSERT_TRUE(g.wait_applied(g.store(leader)->applied_index()));
  auto redirected = g.store(follower)->put_message_sync(message(0, "to the follower"));
  ASSERT_FALSE(redirected.ok());
  EXPECT_EQ(redirected.error().code, ErrorCode::kNotLeader);
  EXPECT_NE(redirected.error().message.find("leader is n" + std::to_string(leader)),
            std::string::npos)
      << redirected.error().message;
  EXPECT_EQ(g.store(follower)->leader_hint().leader_id, static_cast<raft::NodeId>(leader));
  EXPECT_FALSE(g.store(follower)->wait_for_message("orders", 0, 0, std::chrono::milliseconds(20)));
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto put = g.store(leader)->put_message_sync(message(0, "wake up"));
    EXPECT_TRUE(put.ok()) << put.error().to_string();
  });
  bool woke = g.store(follower)->wait_for_message("orders", 0, 0, std::chrono::seconds(20));
  writer.join();
  EXPECT_TRUE(woke);
  auto got = g.store(follower)->get_messages("orders", 0, 0, 10, 1 << 20);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, GetStatus::kFound);
  EXPECT_EQ(got->count, 1u);
  EXPECT_TRUE(g.store(follower)->caught_up() || g.store(follower)->applied_index() > 0);

  auto unknown = g.store(leader)->put_message_sync([] {
    StoredMessage m = message(0, "x");
    m.topic = "missing";
    return m;
  }());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  auto bad_queue = g.store(leader)->put_message_sync(message(3, "x"));
  ASSERT_FALSE(bad_queue.ok());
  EXPECT_EQ(bad_queue.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace dledger::store
