// In-process groups of real LedgerServers on 127.0.0.1 (real sockets, files and threads).
#include "broker/ledger/server/ledger_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "broker/base/properties.h"

namespace dledger::ledger {
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

// Polls `condition` every 10 ms until it holds or a generous deadline passes.
template <typename Fn>
bool eventually(Fn condition, std::chrono::seconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

class Group {
 public:
  // `options`: extra broker.conf keys for every member.
  explicit Group(int size, std::map<std::string, std::string> options = {})
      : dir_(std::filesystem::temp_directory_path() /
             ("ledger-server-test-" + std::to_string(::getpid()) + "-" +
              std::to_string(counter_++))),
        extra_(std::move(options)) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    for (int i = 0; i < size; ++i) {
      peers_ += (i ? ";" : "") + std::string("n") + std::to_string(i) +
                "-127.0.0.1:" + std::to_string(free_port());
    }
    servers_.resize(size);
    for (int i = 0; i < size; ++i) start(i);
  }
  ~Group() {
    for (auto& s : servers_) {
      if (s) s->stop();
    }
    std::filesystem::remove_all(dir_);
  }

  // Adds member n<size> to the peers string (for a member joining the running group).
  int add_slot() {
    int i = size();
    peers_ += ";n" + std::to_string(i) + "-127.0.0.1:" + std::to_string(free_port());
    servers_.emplace_back();
    return i;
  }
  std::string address_of(int i) const {
    std::string key = "n" + std::to_string(i) + "-";
    auto pos = peers_.find(key);
    auto end = peers_.find(';', pos);
    return peers_.substr(pos + key.size(), end == std::string::npos ? end : end - pos - key.size());
  }

  // Extra broker.conf keys for every member started afterwards.
  void set_option(std::string key, std::string value) { extra_[std::move(key)] = std::move(value); }
  void set_hooks(int i, SnapshotHooks hooks) { hooks_[i] = std::move(hooks); }

  void start(int i, bool joining = false) {
    Properties props;
    for (const auto& [k, v] : extra_) props.set(k, v);
    if (joining) props.set("dLegerJoining", "true");
    props.set("dLegerGroup", "g");
    props.set("dLegerPeers", peers_);
    props.set("dLegerSelfId", "n" + std::to_string(i));
    props.set("storePathRootDir", dir_.string());
    props.set("segmentBytes", "65536");
    props.set("fileReservedTime", "0");
    auto options = LedgerOptions::from_properties(props);
    ASSERT_TRUE(options.ok()) << options.error().to_string();
    auto server = LedgerServer::start(std::move(options).value(), hooks_[i]);
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    servers_[i] = std::move(server).value();
  }
  void stop(int i) {
    servers_[i]->stop();
    servers_[i].reset();
  }
  LedgerServer* at(int i) { return servers_[i].get(); }
  std::filesystem::path data_dir(int i) const { return dir_ / ("dledger-n" + std::to_string(i)); }
  int size() const { return static_cast<int>(servers_.size()); }

  // Index of the single leader among running members, or -1.
  int leader() {
    int found = -1;
    for (int i = 0; i < size(); ++i) {
      if (!servers_[i]) continue;
      if (servers_[i]->status().role == raft::Role::kLeader) {
        if (found != -1) return -1;
        found = i;
      }
    }
    return found;
  }
  int wait_for_leader() {
    int l = -1;
    eventually([&] { return (l = leader()) != -1; });
    return l;
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::string peers_;
  std::vector<std::unique_ptr<LedgerServer>> servers_;
  std::map<std::string, std::string> extra_;
  std::map<int, SnapshotHooks> hooks_;
};

// Appends through whichever member leads, retrying redirections, until acknowledged.
Result<AppendResult> append_via_leader(Group& g, const std::string& data) {
  Result<AppendResult> last = make_error(ErrorCode::kUnavailable, "no leader");
  eventually([&] {
    int l = g.leader();
    if (l < 0) return false;
    last = g.at(l)->append_sync(data);
    return last.ok();
  });
  return last;
}

TEST(LedgerServer, ThreeReplicasElectExactlyOneLeaderAndReplicateAcknowledgedAppends) {
  Group g(3);
  int leader = g.wait_for_leader();
  ASSERT_GE(leader, 0);
  std::map<std::uint64_t, std::string> acked;
  for (int i = 0; i < 50; ++i) {
    std::string data = "entry-" + std::to_string(i);
    auto r = append_via_leader(g, data);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    acked[r->index] = data;
  }
  std::uint64_t last = acked.rbegin()->first;
  for (int i = 0; i < g.size(); ++i) {
    ASSERT_TRUE(eventually([&] { return g.at(i)->status().commit_index >= last; }))
        << "member " << i;
    for (const auto& [index, data] : acked) {
      auto e = g.at(i)->get(index);
      ASSERT_TRUE(e.ok()) << e.error().to_string();
      EXPECT_EQ(e->data, data) << "member " << i << " index " << index;
    }
  }
}

TEST(LedgerServer, OneAppendMessageInFlightPerFollowerStillCommitsEveryAcknowledgedAppend) {
  Group g(3, {{"maxInflightAppends", "1"}});
  int leader = g.wait_for_leader();
  ASSERT_GE(leader, 0);
  EXPECT_EQ(g.at(leader)->options().max_inflight_appends, 1u);
  // Many appends at once: the leader may keep only one AppendEntries unacknowledged per
  // follower, so the rest wait and travel in larger batches.
  constexpr int kAppends = 2000;
  std::mutex mu;
  std::map<std::uint64_t, std::string> acked;
  int failed = 0;
  std::atomic<int> done{0};
  for (int i = 0; i < kAppends; ++i) {
    std::string data = "entry-" + std::to_string(i);
    g.at(leader)->append(data, [&, data](Result<AppendResult> r) {
      std::lock_guard<std::mutex> lock(mu);
      if (r.ok()) {
        acked[r->index] = data;
      } else {
        ++failed;
      }
      done.fetch_add(1);
    });
  }
  ASSERT_TRUE(eventually([&] { return done.load() == kAppends; }));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(failed, 0);
  ASSERT_EQ(acked.size(), static_cast<std::size_t>(kAppends));
  const std::uint64_t last = acked.rbegin()->first;
  for (int i = 0; i < g.size(); ++i) {
    ASSERT_TRUE(eventually([&] { return g.at(i)->status().commit_index >= last; }))
        << "member " << i;
    auto entries = g.at(i)->read(acked.begin()->first, 64u << 20);
    ASSERT_TRUE(entries.ok()) << entries.error().to_string();
    std::size_t matched = 0;
    for (raft::EntryBatch::View e : *entries) {
      auto it = acked.find(e.index);
      if (it == acked.end()) continue;
      EXPECT_EQ(e.data, it->second) << "member " << i << " index " << e.index;
      ++matched;
    }
    EXPECT_EQ(matched, acked.size()) << "member " << i;
  }
}

TEST(LedgerServer, FollowerRejectsAppendNamingTheLeader) {
  Group g(3);
  int leader = g.wait_for_leader();
  ASSERT_GE(leader, 0);
  int follower = (leader + 1) % 3;
  ASSERT_TRUE(eventually([&] { return g.at(follower)->status().leader_id != raft::kNoNode; }));
  auto r = g.at(follower)->append_sync("x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotLeader);
  EXPECT_NE(r.error().message.find("n" + std::to_string(leader)), std::string::npos)
      << r.error().message;
}

TEST(LedgerServer, NewLeaderAfterLeaderStopsAndOldLeaderCatchesUpOnRestart) {
  Group g(3);
  std::map<std::uint64_t, std::string> acked;
  for (int i = 0; i < 20; ++i) {
    auto r = append_via_leader(g, "before-" + std::to_string(i));
    ASSERT_TRUE(r.ok());
    acked[r->index] = "before-" + std::to_string(i);
  }
  int old_leader = g.wait_for_leader();
  g.stop(old_leader);
  int new_leader = -1;
  ASSERT_TRUE(eventually([&] { return (new_leader = g.leader()) != -1; }));
  EXPECT_NE(new_leader, old_leader);
  for (int i = 0; i < 20; ++i) {
    auto r = append_via_leader(g, "after-" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    acked[r->index] = "after-" + std::to_string(i);
  }
  g.start(old_leader);
  std::uint64_t last = acked.rbegin()->first;
  ASSERT_TRUE(eventually([&] { return g.at(old_leader)->status().commit_index >= last; }));
  EXPECT_NE(g.at(old_leader)->status().role, raft::Role::kLeader);
  for (const auto& [index, data] : acked) {
    auto e = g.at(old_leader)->get(index);
    ASSERT_TRUE(e.ok()) << e.error().to_string();
    EXPECT_EQ(e->data, data);
  }
}

// Flips one byte in the middle of the payload region of every log file of `dir` (not the side
// index): the kind of damage a failing disk does to data a member has acknowledged.
void damage_log_files(const std::filesystem::path& dir) {
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    if (file.path().extension() != ".log") continue;
    std::fstream f(file.path(), std::ios::in | std::ios::out | std::ios::binary);
    auto size = static_cast<std::streamoff>(std::filesystem::file_size(file.path()));
    if (size < 1024) continue;
    f.seekg(size / 2);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(size / 2);
    f.write(&c, 1);
  }
}

TEST(LedgerServer, MemberThatReadsADamagedEntryStopsVotingAndRepairsOnRestart) {
  Group g(3);
  std::map<std::uint64_t, std::string> acked;
  for (int i = 0; i < 120; ++i) {
    std::string data =
        "entry-" + std::to_string(i) + std::string(900, static_cast<char>('a' + i % 26));
    auto r = append_via_leader(g, data);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    acked[r->index] = data;
  }
  int leader = g.wait_for_leader();
  int victim = (leader + 1) % 3;
  std::uint64_t last = acked.rbegin()->first;
  ASSERT_TRUE(eventually([&] { return g.at(victim)->status().commit_index >= last; }));
  damage_log_files(g.data_dir(victim));

  // Reading every acknowledged entry on the victim finds the damage; nothing damaged is served.
  bool found = false;
  for (const auto& [index, data] : acked) {
    auto e = g.at(victim)->get(index);
    if (e.ok()) {
      EXPECT_EQ(e->data, data) << "index " << index;
    } else if (e.error().code == ErrorCode::kCorruption) {
      found = true;
      break;
    }
  }
  ASSERT_TRUE(found) << "no read found the damaged byte";

  // The member stops taking part: not ready, no longer answering appends or reads.
  ASSERT_TRUE(eventually([&] { return !g.at(victim)->status().log_open; }));
  EXPECT_FALSE(g.at(victim)->status().leader_alive);
  // The other two still commit.
  auto more = append_via_leader(g, "after-damage");
  ASSERT_TRUE(more.ok()) << more.error().to_string();
  acked[more->index] = "after-damage";

  // Restarted, it quarantines the damaged suffix, re-fetches it from the leader and serves the
  // acknowledged bytes again.
  g.stop(victim);
  g.start(victim);
  ASSERT_TRUE(eventually([&] { return g.at(victim)->status().commit_index >= more->index; }));
  for (const auto& [index, data] : acked) {
    auto e = g.at(victim)->get(index);
    ASSERT_TRUE(e.ok()) << "index " << index << ": " << e.error().to_string();
    EXPECT_EQ(e->data, data) << "index " << index;
  }
  EXPECT_TRUE(std::filesystem::exists(g.data_dir(victim) / "quarantine"));
}

TEST(LedgerServer, ReadNeverExposesEntriesAboveTheCommitIndex) {
  Group g(3);
  ASSERT_TRUE(append_via_leader(g, "a").ok());
  int leader = g.wait_for_leader();
  auto status = g.at(leader)->status();
  auto beyond = g.at(leader)->get(status.commit_index + 1);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.error().code, ErrorCode::kOutOfRange);
  auto range = g.at(leader)->read(1, 1 << 20);
  ASSERT_TRUE(range.ok());
  ASSERT_FALSE(range->empty());
  EXPECT_LE(range->last_index(), status.commit_index);
}

TEST(LedgerServer, LeadershipTransferMovesLeadershipToTheNamedMember) {
  Group g(3);
  int leader = g.wait_for_leader();
  ASSERT_GE(leader, 0);
  ASSERT_TRUE(append_via_leader(g, "x").ok());
  int target = (leader + 1) % 3;
  Status s =
      g.at(leader)->transfer_leadership(static_cast<raft::NodeId>(target), std::chrono::seconds(5));
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  ASSERT_TRUE(eventually([&] { return g.leader() == target; }));
}

TEST(LedgerServer, LearnerAddedPromotedAndAnotherMemberRemovedWhileServing) {
  Group g(3);
  int leader = g.wait_for_leader();
  ASSERT_GE(leader, 0);
  auto first = append_via_leader(g, "one");
  ASSERT_TRUE(first.ok());
  int added = g.add_slot();
  g.start(added, /*joining=*/true);
  EXPECT_NE(g.at(added)->status().role, raft::Role::kLeader);
  Status learner = g.at(leader)->add_learner(static_cast<raft::NodeId>(added), g.address_of(added),
                                             std::chrono::seconds(5));
  ASSERT_TRUE(learner.ok()) << learner.error().to_string();
  ASSERT_TRUE(eventually([&] { return g.at(added)->status().commit_index >= first->index; }));
  EXPECT_EQ(g.at(added)->get(first->index)->data, "one");
  Status promoted =
      g.at(leader)->promote(static_cast<raft::NodeId>(added), std::chrono::seconds(5));
  ASSERT_TRUE(promoted.ok()) << promoted.error().to_string();
  EXPECT_EQ(g.at(leader)->status().members.size(), 4u);
  int remove = (leader + 1) % 3;
  Status removed =
      g.at(leader)->remove_member(static_cast<raft::NodeId>(remove), std::chrono::seconds(5));
  ASSERT_TRUE(removed.ok()) << removed.error().to_string();
  auto status = g.at(leader)->status();
  EXPECT_EQ(status.members.size(), 3u);
  g.stop(remove);
  auto r = append_via_leader(g, "two");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
}

TEST(LedgerServer, WaitForCommitWakesWhenANewEntryCommits) {
  Group g(3);
  ASSERT_TRUE(append_via_leader(g, "a").ok());
  int leader = g.wait_for_leader();
  std::uint64_t commit = g.at(leader)->status().commit_index;
  std::thread writer([&] { (void)append_via_leader(g, "b"); });
  std::uint64_t seen = g.at(leader)->wait_for_commit(commit, std::chrono::seconds(20));
  writer.join();
  EXPECT_GT(seen, commit);
}

TEST(LedgerServer, RetentionSnapshotsThenDeletesOldSegmentsAndALaggingMemberCatchesUpBySnapshot) {
  Group g(3);
  int leader = g.wait_for_leader();
  ASSERT_GE(leader, 0);
  int lagging = (leader + 1) % 3;
  g.stop(lagging);
  // Application state handed to the ledger's snapshots: the highest index "applied".
  struct Loaded {
    std::mutex mu;
    std::uint64_t index = 0;
    std::string data;
  };
  auto loaded = std::make_shared<Loaded>();
  SnapshotHooks hooks;
  hooks.save = [](std::uint64_t index) { return "state@" + std::to_string(index); };
  hooks.load = [loaded](std::uint64_t index, const std::string& data) {
    std::lock_guard<std::mutex> lock(loaded->mu);
    loaded->index = index;
    loaded->data = data;
  };
  for (int i = 0; i < 3; ++i) g.set_hooks(i, hooks);
  std::map<std::uint64_t, std::string> acked;
  std::string payload(2000, 'p');
  for (int i = 0; i < 200; ++i) {
    auto r = append_via_leader(g, payload + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    acked[r->index] = payload + std::to_string(i);
  }
  leader = g.wait_for_leader();
  // Keep roughly two segments: everything older goes once a snapshot covers it.
  g.set_option("retentionBytes", "131072");
  // Retention is configured per member at start: restart the leader's peer that stayed up too.
  int other = 3 - leader - lagging;
  g.stop(other);
  g.start(other);
  g.stop(leader);
  g.start(leader);
  int new_leader = g.wait_for_leader();
  ASSERT_GE(new_leader, 0);
  ASSERT_TRUE(append_via_leader(g, "after-restart").ok());
  auto deleted = g.at(new_leader)->run_retention();
  ASSERT_TRUE(deleted.ok()) << deleted.error().to_string();
  EXPECT_GT(*deleted, 0u);
  auto status = g.at(new_leader)->status();
  EXPECT_GT(status.first_index, 1u);
  auto gone = g.at(new_leader)->get(1);
  ASSERT_FALSE(gone.ok());
  // The member that missed everything is behind the first retained entry: it must be brought up
  // by InstallSnapshot (its hooks.load sees the leader's application bytes), then replication.
  g.start(lagging);
  std::uint64_t last = g.at(new_leader)->status().commit_index;
  ASSERT_TRUE(eventually([&] { return g.at(lagging)->status().commit_index >= last; }));
  {
    std::lock_guard<std::mutex> lock(loaded->mu);
    EXPECT_GE(loaded->index, status.first_index - 1);
    EXPECT_EQ(loaded->data, "state@" + std::to_string(loaded->index));
  }
  // Entries at or below the snapshot are compacted on the lagging member; later ones replicate.
  EXPECT_GE(g.at(lagging)->status().first_index, status.first_index);
  auto r = append_via_leader(g, "after-catch-up");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(eventually([&] { return g.at(lagging)->status().commit_index >= r->index; }));
  EXPECT_EQ(g.at(lagging)->get(r->index)->data, "after-catch-up");
}

}  // namespace
}  // namespace dledger::ledger
