// SegmentedLog: the durable Raft log of one ledger member — CRC32C-checked entries in segment
// files, an in-memory index for O(1) reads, an atomic meta file for hard state, and recovery rules
// that tell a torn tail (truncate) from corruption (quarantine + repair from peers).
//
// In memory, per segment: a u32 byte offset per entry (4 MiB per GiB of 1 KiB entries) and the
// terms run-length encoded. read(i) finds the segment by binary search over the segments (a
// handful to a few hundred), takes entry i's offset and length from the index and issues exactly
// one pread of that entry; term(i) reads no disk at all. Config entries are tracked with their
// data (kConfig entries after the snapshot; the snapshot's membership is in the meta file).
//
// ==================================== ON-DISK FORMAT ============================================
// All integers are little-endian. CRC32C is the Castagnoli CRC of broker/base/crc32c.h
// (crc32c("123456789") == 0xE3069283). Indexes and terms are unsigned 64-bit; index 0 is never
// used. Numbers in file names are zero-padded to exactly 20 decimal digits.
//
// One directory per log. It contains:
//
//   LOCK                          empty; flock'ed while the log is open (a second open of the
//                                 same directory fails with kBusy)
//   meta                          hard state, repair_until, snapshot metadata (see META FILE)
//   meta.tmp                      a meta file being written; ignored and deleted on open
//   snapshot-<index>.snap         the current snapshot (at most one is live: the one whose
//                                 index the meta file names; others are leftovers, deleted on
//                                 open)
//   snapshot.tmp                  a snapshot being written; deleted on open
//   segment-<first>-<last>.log    a CLOSED segment: entries first..last, never written again
//   segment-<first>-<last>.idx    its sealed index (see INDEX FILE); derived data
//   open-<first>.log              the OPEN segment: entries first.. appended after the last
//                                 one, then zero bytes written ahead (PREALLOCATION). At most
//                                 one, holding the highest indexes. It may hold no entries.
//   open-<first>.idx              the open segment's SIDE INDEX (see OPEN SEGMENT SIDE INDEX);
//                                 a hint, derived data. One without its open-<first>.log is an
//                                 orphan, deleted on open.
//   quarantine/                   damaged data moved aside by recovery (never read by the log)
//
// Segments hold consecutive indexes with no gaps: each segment starts at the previous segment's
// last index + 1. The first segment may start at or before snapshot index + 1 (entries at or below
// the snapshot index are logically compacted: never served, deleted with their segment). A segment
// is closed ("sealed") when the next entry would grow it past Options::segment_bytes (a single
// entry larger than that gets a segment of its own).
//
// ENTRY (segment files are a plain concatenation of entries, no file header):
//   offset size field
//        0    4 magic          0x45474C44 (the bytes "DLGE")
//        4    1 version        1
//        5    1 type           raft::EntryType: 1 normal, 2 no-op, 3 config
//        6    2 reserved       0
//        8    4 payload_bytes  length of the payload, at most 64 MiB
//       12    8 index
//       20    8 term
//       28    4 header_crc     CRC32C of bytes [0, 28)
//       32    4 crc            CRC32C of bytes [0, 32) followed by the payload
//       36    n payload        raft::Entry::data (for config entries: an encoded Membership, opaque
//                              to the log)
// The next entry starts at 36 + payload_bytes. Terms never decrease along the log.
//
// INDEX FILE (segment-<first>-<last>.idx, written once when the segment is sealed):
//   u32 magic 0x49474C44 ("DLGI"), u8 version 1, u8 0, u16 0,
//   u64 first_index, u64 last_index, u64 segment_bytes (exact size of the .log file),
//   i64 sealed_at_unix_ms, u64 entry_count (= last - first + 1), u32 term_run_count,
//   u32 config_count,
//   entry_count x u32 offset       byte offset of entry first+i in the .log (first is 0, ascending)
//   term_run_count x (u64 first_index, u64 term)   term of entries from first_index up to the next
//                                  run's first_index - 1 (the last run lasts to last_index)
//   config_count x u64 index       the kConfig entries of the segment
//   u32 crc                        CRC32C of everything before it
// An index file is valid only if its CRC matches, its range matches its file name and its
// segment_bytes equals the .log file's size. An invalid or missing index is rebuilt by scanning
// the .log (with a warning); it never causes data loss by itself.
//
// OPEN SEGMENT SIDE INDEX (open-<first>.idx): lets open() skip reading the open segment, which
// can be as large as a sealed one. A 16-byte header, then one 24-byte record per entry of the
// open segment, in index order (record k describes entry first + k):
//   header: u32 magic 0x4F474C44 ("DLGO"), u8 version 1, u8 0, u16 0, u64 first_index
//   record: u32 offset           byte offset of the entry in open-<first>.log
//           u32 payload_bytes    the entry's payload length (it ends at offset + 36 + this)
//           u64 term             the entry's term
//           u8  flags            1: a kConfig entry, 0: any other type
//           u8 0, u16 0
//           u32 crc              CRC32C of the entry's index (u64) followed by bytes [0, 20)
// Writing: records are appended (pwrite, never fsynced) by sync() AFTER the fdatasync of the
//   data they describe, so a record only ever describes a durable entry; a crash loses a suffix
//   of records or tears the last one. The file is created (truncating any old one) with the
//   first records of a segment. truncate_suffix cuts it to the kept entries and fdatasyncs it
//   BEFORE the data is truncated, so records of discarded entries can never describe the new
//   entries that take their indexes. Sealing deletes it before the rename (the .idx replaces
//   it); deleting the open segment deletes it first.
// Reading (open): the header must name `first`; the records accepted are the longest prefix in
//   which every record's CRC matches its index, flags/reserved/term are possible, offsets are
//   contiguous (record 0 at 0, record k+1 at the end of entry k), terms never decrease and every
//   entry ends within the file. The last accepted entry and every config entry are read and
//   checked in full (header, index, term, length, type, CRC); if one fails, the side index is
//   ignored. The open segment is then scanned (as in RECOVERY) only from the end of the last
//   accepted entry, or from 0 if the side index is missing, unusable, or ignored (with
//   Options::verify_on_open or a damaged_index in meta). Never an error by itself. Afterwards
//   the side index is cut to the accepted prefix and completed for the scanned tail (after an
//   fdatasync of the segment).
// Entries covered by the side index are not read at open, exactly like those of a closed
// segment: a damaged one is found by the read that needs it (RECOVERY 4).
//
// META FILE (meta):
//   u32 magic 0x4D474C44 ("DLGM"), u8 version 1, u8 0, u16 0, u32 body_length, body, u32 crc
//   (CRC32C of everything before it). body:
//   u64 term, u32 vote (0xffffffff: none), u64 repair_until, u64 snapshot_index,
//   u64 snapshot_term, membership, u8 discard_segments (0/1), u64 damaged_index.
//   membership: u32 count, count x (u32 id, u8 voter 0/1, u32 address_length, address bytes).
// The meta file is replaced atomically: write meta.tmp, fdatasync it, rename it over meta, fsync
// the directory. A damaged meta file fails open() with kCorruption (the hard state cannot be
// guessed without risking a double vote); a missing one is created by the first open of an empty
// directory and is an error if segments exist.
//
// SNAPSHOT FILE (snapshot-<index>.snap): u32 magic 0x53474C44 ("DLGS"), u8 version 1, u8 0, u16 0,
//   u64 index, u64 term, membership (as above), u64 data_length, data, u32 crc (CRC32C of all
//   before it). Written as snapshot.tmp, fdatasync, rename, directory fsync.
//
// ================================ WRITES AND CRASH SEMANTICS ===================================
// append: entries are encoded into one buffer and written with one pwrite after the open
//   segment's last entry (one per segment touched). They are durable after sync() (fdatasync of
//   the open segment, plus a directory fsync if a segment file was created or renamed since the
//   last sync). Crash mid-append: the open segment ends with a partial entry (short header, short
//   payload or bad CRC, then zeros or garbage) -> a TORN TAIL, see recovery.
// PREALLOCATION (Options::preallocate_bytes, default 1 MiB): after an append leaves fewer than
//   half of preallocate_bytes of zeros after the last entry, zeros are written (pwrite, best
//   effort) from the end of the file to preallocate_bytes past the last entry, never past
//   segment_bytes. They become durable with the next sync; appends then overwrite blocks that are
//   already allocated and written, and an fdatasync of them flushes data only (no new file size
//   or extents to journal): about 40% less latency per sync on ext4. Cost: the zeros are written
//   once more than the data. Zeros after the last entry are never an entry (magic 0) and never
//   damage (RECOVERY 3, ZERO TAIL).
// PAGE CACHE (Options::page_cache_bytes, default 0 = no limit): after each sync(), the pages of
//   segment data older than the newest page_cache_bytes of the log are dropped from the page
//   cache (File::drop_cached, posix_fadvise DONTNEED), in steps of kDropCachedStepBytes, so a
//   log keeps between page_cache_bytes and page_cache_bytes + one step of its data cached. Only
//   synced data is dropped (never the zeros written ahead), and nothing changes on disk: reads of
//   dropped data are served from the disk. A failed drop is warned about once and otherwise
//   ignored. Why: the page cache counts toward a container's memory limit, and new writes reuse
//   the freed pages instead of growing the cache (on a VM whose host reclaims free guest memory,
//   the first touch of a new page is a host fault, several times the cost of the write).
// seal (roll-over): ftruncate the zeros off (the file is then exactly its entries); fdatasync the
//   open segment; write and fdatasync the .idx; fsync dir; rename
//   open-<first>.log to segment-<first>-<last>.log; fsync dir. The next append creates
//   open-<last+1>.log. Crash before the rename: the .idx is an orphan (deleted on open) and the
//   open segment is scanned as usual. Crash after: a normal closed segment.
// truncate_suffix(from): segments starting at or after `from` are deleted, highest first (the
//   remaining files always form a prefix of the old log), then the directory is fsynced. If `from`
//   falls inside a closed segment it is first renamed back to open-<first>.log (its .idx deleted
//   after). The open segment is then ftruncated at the offset of `from` (its zeros go too) and
//   fdatasynced BEFORE any new entry is written, so stale bytes of discarded entries can never
//   reappear behind new ones. Crash at any point: the log is a prefix of the old log at least
//   `from - 1` long, or the truncated log; either is a valid state (the discarded entries were
//   never committed).
// install_snapshot (replaces the whole log): write the snapshot file; write meta with the new
//   snapshot and discard_segments = 1 (the commit point); delete every segment and older snapshot;
//   fsync dir; write meta with discard_segments = 0. Crash before the commit point: the old state;
//   after it: open() sees discard_segments = 1 and finishes the deletion.
// save_snapshot (local compaction, keeps the entries after the snapshot): write the snapshot file,
//   then meta; older snapshot files are deleted afterwards.
// retention: deletes whole closed segments, oldest first (.log, then .idx), never the open one and
//   never one holding an index above min(limit, snapshot index). A crash leaves a suffix of them.
// hard state / repair_until: a new meta file, atomically (see META FILE).
//
// ======================================== RECOVERY (open) =======================================
// 1. Read meta (damaged -> open fails). Delete meta.tmp, snapshot.tmp, stale snapshots, orphan
//    .idx files. If discard_segments is set, delete every segment and clear the flag.
// 2. Closed segments are loaded from their .idx files WITHOUT reading the .log (except the few
//    config entries listed in the index), so opening a large log costs one read per index file.
//    The open segment's entries covered by its side index are loaded the same way (see OPEN
//    SEGMENT SIDE INDEX); the rest of it (and any closed segment without a valid index, and
//    every segment at or after meta.damaged_index, and all of them with
//    Options::verify_on_open) is scanned entry by entry, checking header CRC, index continuity
//    and payload CRC.
// 3. The first bad entry found by a scan at byte X, expected index I, is classified:
//    ZERO TAIL: the segment is the open (last) one, every byte from X to the end of the file is
//      zero, and no valid side index record describes entry I. Space written ahead of the
//      entries (PREALLOCATION), or an append none of whose bytes reached the disk: the log ends
//      at I - 1, silently (no warning, no report); the zeros stay and the next append overwrites
//      them. Such a tail is read once at open, so it is bounded by kMaxPreallocateBytes.
//    TORN TAIL: the segment is the open (last) one and no valid entry header with an index >= I
//      exists anywhere after X (garbage, a partial entry, a stale entry with a lower
//      index, or a complete last entry whose payload CRC fails — a write the crash cut short),
//      and no valid side index record describes entry I (a record is written only after its
//      entry was fsynced, so such an entry is damage, not an interrupted append).
//      The file is truncated at X and a warning naming the file and offset is reported
//      (OpenReport::torn_tail).
//    CORRUPTION: anything else: a bad entry followed by a valid header with index >= I, a bad
//      entry that a valid side index record shows was synced (repair_until then covers at least
//      the last such record), a valid
//      entry at X with an index above I (entries went missing), any bad entry in a closed segment
//      or a closed segment shorter than its name, a gap or overlap between segments, a first
//      segment starting after snapshot index + 1, an open segment that is not the last one.
//      Then, in this order:
//      a. repair_until = max(repair_until, highest index the log had: the damaged index, any
//         valid header found after it, the last index of every later segment) is written to meta,
//         so a restart before the repair does not forget it;
//      b. the damaged suffix is quarantined: later segments are renamed into quarantine/, bytes
//         [X, end) of the damaged segment are copied to quarantine/<file>.from-<X> (fdatasync) and
//         the segment is truncated at X (a closed one becomes the open segment again); when X
//         is 0 the whole file is moved instead. A name already in quarantine/ gets ".1", ".2"...;
//      c. OpenReport::corruptions names file, offset, index and reason; last_index() = I - 1.
//      A crash during a-c repeats them on the next open (idempotent).
// 4. A read (read, read_range, term never reads disk) that finds a bad CRC returns kCorruption
//    naming file, offset and index, never serves that entry or any later one, and records
//    damaged_index in meta (at the next sync()) so the next open verifies from there and
//    quarantines as in 3.
//
// ========================================= CONCURRENCY ==========================================
// Mutations (append, truncate_suffix, snapshots, retention, hard state, sync) are serialized by an
// internal writer mutex and normally come from one writer thread (GroupCommitWriter). Reads of
// indexes <= last_index() are safe from other threads concurrently with appends past them: the
// in-memory index is published under a shared mutex only after the bytes are written, and a read
// holds the shared mutex while it reads the file.
//
// ========================================== FAILURES ============================================
// ENOSPC/EDQUOT -> ErrorCode::kDiskFull; other I/O errors -> kIo; both name the file. A failed
// append rolls the log back to its state before the call (nothing half-appended stays visible) and
// the log stays usable: retry after freeing space. A failed fdatasync/fsync, or a failed clean-up
// that leaves disk and memory disagreeing, puts the log in a failed state: every later mutation
// returns the original error until the log is reopened (the page cache can no longer be trusted).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/log/file_io.h"
#include "broker/ledger/log/log_format.h"
#include "broker/ledger/raft/entry_batch.h"
#include "broker/ledger/raft/storage.h"
#include "broker/ledger/raft/types.h"

namespace dledger::log {

// Recovery reads the whole zero-filled tail of the open segment, so it is bounded.
inline constexpr std::uint64_t kMaxPreallocateBytes = 64ull << 20;
// PAGE CACHE drops at least this much at once (one posix_fadvise per MiB of log written).
inline constexpr std::uint64_t kDropCachedStepBytes = 1ull << 20;

struct Options {
  std::string dir;                           // created if missing (its parent must exist)
  std::uint64_t segment_bytes = 1ull << 30;  // 1 GiB (as DLedger); between 1 KiB and 2 GiB
  // Zero-filled space kept written ahead of the open segment's last entry (0: none). An
  // fdatasync after an append into space that is already written and synced flushes only data
  // blocks; an append that grows the file also makes the file system commit the new size and
  // extents (a journal commit), which costs about twice the CPU and latency per sync on ext4.
  // The zeros are written in steps of this size, once the space left falls below half of it,
  // never past segment_bytes; sealing a segment cuts them off. Recovery reads them (to tell them
  // from entries appended after the last sync), hence the bound kMaxPreallocateBytes.
  std::uint64_t preallocate_bytes = 1ull << 20;
  // The newest bytes of log data to keep in the operating system's page cache (0: no limit, the
  // kernel decides). See PAGE CACHE.
  std::uint64_t page_cache_bytes = 0;
  std::shared_ptr<FileIo> io = default_file_io();
  // Scan every closed segment at open instead of trusting the .idx files (slow; for fsck-style
  // verification).
  bool verify_on_open = false;
  // Receives each recovery warning (also returned in OpenReport). Default: stderr.
  std::function<void(const std::string&)> on_warning;
  // Wall clock for segment ages (retention). Default: system clock.
  std::function<std::int64_t()> now_unix_ms;
};

struct TornTail {
  std::string file;
  std::uint64_t offset = 0;  // where the file was truncated
  std::uint64_t bytes_discarded = 0;
};

struct CorruptionReport {
  std::string file;
  std::uint64_t offset = 0;
  std::uint64_t index = 0;  // first index not served
  std::string reason;
  std::vector<std::string> quarantined;  // paths of what was moved/copied into quarantine/
};

struct OpenReport {
  std::vector<std::string> warnings;
  std::optional<TornTail> torn_tail;
  std::vector<CorruptionReport> corruptions;
  std::uint64_t repair_until = 0;             // as persisted after recovery (0: healthy)
  std::uint64_t closed_segments_scanned = 0;  // segments read entry by entry (not via .idx)
  // Bytes of the open segment read by the entry-by-entry scan: the tail its side index does not
  // cover (the whole file without a usable side index). 0 when the side index covers all of it.
  std::uint64_t open_segment_bytes_scanned = 0;
  // Entries of the open segment taken from its side index (not read at open, like sealed ones).
  std::uint64_t open_segment_entries_indexed = 0;
  // Why the open segment's side index was not used (empty: used, or there is none).
  std::string open_index_rejected;
};

class SegmentedLog;
struct OpenResult {
  std::unique_ptr<SegmentedLog> log;
  OpenReport report;
};

struct RetentionPolicy {
  std::int64_t max_age_ms = 0;        // delete closed segments sealed longer ago (0: no age limit)
  std::uint64_t max_total_bytes = 0;  // delete oldest while the log is bigger (0: no size limit)
};

struct RetentionResult {
  std::uint64_t segments_deleted = 0;
  std::uint64_t bytes_deleted = 0;
};

// A kConfig entry still in the log (after the snapshot): its index and undecoded data.
struct RawConfigEntry {
  std::uint64_t index = 0;
  std::string data;
  bool operator==(const RawConfigEntry&) const = default;
};

class SegmentedLog : public raft::Storage {
 public:
  // Opens (creating if needed) the log in options.dir and recovers it (see RECOVERY). Fails with
  // kInvalidArgument for bad options, kBusy if the directory is already open, kCorruption for a
  // damaged meta file or missing snapshot, kIo / kDiskFull when recovery cannot write.
  static Result<OpenResult> open(Options options);
  ~SegmentedLog() override;
  SegmentedLog(const SegmentedLog&) = delete;
  SegmentedLog& operator=(const SegmentedLog&) = delete;

  // ---- raft::Storage (thread-safe) ----
  std::uint64_t first_index() const override;
  std::uint64_t last_index() const override;
  raft::SnapshotMeta snapshot_meta() const override;
  Result<std::uint64_t> term(std::uint64_t index) const override;
  Result<std::vector<raft::Entry>> entries(std::uint64_t lo, std::uint64_t hi,
                                           std::uint64_t max_bytes) const override;
  Result<raft::Snapshot> snapshot() const override;

  // One entry: a single pread of exactly its bytes. kOutOfRange outside
  // [first_index(), last_index()], kCorruption (naming file, offset, index) on a bad checksum.
  Result<raft::Entry> read(std::uint64_t index) const;
  // Same as entries(): [lo, hi), at least one entry, at most max_bytes of payload otherwise;
  // one pread per segment touched.
  Result<std::vector<raft::Entry>> read_range(std::uint64_t lo, std::uint64_t hi,
                                              std::uint64_t max_bytes) const;
  // The same entries, checked the same way, with their payloads in one shared buffer (no
  // allocation per entry; raft/entry_batch.h).
  Result<raft::EntryBatch> read_batch(std::uint64_t lo, std::uint64_t hi,
                                      std::uint64_t max_bytes) const;
  std::uint64_t last_term() const;
  raft::HardState hard_state() const;
  std::uint64_t repair_until() const;
  // Smallest index a read found damaged since open (0: none; RECOVERY 4). Any thread.
  std::uint64_t damaged_from() const { return damaged_from_.load(); }
  // kConfig entries after the snapshot, in index order (decode with raft::decode_membership).
  std::vector<RawConfigEntry> config_entries() const;
  std::size_t segment_count() const;
  std::uint64_t total_bytes() const;  // bytes of all segment files
  const std::string& dir() const { return options_.dir; }

  // ---- Mutations (serialized internally; durable only after sync()) ----

  // Appends entries with consecutive indexes starting at last_index() + 1 and non-decreasing
  // terms >= last_term(). kInvalidArgument otherwise (truncate first to overwrite). On error the
  // log is unchanged.
  Status append(const std::vector<raft::Entry>& entries);
  // Discards entries >= from_index (from_index in (snapshot index, last_index() + 1]); durable on
  // return (see truncate_suffix in the format comment).
  Status truncate_suffix(std::uint64_t from_index);
  // Discards entries >= entries.front().index that exist, then appends (raft Ready step 2b).
  Status truncate_and_append(const std::vector<raft::Entry>& entries);
  // Replaces the whole log with the snapshot (raft Ready step 2a): afterwards first_index() ==
  // last_index() + 1 == snapshot.meta.index + 1. Durable on return. kInvalidArgument if older than
  // the current snapshot.
  Status install_snapshot(const raft::Snapshot& snapshot);
  // Records a snapshot of the local state machine at meta.index (<= last_index(), with the log's
  // term there) and keeps the entries after it. Durable on return.
  Status save_snapshot(const raft::Snapshot& snapshot);
  // Atomically persists term and vote (durable on return).
  Status set_hard_state(const raft::HardState& hard_state);
  // Persists repair_until (0: repaired). Durable on return.
  Status set_repair_until(std::uint64_t index);
  // Deletes whole closed segments per `policy`, never one holding an index above
  // min(limit_index, snapshot index), never the open segment.
  Result<RetentionResult> apply_retention(const RetentionPolicy& policy, std::uint64_t limit_index);
  // Makes everything appended so far durable: fdatasync of the open segment, fsync of the
  // directory if files were created or renamed.
  Status sync();
  // Appends not yet made durable by sync()?
  bool has_unsynced_data() const;

 private:
  struct Segment {
    std::uint64_t first_index = 0;
    std::vector<std::uint32_t> offsets;      // byte offset of entry first_index + i
    std::vector<format::TermRun> term_runs;  // terms of the entries, run-length encoded
    std::uint64_t end_offset = 0;            // bytes of valid entries
    // Size of the file: end_offset plus the zero-filled space written ahead of it (open segment
    // only; a closed segment's file is exactly end_offset bytes). Used by writers only (under
    // write_mu_; readers never look at it).
    std::uint64_t file_bytes = 0;
    // Bytes [0, uncached_to) of the file were dropped from the page cache (PAGE CACHE). Writers
    // only, like file_bytes.
    std::uint64_t uncached_to = 0;
    bool closed = false;
    std::int64_t sealed_at_unix_ms = 0;
    std::string name;
    std::shared_ptr<File> file;

    std::uint64_t count() const { return offsets.size(); }
    std::uint64_t last_index() const { return first_index + offsets.size() - 1; }
    std::uint64_t term_at(std::uint64_t index) const;
    std::uint64_t entry_end(std::size_t i) const {
      return i + 1 < offsets.size() ? offsets[i + 1] : end_offset;
    }
  };
  struct ScanResult;
  class Opener;

  explicit SegmentedLog(Options options);

  std::string path(const std::string& name) const { return options_.dir + "/" + name; }
  void warn(const std::string& message);
  // Requires state_mu_ held (shared or unique). nullptr if no segment holds `index`.
  const Segment* find_segment(std::uint64_t index) const;
  // Requires write_mu_. After entries were written up to `data_end` of the open segment, makes
  // sure Options::preallocate_bytes / 2 or more zero-filled bytes follow them (see Options).
  void preallocate_locked(Segment& open, std::uint64_t data_end);
  Result<raft::EntryBatch> read_batch_locked(std::uint64_t lo, std::uint64_t hi,
                                             std::uint64_t max_bytes) const;
  Result<std::vector<raft::Entry>> read_range_locked(std::uint64_t lo, std::uint64_t hi,
                                                     std::uint64_t max_bytes) const;
  Error read_corruption(const Segment& segment, std::uint64_t offset, std::uint64_t index,
                        const std::string& reason) const;

  // Everything below requires write_mu_.
  Status check_writable() const;
  Status fail(const Error& error);  // enters the failed state
  Status append_locked(const std::vector<raft::Entry>& entries);
  Status truncate_suffix_locked(std::uint64_t from_index);
  Status ensure_open_segment_locked();
  Status seal_open_segment_locked();
  Status write_meta_locked(const format::Meta& meta);
  Status write_snapshot_file_locked(const raft::Snapshot& snapshot);
  Status remove_segment_files_locked(const Segment& segment);
  // The open segment's side index (see OPEN SEGMENT SIDE INDEX). Requires the data it describes
  // to be durable: appends the records of the open segment's entries not yet recorded. A failure
  // is returned but leaves the side index consistent (a hint: callers may ignore it).
  Status write_open_index_locked();
  // Cuts the side index to its first `keep` records and fdatasyncs it.
  Status truncate_open_index_locked(std::uint64_t keep);
  // Deletes the side index file (if this log created or adopted one).
  Status remove_open_index_locked();
  void remove_stale_snapshots_locked(std::uint64_t keep_index);
  Status sync_locked();
  // PAGE CACHE: drops the cached pages of synced data older than Options::page_cache_bytes.
  void drop_cached_behind_locked();

  Options options_;
  std::unique_ptr<File> lock_file_;  // holds the directory lock while the log is open
  mutable std::mutex write_mu_;
  mutable std::shared_mutex state_mu_;  // guards everything below (writers also hold write_mu_)
  std::deque<Segment> segments_;
  format::Meta meta_;
  std::uint64_t last_index_ = 0;
  std::vector<RawConfigEntry> configs_;
  bool unsynced_ = false;
  bool dir_dirty_ = false;
  std::optional<Error> failed_;
  // The open segment's side index file while it exists (open_index_name_ names it) and the
  // number of records in it that describe durable entries of segments_.back().
  std::unique_ptr<File> open_index_;
  std::string open_index_name_;
  std::uint64_t open_index_records_ = 0;
  bool open_index_write_failed_ = false;  // warned once already
  bool drop_cached_failed_ = false;       // warned once already
  std::string zeros_;                     // preallocate_locked's source of zeros (writers only)
  // Smallest index a read found damaged (0: none); reads at or after it fail. Persisted as
  // meta.damaged_index by the next sync().
  mutable std::atomic<std::uint64_t> damaged_from_{0};
};

}  // namespace dledger::log
