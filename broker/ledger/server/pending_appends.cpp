#include "broker/ledger/server/pending_appends.h"

#include <utility>
#include <vector>

namespace dledger::ledger {

void PendingAppends::add(std::uint64_t first_index, std::uint64_t last_index, std::uint64_t term,
                         Clock::time_point deadline, AppendCallback done) {
  pending_[first_index] = Pending{last_index, term, deadline, std::move(done)};
}

void PendingAppends::complete_up_to(std::uint64_t commit_index, const TermLookup& term_of) {
  while (!pending_.empty()) {
    auto it = pending_.begin();
    if (it->second.last_index > commit_index) break;
    std::uint64_t first = it->first;
    Pending p = std::move(it->second);
    pending_.erase(it);
    auto term = term_of(first);
    if (term.ok() && *term == p.term) {
      p.done(AppendResult{first, p.term});
    } else {
      p.done(make_error(ErrorCode::kNotLeader,
                        "entry " + std::to_string(first) + " of term " + std::to_string(p.term) +
                            " was replaced by a newer leader; append again"));
    }
  }
}

void PendingAppends::expire(Clock::time_point now) {
  std::vector<AppendCallback> expired;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline <= now) {
      expired.push_back(std::move(it->second.done));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& done : expired) {
    done(make_error(ErrorCode::kTimeout,
                    "append not committed before its deadline (appendTimeoutMs); it may still "
                    "commit later"));
  }
}

void PendingAppends::fail_all(const Error& error) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [index, p] : pending) p.done(error);
}

void PendingAppends::fail_from(std::uint64_t index, const Error& error) {
  std::vector<AppendCallback> failed;
  for (auto it = pending_.lower_bound(index); it != pending_.end();) {
    failed.push_back(std::move(it->second.done));
    it = pending_.erase(it);
  }
  for (auto& done : failed) done(error);
}

}  // namespace dledger::ledger
