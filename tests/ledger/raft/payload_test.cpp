// Payload: entry bytes are shared, never copied, between the copies of an entry the core makes.
#include "broker/ledger/raft/payload.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/ledger/raft/raft_test_harness.h"

namespace dledger::raft::testing {
namespace {

TEST(Payload, CopiesShareTheSameBytes) {
  Payload a(std::string(1024, 'x'));
  Payload b = a;  // NOLINT(performance-unnecessary-copy-initialization): the copy is the point
  EXPECT_EQ(a.data(), b.data());
  EXPECT_EQ(b, std::string(1024, 'x'));
}

TEST(Payload, ReleaseMovesOutOfASoleOwnerAndCopiesWhenShared) {
  std::string bytes(1024, 'y');
  const char* original = bytes.data();
  Payload sole(std::move(bytes));
  EXPECT_EQ(sole.data(), original);  // moved in, not copied
  std::string out = std::move(sole).release();
  EXPECT_EQ(out.data(), original);  // moved out again
  EXPECT_TRUE(sole.empty());        // NOLINT(bugprone-use-after-move): release() leaves it empty

  Payload shared(std::string(1024, 'z'));
  Payload keep = shared;
  std::string copy = std::move(shared).release();
  EXPECT_NE(copy.data(), keep.data());  // the other owner still reads its bytes
  EXPECT_EQ(copy, keep);
  EXPECT_EQ(keep.size(), 1024u);
}

TEST(Payload, ComparesByBytesWithEveryStringType) {
  Payload p("abc");
  EXPECT_EQ(p, Payload(std::string("abc")));
  EXPECT_EQ(p, std::string_view("abc"));
  EXPECT_EQ(p, std::string("abc"));
  EXPECT_EQ(p, "abc");
  EXPECT_NE(p, "abd");
  EXPECT_EQ(Payload(), "");
  EXPECT_EQ(Payload(std::string()).size(), 0u);
  std::string_view view = p;
  const std::string& ref = p;
  EXPECT_EQ(view, "abc");
  EXPECT_EQ(ref, "abc");
}

TEST(Payload, LeaderPersistsAndSendsTheProposedBytesWithoutCopyingThem) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.core(1).propose(std::string(4096, 'p')).ok());
  Ready r = c.core(1).ready();
  ASSERT_EQ(r.entries.size(), 1u);
  const char* persisted = r.entries[0].data.data();
  int appends = 0;
  for (const Message& m : r.messages) {
    if (m.type != MessageType::kAppend) continue;
    ASSERT_EQ(m.entries.size(), 1u);
    EXPECT_EQ(m.entries[0].data.data(), persisted) << "append to " << node_name(m.to);
    ++appends;
  }
  EXPECT_EQ(appends, 2);
}

}  // namespace
}  // namespace dledger::raft::testing
