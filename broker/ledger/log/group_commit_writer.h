// GroupCommitWriter: the disk thread of a ledger member. It takes persist requests (snapshot
// install, truncate, append, hard state — the step-2 work of raft Ready batches) in submission
// order, applies a whole batch of them to the SegmentedLog, issues ONE fsync for the batch, and
// then completes the callbacks in order.
//
//   submit(r1) submit(r2) submit(r3) ...             (any threads)
//        │         │         │
//        ▼         ▼         ▼
//   [queue] ──► writer thread: apply r1, r2, r3 (one pwrite per segment) ─► sync() ─► cb(r1),
//                                                                                   cb(r2), cb(r3)
//
// Flush modes:
//   kSync  (default): a callback runs only after the fsync covering its request. An acknowledged
//          entry survives any crash, including every replica losing power at once.
//   kAsync: callbacks run right after the write (page cache); a background fsync runs every
//          async_flush_interval_ms (DLedger's behaviour, 10 ms there). Faster, but if a majority
//          of replicas loses power within that window, entries they acknowledged are LOST and the
//          group may elect a leader without them. Hard state (term/vote) and snapshots are always
//          written durably before their callback, in both modes.
//
// Callback arguments: the request's status, then the log's last index and its term right after
// the request was applied (durable in kSync mode; written in kAsync mode). On failure they are
// the log's current last index and term.
//
// Errors: a failed request fails only its own callback (later requests in the batch are still
// applied and may fail too, e.g. an append that no longer follows the log). A failed fsync fails
// every request of the batch and leaves the log in its failed state (see segmented_log.h).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/log/segmented_log.h"
#include "broker/ledger/raft/types.h"

namespace dledger::log {

enum class FlushMode : std::uint8_t { kSync, kAsync };

struct GroupCommitOptions {
  FlushMode flush_mode = FlushMode::kSync;
  std::uint32_t async_flush_interval_ms = 10;
  // Most requests applied before one fsync (bounds callback latency under heavy load).
  std::size_t max_batch_requests = 4096;
  // How many recent fsync latency / batch size samples stats() keeps.
  std::size_t stats_samples = 1024;
};

// One unit of persistence, applied in this order (raft_core.h persistence contract step 2).
struct PersistRequest {
  std::optional<raft::Snapshot> snapshot;      // replaces the whole log
  std::optional<std::uint64_t> truncate_from;  // discard entries >= this index
  std::vector<raft::Entry> entries;            // discards entries >= entries.front().index, appends
  std::optional<raft::HardState> hard_state;
  bool force_sync = false;  // fsync even in kAsync mode before the callback
};

using PersistCallback =
    std::function<void(const Status& status, std::uint64_t last_index, std::uint64_t last_term)>;

// Counters for metrics export. Samples are the most recent ones, oldest first.
struct GroupCommitStats {
  std::uint64_t requests = 0;
  std::uint64_t entries = 0;
  std::uint64_t batches = 0;
  std::uint64_t fsyncs = 0;
  std::uint64_t failed_requests = 0;
  std::uint64_t fsync_latency_total_us = 0;
  std::vector<std::uint64_t> fsync_latency_samples_us;
  std::vector<std::uint64_t> batch_entries_samples;  // entries applied per batch
};

class GroupCommitWriter {
 public:
  // `log` must outlive the writer. Starts the thread.
  GroupCommitWriter(SegmentedLog* log, GroupCommitOptions options = {});
  // stop(), then joins.
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  // Queues a request; `done` runs later on the writer thread. After stop(), `done` runs
  // immediately with kStopped.
  void submit(PersistRequest request, PersistCallback done);
  void submit_append(std::vector<raft::Entry> entries, PersistCallback done);
  void submit_truncate(std::uint64_t from_index, PersistCallback done);
  void submit_snapshot(raft::Snapshot snapshot, PersistCallback done);

  // Blocks until everything submitted before the call is applied and fsynced (both modes).
  // Never call it from a callback (callbacks run on the writer thread: it would wait for itself).
  Status flush();
  // Applies and fsyncs everything queued, completes the callbacks, and ends the thread.
  void stop();

  GroupCommitStats stats() const;

 private:
  struct Pending {
    PersistRequest request;
    PersistCallback done;
  };

  void run();
  static bool is_plain_append(const PersistRequest& request);
  Status apply(const PersistRequest& request);
  Status sync_and_measure();

  SegmentedLog* log_;
  GroupCommitOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  GroupCommitStats stats_;
  std::thread thread_;
};

}  // namespace dledger::log
