// Representative raft::Message values for codec, frame and transport tests.
#pragma once

#include <string>
#include <vector>

#include "broker/ledger/raft/types.h"

namespace dledger::transport::testing_samples {

// kAppend from n1 to n2 at term 7, prev (10, 5), `count` entries of `data_bytes` bytes each.
inline raft::Message append_with_entries(int count, std::size_t data_bytes) {
  raft::Message m;
  m.type = raft::MessageType::kAppend;
  m.from = 1;
  m.to = 2;
  m.term = 7;
  m.log_index = 10;
  m.log_term = 5;
  m.commit = 9;
  for (int i = 0; i < count; ++i) {
    raft::Entry e;
    e.index = m.log_index + 1 + static_cast<std::uint64_t>(i);
    e.term = i == 0 ? 5 : 7;
    e.type = i == 1 ? raft::EntryType::kNoOp
                    : (i == 2 ? raft::EntryType::kConfig : raft::EntryType::kNormal);
    e.data = std::string(data_bytes, static_cast<char>('a' + i % 26));
    m.entries.push_back(std::move(e));
  }
  return m;
}

// kInstallSnapshot from n1 to n3 with a three-member configuration (one learner).
inline raft::Message install_snapshot(std::size_t data_bytes) {
  raft::Message m;
  m.type = raft::MessageType::kInstallSnapshot;
  m.from = 1;
  m.to = 3;
  m.term = 4;
  raft::Snapshot s;
  s.meta.index = 1000;
  s.meta.term = 3;
  s.meta.membership.members = {{1, "10.0.0.1:40911", true},
                               {2, "replica-2.dledger.svc:40911", true},
                               {3, "[::1]:40911", false}};
  s.data.assign(data_bytes, '\x7f');
  m.snapshot = std::move(s);
  return m;
}

// One message of every type with the fields that type uses.
inline std::vector<raft::Message> sample_messages() {
  std::vector<raft::Message> out;
  raft::Message m;
  m.from = 1;
  m.to = 2;
  m.term = 3;

  m.type = raft::MessageType::kPreVote;
  m.log_index = 41;
  m.log_term = 2;
  out.push_back(m);
  m.type = raft::MessageType::kVote;
  m.transfer = true;
  out.push_back(m);
  m = raft::Message{};
  m.from = 2;
  m.to = 1;
  m.term = 3;
  m.type = raft::MessageType::kPreVoteResponse;
  m.success = true;
  out.push_back(m);
  m.type = raft::MessageType::kVoteResponse;
  m.success = false;
  out.push_back(m);
  out.push_back(append_with_entries(0, 0));  // heartbeat
  out.push_back(append_with_entries(4, 17));
  m = raft::Message{};
  m.type = raft::MessageType::kAppendResponse;
  m.from = 2;
  m.to = 1;
  m.term = 7;
  m.log_index = 20;
  m.match_index = 15;
  m.conflict_term = 4;
  m.conflict_index = 12;
  out.push_back(m);
  out.push_back(install_snapshot(33));
  m = raft::Message{};
  m.type = raft::MessageType::kInstallSnapshotResponse;
  m.from = 3;
  m.to = 1;
  m.term = 4;
  m.success = true;
  m.match_index = 1000;
  out.push_back(m);
  m = raft::Message{};
  m.type = raft::MessageType::kTimeoutNow;
  m.from = 1;
  m.to = 2;
  m.term = 9;
  out.push_back(m);
  return out;
}

}  // namespace dledger::transport::testing_samples
