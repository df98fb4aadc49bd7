#include "broker/ledger/raft/invariants.h"

#include <cstdio>
#include <cstdlib>

namespace dledger::raft {

void InvariantChecker::observe(const InvariantView& v) {
  if (v.commit > v.last_index) {
    report("commit " + std::to_string(v.commit) + " above last index " +
           std::to_string(v.last_index));
  }
  if (v.durable_index > v.last_index) {
    report("durable index " + std::to_string(v.durable_index) + " above last index " +
           std::to_string(v.last_index));
  }
  if (seen_) {
    if (v.term < last_.term) {
      report("term went back from " + std::to_string(last_.term) + " to " + std::to_string(v.term));
    }
    if (v.term == last_.term && last_.vote != kNoNode && v.vote != last_.vote) {
      report("vote in term " + std::to_string(v.term) + " changed from " + node_name(last_.vote) +
             " to " + node_name(v.vote));
    }
    if (v.commit < last_.commit) {
      report("commit went back from " + std::to_string(last_.commit) + " to " +
             std::to_string(v.commit));
    }
    if (last_.is_leader && v.is_leader && v.last_index < last_.last_index) {
      report("leader log shrank from " + std::to_string(last_.last_index) + " to " +
             std::to_string(v.last_index));
    }
  }
  seen_ = true;
  last_ = v;
}

void InvariantChecker::report(std::string violation) {
#ifndef NDEBUG
  std::fprintf(stderr, "raft invariant violated: %s\n", violation.c_str());
  std::abort();
#endif
  if (first_violation_.empty()) first_violation_ = std::move(violation);
}

Status InvariantChecker::status() const {
  if (first_violation_.empty()) return Status();
  return make_error(ErrorCode::kInternal, "raft invariant violated: " + first_violation_);
}

}  // namespace dledger::raft
