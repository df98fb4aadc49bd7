// Model-based check: random appends, conflicting overwrites, snapshot installs, local snapshots,
// retention and reopens applied to the log and to a trivial in-memory model; after every step the
// log must answer exactly like the model. A failing seed is printed and replays the run.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "tests/ledger/log/log_test_util.h"

namespace dledger::log {
namespace {

using namespace dledger::log::testing;

struct Model {
  raft::SnapshotMeta snapshot;
  std::map<std::uint64_t, raft::Entry> entries;  // (snapshot.index, last]
  std::uint64_t last() const { return entries.empty() ? snapshot.index : entries.rbegin()->first; }
  std::uint64_t term(std::uint64_t i) const {
    return i == snapshot.index ? snapshot.term : entries.at(i).term;
  }
};

void expect_matches(const SegmentedLog& log, const Model& model, std::mt19937_64& rng) {
  ASSERT_EQ(log.first_index(), model.snapshot.index + 1);
  ASSERT_EQ(log.last_index(), model.last());
  ASSERT_EQ(log.snapshot_meta().index, model.snapshot.index);
  ASSERT_EQ(log.term(model.snapshot.index).value(), model.snapshot.term);
  for (const auto& [i, e] : model.entries) ASSERT_EQ(log.term(i).value(), e.term) << "index " << i;
  if (model.entries.empty()) return;
  std::uint64_t lo = model.snapshot.index + 1 + rng() % model.entries.size();
  std::uint64_t hi = lo + 1 + rng() % (model.last() - lo + 1);
  auto got = log.read_range(lo, hi, UINT64_MAX);
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  ASSERT_EQ(got->size(), hi - lo);
  for (const raft::Entry& e : *got) ASSERT_EQ(e, model.entries.at(e.index));
}

TEST(SegmentedLogModel, MatchesInMemoryModelUnderRandomOperations) {
  for (std::uint64_t seed = 1; seed <= 2; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun with this seed to replay)");
    std::mt19937_64 rng(seed);
    TempDir tmp;
    Options options = small_options(tmp.log_dir(), nullptr, 2048);
    auto opened = open_ok(options);
    std::unique_ptr<SegmentedLog> log = std::move(opened.log);
    Model model;
    std::uint64_t term = 1;
    for (int step = 0; step < 90; ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      const int op = static_cast<int>(rng() % 100);
      if (op < 50) {  // append
        std::vector<raft::Entry> batch;
        std::uint64_t n = 1 + rng() % 12;
        for (std::uint64_t k = 0; k < n; ++k) {
          raft::Entry e =
              make_entry(model.last() + 1 + k, term, rng() % 300,
                         rng() % 10 == 0 ? raft::EntryType::kConfig : raft::EntryType::kNormal);
          batch.push_back(e);
        }
        ASSERT_TRUE(log->append(batch).ok());
        for (auto& e : batch) model.entries[e.index] = e;
      } else if (op < 65 && !model.entries.empty()) {  // a new leader overwrites a suffix
        std::uint64_t from = model.snapshot.index + 1 + rng() % model.entries.size();
        term += 1;
        std::vector<raft::Entry> batch;
        std::uint64_t n = rng() % 5;
        for (std::uint64_t k = 0; k < n; ++k)
          batch.push_back(make_entry(from + k, term, rng() % 200));
        if (batch.empty()) {
          ASSERT_TRUE(log->truncate_suffix(from).ok());
        } else {
          ASSERT_TRUE(log->truncate_and_append(batch).ok());
        }
        model.entries.erase(model.entries.lower_bound(from), model.entries.end());
        for (auto& e : batch) model.entries[e.index] = e;
      } else if (op < 70) {  // snapshot from a leader replaces the log
        term += 1;
        raft::Snapshot snap;
        snap.meta.index = model.last() + rng() % 20;
        if (snap.meta.index <= model.snapshot.index) snap.meta.index = model.snapshot.index + 1;
        snap.meta.term = term;
        snap.data = "snap-" + std::to_string(step);
        ASSERT_TRUE(log->install_snapshot(snap).ok());
        model.snapshot = snap.meta;
        model.entries.clear();
      } else if (op < 78 && !model.entries.empty()) {  // local snapshot keeps the suffix
        raft::Snapshot snap;
        snap.meta.index = model.snapshot.index + 1 + rng() % model.entries.size();
        snap.meta.term = model.term(snap.meta.index);
        snap.data = "local-" + std::to_string(step);
        ASSERT_TRUE(log->save_snapshot(snap).ok());
        model.snapshot = snap.meta;
        model.entries.erase(model.entries.begin(), model.entries.upper_bound(snap.meta.index));
      } else if (op < 85) {  // retention
        ASSERT_TRUE(log->apply_retention(RetentionPolicy{0, 1}, model.last()).ok());
      } else if (op < 95) {  // clean restart
        ASSERT_TRUE(log->sync().ok());
        log.reset();
        auto again = open_ok(options);
        ASSERT_NE(again.log, nullptr);
        EXPECT_TRUE(again.report.corruptions.empty());
        EXPECT_FALSE(again.report.torn_tail.has_value());
        // Everything was synced, so the open segment's side index covers all of it.
        EXPECT_EQ(again.report.open_segment_bytes_scanned, 0u);
        EXPECT_TRUE(again.report.open_index_rejected.empty()) << again.report.open_index_rejected;
        log = std::move(again.log);
        std::vector<RawConfigEntry> configs;
        for (const auto& [i, e] : model.entries) {
          if (e.type == raft::EntryType::kConfig) configs.push_back(RawConfigEntry{i, e.data});
        }
        EXPECT_EQ(log->config_entries(), configs);
      } else {
        ASSERT_TRUE(
            log->set_hard_state(raft::HardState{term, static_cast<raft::NodeId>(step)}).ok());
      }
      expect_matches(*log, model, rng);
    }
  }
}

}  // namespace
}  // namespace dledger::log
