// PendingAppends: appends proposed to the consensus core and not yet answered.
//
// Owned by the consensus thread (not thread-safe). An append is identified by the index and
// term the core assigned to its first entry; it succeeds once the commit index covers its last
// entry AND the log still holds its first entry with that term (a new leader may have overwritten
// it, in which case it fails with kNotLeader: the client must retry, the entry was not kept).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>

#include "broker/base/result.h"
#include "broker/ledger/server/ledger_server.h"

namespace dledger::ledger {

class PendingAppends {
 public:
  using Clock = std::chrono::steady_clock;
  // Returns the term of the entry at `index` in the local log, or an error if it is gone.
  using TermLookup = std::function<Result<std::uint64_t>(std::uint64_t index)>;

  void add(std::uint64_t first_index, std::uint64_t last_index, std::uint64_t term,
           Clock::time_point deadline, AppendCallback done);

  // Completes every append whose last index <= commit_index. Callbacks run inline.
  void complete_up_to(std::uint64_t commit_index, const TermLookup& term_of);
  // Fails appends whose deadline passed with kTimeout.
  void expire(Clock::time_point now);
  // Fails every pending append with `error` (leadership lost, shutdown).
  void fail_all(const Error& error);
  // Fails appends whose first index >= `index` (their entries were truncated).
  void fail_from(std::uint64_t index, const Error& error);

  std::size_t size() const { return pending_.size(); }

 private:
  struct Pending {
    std::uint64_t last_index;
    std::uint64_t term;
    Clock::time_point deadline;
    AppendCallback done;
  };
  std::map<std::uint64_t, Pending> pending_;  // by first index
};

}  // namespace dledger::ledger
