// Value types shared by the consensus core, its storage, its transport codec and the simulator.
// Plain data only: no behaviour beyond small helpers, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/ledger/raft/payload.h"

namespace dledger::raft {

// A member id: the number N of a DLedger id "nN". Ids are unique within a group and never reused
// for a different replica while it is a member.
using NodeId = std::uint32_t;
inline constexpr NodeId kNoNode = 0xffffffffu;

// "n3" for 3; kNoNode prints as "none".
std::string node_name(NodeId id);

enum class EntryType : std::uint8_t {
  kNormal = 1,  // application payload (a message or a batch, opaque to the ledger)
  kNoOp = 2,    // appended by every new leader; commits its term
  kConfig = 3,  // a membership configuration; data = encode_membership(...)
};

struct Entry {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  EntryType type = EntryType::kNormal;
  Payload data;  // shared, immutable: copying an entry does not copy its bytes

  bool operator==(const Entry&) const = default;
};

// Persistent election state. Must be durable before any message that depends on it is sent
// (see the persistence contract in raft_core.h).
struct HardState {
  std::uint64_t term = 0;
  NodeId vote = kNoNode;  // candidate voted for in `term`, or kNoNode

  bool operator==(const HardState&) const = default;
};

struct Member {
  NodeId id = kNoNode;
  std::string address;  // "host:port" of its peer endpoint
  bool voter = true;    // false: learner (replicated to, never counted in quorums, never votes)

  bool operator==(const Member&) const = default;
};

// A group configuration. Members are kept sorted by id.
struct Membership {
  std::vector<Member> members;

  const Member* find(NodeId id) const;
  bool contains(NodeId id) const { return find(id) != nullptr; }
  bool is_voter(NodeId id) const {
    const Member* m = find(id);
    return m != nullptr && m->voter;
  }
  std::vector<NodeId> voters() const;
  std::size_t voter_count() const;
  std::size_t quorum() const { return voter_count() / 2 + 1; }

  bool operator==(const Membership&) const = default;
};

// The log before and including `index` has been replaced by the application's snapshot bytes.
struct SnapshotMeta {
  std::uint64_t index = 0;  // last index covered by the snapshot (0: none)
  std::uint64_t term = 0;   // term of that entry
  Membership membership;    // configuration in effect at `index`

  bool operator==(const SnapshotMeta&) const = default;
};

struct Snapshot {
  SnapshotMeta meta;
  std::string data;  // opaque application state at meta.index

  bool operator==(const Snapshot&) const = default;
};

enum class MessageType : std::uint8_t {
  kPreVote = 1,  // would you vote for me at term+1? (term = proposed term; no state change)
  kPreVoteResponse = 2,
  kVote = 3,  // RequestVote
  kVoteResponse = 4,
  kAppend = 5,  // AppendEntries (entries may be empty: heartbeat / probe)
  kAppendResponse = 6,
  kInstallSnapshot = 7,
  kInstallSnapshotResponse = 8,
  kTimeoutNow = 9,  // leadership transfer: campaign now, skipping pre-vote
};

const char* message_type_name(MessageType type);

// One message between members. A flat struct in the style of etcd's raftpb.Message: each type
// uses the fields documented next to them; the rest stay zero.
struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  std::uint64_t term = 0;  // sender's current term (PreVote: the term it would campaign in)

  // kPreVote / kVote: the candidate's last log position (up-to-date rule).
  // kAppend: prev_log_index / prev_log_term of the entries.
  std::uint64_t log_index = 0;
  std::uint64_t log_term = 0;

  // kAppend: entries to append after log_index; commit = leader's commit index.
  std::vector<Entry> entries;
  std::uint64_t commit = 0;

  // k*Response: false means rejected.
  bool success = false;
  // kAppendResponse success: highest index known to match the leader's log (match index).
  // kAppendResponse failure: the follower's last index and the conflict hint below.
  // kInstallSnapshotResponse: the snapshot's index on success.
  std::uint64_t match_index = 0;
  std::uint64_t conflict_term = 0;   // term of the follower's entry at log_index (0: log too short)
  std::uint64_t conflict_index = 0;  // first index the follower holds with conflict_term
                                     // (or its last index + 1 when its log is too short)
  // kInstallSnapshot
  std::optional<Snapshot> snapshot;

  // kVote / kPreVote sent because of a leadership transfer (TimeoutNow): bypasses the lease that
  // otherwise makes members ignore votes while they hear from a live leader.
  bool transfer = false;
};

}  // namespace dledger::raft
