#include "broker/ledger/raft/entry_bytes.h"

#include <gtest/gtest.h>

namespace dledger::raft::testing {
namespace {

TEST(EntryBytes, SumsThePayloadOfAnyRecordedRange) {
  EntryBytes b;
  for (std::uint64_t i = 5; i <= 9; ++i) b.record(i, i * 10);
  EXPECT_EQ(b.bytes(5, 10), 50u + 60u + 70u + 80u + 90u);
  EXPECT_EQ(b.bytes(7, 9), 70u + 80u);
  EXPECT_EQ(b.bytes(8, 8), 0u);
}

TEST(EntryBytes, RangesOutsideTheRecordAreUnknown) {
  EntryBytes b;
  EXPECT_FALSE(b.bytes(1, 2).has_value());
  b.record(5, 1);
  b.record(6, 1);
  EXPECT_FALSE(b.bytes(4, 6).has_value());
  EXPECT_FALSE(b.bytes(5, 8).has_value());
  b.clear();
  EXPECT_FALSE(b.bytes(5, 6).has_value());
}

TEST(EntryBytes, AGapInIndexesRestartsTheRecord) {
  EntryBytes b;
  b.record(5, 1);
  b.record(6, 2);
  b.record(3, 7);  // the log was cut and grew again elsewhere
  EXPECT_FALSE(b.bytes(5, 6).has_value());
  EXPECT_EQ(b.bytes(3, 4), 7u);
}

TEST(EntryBytes, KeepsOnlyTheMostRecentEntries) {
  EntryBytes b;
  const std::uint64_t n = EntryBytes::kMaxEntries + 10;
  for (std::uint64_t i = 1; i <= n; ++i) b.record(i, 1);
  EXPECT_FALSE(b.bytes(10, 12).has_value());
  EXPECT_EQ(b.bytes(11, n + 1), EntryBytes::kMaxEntries);
}

}  // namespace
}  // namespace dledger::raft::testing
