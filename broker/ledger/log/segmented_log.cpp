// Reads and mutations of SegmentedLog. Opening and recovery live in log_recovery.cpp.
#include "broker/ledger/log/segmented_log.h"

#include <algorithm>
#include <cstdio>

namespace dledger::log {

namespace {

bool valid_type(raft::EntryType t) {
  return t == raft::EntryType::kNormal || t == raft::EntryType::kNoOp ||
         t == raft::EntryType::kConfig;
}

}  // namespace

SegmentedLog::SegmentedLog(Options options) : options_(std::move(options)) {}

SegmentedLog::~SegmentedLog() {
  // Best effort: persist a damage marker found by a read, so the next open verifies that region.
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!failed_ && damaged_from_.load() != 0 && damaged_from_.load() != meta_.damaged_index) {
    format::Meta meta = meta_;
    meta.damaged_index = damaged_from_.load();
    (void)write_meta_locked(meta);
  }
}

std::uint64_t SegmentedLog::Segment::term_at(std::uint64_t index) const {
  auto it = std::upper_bound(
      term_runs.begin(), term_runs.end(), index,
      [](std::uint64_t i, const format::TermRun& run) { return i < run.first_index; });
  return it == term_runs.begin() ? 0 : std::prev(it)->term;
}

void SegmentedLog::warn(const std::string& message) {
  if (options_.on_warning) {
    options_.on_warning(message);
  } else {
    std::fprintf(stderr, "dledger log warning: %s\n", message.c_str());
  }
}

// ------------------------------------------------------------------------------------------------
// Reads

std::uint64_t SegmentedLog::first_index() const {
  std::shared_lock lock(state_mu_);
  return meta_.snapshot.index + 1;
}

std::uint64_t SegmentedLog::last_index() const {
  std::shared_lock lock(state_mu_);
  return last_index_;
}

raft::SnapshotMeta SegmentedLog::snapshot_meta() const {
  std::shared_lock lock(state_mu_);
  return meta_.snapshot;
}

raft::HardState SegmentedLog::hard_state() const {
  std::shared_lock lock(state_mu_);
  return meta_.hard_state;
}

std::uint64_t SegmentedLog::repair_until() const {
  std::shared_lock lock(state_mu_);
  return meta_.repair_until;
}

std::vector<RawConfigEntry> SegmentedLog::config_entries() const {
  std::shared_lock lock(state_mu_);
  return configs_;
}

std::size_t SegmentedLog::segment_count() const {
  std::shared_lock lock(state_mu_);
  return segments_.size();
}

std::uint64_t SegmentedLog::total_bytes() const {
  std::shared_lock lock(state_mu_);
  std::uint64_t total = 0;
  for (const Segment& s : segments_) total += s.end_offset;
  return total;
}

bool SegmentedLog::has_unsynced_data() const {
  std::lock_guard<std::mutex> lock(write_mu_);
  return unsynced_ || dir_dirty_;
}

const SegmentedLog::Segment* SegmentedLog::find_segment(std::uint64_t index) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), index,
                             [](std::uint64_t i, const Segment& s) { return i < s.first_index; });
  if (it == segments_.begin()) return nullptr;
  const Segment& s = *std::prev(it);
  if (s.count() == 0 || index > s.last_index()) return nullptr;
  return &s;
}

std::uint64_t SegmentedLog::last_term() const {
  std::shared_lock lock(state_mu_);
  if (last_index_ == meta_.snapshot.index) return meta_.snapshot.term;
  const Segment* s = find_segment(last_index_);
  return s == nullptr ? 0 : s->term_at(last_index_);
}

Result<std::uint64_t> SegmentedLog::term(std::uint64_t index) const {
  std::shared_lock lock(state_mu_);
  if (index == meta_.snapshot.index) return meta_.snapshot.term;
  if (index < meta_.snapshot.index || index > last_index_) {
    return make_error(ErrorCode::kOutOfRange, "term(" + std::to_string(index) + "): log holds [" +
                                                  std::to_string(meta_.snapshot.index) + ", " +
                                                  std::to_string(last_index_) + "]");
  }
  const Segment* s = find_segment(index);
  if (s == nullptr) {
    return make_error(ErrorCode::kInternal, "index " + std::to_string(index) + " not indexed");
  }
  return s->term_at(index);
}

Error SegmentedLog::read_corruption(const Segment& segment, std::uint64_t offset,
                                    std::uint64_t index, const std::string& reason) const {
  std::uint64_t prev = damaged_from_.load();
  while ((prev == 0 || index < prev) && !damaged_from_.compare_exchange_weak(prev, index)) {
  }
  return make_error(ErrorCode::kCorruption,
                    path(segment.name) + ": entry " + std::to_string(index) + " at offset " +
                        std::to_string(offset) + ": " + reason +
                        " (the log serves nothing from this index on; reopen to quarantine it)");
}

Result<raft::Entry> SegmentedLog::read(std::uint64_t index) const {
  auto r = read_range(index, index + 1, 0);
  if (!r) return r.error();
  return std::move(r.value().front());
}

Result<std::vector<raft::Entry>> SegmentedLog::entries(std::uint64_t lo, std::uint64_t hi,
                                                       std::uint64_t max_bytes) const {
  return read_range(lo, hi, max_bytes);
}

Result<std::vector<raft::Entry>> SegmentedLog::read_range(std::uint64_t lo, std::uint64_t hi,
                                                          std::uint64_t max_bytes) const {
  std::shared_lock lock(state_mu_);
  return read_range_locked(lo, hi, max_bytes);
}

Result<std::vector<raft::Entry>> SegmentedLog::read_range_locked(std::uint64_t lo, std::uint64_t hi,
                                                                 std::uint64_t max_bytes) const {
  auto batch = read_batch_locked(lo, hi, max_bytes);
  if (!batch.ok()) return batch.error();
  std::vector<raft::Entry> out;
  out.reserve(batch->size());
  for (std::size_t i = 0; i < batch->size(); ++i) {
    raft::EntryBatch::View v = (*batch)[i];
    out.push_back(raft::Entry{v.index, v.term, v.type, std::string(v.data)});
  }
  return out;
}

Result<raft::EntryBatch> SegmentedLog::read_batch(std::uint64_t lo, std::uint64_t hi,
                                                  std::uint64_t max_bytes) const {
  std::shared_lock lock(state_mu_);
  return read_batch_locked(lo, hi, max_bytes);
}

Result<raft::EntryBatch> SegmentedLog::read_batch_locked(std::uint64_t lo, std::uint64_t hi,
                                                         std::uint64_t max_bytes) const {
  if (lo <= meta_.snapshot.index || hi > last_index_ + 1 || lo >= hi) {
    return make_error(ErrorCode::kOutOfRange, "entries [" + std::to_string(lo) + ", " +
                                                  std::to_string(hi) + "): log holds [" +
                                                  std::to_string(meta_.snapshot.index + 1) + ", " +
                                                  std::to_string(last_index_) + "]");
  }
  std::uint64_t damaged = damaged_from_.load();
  if (damaged != 0 && hi > damaged) {
    if (lo >= damaged) {
      return make_error(ErrorCode::kCorruption, options_.dir + ": entry " + std::to_string(lo) +
                                                    " is at or after damaged index " +
                                                    std::to_string(damaged) +
                                                    " (reopen the log to quarantine the damage)");
    }
    hi = damaged;
  }
  raft::EntryBatch out;
  std::string& buf = out.buffer();
  std::uint64_t payload_total = 0;
  std::uint64_t index = lo;
  while (index < hi) {
    const Segment* s = find_segment(index);
    if (s == nullptr) {
      return make_error(ErrorCode::kInternal, "index " + std::to_string(index) + " not indexed");
    }
    // Entries of this segment within [index, hi) and the byte budget: one pread for all of them.
    std::size_t first_slot = index - s->first_index;
    std::size_t slot = first_slot;
    std::uint64_t seg_hi = std::min<std::uint64_t>(hi, s->last_index() + 1);
    bool budget_hit = false;
    while (index + (slot - first_slot) < seg_hi) {
      std::uint64_t bytes = s->entry_end(slot) - s->offsets[slot] - format::kEntryHeaderBytes;
      if (!out.empty() || slot > first_slot) {
        if (payload_total + bytes > max_bytes) {
          budget_hit = true;
          break;
        }
      }
      payload_total += bytes;
      ++slot;
    }
    if (slot == first_slot) break;  // budget exhausted at a segment boundary
    std::uint64_t begin = s->offsets[first_slot];
    std::uint64_t end = s->entry_end(slot - 1);
    // Segments' bytes follow each other in the buffer; `base` is where this segment's start.
    const std::size_t base = buf.size();
    buf.resize(base + (end - begin));
    auto n = s->file->read_at(begin, buf.data() + base, end - begin);
    if (!n) return n.error();
    if (*n != end - begin) {
      return read_corruption(*s, begin + *n, index + 0,
                             "file shorter than indexed (" + std::to_string(begin + *n) +
                                 " bytes, expected at least " + std::to_string(end) + ")");
    }
    for (std::size_t i = first_slot; i < slot; ++i) {
      std::uint64_t entry_index = s->first_index + i;
      std::uint64_t off = base + (s->offsets[i] - begin);
      std::uint64_t len = s->entry_end(i) - s->offsets[i];
      std::string_view bytes(buf.data() + off, len);
      format::EntryHeader h;
      format::HeaderCheck check = format::decode_entry_header(bytes, &h);
      if (check != format::HeaderCheck::kOk) {
        return read_corruption(*s, s->offsets[i], entry_index, format::header_check_name(check));
      }
      if (h.index != entry_index || h.payload_bytes + format::kEntryHeaderBytes != len) {
        return read_corruption(*s, s->offsets[i], entry_index,
                               "header says index " + std::to_string(h.index) + ", " +
                                   std::to_string(h.payload_bytes) + " payload bytes");
      }
      if (!format::entry_crc_ok(bytes, h)) {
        return read_corruption(*s, s->offsets[i], entry_index, "payload checksum mismatch");
      }
      out.add_in_buffer(h.index, h.term, static_cast<raft::EntryType>(h.type),
                        off + format::kEntryHeaderBytes, h.payload_bytes);
    }
    index = s->first_index + slot;
    if (budget_hit) break;
  }
  return out;
}

Result<raft::Snapshot> SegmentedLog::snapshot() const {
  std::uint64_t index;
  {
    std::shared_lock lock(state_mu_);
    index = meta_.snapshot.index;
  }
  if (index == 0) return make_error(ErrorCode::kNotFound, options_.dir + ": no snapshot");
  std::string file_path = path(format::snapshot_name(index));
  auto file = options_.io->open(file_path, OpenMode::kRead);
  if (!file) {
    // A newer snapshot may have replaced (and deleted) this one meanwhile: read the newer one.
    std::uint64_t now_index;
    {
      std::shared_lock lock(state_mu_);
      now_index = meta_.snapshot.index;
    }
    if (now_index != index) return snapshot();
    return file.error();
  }
  auto size = file.value()->size();
  if (!size) return size.error();
  std::string bytes(*size, '\0');
  auto n = file.value()->read_at(0, bytes.data(), bytes.size());
  if (!n) return n.error();
  bytes.resize(*n);
  auto snap = format::decode_snapshot(bytes, file_path);
  if (!snap) return snap.error();
  if (snap->meta.index != index) {
    return make_error(ErrorCode::kCorruption,
                      file_path + ": holds index " + std::to_string(snap->meta.index));
  }
  return snap;
}

// ------------------------------------------------------------------------------------------------
// Mutations

Status SegmentedLog::check_writable() const {
  if (failed_) {
    return make_error(
        failed_->code,
        "log " + options_.dir + " failed earlier and must be reopened: " + failed_->message);
  }
  return Status();
}

Status SegmentedLog::fail(const Error& error) {
  if (!failed_) failed_ = error;
  return error;
}

Status SegmentedLog::append(const std::vector<raft::Entry>& entries) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return append_locked(entries);
}

Status SegmentedLog::truncate_and_append(const std::vector<raft::Entry>& entries) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (entries.empty()) return Status();
  if (entries.front().index <= last_index_) {
    if (Status s = truncate_suffix_locked(entries.front().index); !s) return s;
  }
  return append_locked(entries);
}

Status SegmentedLog::append_locked(const std::vector<raft::Entry>& entries) {
  if (Status s = check_writable(); !s) return s;
  if (entries.empty()) return Status();
  // Validate everything before writing anything.
  std::uint64_t prev_term = 0;
  {
    std::uint64_t li = last_index_;
    if (li == meta_.snapshot.index) {
      prev_term = meta_.snapshot.term;
    } else if (const Segment* s = find_segment(li)) {
      prev_term = s->term_at(li);
    }
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const raft::Entry& e = entries[i];
    if (e.index != last_index_ + 1 + i) {
      return invalid_argument("append to " + options_.dir + ": entry " + std::to_string(i) +
                              " has index " + std::to_string(e.index) + ", expected " +
                              std::to_string(last_index_ + 1 + i) +
                              " (truncate first to overwrite)");
    }
    if (e.term < prev_term || e.term == 0) {
      return invalid_argument("append to " + options_.dir + ": entry " + std::to_string(e.index) +
                              " has term " + std::to_string(e.term) + " below the previous term " +
                              std::to_string(prev_term) + " (or zero)");
    }
    if (!valid_type(e.type)) {
      return invalid_argument("append to " + options_.dir + ": entry " + std::to_string(e.index) +
                              " has unknown type " + std::to_string(static_cast<int>(e.type)));
    }
    if (e.data.size() > format::kMaxEntryPayloadBytes) {
      return invalid_argument("append to " + options_.dir + ": entry " + std::to_string(e.index) +
                              " has " + std::to_string(e.data.size()) +
                              " bytes, more than the maximum " +
                              std::to_string(format::kMaxEntryPayloadBytes));
    }
    prev_term = e.term;
  }

  const std::uint64_t first_new = entries.front().index;
  std::string buf;
  {
    std::uint64_t total = 0;
    for (const raft::Entry& e : entries) total += format::kEntryHeaderBytes + e.data.size();
    buf.reserve(static_cast<std::size_t>(std::min(total, options_.segment_bytes)));
  }
  struct Pending {
    std::uint64_t offset;
    const raft::Entry* entry;
  };
  std::vector<Pending> pending;

  // Writes `buf` at the end of the open segment and publishes `pending` in the index.
  auto flush = [&]() -> Status {
    if (pending.empty()) return Status();
    Segment& open = segments_.back();
    if (Status s = open.file->write_at(open.end_offset, buf); !s) {
      // Drop any partially written bytes so a later append does not sit in front of them.
      if (Status t = open.file->truncate(open.end_offset); !t) (void)fail(t.error());
      open.file_bytes = open.end_offset;
      return s;
    }
    preallocate_locked(open, open.end_offset + buf.size());
    std::unique_lock state(state_mu_);
    for (const Pending& p : pending) {
      const raft::Entry& e = *p.entry;
      if (open.term_runs.empty() || open.term_runs.back().term != e.term) {
        open.term_runs.push_back(format::TermRun{e.index, e.term});
      }
      open.offsets.push_back(static_cast<std::uint32_t>(p.offset));
      if (e.type == raft::EntryType::kConfig) configs_.push_back(RawConfigEntry{e.index, e.data});
    }
    open.end_offset += buf.size();
    last_index_ = pending.back().entry->index;
    unsynced_ = true;
    buf.clear();
    pending.clear();
    return Status();
  };

  auto rollback = [&](const Status& error) -> Status {
    if (last_index_ >= first_new) {
      if (Status s = truncate_suffix_locked(first_new); !s) (void)fail(s.error());
    }
    return error;
  };

  if (Status s = ensure_open_segment_locked(); !s) return s;
  for (const raft::Entry& e : entries) {
    std::uint64_t size = format::kEntryHeaderBytes + e.data.size();
    Segment& open = segments_.back();
    bool non_empty = open.count() > 0 || !pending.empty();
    if (non_empty && open.end_offset + buf.size() + size > options_.segment_bytes) {
      if (Status s = flush(); !s) return rollback(s);
      if (Status s = seal_open_segment_locked(); !s) return rollback(s);
      if (Status s = ensure_open_segment_locked(); !s) return rollback(s);
    }
    pending.push_back(Pending{segments_.back().end_offset + buf.size(), &e});
    format::encode_entry(e, &buf);
  }
  if (Status s = flush(); !s) return rollback(s);
  return Status();
}

Status SegmentedLog::ensure_open_segment_locked() {
  if (!segments_.empty() && !segments_.back().closed) return Status();
  Segment seg;
  seg.first_index = last_index_ + 1;
  seg.name = format::open_segment_name(seg.first_index);
  auto file = options_.io->open(path(seg.name), OpenMode::kCreateNew);
  if (!file) return file.error();
  seg.file = std::shared_ptr<File>(std::move(file).value());
  dir_dirty_ = true;
  std::unique_lock state(state_mu_);
  segments_.push_back(std::move(seg));
  return Status();
}

void SegmentedLog::preallocate_locked(Segment& open, std::uint64_t data_end) {
  const std::uint64_t step = options_.preallocate_bytes;
  open.file_bytes = std::max(open.file_bytes, data_end);
  // The segment is sealed (and cut to its entries) before it grows past segment_bytes.
  const std::uint64_t limit = options_.segment_bytes;
  if (step == 0 || data_end >= limit) return;
  if (open.file_bytes >= std::min(data_end + step / 2, limit)) return;
  // Zeros from the end of the file (never over entries) to one step past the data. Best effort:
  // a failure (a full disk) costs only speed, so the append that triggered it still succeeds;
  // a partial write leaves zeros, which recovery treats like any other zero-filled tail.
  if (zeros_.empty()) {
    zeros_.assign(static_cast<std::size_t>(std::min<std::uint64_t>(step, 1u << 20)), '\0');
  }
  const std::uint64_t target = std::min(data_end + step, limit);
  for (std::uint64_t at = open.file_bytes; at < target;) {
    const std::uint64_t n = std::min<std::uint64_t>(target - at, zeros_.size());
    if (Status s = open.file->write_at(at, std::string_view(zeros_.data(), n)); !s) return;
    at += n;
    open.file_bytes = at;
  }
}

Status SegmentedLog::seal_open_segment_locked() {
  Segment& seg = segments_.back();
  if (seg.closed || seg.count() == 0) return Status();
  if (seg.file_bytes > seg.end_offset) {
    // A closed segment is exactly its entries (its .idx records the size): drop the zeros.
    if (Status s = seg.file->truncate(seg.end_offset); !s) return fail(s.error());
    seg.file_bytes = seg.end_offset;
  }
  if (Status s = seg.file->sync(); !s) return fail(s.error());
  format::SegmentIndex idx;
  idx.first_index = seg.first_index;
  idx.last_index = seg.last_index();
  idx.segment_bytes = seg.end_offset;
  idx.sealed_at_unix_ms = options_.now_unix_ms();
  idx.offsets = seg.offsets;
  idx.term_runs = seg.term_runs;
  {
    std::shared_lock state(state_mu_);
    for (const RawConfigEntry& c : configs_) {
      if (c.index >= idx.first_index && c.index <= idx.last_index) {
        idx.config_indexes.push_back(c.index);
      }
    }
  }
  const std::string idx_name = format::closed_index_name(idx.first_index, idx.last_index);
  const std::string closed_name = format::closed_segment_name(idx.first_index, idx.last_index);
  auto cleanup = [&](const Status& s) {
    (void)options_.io->remove(path(idx_name));
    return s;
  };
  {
    auto file = options_.io->open(path(idx_name), OpenMode::kCreateNew);
    if (!file) return file.error();
    std::string bytes = format::encode_segment_index(idx);
    if (Status s = file.value()->write_at(0, bytes); !s) return cleanup(s);
    if (Status s = file.value()->sync(); !s) return cleanup(s);
  }
  if (Status s = options_.io->sync_dir(options_.dir); !s) return cleanup(s);
  // The .idx replaces the side index; delete it while the segment is still open so that no
  // side index ever sits beside a closed segment (truncate_suffix may reopen it later).
  if (Status s = remove_open_index_locked(); !s) return cleanup(s);
  if (Status s = options_.io->rename(path(seg.name), path(closed_name)); !s) return cleanup(s);
  {
    std::unique_lock state(state_mu_);
    seg.closed = true;
    seg.name = closed_name;
    seg.sealed_at_unix_ms = idx.sealed_at_unix_ms;
  }
  if (Status s = options_.io->sync_dir(options_.dir); !s) return fail(s.error());
  return Status();
}

Status SegmentedLog::remove_segment_files_locked(const Segment& segment) {
  if (!segment.closed && open_index_name_ == format::open_index_name(segment.first_index)) {
    // The side index first: a side index without its segment is an orphan (deleted on open).
    if (Status s = remove_open_index_locked(); !s) return s;
  }
  if (Status s = options_.io->remove(path(segment.name)); !s) return s;
  if (segment.closed) {
    (void)options_.io->remove(
        path(format::closed_index_name(segment.first_index, segment.last_index())));
  }
  return Status();
}

Status SegmentedLog::write_open_index_locked() {
  if (segments_.empty() || segments_.back().closed) return Status();
  const Segment& seg = segments_.back();
  const std::string name = format::open_index_name(seg.first_index);
  if (open_index_ && open_index_name_ != name) {
    return make_error(ErrorCode::kInternal, path(open_index_name_) + ": side index of " +
                                                "another segment is still attached");
  }
  if (seg.count() <= open_index_records_) return Status();
  if (!open_index_) {
    // kCreateNew truncates: nothing left over from an earlier file can follow the new records.
    auto file = options_.io->open(path(name), OpenMode::kCreateNew);
    if (!file) return file.error();
    open_index_ = std::move(file).value();
    open_index_name_ = name;
    open_index_records_ = 0;
  }
  std::string buf;
  buf.reserve((seg.count() - open_index_records_) * format::kOpenIndexRecordBytes +
              format::kOpenIndexHeaderBytes);
  if (open_index_records_ == 0) format::encode_open_index_header(seg.first_index, &buf);
  const std::uint64_t first_new = seg.first_index + open_index_records_;
  auto config = std::lower_bound(
      configs_.begin(), configs_.end(), first_new,
      [](const RawConfigEntry& c, std::uint64_t index) { return c.index < index; });
  auto run =
      std::upper_bound(seg.term_runs.begin(), seg.term_runs.end(), first_new,
                       [](std::uint64_t i, const format::TermRun& r) { return i < r.first_index; });
  for (std::size_t i = open_index_records_; i < seg.count(); ++i) {
    const std::uint64_t index = seg.first_index + i;
    while (run != seg.term_runs.end() && run->first_index <= index) ++run;
    format::OpenIndexRecord record;
    record.offset = seg.offsets[i];
    record.payload_bytes =
        static_cast<std::uint32_t>(seg.entry_end(i) - seg.offsets[i] - format::kEntryHeaderBytes);
    record.term = run == seg.term_runs.begin() ? 0 : std::prev(run)->term;
    while (config != configs_.end() && config->index < index) ++config;
    if (config != configs_.end() && config->index == index) {
      record.flags = format::kOpenIndexFlagConfig;
    }
    format::encode_open_index_record(index, record, &buf);
  }
  const std::uint64_t at =
      open_index_records_ == 0
          ? 0
          : format::kOpenIndexHeaderBytes + open_index_records_ * format::kOpenIndexRecordBytes;
  // A failed or partial write is retried at the same place by the next call; a partial record
  // fails its CRC, so the file never describes more than was written completely.
  if (Status s = open_index_->write_at(at, buf); !s) return s;
  open_index_records_ = seg.count();
  return Status();
}

Status SegmentedLog::truncate_open_index_locked(std::uint64_t keep) {
  if (!open_index_ || open_index_records_ <= keep) return Status();
  const std::uint64_t size =
      keep == 0 ? 0 : format::kOpenIndexHeaderBytes + keep * format::kOpenIndexRecordBytes;
  if (Status s = open_index_->truncate(size); !s) return s;
  // Durable before the data shrinks: records of discarded entries must never describe the new
  // entries that will take their indexes.
  if (Status s = open_index_->sync(); !s) return s;
  open_index_records_ = keep;
  return Status();
}

Status SegmentedLog::remove_open_index_locked() {
  if (!open_index_) return Status();
  if (Status s = options_.io->remove(path(open_index_name_)); !s) return s;
  open_index_.reset();
  open_index_name_.clear();
  open_index_records_ = 0;
  return Status();
}

Status SegmentedLog::truncate_suffix(std::uint64_t from_index) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return truncate_suffix_locked(from_index);
}

Status SegmentedLog::truncate_suffix_locked(std::uint64_t from_index) {
  // Rollbacks of a failed append call this in the failed state too: only refuse bad arguments.
  if (from_index <= meta_.snapshot.index || from_index > last_index_ + 1) {
    return invalid_argument("truncate_suffix(" + std::to_string(from_index) + ") on " +
                            options_.dir + ": must be in (" + std::to_string(meta_.snapshot.index) +
                            ", " + std::to_string(last_index_ + 1) + "]");
  }
  if (from_index == last_index_ + 1) return Status();
  // Unpublish first: from here on readers cannot reach the discarded entries.
  {
    std::unique_lock state(state_mu_);
    last_index_ = from_index - 1;
    while (!configs_.empty() && configs_.back().index >= from_index) configs_.pop_back();
  }
  // 1. Whole segments at or after from_index, highest first.
  bool removed_any = false;
  while (!segments_.empty() && segments_.back().first_index >= from_index) {
    Segment seg;
    {
      std::unique_lock state(state_mu_);
      seg = std::move(segments_.back());
      segments_.pop_back();
    }
    if (Status s = remove_segment_files_locked(seg); !s) return fail(s.error());
    removed_any = true;
  }
  if (removed_any) {
    if (Status s = options_.io->sync_dir(options_.dir); !s) return fail(s.error());
    dir_dirty_ = false;
  }
  // 2. The segment holding from_index, if any.
  if (!segments_.empty() && segments_.back().count() > 0 &&
      segments_.back().last_index() >= from_index) {
    Segment& seg = segments_.back();
    if (seg.closed) {
      std::string idx_name = format::closed_index_name(seg.first_index, seg.last_index());
      std::string open_name = format::open_segment_name(seg.first_index);
      if (Status s = options_.io->rename(path(seg.name), path(open_name)); !s) {
        return fail(s.error());
      }
      {
        std::unique_lock state(state_mu_);
        seg.closed = false;
        seg.name = open_name;
      }
      if (Status s = options_.io->sync_dir(options_.dir); !s) return fail(s.error());
      (void)options_.io->remove(path(idx_name));  // an orphan .idx is deleted on open anyway
    }
    std::size_t keep = from_index - seg.first_index;
    std::uint64_t new_end = seg.offsets[keep];
    if (Status s = truncate_open_index_locked(keep); !s) return fail(s.error());
    {
      std::unique_lock state(state_mu_);
      seg.offsets.resize(keep);
      while (!seg.term_runs.empty() && seg.term_runs.back().first_index >= from_index) {
        seg.term_runs.pop_back();
      }
      seg.end_offset = new_end;
    }
    if (Status s = seg.file->truncate(new_end); !s) return fail(s.error());
    seg.file_bytes = new_end;
    if (Status s = seg.file->sync(); !s) return fail(s.error());
  }
  std::uint64_t damaged = damaged_from_.load();
  if (damaged >= from_index) damaged_from_.store(0);
  return Status();
}

Status SegmentedLog::write_meta_locked(const format::Meta& meta) {
  const std::string tmp = path(format::kMetaTmpFile);
  auto cleanup = [&](const Status& s) {
    (void)options_.io->remove(tmp);
    return s;
  };
  {
    auto file = options_.io->open(tmp, OpenMode::kCreateNew);
    if (!file) return file.error();
    if (Status s = file.value()->write_at(0, format::encode_meta(meta)); !s) return cleanup(s);
    if (Status s = file.value()->sync(); !s) return cleanup(s);
  }
  if (Status s = options_.io->rename(tmp, path(format::kMetaFile)); !s) return cleanup(s);
  {
    std::unique_lock state(state_mu_);
    meta_ = meta;
  }
  // The rename happened; if it cannot be made durable we no longer know which meta survives.
  if (Status s = options_.io->sync_dir(options_.dir); !s) return fail(s.error());
  return Status();
}

Status SegmentedLog::set_hard_state(const raft::HardState& hard_state) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (Status s = check_writable(); !s) return s;
  if (hard_state.term < meta_.hard_state.term) {
    return invalid_argument("set_hard_state: term " + std::to_string(hard_state.term) +
                            " is below the persisted term " +
                            std::to_string(meta_.hard_state.term));
  }
  if (hard_state == meta_.hard_state) return Status();
  format::Meta meta = meta_;
  meta.hard_state = hard_state;
  return write_meta_locked(meta);
}

Status SegmentedLog::set_repair_until(std::uint64_t index) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (Status s = check_writable(); !s) return s;
  if (index == meta_.repair_until) return Status();
  format::Meta meta = meta_;
  meta.repair_until = index;
  return write_meta_locked(meta);
}

Status SegmentedLog::write_snapshot_file_locked(const raft::Snapshot& snapshot) {
  const std::string tmp = path(format::kSnapshotTmpFile);
  auto cleanup = [&](const Status& s) {
    (void)options_.io->remove(tmp);
    return s;
  };
  {
    auto file = options_.io->open(tmp, OpenMode::kCreateNew);
    if (!file) return file.error();
    if (Status s = file.value()->write_at(0, format::encode_snapshot(snapshot)); !s) {
      return cleanup(s);
    }
    if (Status s = file.value()->sync(); !s) return cleanup(s);
  }
  if (Status s = options_.io->rename(tmp, path(format::snapshot_name(snapshot.meta.index))); !s) {
    return cleanup(s);
  }
  if (Status s = options_.io->sync_dir(options_.dir); !s) return fail(s.error());
  return Status();
}

void SegmentedLog::remove_stale_snapshots_locked(std::uint64_t keep_index) {
  auto names = options_.io->list_dir(options_.dir);
  if (!names) return;
  for (const std::string& name : *names) {
    format::ParsedName p = format::parse_file_name(name);
    if (p.kind == format::FileKind::kSnapshot && p.first_index != keep_index) {
      (void)options_.io->remove(path(name));
    }
  }
}

Status SegmentedLog::install_snapshot(const raft::Snapshot& snapshot) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (Status s = check_writable(); !s) return s;
  if (snapshot.meta.index == 0 || snapshot.meta.index < meta_.snapshot.index) {
    return invalid_argument("install_snapshot at index " + std::to_string(snapshot.meta.index) +
                            " on " + options_.dir + ": current snapshot is at " +
                            std::to_string(meta_.snapshot.index));
  }
  if (Status s = write_snapshot_file_locked(snapshot); !s) return s;
  format::Meta meta = meta_;
  meta.snapshot = snapshot.meta;
  meta.discard_segments = true;
  meta.damaged_index = 0;
  if (Status s = write_meta_locked(meta); !s) return s;  // commit point
  std::deque<Segment> old;
  {
    std::unique_lock state(state_mu_);
    old.swap(segments_);
    configs_.clear();
    last_index_ = snapshot.meta.index;
    damaged_from_.store(0);
  }
  unsynced_ = false;
  for (auto it = old.rbegin(); it != old.rend(); ++it) {
    if (Status s = remove_segment_files_locked(*it); !s) return fail(s.error());
  }
  remove_stale_snapshots_locked(snapshot.meta.index);
  if (Status s = options_.io->sync_dir(options_.dir); !s) return fail(s.error());
  meta.discard_segments = false;
  if (Status s = write_meta_locked(meta); !s) return fail(s.error());
  return Status();
}

Status SegmentedLog::save_snapshot(const raft::Snapshot& snapshot) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (Status s = check_writable(); !s) return s;
  const std::uint64_t index = snapshot.meta.index;
  if (index <= meta_.snapshot.index || index > last_index_) {
    return invalid_argument("save_snapshot at index " + std::to_string(index) + " on " +
                            options_.dir + ": must be in (" + std::to_string(meta_.snapshot.index) +
                            ", " + std::to_string(last_index_) + "]");
  }
  const Segment* seg = find_segment(index);
  if (seg == nullptr || seg->term_at(index) != snapshot.meta.term) {
    return invalid_argument("save_snapshot at index " + std::to_string(index) + " term " +
                            std::to_string(snapshot.meta.term) +
                            ": the log's entry there has term " +
                            std::to_string(seg == nullptr ? 0 : seg->term_at(index)));
  }
  // The entries up to the snapshot must be durable before the meta says they are compacted.
  if (Status s = sync_locked(); !s) return s;
  if (Status s = write_snapshot_file_locked(snapshot); !s) return s;
  format::Meta meta = meta_;
  meta.snapshot = snapshot.meta;
  if (Status s = write_meta_locked(meta); !s) return s;
  {
    std::unique_lock state(state_mu_);
    configs_.erase(std::remove_if(configs_.begin(), configs_.end(),
                                  [&](const RawConfigEntry& c) { return c.index <= index; }),
                   configs_.end());
  }
  remove_stale_snapshots_locked(index);
  return Status();
}

Result<RetentionResult> SegmentedLog::apply_retention(const RetentionPolicy& policy,
                                                      std::uint64_t limit_index) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (Status s = check_writable(); !s) return s.error();
  RetentionResult result;
  const std::uint64_t limit = std::min(limit_index, meta_.snapshot.index);
  const std::int64_t now = options_.now_unix_ms();
  std::uint64_t total = 0;
  for (const Segment& s : segments_) total += s.end_offset;
  while (segments_.size() > 1) {
    const Segment& front = segments_.front();
    if (!front.closed || front.last_index() > limit) break;
    bool too_old = policy.max_age_ms > 0 && now - front.sealed_at_unix_ms > policy.max_age_ms;
    bool too_big = policy.max_total_bytes > 0 && total > policy.max_total_bytes;
    if (!too_old && !too_big) break;
    Segment seg;
    {
      std::unique_lock state(state_mu_);
      seg = std::move(segments_.front());
      segments_.pop_front();
    }
    if (Status s = remove_segment_files_locked(seg); !s) return fail(s.error()).error();
    total -= seg.end_offset;
    result.segments_deleted += 1;
    result.bytes_deleted += seg.end_offset;
  }
  if (result.segments_deleted > 0) {
    if (Status s = options_.io->sync_dir(options_.dir); !s) return fail(s.error()).error();
  }
  return result;
}

Status SegmentedLog::sync() {
  std::lock_guard<std::mutex> lock(write_mu_);
  return sync_locked();
}

Status SegmentedLog::sync_locked() {
  if (Status s = check_writable(); !s) return s;
  if (unsynced_ && !segments_.empty()) {
    if (Status s = segments_.back().file->sync(); !s) return fail(s.error());
    unsynced_ = false;
  }
  // Everything appended is durable now: record it in the side index (a hint, not fsynced).
  if (Status s = write_open_index_locked(); !s && !open_index_write_failed_) {
    open_index_write_failed_ = true;
    warn(path(format::open_index_name(segments_.back().first_index)) + ": " + s.error().message +
         " (the side index is a hint: the next open scans the open segment instead)");
  }
  if (dir_dirty_) {
    if (Status s = options_.io->sync_dir(options_.dir); !s) return fail(s.error());
    dir_dirty_ = false;
  }
  drop_cached_behind_locked();
  std::uint64_t damaged = damaged_from_.load();
  if (damaged != 0 && damaged != meta_.damaged_index) {
    format::Meta meta = meta_;
    meta.damaged_index = damaged;
    meta.repair_until = std::max(meta.repair_until, last_index_);
    if (Status s = write_meta_locked(meta); !s) return s;
  }
  return Status();
}

void SegmentedLog::drop_cached_behind_locked() {
  const std::uint64_t keep_total = options_.page_cache_bytes;
  if (keep_total == 0) return;
  // Newest segment first: `newer` bytes of data follow the segment looked at. Every byte of
  // every segment is synced here (sync_locked synced the open one; sealing synced the others).
  std::uint64_t newer = 0;
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    Segment& seg = *it;
    const std::uint64_t end = seg.end_offset;
    // A truncation may have cut the segment below what was dropped; the bytes written since
    // are cached again.
    seg.uncached_to = std::min(seg.uncached_to, end);
    const std::uint64_t keep = keep_total > newer ? keep_total - newer : 0;
    const std::uint64_t drop_to = end > keep ? end - keep : 0;
    const bool whole = keep == 0;  // the segment lies entirely behind the kept bytes
    if (drop_to >= seg.uncached_to + kDropCachedStepBytes || (whole && drop_to > seg.uncached_to)) {
      // A segment entirely behind goes to its end (length 0, including a last partial page);
      // otherwise whole pages only, the kernel rounds the range inwards.
      const std::uint64_t length = whole ? 0 : drop_to - seg.uncached_to;
      if (Status s = seg.file->drop_cached(seg.uncached_to, length); !s) {
        if (!drop_cached_failed_) {
          drop_cached_failed_ = true;
          warn("dropping cached pages of the log failed: " + s.error().message +
               " (they stay cached; nothing else is affected)");
        }
        return;
      }
      seg.uncached_to = drop_to;
    }
    // Older segments were dropped entirely by an earlier call once they fell behind.
    if (whole && seg.uncached_to >= end) break;
    newer += end;
  }
}

}  // namespace dledger::log
