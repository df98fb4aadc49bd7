// RaftNode: the implementation of RaftCore (raft_core.h holds the contract).
//
// The class is split over files named after what they do:
//   raft_node.cpp          construction, step() dispatch and validation, role transitions,
//                          Ready output, queries
//   message_validation.cpp checks applied to every incoming message before any state change
//   election.cpp           ticks, pre-vote, vote, up-to-date rule, check-quorum and the lease
//   replication.cpp        proposals, AppendEntries both sides, flow control, commit
//   snapshot.cpp           InstallSnapshot both sides
//   membership_change.cpp  add learner / promote / remove, configs in the log
//   transfer.cpp           leadership transfer, TimeoutNow, preferred leader
//   invariants.cpp         runtime safety checks
//   unstable_log.h/.cpp    the log: durable entries in Storage + unpersisted ones in memory
//   progress.h             the leader's per-follower flow control (probe/replicate/snapshot)
//
// Choices worth knowing when reading the code:
//   * Learners and not-yet-members answer vote requests (they may have been promoted by a
//     configuration they have not received yet); a candidate counts only the voters of its own
//     configuration, so a learner's answer never decides an election.
//   * Heartbeats are empty Appends (replication.cpp, send_heartbeat): they carry the commit
//     capped at the follower's match, and in kReplicate are anchored at the last entry sent so
//     the follower detects lost pipelined Appends itself.
//   * A successful AppendResponse reports the follower's whole log as matching when its last
//     entry is from the leader's term (Log Matching), which recovers lost acknowledgements.
//   * A rejection reporting fewer entries than the follower once acknowledged (a log that lost
//     a suffix: repair after corruption, async flush) lowers its match index and probes again.
//
// Responses echo the request's log_index (for AppendResponse: the prev index that was accepted
// or rejected), which lets the leader ignore stale rejections.
//
// A member whose id is not in the effective configuration is a non-member: it replicates if
// sent entries but never campaigns (e.g. a removed member, or a new one waiting to be added).
// create() therefore only requires Config::id to be set, not to be in the membership.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker/ledger/raft/entry_bytes.h"
#include "broker/ledger/raft/invariants.h"
#include "broker/ledger/raft/progress.h"
#include "broker/ledger/raft/raft_core.h"
#include "broker/ledger/raft/unstable_log.h"

namespace dledger::raft {

// Checks done by step() before anything changes (message_validation.cpp).
Status validate_message(const Message& m, NodeId self);
// Checks done by create() (raft_node.cpp).
Status validate_config(const Config& config);

class RaftNode final : public RaftCore {
 public:
  RaftNode(Config config, const Storage& storage, InitialState initial);

  void tick() override;
  Status step(const Message& message) override;
  Result<std::uint64_t> propose(std::string data) override;
  Result<std::uint64_t> propose_batch(std::vector<std::string> data) override;
  Status transfer_leadership(NodeId target) override;
  Status add_learner(NodeId id, std::string address) override;
  Status promote(NodeId id) override;
  Status remove_member(NodeId id) override;
  void campaign() override;
  bool has_ready() const override;
  Ready ready() override;
  void on_persisted(std::uint64_t index, std::uint64_t term) override;
  void report_unreachable(NodeId peer) override;
  SoftState soft_state() const override { return SoftState{role_, hard_.term, leader_}; }
  HardState hard_state() const override { return hard_; }
  std::uint64_t commit_index() const override { return commit_; }
  std::uint64_t last_index() const override { return log_.last_index(); }
  const Membership& membership() const override { return configs_.back().membership; }
  CoreStatus status() const override;
  Status check_invariants() const override { return invariants_.status(); }

 private:
  // ---- raft_node.cpp: transitions and output
  void become_follower(std::uint64_t term, NodeId leader);
  void become_pre_candidate();
  void become_candidate(bool transfer);
  void become_leader();
  void reset(std::uint64_t term);
  void send(Message m);
  void send_after_persist(Message m);
  Message reply_to(const Message& request, MessageType type) const;
  void observe_invariants();
  std::uint64_t term() const { return hard_.term; }
  std::uint64_t election_timeout_ticks() const {
    return static_cast<std::uint64_t>(config_.election_timeout_min_ticks);
  }

  // ---- election.cpp
  void tick_follower();
  void tick_leader();
  bool promotable() const;
  bool in_lease() const;
  bool log_up_to_date(std::uint64_t last_term, std::uint64_t last_index) const;
  void start_election(bool pre_vote, bool transfer);
  void handle_vote_request(const Message& m);
  void handle_vote_response(const Message& m);
  // Counts votes_ among voters: +1 won, -1 lost, 0 pending.
  int tally_votes() const;
  bool check_quorum_active();
  int random_election_timeout();

  // ---- replication.cpp
  Result<std::uint64_t> append_as_leader(std::vector<Entry> entries);
  void broadcast_append();
  // True while new entries for this follower wait for an acknowledgement (coalescing).
  bool coalescing(const Progress& pr) const;
  // Sends one Append to `to` if allowed by flow control; false when nothing was sent.
  bool send_append(NodeId to);
  // Sends what flow control allows; if that is nothing, a heartbeat when the follower has not
  // been told the commit index it may now apply.
  void send_appends_or_commit(NodeId to);
  void send_heartbeat(NodeId to);
  Status handle_append(const Message& m);
  void handle_append_response(const Message& m);
  void reject_append(const Message& m);
  // Success answer to Append `m`: our log matches the leader's up to `match`. Sent at once when
  // everything up to `match` is durable, otherwise only after persistence. An Append without
  // entries (heartbeat or probe) is also answered at once for the durable prefix, so that a
  // follower whose disk is slow still counts as alive for the leader's check-quorum.
  void acknowledge_append(const Message& m, std::uint64_t match);
  bool maybe_commit();
  void set_commit(std::uint64_t commit);
  void maybe_finish_repair(std::uint64_t leader_commit, std::uint64_t leader_term);

  // ---- snapshot.cpp
  bool send_snapshot(NodeId to, Progress& progress);
  void handle_install_snapshot(const Message& m);
  void handle_snapshot_response(const Message& m);

  // ---- membership_change.cpp
  Status check_membership_change_allowed() const;
  Status propose_membership(Membership next);
  void record_configs(const std::vector<Entry>& entries);
  void revert_configs_from(std::uint64_t index);
  void on_membership_changed();
  void sync_progress_with_membership();
  void on_commit_advanced();
  bool membership_change_pending() const { return configs_.back().index > commit_; }

  // ---- transfer.cpp
  void tick_transfer();
  void maybe_send_timeout_now(NodeId peer);
  void abort_transfer();
  void maybe_transfer_to_preferred();
  void handle_timeout_now(const Message& m);

  Config config_;
  const Storage& storage_;
  UnstableLog log_;
  EntryBytes leader_entry_bytes_;  // leader: sizes of its recent entries (coalescing)

  HardState hard_;
  Role role_ = Role::kFollower;
  NodeId leader_ = kNoNode;
  std::uint64_t commit_ = 0;

  // configs_.front(): the configuration of the snapshot (or bootstrap), then every kConfig entry
  // still in the log after the last committed one. configs_.back() is in effect.
  std::vector<ConfigEntry> configs_;

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  std::map<NodeId, bool> votes_;  // candidate / pre-candidate: answers received

  std::map<NodeId, Progress> progress_;  // leader: every member except self

  NodeId transfer_target_ = kNoNode;
  int transfer_elapsed_ = 0;
  bool timeout_now_sent_ = false;
  int preferred_cooldown_ = 0;  // ticks before another automatic transfer to the preferred leader

  std::uint64_t repair_until_ = 0;

  // Output not yet handed out.
  std::vector<Message> messages_;
  std::uint64_t term_start_index_ = 0;  // leader: index of its no-op (CoreStatus)
  std::vector<Message> messages_after_persist_;
  SoftState emitted_soft_;
  HardState emitted_hard_;
  std::uint64_t emitted_commit_ = 0;
  bool membership_changed_ = false;

  InvariantChecker invariants_;
  std::vector<std::uint64_t> commit_scratch_;  // maybe_commit()'s buffer
};

}  // namespace dledger::raft
