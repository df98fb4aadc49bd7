// LedgerServer: one running ledger replica. Wires the consensus core (raft/), the durable log
// (log/) with its group-commit writer, and the peer transport (transport/) together, and offers
// the DLedger API to the layers above: append(bytes) -> (index, term) once committed, and
// get(index) of committed entries.
//
// Threads:
//   consensus   one thread runs the RaftCore, the tick timer, all bookkeeping of pending
//               appends, and the peer transport's socket work (the transport runs on this
//               thread's io_context, so a received message reaches the core without a thread
//               hand-off); every other thread talks to it by posting tasks.
//   writer      the log's GroupCommitWriter appends Ready entries in order and fsyncs once per
//               batch (sync mode), sends the batch's acknowledgements (messages_after_persist)
//               itself, then reports back to the consensus thread.
//   callers     append()/get()/read()/wait_for_commit() are thread-safe.
//
// Leader append path (Raft thesis 10.2.1): the leader sends AppendEntries to followers at the
// same time as its writer persists the entries locally; it counts itself toward the quorum only
// after its own fsync (sync mode). An append completes when the entry is committed and locally
// durable; entries are never exposed by get()/read() above the commit index.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/raft/entry_batch.h"
#include "broker/ledger/raft/raft_core.h"
#include "broker/ledger/raft/types.h"
#include "broker/ledger/server/ledger_options.h"

namespace asio {
class io_context;
}

namespace dledger::ledger {

struct AppendResult {
  std::uint64_t index = 0;  // of the first entry when a batch was appended
  std::uint64_t term = 0;
};

// Extra information for kNotLeader errors (also rendered into the error message).
struct LeaderHint {
  raft::NodeId leader_id = raft::kNoNode;
  std::string leader_address;  // peer address from the membership, "" when unknown
};

using AppendCallback = std::function<void(Result<AppendResult>)>;

struct CommittedEntry {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  raft::EntryType type = raft::EntryType::kNormal;
  std::string data;
};

struct MemberView {
  raft::NodeId id = raft::kNoNode;
  std::string address;
  bool voter = true;
  std::optional<std::uint64_t> match_index;  // leader only
  std::optional<std::uint64_t> lag;          // leader only: last_index - match_index
  bool reachable = false;
};

struct LedgerStatus {
  std::string group;
  raft::NodeId self_id = raft::kNoNode;
  raft::Role role = raft::Role::kFollower;
  bool learner = false;
  std::uint64_t term = 0;
  raft::NodeId leader_id = raft::kNoNode;
  std::string leader_address;
  std::uint64_t commit_index = 0;
  std::uint64_t last_index = 0;
  std::uint64_t first_index = 0;
  // Leader only (0 otherwise): index of the first entry of its term (its no-op). When
  // commit_index reaches it, everything written under earlier leaders is committed.
  std::uint64_t term_start_index = 0;
  FlushMode flush_mode = FlushMode::kSync;
  bool membership_change_pending = false;
  raft::NodeId transfer_target = raft::kNoNode;
  std::uint64_t repair_until = 0;
  bool log_open = false;
  bool leader_alive = false;  // leading, or heard from the leader within an election timeout
  std::vector<MemberView> members;
  std::uint32_t pending_appends = 0;
  std::uint64_t disk_used_bytes = 0;
  std::uint64_t leader_changes = 0;  // since start
  std::uint64_t elections = 0;       // campaigns this member started since start
};

// Cumulative group-commit counters of this replica's disk writer (for metrics and benchmarks).
struct GroupCommitCounters {
  std::uint64_t fsyncs = 0;
  std::uint64_t batches = 0;
  std::uint64_t entries = 0;
  std::uint64_t fsync_latency_total_us = 0;
  std::vector<std::uint64_t> recent_fsync_latency_us;  // most recent samples, oldest first
};

// Application snapshot hooks (the broker stores topic and consumer-offset metadata here).
struct SnapshotHooks {
  // Called on the ledger's maintenance thread (never the consensus thread, so it may wait for
  // the application to apply up to `index`): the application's state covering every entry up
  // to `index`.
  std::function<std::string(std::uint64_t index)> save;
  // Called at start when the log begins with a snapshot, and whenever this replica installs one
  // from the leader, before entries after `index` are delivered.
  std::function<void(std::uint64_t index, const std::string& data)> load;
};

class LedgerServer {
 public:
  // Opens (or creates) the log in options.data_dir, recovers, binds the peer listener, and starts
  // the threads. Errors: bad options, corrupt metadata, address in use.
  static Result<std::unique_ptr<LedgerServer>> start(LedgerOptions options,
                                                     SnapshotHooks hooks = {});
  virtual ~LedgerServer() = default;

  // Stops all threads; pending appends fail with kStopped. Idempotent.
  virtual void stop() = 0;

  // Appends one entry (or a batch, stored as consecutive entries) and calls `done` on another
  // thread once committed, or with kNotLeader (message names the leader), kTimeout, kOverloaded
  // (more than maxPendingAppends outstanding), kDiskFull, kTransferring or kStopped.
  virtual void append(std::string data, AppendCallback done) = 0;
  virtual void append_batch(std::vector<std::string> data, AppendCallback done) = 0;
  // Blocking conveniences.
  virtual Result<AppendResult> append_sync(std::string data) = 0;

  // A committed entry. kOutOfRange above the commit index or below the first retained index.
  virtual Result<CommittedEntry> get(std::uint64_t index) = 0;
  // Committed entries from `from_index` on, at most max_bytes of payload (at least one if
  // available), their payloads in one shared buffer (raft/entry_batch.h): no allocation per
  // entry. Empty when `from_index` is 0 or above the commit index; kOutOfRange below the first
  // retained index; kCorruption for an entry whose checksum does not match.
  virtual Result<raft::EntryBatch> read(std::uint64_t from_index, std::uint64_t max_bytes) = 0;
  // Blocks until the commit index exceeds `after_index` or `timeout` passes; returns the commit
  // index (long-polling readers).
  virtual std::uint64_t wait_for_commit(std::uint64_t after_index,
                                        std::chrono::milliseconds timeout) = 0;

  // Observers run on the consensus thread; keep them short.
  using SoftStateObserver = std::function<void(const raft::SoftState&)>;
  using CommitObserver = std::function<void(std::uint64_t commit_index)>;
  virtual void on_soft_state_change(SoftStateObserver observer) = 0;
  virtual void on_commit(CommitObserver observer) = 0;

  // Leadership and membership (leader only; completes when the change commits / transfer ends).
  virtual Status transfer_leadership(raft::NodeId target, std::chrono::milliseconds timeout) = 0;
  virtual Status add_learner(raft::NodeId id, std::string address,
                             std::chrono::milliseconds timeout) = 0;
  virtual Status promote(raft::NodeId id, std::chrono::milliseconds timeout) = 0;
  virtual Status remove_member(raft::NodeId id, std::chrono::milliseconds timeout) = 0;

  // Takes a snapshot at the commit index (application bytes from SnapshotHooks::save, called on
  // a maintenance thread) and deletes whole old segments per fileReservedTime / retentionBytes,
  // never past that snapshot. Runs by itself every retentionCheckIntervalMs; kBusy while a
  // membership change is uncommitted. Returns the number of segments deleted.
  virtual Result<std::uint64_t> run_retention() = 0;

  virtual LedgerStatus status() = 0;
  virtual const LedgerOptions& options() const = 0;
  // The io_context the consensus thread runs (nullptr for implementations without one). A
  // component may run its socket work there to avoid thread hand-offs on the append path
  // (ClientServiceOptions::io_context); its handlers then run on the consensus thread and must
  // never block.
  virtual asio::io_context* consensus_context() { return nullptr; }
  // The bound peer port (from dLegerPeers).
  virtual std::uint16_t peer_port() const = 0;
  virtual GroupCommitCounters group_commit_counters() const = 0;
};

}  // namespace dledger::ledger
