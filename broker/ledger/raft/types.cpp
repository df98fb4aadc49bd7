// Small helpers of the value types in types.h and raft_core.h.
#include <algorithm>
#include <string>

#include "broker/ledger/raft/raft_core.h"
#include "broker/ledger/raft/types.h"

namespace dledger::raft {

std::string node_name(NodeId id) {
  if (id == kNoNode) return "none";
  return "n" + std::to_string(id);
}

const Member* Membership::find(NodeId id) const {
  // Members are sorted by id; groups are small, but a binary search costs nothing.
  auto it = std::lower_bound(members.begin(), members.end(), id,
                             [](const Member& m, NodeId value) { return m.id < value; });
  if (it == members.end() || it->id != id) return nullptr;
  return &*it;
}

std::vector<NodeId> Membership::voters() const {
  std::vector<NodeId> out;
  for (const Member& m : members) {
    if (m.voter) out.push_back(m.id);
  }
  return out;
}

std::size_t Membership::voter_count() const {
  return static_cast<std::size_t>(
      std::count_if(members.begin(), members.end(), [](const Member& m) { return m.voter; }));
}

const char* message_type_name(MessageType type) {
  switch (type) {
    case MessageType::kPreVote:
      return "PreVote";
    case MessageType::kPreVoteResponse:
      return "PreVoteResponse";
    case MessageType::kVote:
      return "Vote";
    case MessageType::kVoteResponse:
      return "VoteResponse";
    case MessageType::kAppend:
      return "Append";
    case MessageType::kAppendResponse:
      return "AppendResponse";
    case MessageType::kInstallSnapshot:
      return "InstallSnapshot";
    case MessageType::kInstallSnapshotResponse:
      return "InstallSnapshotResponse";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
  }
  return "Unknown";
}

const char* role_name(Role role) {
  switch (role) {
    case Role::kFollower:
      return "Follower";
    case Role::kPreCandidate:
      return "PreCandidate";
    case Role::kCandidate:
      return "Candidate";
    case Role::kLeader:
      return "Leader";
  }
  return "Unknown";
}

const char* progress_state_name(ProgressState s) {
  switch (s) {
    case ProgressState::kProbe:
      return "Probe";
    case ProgressState::kReplicate:
      return "Replicate";
    case ProgressState::kSnapshot:
      return "Snapshot";
  }
  return "Unknown";
}

bool Ready::empty() const {
  return messages.empty() && !snapshot.has_value() && entries.empty() && !hard_state.has_value() &&
         messages_after_persist.empty() && persist_index == 0 && !soft_state.has_value() &&
         !membership.has_value();
}

}  // namespace dledger::raft
