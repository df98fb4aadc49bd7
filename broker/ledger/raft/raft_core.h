// RaftCore: the consensus state machine of one ledger member.
//
// Deterministic and passive: no sockets, files, threads, clocks or randomness of its own. The
// caller drives it with tick() (logical time), step() (a message from a peer), propose() and the
// membership / leadership requests, then drains its output with ready(). Given the same Config
// (including the seeded random source), Storage contents and input sequence, it produces the same
// outputs: the simulator in tests/ledger/sim relies on this.
//
// ============================ PERSISTENCE CONTRACT ==============================================
// Each Ready is processed in order, one at a time:
//
//   1. Send ready.messages now. They never depend on anything in this or a later Ready being
//      durable (a leader's AppendEntries may carry entries it has not yet persisted itself: the
//      leader writes its log in parallel with replication, Raft thesis 10.2.1).
//   2. Persist, in this order, as one group commit:
//        a. ready.snapshot if present: replace the whole log with it (log becomes empty after
//           snapshot.meta.index);
//        b. ready.entries: first discard every stable entry with index >= entries.front().index,
//           then append them (their indexes are consecutive);
//        c. ready.hard_state if present (term and vote, atomically).
//      Make all of it durable (fsync; in `async` flush mode the caller may defer the fsync and
//      accepts losing acknowledged entries when a majority loses power together).
//   3. Only then send ready.messages_after_persist (votes granted, append acknowledgements,
//      a candidate's vote requests: each promises state that must survive a crash; an
//      acknowledgement of entries already reported persisted goes out in step 1), and call
//      on_persisted(ready.persist_index, ready.persist_term) so the core may read those entries
//      back from Storage and, on a leader, count its own copy toward the commit quorum.
//
// Steps 2-3 of Ready N may run concurrently with the caller obtaining Ready N+1 and sending its
// step-1 messages, provided persistence of successive Readys happens in order.
// ready.commit never exceeds what has been reported persisted locally, so entries up to it can be
// read from Storage and delivered to the application.
//
// Leader append path (one proposal, 3 members, `sync` flush):
//
//   propose ──► Ready{entries, messages: Append→F1,F2}
//                  │ send Append ─────────────► F1, F2 persist, fsync, reply AppendResponse
//                  │ persist+fsync own copy (in parallel)
//                  ▼ on_persisted(i) ─► self counted   step(AppendResponse) ─► match[F] = i
//              commit = i once a majority (self included only after on_persisted) has it
//              and entry i has the current term (entries of older terms commit indirectly).
// =================================================================================================
//
// Protocol features: randomized election timeout, pre-vote, check-quorum (a leader that hears
// from no majority within an election timeout steps down; members that heard from a leader within
// the minimum election timeout ignore (pre-)votes; with pre-vote also on, a rejoining partitioned
// member cannot depose a healthy leader), no-op on election, commit by counting only in the
// current term, pipelined AppendEntries with per-follower in-flight caps (messages, entries and
// bytes), conflict hints for fast backtracking, leadership transfer with TimeoutNow, preferred
// leader, single-server membership changes with learners (a configuration takes effect when
// appended; one change at a time), snapshots (InstallSnapshot to members behind the first
// retained entry).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/raft/storage.h"
#include "broker/ledger/raft/types.h"

namespace dledger::raft {

enum class Role : std::uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* role_name(Role role);

// Uniformly distributed 64-bit values; the only source of randomness the core uses.
using RandomSource = std::function<std::uint64_t()>;

// Test-only faults that break safety on purpose, to prove the simulator's checkers can fail.
// Never set in production (the ledger server refuses a config that sets them).
struct TestFaults {
  bool skip_up_to_date_vote_check = false;        // grant votes to candidates with stale logs
  bool commit_previous_term_by_counting = false;  // count replicas for entries of older terms
};

struct Config {
  NodeId id = kNoNode;
  // Logical time. The ledger server ticks every tick_ms (default 10 ms), so the defaults below
  // are a 150-300 ms randomized election timeout and a 50 ms heartbeat.
  int election_timeout_min_ticks = 15;
  int election_timeout_max_ticks = 30;  // exclusive upper bound of the random draw is max + 1
  int heartbeat_interval_ticks = 5;
  bool pre_vote = true;
  bool check_quorum = true;
  // Flow control per follower: pipelined AppendEntries not yet acknowledged are capped in
  // messages, entries and payload bytes (whichever is reached first pauses the follower). An
  // AppendEntries never carries more entries than the entry cap has room for, so at most
  // max_inflight_entries entries are ever in flight to one follower.
  std::uint32_t max_inflight_messages = 256;
  std::uint64_t max_inflight_entries = 64ull << 10;
  std::uint64_t max_inflight_bytes = 64ull << 20;
  std::uint64_t max_message_bytes = 1ull << 20;  // batching: entry bytes per AppendEntries
  // Coalescing: while this many Appends are in flight to a follower, new entries are sent only
  // once they fill an Append (max_message_bytes); otherwise they wait for the next
  // acknowledgement and leave together in one message. Fewer, larger messages cost less CPU per
  // entry; the price is at most one round trip of extra commit latency under concurrent load
  // (an entry with nothing in flight is sent at once). >= max_inflight_messages: no coalescing.
  std::uint32_t max_partial_inflight_messages = 256;
  // A learner may be promoted once its match index is within this many entries of the leader's
  // last index.
  std::uint64_t promote_max_lag_entries = 1000;
  // When set and a voter, the leader transfers leadership to it once it is caught up.
  NodeId preferred_leader = kNoNode;
  RandomSource random;  // required
  TestFaults test_faults;
};

// Soft state: what changed is what observers (role passthrough, metrics) care about.
struct SoftState {
  Role role = Role::kFollower;
  std::uint64_t term = 0;
  NodeId leader = kNoNode;

  bool operator==(const SoftState&) const = default;
};

struct Ready {
  std::vector<Message> messages;                // step 1: send now
  std::optional<Snapshot> snapshot;             // step 2a
  std::vector<Entry> entries;                   // step 2b
  std::optional<HardState> hard_state;          // step 2c
  std::vector<Message> messages_after_persist;  // step 3
  // Pass to on_persisted() after step 2 (0 when nothing new to persist but still call it).
  std::uint64_t persist_index = 0;
  std::uint64_t persist_term = 0;
  // Commit index, capped at what is locally persisted.
  std::uint64_t commit = 0;
  std::optional<SoftState> soft_state;  // set when role, term or leader changed
  // Set when the effective membership changed (appended, truncated, or installed by snapshot).
  std::optional<Membership> membership;

  bool empty() const;
};

enum class ProgressState : std::uint8_t { kProbe, kReplicate, kSnapshot };
const char* progress_state_name(ProgressState s);

struct PeerStatus {
  NodeId id = kNoNode;
  bool voter = true;
  std::uint64_t match_index = 0;
  std::uint64_t next_index = 0;
  ProgressState state = ProgressState::kProbe;
  bool recently_active = false;  // heard from within the last election timeout
  std::uint32_t inflight_messages = 0;
  std::uint64_t inflight_entries = 0;
  std::uint64_t inflight_bytes = 0;
};

struct CoreStatus {
  NodeId id = kNoNode;
  SoftState soft;
  HardState hard;
  std::uint64_t commit = 0;
  std::uint64_t first_index = 0;
  std::uint64_t last_index = 0;
  Membership membership;
  bool membership_change_pending = false;  // a config entry is appended but not yet committed
  NodeId transfer_target = kNoNode;        // leadership transfer in progress to this member
  std::uint64_t repair_until = 0;          // see InitialState::repair_until
  // Leader only (0 otherwise): index of its no-op, the first entry of its term. Once it is
  // committed, every entry of earlier terms is committed too.
  std::uint64_t term_start_index = 0;
  std::vector<PeerStatus> peers;  // leader only: every member except self
};

class RaftCore {
 public:
  // Validates the config (timeouts positive and ordered, random set, self id known) and the
  // initial state (commit <= last index, hard state term >= last log term). `storage` must
  // outlive the core.
  static Result<std::unique_ptr<RaftCore>> create(Config config, const Storage& storage,
                                                  InitialState initial);
  virtual ~RaftCore() = default;

  // One unit of logical time.
  virtual void tick() = 0;
  // Feed a message from a peer. Messages for another member, from non-members (except
  // votes/appends that a learner or a joining member legitimately receives) or malformed
  // (entries not consecutive) are rejected with kInvalidArgument and change nothing.
  virtual Status step(const Message& message) = 0;

  // Leader only. Returns the index of the (first) appended entry. Errors: kNotLeader,
  // kTransferring (leadership transfer in progress).
  virtual Result<std::uint64_t> propose(std::string data) = 0;
  virtual Result<std::uint64_t> propose_batch(std::vector<std::string> data) = 0;

  // Leadership transfer to a voter: catch it up, then send TimeoutNow. Aborts after one election
  // timeout. Errors: kNotLeader, kInvalidArgument (not a voter / self), kBusy (already
  // transferring).
  virtual Status transfer_leadership(NodeId target) = 0;

  // Membership changes, one at a time (kBusy while a config entry is uncommitted).
  // add_learner: new member, replicated to, not counted. promote: learner -> voter, refused with
  // kBusy while its lag exceeds Config::promote_max_lag_entries. remove_member: voter or learner;
  // a leader that removes itself steps down once the change commits. Removing the last voter is
  // refused. Leader only (kNotLeader).
  virtual Status add_learner(NodeId id, std::string address) = 0;
  virtual Status promote(NodeId id) = 0;
  virtual Status remove_member(NodeId id) = 0;

  // Start an election now (tests, operator-forced). Ignored by leaders and non-voters.
  virtual void campaign() = 0;

  // Output.
  virtual bool has_ready() const = 0;
  virtual Ready ready() = 0;
  // Entries up to `index` with term `term` are durable (and the Ready's hard state/snapshot).
  // Stale reports (entry since overwritten) are ignored.
  virtual void on_persisted(std::uint64_t index, std::uint64_t term) = 0;
  // The caller could not deliver to `peer` (connection down): the leader stops pipelining to it
  // and probes again.
  virtual void report_unreachable(NodeId peer) = 0;

  // Queries.
  virtual SoftState soft_state() const = 0;
  virtual HardState hard_state() const = 0;
  virtual std::uint64_t commit_index() const = 0;  // may exceed what is persisted locally
  virtual std::uint64_t last_index() const = 0;    // including unpersisted entries
  virtual const Membership& membership() const = 0;
  virtual CoreStatus status() const = 0;

  // Runtime safety invariants of this member (LogCabin style), checked after every input: term
  // never decreases, at most one vote per term, commit never goes back, commit <= last index.
  // Returns the first violation seen (kInternal), if any.
  // Debug builds also abort on a violation.
  virtual Status check_invariants() const { return Status(); }
};

}  // namespace dledger::raft
