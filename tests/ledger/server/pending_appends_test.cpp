#include "broker/ledger/server/pending_appends.h"

#include <gtest/gtest.h>

namespace dledger::ledger {
namespace {

using Clock = PendingAppends::Clock;

TEST(PendingAppends, CompletesOnlyWhenCommitCoversTheLastEntryOfTheBatch) {
  PendingAppends pending;
  std::optional<Result<AppendResult>> got;
  pending.add(5, 7, 2, Clock::now() + std::chrono::hours(1),
              [&](Result<AppendResult> r) { got = std::move(r); });
  auto term_of = [](std::uint64_t) -> Result<std::uint64_t> { return std::uint64_t{2}; };
  pending.complete_up_to(6, term_of);
  EXPECT_FALSE(got.has_value());
  pending.complete_up_to(7, term_of);
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok());
  EXPECT_EQ(got->value().index, 5u);
  EXPECT_EQ(got->value().term, 2u);
  EXPECT_EQ(pending.size(), 0u);
}

TEST(PendingAppends, OverwrittenEntryFailsWithNotLeaderInsteadOfSucceeding) {
  PendingAppends pending;
  std::optional<Result<AppendResult>> got;
  pending.add(5, 5, 2, Clock::now() + std::chrono::hours(1),
              [&](Result<AppendResult> r) { got = std::move(r); });
  pending.complete_up_to(5,
                         [](std::uint64_t) -> Result<std::uint64_t> { return std::uint64_t{3}; });
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->ok());
  EXPECT_EQ(got->error().code, ErrorCode::kNotLeader);
}

TEST(PendingAppends, ExpiredAppendsFailWithTimeoutAndOthersStay) {
  PendingAppends pending;
  int timeouts = 0;
  auto now = Clock::now();
  pending.add(1, 1, 1, now - std::chrono::seconds(1), [&](Result<AppendResult> r) {
    timeouts += !r.ok() && r.error().code == ErrorCode::kTimeout;
  });
  int stopped = 0;
  pending.add(2, 2, 1, now + std::chrono::hours(1), [&](Result<AppendResult> r) {
    stopped += !r.ok() && r.error().code == ErrorCode::kStopped;
  });
  pending.expire(now);
  EXPECT_EQ(timeouts, 1);
  EXPECT_EQ(stopped, 0);
  EXPECT_EQ(pending.size(), 1u);
  pending.fail_from(2, make_error(ErrorCode::kStopped, "x"));
  EXPECT_EQ(stopped, 1);
}

TEST(PendingAppends, FailAllAnswersEveryAppendOnce) {
  PendingAppends pending;
  int answered = 0;
  for (std::uint64_t i = 1; i <= 3; ++i) {
    pending.add(i, i, 1, Clock::now() + std::chrono::hours(1),
                [&](Result<AppendResult> r) { answered += !r.ok(); });
  }
  pending.fail_all(make_error(ErrorCode::kNotLeader, "lost leadership"));
  EXPECT_EQ(answered, 3);
  EXPECT_EQ(pending.size(), 0u);
}

}  // namespace
}  // namespace dledger::ledger
