// Properties of EntryBatch: entries read back as added, payloads share one buffer, and a producer
// bug (a gap in the indexes, a payload outside the buffer) is refused loudly.
#include "broker/ledger/raft/entry_batch.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace dledger::raft {
namespace {

TEST(EntryBatch, EntriesReadBackAsAdded) {
  EntryBatch batch;
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.first_index(), 0u);
  EXPECT_EQ(batch.last_index(), 0u);
  batch.add(7, 2, EntryType::kNormal, "abc");
  batch.add(8, 2, EntryType::kNoOp, "");
  batch.add(9, 3, EntryType::kConfig, std::string(5000, 'x'));
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.first_index(), 7u);
  EXPECT_EQ(batch.last_index(), 9u);
  EXPECT_EQ(batch.payload_bytes(), 5003u);
  EXPECT_EQ(batch[0].index, 7u);
  EXPECT_EQ(batch[0].term, 2u);
  EXPECT_EQ(batch[0].type, EntryType::kNormal);
  EXPECT_EQ(batch[0].data, "abc");
  EXPECT_EQ(batch[1].type, EntryType::kNoOp);
  EXPECT_TRUE(batch[1].data.empty());
  EXPECT_EQ(batch[2].term, 3u);
  EXPECT_EQ(batch[2].data, std::string(5000, 'x'));
  EXPECT_THROW(batch[3], std::out_of_range);
  std::uint64_t expected = 7;
  for (EntryBatch::View e : batch) EXPECT_EQ(e.index, expected++);
  EXPECT_EQ(expected, 10u);
}

TEST(EntryBatch, PayloadsLiveInOneBuffer) {
  EntryBatch batch;
  batch.buffer() = "HDRabcHDRdefgh";
  batch.add_in_buffer(1, 1, EntryType::kNormal, 3, 3);
  batch.add_in_buffer(2, 1, EntryType::kNormal, 9, 5);
  EXPECT_EQ(batch[0].data, "abc");
  EXPECT_EQ(batch[1].data, "defgh");
  EXPECT_EQ(batch[0].data.data(), batch.buffer().data() + 3);
  EXPECT_EQ(batch.payload_bytes(), 8u);
  // Views survive a move of the batch (the buffer moves with it).
  EntryBatch moved = std::move(batch);
  EXPECT_EQ(moved[1].data, "defgh");
}

TEST(EntryBatch, GapsAndOutOfBufferPayloadsAreRefused) {
  EntryBatch batch;
  EXPECT_THROW(batch.add(0, 1, EntryType::kNormal, "a"), std::logic_error);
  batch.add(5, 1, EntryType::kNormal, "a");
  EXPECT_THROW(batch.add(7, 1, EntryType::kNormal, "b"), std::logic_error);
  EXPECT_THROW(batch.add(5, 1, EntryType::kNormal, "b"), std::logic_error);
  EXPECT_THROW(batch.add_in_buffer(6, 1, EntryType::kNormal, 0, 2), std::logic_error);
  EXPECT_THROW(batch.add_in_buffer(6, 1, EntryType::kNormal, 2, 0), std::logic_error);
  batch.add_in_buffer(6, 1, EntryType::kNormal, 1, 0);  // an empty payload at the end is fine
  EXPECT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.last_index(), 6u);
}

}  // namespace
}  // namespace dledger::raft
