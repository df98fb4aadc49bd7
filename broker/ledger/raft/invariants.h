// Runtime safety invariants of one member, in the style of LogCabin's RaftConsensusInvariants.
// The core reports its state after every input; the checker remembers what it saw before and
// records the first violation. Checks are O(1) so they run in every build; debug builds abort.
#pragma once

#include <cstdint>
#include <string>

#include "broker/base/result.h"
#include "broker/ledger/raft/types.h"

namespace dledger::raft {

struct InvariantView {
  std::uint64_t term = 0;
  NodeId vote = kNoNode;
  std::uint64_t commit = 0;
  std::uint64_t last_index = 0;
  std::uint64_t durable_index = 0;
  bool is_leader = false;
};

class InvariantChecker {
 public:
  void observe(const InvariantView& view);
  // A structural violation found by the core itself (e.g. asked to truncate a committed entry).
  void report(std::string violation);
  Status status() const;

 private:
  bool seen_ = false;
  InvariantView last_;
  std::string first_violation_;
};

}  // namespace dledger::raft
