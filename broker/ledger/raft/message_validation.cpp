// Validation of incoming messages: everything a peer (or a corrupted frame) could get wrong is
// rejected here with kInvalidArgument before step() changes any state.
#include <string>

#include "broker/ledger/raft/membership.h"
#include "broker/ledger/raft/raft_node.h"

namespace dledger::raft {
namespace {

Error invalid(const Message& m, const std::string& what) {
  return make_error(ErrorCode::kInvalidArgument,
                    std::string(message_type_name(m.type)) + " from " + node_name(m.from) + " to " +
                        node_name(m.to) + " (term " + std::to_string(m.term) + "): " + what);
}

bool known_type(MessageType type) {
  auto value = static_cast<std::uint8_t>(type);
  return value >= static_cast<std::uint8_t>(MessageType::kPreVote) &&
         value <= static_cast<std::uint8_t>(MessageType::kTimeoutNow);
}

bool known_entry_type(EntryType type) {
  return type == EntryType::kNormal || type == EntryType::kNoOp || type == EntryType::kConfig;
}

Status validate_entries(const Message& m) {
  if (m.log_index == 0 && m.log_term != 0) return invalid(m, "log_term set for log_index 0");
  if (m.log_term > m.term) return invalid(m, "prev log term above the message term");
  std::uint64_t previous_term = m.log_term;
  for (std::size_t k = 0; k < m.entries.size(); ++k) {
    const Entry& e = m.entries[k];
    std::string at = "entry " + std::to_string(k) + " (index " + std::to_string(e.index) + ")";
    if (e.index != m.log_index + 1 + k) {
      return invalid(m, at + ": expected index " + std::to_string(m.log_index + 1 + k));
    }
    if (e.term < previous_term || e.term > m.term || e.term == 0) {
      return invalid(m, at + ": term " + std::to_string(e.term) +
                            " not in [previous entry term, message term]");
    }
    if (!known_entry_type(e.type)) {
      return invalid(m, at + ": unknown entry type " + std::to_string(static_cast<int>(e.type)));
    }
    if (e.type == EntryType::kConfig) {
      Result<Membership> config = decode_membership(e.data);
      if (!config.ok()) return invalid(m, at + ": " + config.error().message);
      if (config->voter_count() == 0) return invalid(m, at + ": configuration without voters");
    }
    previous_term = e.term;
  }
  return Status();
}

}  // namespace

Status validate_message(const Message& m, NodeId self) {
  if (!known_type(m.type)) {
    return make_error(ErrorCode::kInvalidArgument, "unknown message type " +
                                                       std::to_string(static_cast<int>(m.type)) +
                                                       " from " + node_name(m.from));
  }
  if (m.to != self) return invalid(m, "addressed to another member, this is " + node_name(self));
  if (m.from == kNoNode || m.from == self) return invalid(m, "bad sender");
  if (m.type != MessageType::kAppend && !m.entries.empty()) {
    return invalid(m, "entries in a message that carries none");
  }
  if (m.type != MessageType::kInstallSnapshot && m.snapshot.has_value()) {
    return invalid(m, "snapshot in a message that carries none");
  }
  switch (m.type) {
    case MessageType::kAppend:
      return validate_entries(m);
    case MessageType::kInstallSnapshot: {
      if (!m.snapshot.has_value()) return invalid(m, "missing snapshot");
      const SnapshotMeta& meta = m.snapshot->meta;
      if (meta.index == 0 || meta.term == 0 || meta.term > m.term) {
        return invalid(m, "snapshot index " + std::to_string(meta.index) + " term " +
                              std::to_string(meta.term) + " is not a valid position");
      }
      if (meta.membership.voter_count() == 0) {
        return invalid(m, "snapshot configuration has no voters");
      }
      return Status();
    }
    case MessageType::kPreVote:
    case MessageType::kVote:
      if (m.log_term > m.term) return invalid(m, "candidate's last log term above its term");
      return Status();
    default:
      return Status();
  }
}

}  // namespace dledger::raft
