// SafetyChecker: the Raft safety properties, checked incrementally after every simulated step.
//
// Logs are compared through chain hashes (sim_hash.h): equal chain hashes at index i mean equal
// logs 1..i, so each check is O(1) per entry instead of a walk over whole logs.
//
//   Election safety      at most one leader per term, over the whole history (crashes included).
//   Log matching         an (index, term) pair ever made durable on any member always names the
//                        same log prefix (same chain hash); checked on durable (fsynced) logs.
//   State machine safety the committed prefix never changes: the first report of index i as
//                        committed (by any member) fixes its term and chain hash; every later
//                        report must agree. No payload is committed twice.
//   Commit rule          a leader moves its commit index only onto an entry of its own term
//                        (Raft 5.4.2; what stops the Figure 8 anomaly).
//   Leader completeness  a leader of term T holds every entry committed in a term < T (the term
//                        of the member that first reported the commit bounds the commit term).
//   Acknowledged appends an acknowledged (index, term, payload) is the committed entry at index,
//                        and at the end every member's committed log still holds it (set check).
//
// The first violation is kept with a description; later calls are no-ops.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/ledger/raft/types.h"
#include "tests/ledger/sim/sim_disk.h"

namespace dledger::sim {

struct CommittedRecord {
  bool present = false;
  std::uint64_t term = 0;
  std::uint64_t chain = 0;
  std::uint64_t payload_hash = 0;       // 0: unknown (learned from a snapshot)
  std::uint64_t commit_term_bound = 0;  // term of the first reporter when it reported
  raft::NodeId first_reporter = raft::kNoNode;
};

struct Acknowledgement {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::uint64_t payload_hash = 0;
  std::string payload;
};

class SafetyChecker {
 public:
  bool failed() const { return violation_.has_value(); }
  const std::string& violation() const { return *violation_; }
  // Records an externally detected violation (e.g. a core invariant check failed).
  void fail(std::string description);

  void on_leader(std::uint64_t term, raft::NodeId leader);
  void on_durable_entry(raft::NodeId member, std::uint64_t index, std::uint64_t term,
                        std::uint64_t chain);
  // A member reports index committed (applied): its entry, or its snapshot when payload_hash == 0
  // and is_snapshot. reporter_term bounds the term in which the commit happened.
  void on_committed(raft::NodeId member, std::uint64_t index, std::uint64_t term,
                    std::uint64_t chain, std::uint64_t payload_hash, bool is_normal_entry,
                    std::uint64_t reporter_term);
  // Commit rule (Raft 5.4.2): a leader advances its commit index only to an entry of its own
  // term (older entries commit indirectly). `entry_term` is the term at `commit`.
  void on_leader_commit(raft::NodeId leader, std::uint64_t term, std::uint64_t commit,
                        std::uint64_t entry_term);
  // `log` is the leader's current log (its written image).
  void check_leader_log(raft::NodeId leader, std::uint64_t term, const DiskImage& log);
  void on_acknowledged(Acknowledgement ack);
  // Every acknowledgement at or below `commit` is in `log` (entry or covering snapshot).
  void check_acknowledged_in(raft::NodeId member, const DiskImage& log, std::uint64_t commit);

  const std::vector<Acknowledgement>& acknowledgements() const { return acks_; }
  std::uint64_t highest_committed() const { return committed_.empty() ? 0 : committed_.size() - 1; }
  const CommittedRecord* committed(std::uint64_t index) const;

 private:
  std::optional<std::string> violation_;
  std::map<std::uint64_t, raft::NodeId> leader_of_term_;
  struct PairHash {
    std::size_t operator()(const std::pair<std::uint64_t, std::uint64_t>& p) const {
      return std::hash<std::uint64_t>()(p.first * 0x9e3779b97f4a7c15ull ^ p.second);
    }
  };
  std::unordered_map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t, PairHash> durable_;
  std::vector<CommittedRecord> committed_;  // by index; [0] unused
  // commit_term_bound -> highest index first reported committed with that bound.
  std::map<std::uint64_t, std::uint64_t> highest_by_term_bound_;
  std::unordered_map<std::uint64_t, std::uint64_t> committed_payloads_;  // payload hash -> index
  std::vector<Acknowledgement> acks_;
};

}  // namespace dledger::sim
