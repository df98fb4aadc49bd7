#include "operator/controller/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace dledger::op::controller {
namespace {

using std::chrono::milliseconds;

struct FakeClock {
  std::atomic<std::int64_t> now_ms{0};
  Clock clock() {
    return [this] { return std::chrono::steady_clock::time_point(milliseconds(now_ms.load())); };
  }
  void advance(milliseconds by) { now_ms += by.count(); }
};

WorkQueueOptions options_with(FakeClock& fake) {
  WorkQueueOptions options;
  options.base_delay = milliseconds(10);
  options.max_delay = milliseconds(1000);
  options.poll_interval = milliseconds(5);
  options.clock = fake.clock();
  return options;
}

TEST(WorkQueue, AddingAKeyTwiceQueuesItOnce) {
  FakeClock fake;
  WorkQueue queue(options_with(fake));
  queue.add("ns/a");
  queue.add("ns/b");
  queue.add("ns/a");
  EXPECT_EQ(queue.depth(), 2u);
  EXPECT_EQ(queue.try_get(), "ns/a");
  EXPECT_EQ(queue.try_get(), "ns/b");
  EXPECT_EQ(queue.try_get(), std::nullopt);
}

TEST(WorkQueue, KeyAddedWhileProcessingIsRequeuedOnDoneNotHandedOutTwice) {
  FakeClock fake;
  WorkQueue queue(options_with(fake));
  queue.add("ns/a");
  ASSERT_EQ(queue.try_get(), "ns/a");
  queue.add("ns/a");
  EXPECT_EQ(queue.try_get(), std::nullopt);  // still processing
  queue.done("ns/a");
  EXPECT_EQ(queue.try_get(), "ns/a");
  queue.done("ns/a");
  EXPECT_EQ(queue.try_get(), std::nullopt);
}

TEST(WorkQueue, RateLimitedBackoffDoublesPerFailureUpToTheCapAndForgetResets) {
  FakeClock fake;
  WorkQueue queue(options_with(fake));
  EXPECT_EQ(queue.add_rate_limited("k"), milliseconds(10));
  EXPECT_EQ(queue.add_rate_limited("k"), milliseconds(20));
  EXPECT_EQ(queue.add_rate_limited("k"), milliseconds(40));
  EXPECT_EQ(queue.num_requeues("k"), 3);
  for (int i = 0; i < 20; ++i) (void)queue.add_rate_limited("k");
  EXPECT_EQ(queue.add_rate_limited("k"), milliseconds(1000));
  queue.forget("k");
  EXPECT_EQ(queue.num_requeues("k"), 0);
  EXPECT_EQ(queue.add_rate_limited("k"), milliseconds(10));
}

TEST(WorkQueue, DelayedKeyBecomesReadyOnlyWhenTheClockReachesIt) {
  FakeClock fake;
  WorkQueue queue(options_with(fake));
  queue.add_after("k", milliseconds(100));
  EXPECT_EQ(queue.try_get(), std::nullopt);
  EXPECT_EQ(queue.delayed(), 1u);
  fake.advance(milliseconds(99));
  EXPECT_EQ(queue.try_get(), std::nullopt);
  fake.advance(milliseconds(1));
  EXPECT_EQ(queue.try_get(), "k");
}

TEST(WorkQueue, ImmediateAddOverridesAPendingDelay) {
  FakeClock fake;
  WorkQueue queue(options_with(fake));
  queue.add_after("k", milliseconds(100));
  queue.add("k");
  EXPECT_EQ(queue.try_get(), "k");
  queue.done("k");
  fake.advance(milliseconds(200));
  EXPECT_EQ(queue.try_get(), std::nullopt);  // the delayed copy was dropped
}

TEST(WorkQueue, BlockedGetWakesForAddAndReturnsNulloptAfterShutDown) {
  WorkQueue queue;
  std::optional<std::string> first;
  std::optional<std::string> second = "unset";
  std::thread worker([&] {
    first = queue.get();
    queue.done(*first);
    second = queue.get();
  });
  queue.add("ns/x");
  while (first == std::nullopt) std::this_thread::yield();
  queue.shut_down();
  worker.join();
  EXPECT_EQ(first, "ns/x");
  EXPECT_EQ(second, std::nullopt);
}

TEST(WorkQueue, ConcurrentWorkersNeverProcessTheSameKeyAtOnce) {
  WorkQueue queue;
  std::atomic<int> in_flight{0};
  std::atomic<bool> overlap{false};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = queue.get()) {
        if (in_flight.fetch_add(1) != 0) overlap = true;
        std::this_thread::yield();
        in_flight.fetch_sub(1);
        ++processed;
        queue.done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) queue.add("ns/same");
  while (queue.depth() > 0) std::this_thread::yield();
  queue.shut_down();
  for (auto& worker : workers) worker.join();
  EXPECT_FALSE(overlap.load());
  EXPECT_GE(processed.load(), 1);
}

}  // namespace
}  // namespace dledger::op::controller
