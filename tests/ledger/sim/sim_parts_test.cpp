// Unit tests of the simulator's own parts: the PRNG, the simulated disk (written vs synced,
// crash, torn writes, corruption recovery), the network (loss, duplication, partitions) and the
// safety checkers (each one must fire on a fabricated violation).
#include <gtest/gtest.h>

#include "tests/ledger/sim/sim_checker.h"
#include "tests/ledger/sim/sim_disk.h"
#include "tests/ledger/sim/sim_hash.h"
#include "tests/ledger/sim/sim_network.h"
#include "tests/ledger/sim/sim_random.h"

namespace dledger::sim {
namespace {

raft::Entry entry(std::uint64_t index, std::uint64_t term, std::string data = "") {
  if (data.empty()) data = "p" + std::to_string(index) + "t" + std::to_string(term);
  return raft::Entry{index, term, raft::EntryType::kNormal, data};
}

WriteBatch batch(std::vector<raft::Entry> entries, std::optional<raft::HardState> hs = {}) {
  WriteBatch b;
  b.entries = std::move(entries);
  b.hard_state = hs;
  return b;
}

TEST(SimRandom, SameSeedGivesSameSequence) {
  SimRandom a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    std::uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs = differs || x != c.next();
  }
  EXPECT_TRUE(differs);
}

TEST(SimRandom, BoundedDrawsStayInRange) {
  SimRandom r(7);
  for (int i = 0; i < 10000; ++i) {
    EXPECT_LT(r.below(3), 3u);
    std::uint64_t v = r.between(5, 9);
    EXPECT_GE(v, 5u);
    EXPECT_LE(v, 9u);
    double u = r.unit();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

TEST(SimDisk, ReadsSeeWrittenEntriesBeforeSync) {
  SimDisk disk;
  ASSERT_TRUE(disk.write(batch({entry(1, 1), entry(2, 1)}, raft::HardState{1, 1})).ok());
  EXPECT_EQ(disk.last_index(), 2u);
  EXPECT_EQ(disk.durable().last_index(), 0u);
  EXPECT_EQ(disk.unsynced_batches(), 1u);
  auto got = disk.entries(1, 3, 1 << 20);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[1].data, "p2t1");
  EXPECT_EQ(*disk.term(2), 1u);
  EXPECT_EQ(disk.term(3).error().code, ErrorCode::kOutOfRange);
}

TEST(SimDisk, CrashLosesUnsyncedBatchesOnly) {
  SimDisk disk;
  ASSERT_TRUE(disk.write(batch({entry(1, 1)}, raft::HardState{1, 2})).ok());
  ASSERT_TRUE(disk.sync_one().ok());
  ASSERT_TRUE(disk.write(batch({entry(2, 1), entry(3, 1)}, raft::HardState{2, 3})).ok());
  disk.crash(std::nullopt);
  RecoveryReport report = disk.recover();
  EXPECT_FALSE(report.dropped_torn_tail);
  EXPECT_EQ(disk.last_index(), 1u);
  EXPECT_EQ(disk.durable().hard_state, (raft::HardState{1, 2}));
}

TEST(SimDisk, TornWriteKeepsCompleteEntriesAndDropsPartialRecord) {
  SimDisk disk;
  ASSERT_TRUE(disk.write(batch({entry(1, 1)}, raft::HardState{1, 1})).ok());
  ASSERT_TRUE(disk.sync_one().ok());
  ASSERT_TRUE(
      disk.write(batch({entry(2, 3), entry(3, 3), entry(4, 3)}, raft::HardState{3, 2})).ok());
  disk.crash(std::size_t{1});
  EXPECT_TRUE(disk.durable().torn_tail);
  RecoveryReport report = disk.recover();
  EXPECT_TRUE(report.dropped_torn_tail);
  EXPECT_FALSE(disk.durable().torn_tail);
  EXPECT_EQ(disk.last_index(), 2u);
  // The torn batch's hard state never reached the disk; recovery lifts the term to the last
  // entry's term without inventing a vote.
  EXPECT_TRUE(report.raised_term);
  EXPECT_EQ(disk.durable().hard_state, (raft::HardState{3, raft::kNoNode}));
}

TEST(SimDisk, OverwriteTruncatesConflictingSuffix) {
  SimDisk disk;
  ASSERT_TRUE(disk.write(batch({entry(1, 1), entry(2, 1), entry(3, 1)})).ok());
  ASSERT_TRUE(disk.write(batch({entry(2, 2)})).ok());
  ASSERT_TRUE(disk.sync_one().ok());
  ASSERT_TRUE(disk.sync_one().ok());
  EXPECT_EQ(disk.durable().last_index(), 2u);
  EXPECT_EQ(*disk.durable().term_at(2), 2u);
  EXPECT_FALSE(disk.write(batch({entry(5, 2)})).ok()) << "a gap must be refused";
}

TEST(SimDisk, CorruptionCutsLogBeforeDamagedEntryAndSetsRepairMarker) {
  SimDisk disk;
  std::vector<raft::Entry> entries;
  for (std::uint64_t i = 1; i <= 6; ++i) entries.push_back(entry(i, 1));
  WriteBatch b = batch(entries, raft::HardState{1, 1});
  b.commit = 6;
  ASSERT_TRUE(disk.write(b).ok());
  ASSERT_TRUE(disk.sync_one().ok());
  disk.crash(std::nullopt);
  disk.corrupt(4);
  RecoveryReport report = disk.recover();
  EXPECT_EQ(report.corrupt_index, 4u);
  EXPECT_EQ(report.old_last_index, 6u);
  EXPECT_EQ(disk.last_index(), 3u);
  EXPECT_EQ(disk.durable().repair_until, 6u);
  EXPECT_EQ(disk.durable().commit, 3u);
  EXPECT_EQ(disk.entries(1, 4, 1 << 20)->back().data, "p3t1");
  // The marker survives another crash until cleared.
  disk.crash(std::nullopt);
  disk.recover();
  EXPECT_EQ(disk.durable().repair_until, 6u);
  disk.clear_repair_marker();
  EXPECT_EQ(disk.durable().repair_until, 0u);
}

TEST(SimDisk, CompactionKeepsChainHashAcrossSnapshot) {
  SimDisk disk;
  ASSERT_TRUE(disk.write(batch({entry(1, 1), entry(2, 1), entry(3, 2)})).ok());
  ASSERT_TRUE(disk.sync_one().ok());
  const std::uint64_t chain2 = *disk.durable().chain_at(2);
  const std::uint64_t chain3 = *disk.durable().chain_at(3);
  ASSERT_TRUE(disk.compact(2, raft::Membership{}).ok());
  EXPECT_EQ(disk.first_index(), 3u);
  EXPECT_EQ(*disk.term(2), 1u);
  EXPECT_EQ(disk.term(1).error().code, ErrorCode::kOutOfRange);
  auto snap = disk.snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(decode_snapshot_data(snap->data), chain2);
  EXPECT_EQ(disk.durable().chain_at(3), chain3);

  // Installing that snapshot on an empty disk continues the same chain.
  SimDisk other;
  WriteBatch install;
  install.snapshot = *snap;
  install.entries = {entry(3, 2)};
  ASSERT_TRUE(other.write(install).ok());
  EXPECT_EQ(other.written().chain_at(3), chain3);
}

TEST(SimDisk, EntriesHonourByteLimitButReturnAtLeastOne) {
  SimDisk disk;
  ASSERT_TRUE(
      disk.write(batch({entry(1, 1, std::string(10, 'a')), entry(2, 1, std::string(10, 'b'))}))
          .ok());
  EXPECT_EQ(disk.entries(1, 3, 5)->size(), 1u);
  EXPECT_EQ(disk.entries(1, 3, 15)->size(), 1u);
  EXPECT_EQ(disk.entries(1, 3, 20)->size(), 2u);
  EXPECT_FALSE(disk.entries(0, 2, 100).ok());
}

raft::Message msg(raft::NodeId from, raft::NodeId to) {
  raft::Message m;
  m.from = from;
  m.to = to;
  return m;
}

TEST(SimNetwork, PartitionDropsBothWaysUntilHealed) {
  SimNetwork net;
  SimRandom r(1);
  net.partition({1}, {2, 3});
  EXPECT_TRUE(net.route(msg(1, 2), r).empty());
  EXPECT_TRUE(net.route(msg(3, 1), r).empty());
  EXPECT_EQ(net.route(msg(2, 3), r).size(), 1u);
  net.heal();
  EXPECT_EQ(net.route(msg(1, 2), r).size(), 1u);
  EXPECT_EQ(net.stats().dropped_by_partition, 2u);
}

TEST(SimNetwork, OneWayCutBlocksOnlyThatDirection) {
  SimNetwork net;
  SimRandom r(1);
  net.cut_one_way(1, 2);
  EXPECT_FALSE(net.link_up(1, 2));
  EXPECT_TRUE(net.link_up(2, 1));
}

TEST(SimNetwork, RingKeepsOnlyNeighbourLinks) {
  SimNetwork net;
  net.ring({1, 2, 3, 4, 5});
  EXPECT_TRUE(net.link_up(1, 2));
  EXPECT_TRUE(net.link_up(1, 5));
  EXPECT_TRUE(net.link_up(5, 1));
  EXPECT_FALSE(net.link_up(1, 3));
  EXPECT_FALSE(net.link_up(4, 2));
}

TEST(SimNetwork, LossDuplicationAndDelaysFollowConfiguredRates) {
  SimNetwork net;
  SimRandom r(99);
  NetworkFaults f;
  f.loss_probability = 0.2;
  f.duplicate_probability = 0.1;
  f.min_delay_us = 100;
  f.max_delay_us = 200;
  net.set_faults(f);
  std::size_t copies = 0;
  for (int i = 0; i < 10000; ++i) {
    for (const auto& c : net.route(msg(1, 2), r)) {
      ++copies;
      EXPECT_GE(c.delay_us, 100u);
      EXPECT_LE(c.delay_us, 200u);
    }
  }
  EXPECT_GT(net.stats().lost, 1500u);
  EXPECT_LT(net.stats().lost, 2500u);
  EXPECT_GT(net.stats().duplicated, 500u);
  EXPECT_EQ(copies, 10000 - net.stats().lost + net.stats().duplicated);
}

TEST(SafetyChecker, DetectsTwoLeadersInOneTerm) {
  SafetyChecker c;
  c.on_leader(3, 1);
  c.on_leader(3, 1);
  EXPECT_FALSE(c.failed());
  c.on_leader(3, 2);
  ASSERT_TRUE(c.failed());
  EXPECT_NE(c.violation().find("two leaders in term 3"), std::string::npos);
}

TEST(SafetyChecker, DetectsDivergentLogsWithSameIndexAndTerm) {
  SafetyChecker c;
  c.on_durable_entry(1, 5, 2, 111);
  c.on_durable_entry(2, 5, 2, 111);
  EXPECT_FALSE(c.failed());
  c.on_durable_entry(3, 5, 2, 222);
  EXPECT_TRUE(c.failed());
}

TEST(SafetyChecker, DetectsChangedCommittedEntry) {
  SafetyChecker c;
  c.on_committed(1, 1, 1, 10, 100, true, 1);
  c.on_committed(2, 1, 1, 10, 100, true, 1);
  EXPECT_FALSE(c.failed());
  c.on_committed(3, 1, 2, 11, 101, true, 2);
  ASSERT_TRUE(c.failed());
  EXPECT_NE(c.violation().find("state machine safety"), std::string::npos);
}

TEST(SafetyChecker, DetectsPayloadCommittedTwice) {
  SafetyChecker c;
  c.on_committed(1, 1, 1, 10, 100, true, 1);
  c.on_committed(1, 2, 1, 11, 100, true, 1);
  EXPECT_TRUE(c.failed());
}

TEST(SafetyChecker, DetectsLeaderMissingCommittedEntry) {
  SafetyChecker c;
  DiskImage committed_log;
  committed_log.append(entry(1, 1));
  committed_log.append(entry(2, 1));
  c.on_committed(1, 1, 1, *committed_log.chain_at(1), fnv1a64("p1t1"), true, 1);
  c.on_committed(1, 2, 1, *committed_log.chain_at(2), fnv1a64("p2t1"), true, 1);

  c.check_leader_log(1, 2, committed_log);
  EXPECT_FALSE(c.failed());

  DiskImage stale;
  stale.append(entry(1, 1));
  c.check_leader_log(2, 1, stale);  // a leader of the same term need not have it
  EXPECT_FALSE(c.failed());
  c.check_leader_log(2, 3, stale);
  ASSERT_TRUE(c.failed());
  EXPECT_NE(c.violation().find("leader completeness"), std::string::npos);
}

TEST(SafetyChecker, DetectsLeaderWithDifferentEntryAtCommittedIndex) {
  SafetyChecker c;
  DiskImage good;
  good.append(entry(1, 1));
  c.on_committed(1, 1, 1, *good.chain_at(1), fnv1a64("p1t1"), true, 1);
  DiskImage bad;
  bad.append(entry(1, 2));
  c.check_leader_log(3, 3, bad);
  EXPECT_TRUE(c.failed());
}

TEST(SafetyChecker, DetectsLostAcknowledgedAppend) {
  SafetyChecker c;
  DiskImage log;
  log.append(entry(1, 1, "client-1"));
  log.append(entry(2, 1, "client-2"));
  for (std::uint64_t i = 1; i <= 2; ++i) {
    c.on_committed(1, i, 1, *log.chain_at(i), fnv1a64(log.entry_at(i)->data), true, 1);
    c.on_acknowledged(Acknowledgement{i, 1, fnv1a64(log.entry_at(i)->data), log.entry_at(i)->data});
  }
  c.check_acknowledged_in(1, log, 2);
  EXPECT_FALSE(c.failed());
  DiskImage shorter;
  shorter.append(entry(1, 1, "client-1"));
  c.check_acknowledged_in(2, shorter, 2);
  ASSERT_TRUE(c.failed());
  EXPECT_NE(c.violation().find("client-2"), std::string::npos);
}

TEST(SafetyChecker, DetectsAcknowledgementOfUncommittedIndex) {
  SafetyChecker c;
  c.on_acknowledged(Acknowledgement{7, 1, 5, "client-7"});
  EXPECT_TRUE(c.failed());
}

}  // namespace
}  // namespace dledger::sim
