#include "tests/ledger/sim/sim_checker.h"

#include <algorithm>
#include <string>

namespace dledger::sim {
namespace {

std::string n(raft::NodeId id) {
  return "n" + std::to_string(id);
}
std::string s(std::uint64_t v) {
  return std::to_string(v);
}

}  // namespace

void SafetyChecker::fail(std::string description) {
  if (!violation_) violation_ = std::move(description);
}

void SafetyChecker::on_leader(std::uint64_t term, raft::NodeId leader) {
  auto [it, inserted] = leader_of_term_.emplace(term, leader);
  if (!inserted && it->second != leader) {
    fail("election safety: two leaders in term " + s(term) + ": " + n(it->second) + " and " +
         n(leader));
  }
}

void SafetyChecker::on_durable_entry(raft::NodeId member, std::uint64_t index, std::uint64_t term,
                                     std::uint64_t chain) {
  auto [it, inserted] = durable_.emplace(std::make_pair(index, term), chain);
  if (!inserted && it->second != chain) {
    fail("log matching: " + n(member) + " made durable entry (index " + s(index) + ", term " +
         s(term) + ") whose log prefix differs from another durable copy of (index " + s(index) +
         ", term " + s(term) + ")");
  }
}

const CommittedRecord* SafetyChecker::committed(std::uint64_t index) const {
  if (index >= committed_.size() || !committed_[index].present) return nullptr;
  return &committed_[index];
}

void SafetyChecker::on_committed(raft::NodeId member, std::uint64_t index, std::uint64_t term,
                                 std::uint64_t chain, std::uint64_t payload_hash,
                                 bool is_normal_entry, std::uint64_t reporter_term) {
  if (index == 0) return;
  if (index >= committed_.size()) committed_.resize(index + 1);
  CommittedRecord& rec = committed_[index];
  if (!rec.present) {
    rec = CommittedRecord{true, term, chain, payload_hash, reporter_term, member};
    std::uint64_t& highest = highest_by_term_bound_[reporter_term];
    highest = std::max(highest, index);
    if (is_normal_entry && payload_hash != 0) {
      auto [it, inserted] = committed_payloads_.emplace(payload_hash, index);
      if (!inserted && it->second != index) {
        fail("state machine safety: the same payload was committed twice, at index " +
             s(it->second) + " and at index " + s(index) + " (reported by " + n(member) + ")");
      }
    }
    return;
  }
  if (rec.term != term || rec.chain != chain ||
      (payload_hash != 0 && rec.payload_hash != 0 && rec.payload_hash != payload_hash)) {
    fail("state machine safety: " + n(member) + " committed (index " + s(index) + ", term " +
         s(term) + ") but " + n(rec.first_reporter) + " had committed (index " + s(index) +
         ", term " + s(rec.term) + ")" +
         (rec.term == term ? " with a different log prefix or payload" : ""));
  }
}

void SafetyChecker::on_leader_commit(raft::NodeId leader, std::uint64_t term, std::uint64_t commit,
                                     std::uint64_t entry_term) {
  if (entry_term != term) {
    fail("commit rule: " + n(leader) + ", leader of term " + s(term) +
         ", advanced its commit index to " + s(commit) + " whose entry has term " + s(entry_term) +
         " (older-term entries may only commit indirectly)");
  }
}

void SafetyChecker::check_leader_log(raft::NodeId leader, std::uint64_t term,
                                     const DiskImage& log) {
  // The highest index known committed in a term < `term`; its chain hash covers all below.
  std::uint64_t index = 0;
  for (auto it = highest_by_term_bound_.begin();
       it != highest_by_term_bound_.end() && it->first < term; ++it) {
    index = std::max(index, it->second);
  }
  if (index == 0) return;
  const CommittedRecord& rec = committed_[index];
  if (index > log.last_index()) {
    fail("leader completeness: " + n(leader) + " leads term " + s(term) + " with last index " +
         s(log.last_index()) + " but index " + s(index) + " (term " + s(rec.term) +
         ") was committed before");
    return;
  }
  std::uint64_t check_at = index;
  if (index < log.snapshot_meta.index) {
    // Compacted past it: the snapshot's own index must be a committed one we know.
    check_at = log.snapshot_meta.index;
    if (committed(check_at) == nullptr) return;
  }
  const CommittedRecord& expected = committed_[check_at];
  if (log.chain_at(check_at) != expected.chain) {
    fail("leader completeness: " + n(leader) + " leads term " + s(term) + " but its log at index " +
         s(check_at) + " (term " + s(log.term_at(check_at).value_or(0)) +
         ") differs from the committed entry (term " + s(expected.term) + ")");
  }
}

void SafetyChecker::on_acknowledged(Acknowledgement ack) {
  const CommittedRecord* rec = committed(ack.index);
  if (rec == nullptr) {
    fail("acknowledged append: payload '" + ack.payload + "' acknowledged at index " +
         s(ack.index) + " which no member reported committed");
  } else if (rec->term != ack.term ||
             (rec->payload_hash != 0 && rec->payload_hash != ack.payload_hash)) {
    fail("acknowledged append: payload '" + ack.payload + "' acknowledged at (index " +
         s(ack.index) + ", term " + s(ack.term) + ") but the committed entry there has term " +
         s(rec->term));
  }
  acks_.push_back(std::move(ack));
}

void SafetyChecker::check_acknowledged_in(raft::NodeId member, const DiskImage& log,
                                          std::uint64_t commit) {
  for (const Acknowledgement& ack : acks_) {
    if (failed()) return;
    if (ack.index > commit) continue;
    if (ack.index <= log.snapshot_meta.index) {
      const CommittedRecord* rec = committed(log.snapshot_meta.index);
      if (rec != nullptr && rec->chain != log.snapshot_chain) {
        fail("acknowledged append: " + n(member) + "'s snapshot at index " +
             s(log.snapshot_meta.index) + " does not cover the committed log that holds '" +
             ack.payload + "'");
      }
      continue;
    }
    const raft::Entry* entry = log.entry_at(ack.index);
    if (entry == nullptr || entry->term != ack.term || entry->data != ack.payload) {
      fail("acknowledged append lost: '" + ack.payload + "' acknowledged at (index " +
           s(ack.index) + ", term " + s(ack.term) + ") is not in " + n(member) +
           "'s committed log (commit " + s(commit) + ", last index " + s(log.last_index()) + ")");
    }
  }
}

}  // namespace dledger::sim
