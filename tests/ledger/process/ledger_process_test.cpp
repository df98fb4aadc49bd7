// Process-level tests: real dledger-ledger processes on 127.0.0.1 (free ports, a temporary
// directory), killed with SIGKILL or stopped with SIGTERM by PID. Every wait is bounded polling;
// nothing asserts a duration. The invariant checked after each scenario: every acknowledged
// append reads back with the same bytes at the same index from every live replica.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "broker/admin/admin_client.h"
#include "broker/ledger/client/ledger_client.h"
#include "broker/programs/dledger-bench/process_group.h"

namespace dledger {
namespace {

using bench::ProcessGroup;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Fast elections keep the binary quick; every replica fsyncs before acknowledging (sync mode).
constexpr const char* kFastTimers =
    "electionTimeoutMinMs = 300\nelectionTimeoutMaxMs = 600\nheartbeatIntervalMs = 50\n"
    "segmentBytes = 65536\n";

std::unique_ptr<client::LedgerClient> make_client(const std::string& peers,
                                                  std::chrono::milliseconds timeout = 20s) {
  client::LedgerClientOptions options;
  options.peers = peers;
  options.request_timeout = timeout;
  auto c = client::LedgerClient::create(options);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return std::move(c).value();
}

// Appends sequentially on its own thread and records every acknowledged (index -> bytes).
class Writer {
 public:
  explicit Writer(const std::string& peers) : client_(make_client(peers)) {
    thread_ = std::thread([this] {
      for (std::uint64_t seq = 0; !stop_; ++seq) {
        std::string data = "entry-" + std::to_string(seq) + "-" + std::string(seq % 200, 'x');
        auto r = client_->append_sync(data);
        if (!r.ok()) {
          failures_.fetch_add(1);
          continue;
        }
        std::lock_guard<std::mutex> lock(mu_);
        acked_[r->index] = data;
      }
    });
  }
  ~Writer() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::size_t acked_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_.size();
  }
  // Waits (bounded) until `more` further appends were acknowledged.
  bool wait_for_more(std::size_t more) {
    const std::size_t target = acked_count() + more;
    for (int i = 0; i < 1200; ++i) {
      if (acked_count() >= target) return true;
      std::this_thread::sleep_for(25ms);
    }
    return false;
  }
  std::map<std::uint64_t, std::string> acked() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }
  // Appends that completed with an error (NotLeader redirections the client resolved itself do
  // not count: only what the caller saw).
  int failures() const { return failures_.load(); }

 private:
  std::unique_ptr<client::LedgerClient> client_;
  std::atomic<bool> stop_{false};
  std::atomic<int> failures_{0};
  std::mutex mu_;
  std::map<std::uint64_t, std::string> acked_;
  std::thread thread_;
};

class LedgerProcessTest : public ::testing::Test {
 protected:
  void start_group(int n) {
    group_ = std::make_unique<ProcessGroup>(DLEDGER_LEDGER_BINARY, kFastTimers);
    for (int i = 0; i < n; ++i) {
      group_->add_member(i);
      members_.push_back(i);
    }
    for (int i : members_) ASSERT_TRUE(group_->start(i, group_->peers(members_)).ok());
  }

  int leader_of(const std::vector<int>& ids) {
    auto leader = group_->wait_for_leader(ids);
    EXPECT_TRUE(leader.ok()) << leader.error().message;
    return leader.ok() ? *leader : -1;
  }

  std::vector<int> without(std::vector<int> ids, std::initializer_list<int> gone) {
    for (int g : gone) ids.erase(std::remove(ids.begin(), ids.end(), g), ids.end());
    return ids;
  }

  // Every acknowledged entry reads back identically from each replica in `ids`, once each has
  // committed the highest acknowledged index.
  void expect_acked_everywhere(const std::map<std::uint64_t, std::string>& acked,
                               const std::vector<int>& ids) {
    ASSERT_FALSE(acked.empty());
    const std::uint64_t highest = acked.rbegin()->first;
    for (int id : ids) {
      ASSERT_TRUE(group_->wait_for_commit(id, highest))
          << "n" << id << " never reached commit " << highest;
      auto reader = make_client(group_->client_peers({id}), 10s);
      std::size_t mismatches = 0;
      for (const auto& [index, data] : acked) {
        auto e = reader->get_sync(index);
        if (!e.ok() || e->data != data) {
          if (++mismatches <= 3) {
            ADD_FAILURE() << "n" << id << " index " << index << ": "
                          << (e.ok() ? "bytes differ" : e.error().to_string());
          }
        }
      }
      EXPECT_EQ(mismatches, 0u) << "n" << id;
    }
  }

  static std::set<std::string> voters_in(const admin::ReplicaStatus& s) {
    std::set<std::string> ids;
    for (const auto& m : s.members) {
      if (m.voter) ids.insert(m.id);
    }
    return ids;
  }
  static std::set<std::string> learners_in(const admin::ReplicaStatus& s) {
    std::set<std::string> ids;
    for (const auto& m : s.members) {
      if (!m.voter) ids.insert(m.id);
    }
    return ids;
  }

  std::unique_ptr<ProcessGroup> group_;
  std::vector<int> members_;
};

TEST_F(LedgerProcessTest, ThreeReplicasElectExactlyOneLeaderAndStopCleanlyOnSigterm) {
  start_group(3);
  int leader = leader_of(members_);
  ASSERT_GE(leader, 0);
  int leaders = 0;
  for (int id : members_) {
    auto s = group_->status(id);
    ASSERT_TRUE(s.ok());
    leaders += s->role == admin::kRoleLeader;
    EXPECT_EQ(s->leader_id, "n" + std::to_string(leader));
  }
  EXPECT_EQ(leaders, 1);
  auto client = make_client(group_->client_peers(members_));
  auto r = client->append_sync("hello");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  expect_acked_everywhere({{r->index, "hello"}}, members_);
  for (int id : members_) EXPECT_EQ(group_->terminate(id), 0) << "n" << id;
}

TEST_F(LedgerProcessTest, KilledLeaderIsReplacedAndRejoinsAsCaughtUpFollower) {
  start_group(3);
  int old_leader = leader_of(members_);
  ASSERT_GE(old_leader, 0);
  Writer writer(group_->client_peers(members_));
  ASSERT_TRUE(writer.wait_for_more(50));

  group_->kill9(old_leader);
  auto survivors = without(members_, {old_leader});
  int new_leader = leader_of(survivors);
  ASSERT_GE(new_leader, 0);
  EXPECT_NE(new_leader, old_leader);
  ASSERT_TRUE(writer.wait_for_more(50)) << "no appends acknowledged by the new leader";

  ASSERT_TRUE(group_->start(old_leader, group_->peers(members_)).ok());
  ASSERT_GE(leader_of(members_), 0);
  auto rejoined = group_->status(old_leader);
  ASSERT_TRUE(rejoined.ok());
  EXPECT_EQ(rejoined->role, admin::kRoleFollower);
  ASSERT_TRUE(writer.wait_for_more(20));
  writer.stop();
  expect_acked_everywhere(writer.acked(), members_);
}

TEST_F(LedgerProcessTest, FiveReplicasSurviveTwoKills) {
  start_group(5);
  int leader = leader_of(members_);
  ASSERT_GE(leader, 0);
  Writer writer(group_->client_peers(members_));
  ASSERT_TRUE(writer.wait_for_more(30));
  int follower = leader == 0 ? 1 : 0;
  group_->kill9(leader);
  group_->kill9(follower);
  auto survivors = without(members_, {leader, follower});
  ASSERT_GE(leader_of(survivors), 0);
  ASSERT_TRUE(writer.wait_for_more(30));
  writer.stop();
  expect_acked_everywhere(writer.acked(), survivors);
}

TEST_F(LedgerProcessTest, LearnerIsAddedPromotedAndAnotherMemberRemovedWhileServing) {
  start_group(3);
  int leader = leader_of(members_);
  ASSERT_GE(leader, 0);
  Writer writer(group_->client_peers({0, 1, 2}));
  ASSERT_TRUE(writer.wait_for_more(30));
  admin::AdminClient admin;
  const std::string leader_admin = group_->admin_address(leader);

  // 1. n3 joins as a learner: it replicates but does not vote (dLegerJoining: it never
  //    campaigns before the leader has added it).
  group_->add_member(3);
  ASSERT_TRUE(group_->start(3, group_->peers({0, 1, 2, 3}), "dLegerJoining = true\n").ok());
  auto added = admin.add_learner(leader_admin, "n3", group_->peer_address(3));
  ASSERT_TRUE(added.ok()) << added.error().to_string();
  ASSERT_TRUE(writer.wait_for_more(30)) << "appends stalled after adding the learner";
  auto with_learner = group_->status(leader);
  ASSERT_TRUE(with_learner.ok());
  EXPECT_EQ(voters_in(*with_learner), (std::set<std::string>{"n0", "n1", "n2"}));
  EXPECT_EQ(learners_in(*with_learner), (std::set<std::string>{"n3"}));

  // 2. Promotion is refused while the learner lags; retry (bounded) until it has caught up.
  Result<admin::ChangeResult> promoted = make_error(ErrorCode::kBusy, "not tried");
  for (int i = 0; i < 200 && !promoted.ok(); ++i) {
    promoted = admin.promote(leader_admin, "n3");
    if (!promoted.ok()) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(promoted.ok()) << promoted.error().to_string();
  ASSERT_TRUE(writer.wait_for_more(30)) << "appends stalled after the promotion";

  // 3. A follower other than the leader leaves the group.
  int removed = leader == 1 ? 2 : 1;
  auto removal = admin.remove_member(leader_admin, "n" + std::to_string(removed));
  ASSERT_TRUE(removal.ok()) << removal.error().to_string();
  ASSERT_TRUE(writer.wait_for_more(30)) << "appends stalled after the removal";
  writer.stop();
  EXPECT_EQ(writer.failures(), 0) << "appends failed during the membership changes";

  // The final membership is what was asked, as every remaining member's /status reports it
  // (followers learn it from the replicated configuration entry: bounded wait).
  const auto remaining = without({0, 1, 2, 3}, {removed});
  std::set<std::string> expected = {"n0", "n1", "n2", "n3"};
  expected.erase("n" + std::to_string(removed));
  for (int id : remaining) {
    Result<admin::ReplicaStatus> s = make_error(ErrorCode::kBusy, "not asked");
    for (int i = 0; i < 200; ++i) {
      s = group_->status(id);
      if (s.ok() && voters_in(*s) == expected && learners_in(*s).empty()) break;
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(s.ok()) << "n" << id << ": " << s.error().to_string();
    EXPECT_EQ(voters_in(*s), expected) << "n" << id;
    EXPECT_TRUE(learners_in(*s).empty()) << "n" << id;
    EXPECT_EQ(s->leader_id, "n" + std::to_string(leader)) << "n" << id;
  }
  expect_acked_everywhere(writer.acked(), remaining);
  EXPECT_EQ(group_->terminate(removed), 0) << "removed member n" << removed;
}

TEST_F(LedgerProcessTest, LeadershipTransfersToTheNamedMember) {
  start_group(3);
  int leader = leader_of(members_);
  ASSERT_GE(leader, 0);
  auto client = make_client(group_->client_peers(members_));
  ASSERT_TRUE(client->append_sync("before transfer").ok());
  int target = (leader + 1) % 3;
  admin::AdminClient admin;
  auto moved =
      admin.transfer_leadership(group_->admin_address(leader), "n" + std::to_string(target));
  ASSERT_TRUE(moved.ok()) << moved.error().to_string();
  EXPECT_EQ(moved->leader_id, "n" + std::to_string(target));
  EXPECT_EQ(leader_of(members_), target);
  auto r = client->append_sync("after transfer");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  expect_acked_everywhere({{r->index, "after transfer"}}, members_);
}

TEST_F(LedgerProcessTest, ReplicaWithTornTailRecoversAndRejoins) {
  start_group(3);
  int victim = leader_of(members_);
  ASSERT_GE(victim, 0);
  Writer writer(group_->client_peers(members_));
  ASSERT_TRUE(writer.wait_for_more(100));
  group_->kill9(victim);  // during appends

  // Cut a few bytes off the end of its newest segment: a torn last entry.
  fs::path newest;
  for (const auto& f : fs::directory_iterator(group_->data_dir(victim))) {
    const std::string name = f.path().filename().string();
    if (name.rfind("open-", 0) == 0 && f.path().extension() == ".log") newest = f.path();
  }
  ASSERT_FALSE(newest.empty()) << "no open segment in " << group_->data_dir(victim);
  const auto size = fs::file_size(newest);
  ASSERT_GT(size, 5u);
  fs::resize_file(newest, size - 5);

  ASSERT_GE(leader_of(without(members_, {victim})), 0);
  ASSERT_TRUE(writer.wait_for_more(30));
  ASSERT_TRUE(group_->start(victim, group_->peers(members_)).ok());
  ASSERT_GE(leader_of(members_), 0);
  ASSERT_TRUE(writer.wait_for_more(20));
  writer.stop();
  expect_acked_everywhere(writer.acked(), members_);
}

TEST(LedgerProgram, InvalidConfigValueExitsWithStatusTwoNamingTheKey) {
  fs::path dir = fs::temp_directory_path() / ("dledger-conf-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string conf = (dir / "bad.conf").string();
  {
    std::ofstream out(conf);
    out << "dLegerGroup = g\ndLegerPeers = n0-127.0.0.1:1\ndLegerSelfId = n0\n"
        << "storePathRootDir = " << dir.string() << "\nflushMode = sometimes\n";
  }
  auto [code, output] = ProcessGroup::run_to_exit(DLEDGER_LEDGER_BINARY, {"-c", conf});
  EXPECT_EQ(code, 2);
  EXPECT_NE(output.find("flushMode"), std::string::npos) << output;
  EXPECT_NE(output.find("sometimes"), std::string::npos) << output;

  auto [code2, output2] = ProcessGroup::run_to_exit(
      DLEDGER_LEDGER_BINARY, {"-c", conf, "-p", "flushMode=sync", "-p", "clientPort=70000"});
  EXPECT_EQ(code2, 2);
  EXPECT_NE(output2.find("clientPort"), std::string::npos) << output2;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dledger
