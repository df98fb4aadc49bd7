// SegmentedLog::open: loading and recovery, as specified under RECOVERY in segmented_log.h.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "broker/ledger/log/segmented_log.h"

namespace dledger::log {

namespace {

constexpr char kQuarantineDir[] = "quarantine";
constexpr std::size_t kScanWindowBytes = 1u << 20;

Result<std::string> read_whole_file(FileIo& io, const std::string& file_path) {
  auto file = io.open(file_path, OpenMode::kRead);
  if (!file) return file.error();
  auto size = file.value()->size();
  if (!size) return size.error();
  std::string bytes(*size, '\0');
  auto n = file.value()->read_at(0, bytes.data(), bytes.size());
  if (!n) return n.error();
  bytes.resize(*n);
  return bytes;
}

// Sequential reader over a file with a sliding window, so a scan costs one read per MiB.
class WindowReader {
 public:
  WindowReader(File& file, std::uint64_t file_size) : file_(file), file_size_(file_size) {}

  // Up to `n` bytes at `pos` (fewer only at end of file).
  Result<std::string_view> view(std::uint64_t pos, std::size_t n) {
    std::uint64_t want_end = std::min<std::uint64_t>(pos + n, file_size_);
    if (pos >= file_size_) return std::string_view();
    if (pos < start_ || want_end > start_ + buf_.size()) {
      std::size_t len = static_cast<std::size_t>(
          std::min<std::uint64_t>(std::max<std::uint64_t>(n, kScanWindowBytes), file_size_ - pos));
      buf_.resize(len);
      auto got = file_.read_at(pos, buf_.data(), len);
      if (!got) return got.error();
      buf_.resize(*got);
      start_ = pos;
    }
    std::size_t off = static_cast<std::size_t>(pos - start_);
    return std::string_view(buf_).substr(off, std::min<std::size_t>(n, buf_.size() - off));
  }

 private:
  File& file_;
  std::uint64_t file_size_;
  std::string buf_;
  std::uint64_t start_ = 0;
};

struct Candidate {
  std::string name;
  bool closed = false;
  std::uint64_t first_index = 0;
  std::uint64_t last_index = 0;  // closed only
  bool has_index_file = false;
};

}  // namespace

struct SegmentedLog::ScanResult {
  std::vector<std::uint32_t> offsets;
  std::vector<format::TermRun> term_runs;
  std::vector<RawConfigEntry> configs;
  std::uint64_t end_offset = 0;  // end of the last good entry
  bool bad = false;              // a bad entry at end_offset
  std::uint64_t bad_index = 0;
  std::string reason;
  bool valid_entry_after = false;        // a valid header with index >= bad_index follows
  std::uint64_t highest_index_seen = 0;  // highest index among valid headers after the damage
  bool zero_tail = false;                // bad, and nothing but zeros from end_offset on
};

class SegmentedLog::Opener {
 public:
  Opener(SegmentedLog& log, OpenReport& report) : log_(log), report_(report) {}

  FileIo& io() { return *log_.options_.io; }
  std::string path(const std::string& name) const { return log_.path(name); }

  void warn(const std::string& message) {
    report_.warnings.push_back(message);
    log_.warn(message);
  }

  // Reads the segment entry by entry, from offset 0 or, given `known` (entries already loaded
  // from a side index, ending at known.end_offset), from the end of those.
  Result<ScanResult> scan(File& file, std::uint64_t file_size, std::uint64_t first_index,
                          ScanResult known = {}) {
    ScanResult r = std::move(known);
    WindowReader reader(file, file_size);
    std::uint64_t pos = r.end_offset;
    std::uint64_t expected = first_index + r.offsets.size();
    std::uint64_t prev_term = r.term_runs.empty() ? 0 : r.term_runs.back().term;
    while (pos < file_size) {
      auto head = reader.view(pos, format::kEntryHeaderBytes);
      if (!head) return head.error();
      format::EntryHeader h;
      format::HeaderCheck check = format::decode_entry_header(*head, &h);
      std::string reason;
      if (check != format::HeaderCheck::kOk) {
        reason =
            check == format::HeaderCheck::kShort
                ? "short header (" + std::to_string(file_size - pos) + " bytes before end of file)"
                : format::header_check_name(check);
      } else if (h.index != expected) {
        reason = "header has index " + std::to_string(h.index) + ", expected " +
                 std::to_string(expected);
        // A later index where `expected` belongs means entries went missing: never a torn
        // write (appends are sequential). A lower one is a stale remnant.
        if (h.index > expected) {
          r.valid_entry_after = true;
          r.highest_index_seen = h.index;
        }
      } else if (h.term < prev_term) {
        reason =
            "term " + std::to_string(h.term) + " below previous term " + std::to_string(prev_term);
      } else if (pos + format::kEntryHeaderBytes + h.payload_bytes > file_size) {
        reason = "payload cut short (entry needs " +
                 std::to_string(format::kEntryHeaderBytes + h.payload_bytes) + " bytes, " +
                 std::to_string(file_size - pos) + " left in file)";
      } else {
        auto whole = reader.view(pos, format::kEntryHeaderBytes + h.payload_bytes);
        if (!whole) return whole.error();
        if (!format::entry_crc_ok(*whole, h)) {
          reason = "payload checksum mismatch";
        } else {
          if (r.term_runs.empty() || r.term_runs.back().term != h.term) {
            r.term_runs.push_back(format::TermRun{h.index, h.term});
          }
          r.offsets.push_back(static_cast<std::uint32_t>(pos));
          if (h.type == static_cast<std::uint8_t>(raft::EntryType::kConfig)) {
            r.configs.push_back(
                RawConfigEntry{h.index, std::string(whole->substr(format::kEntryHeaderBytes))});
          }
          prev_term = h.term;
          pos += format::kEntryHeaderBytes + h.payload_bytes;
          ++expected;
          continue;
        }
      }
      r.bad = true;
      r.bad_index = expected;
      r.reason = reason;
      break;
    }
    r.end_offset = pos;
    if (r.bad && !r.valid_entry_after) {
      // Only zeros from here on: space written ahead of the entries (Options::
      // preallocate_bytes), or an append whose bytes never reached the disk.
      r.zero_tail = true;
      for (std::uint64_t y = pos; y < file_size && r.zero_tail;) {
        auto chunk = reader.view(y, kScanWindowBytes);
        if (!chunk) return chunk.error();
        if (chunk->empty()) break;
        r.zero_tail = std::all_of(chunk->begin(), chunk->end(), [](char ch) { return ch == 0; });
        y += chunk->size();
      }
      if (r.zero_tail) return r;
    }
    if (r.bad) {
      // Is there any valid entry header after the damage? Then it is not a torn tail.
      r.highest_index_seen = std::max(r.highest_index_seen, r.bad_index);
      for (std::uint64_t y = pos + 1; y + format::kEntryHeaderBytes <= file_size;) {
        auto head = reader.view(y, format::kEntryHeaderBytes);
        if (!head) return head.error();
        format::EntryHeader h;
        if (head->size() == format::kEntryHeaderBytes &&
            format::decode_entry_header(*head, &h) == format::HeaderCheck::kOk &&
            h.index >= r.bad_index) {
          r.valid_entry_after = true;
          r.highest_index_seen = std::max(r.highest_index_seen, h.index);
          y += format::kEntryHeaderBytes;
          continue;
        }
        ++y;
      }
    }
    return r;
  }

  // Reads entry `index` (whole, `bytes` long at `offset`) and checks it against its side index
  // record. Returns the entry bytes, or an empty string if anything disagrees.
  Result<std::string> read_indexed_entry(File& file, std::uint64_t offset, std::uint64_t index,
                                         const format::OpenIndexRecord& record) {
    std::string entry(format::kEntryHeaderBytes + record.payload_bytes, '\0');
    auto n = file.read_at(offset, entry.data(), entry.size());
    if (!n) return n.error();
    format::EntryHeader h;
    bool ok =
        *n == entry.size() && format::decode_entry_header(entry, &h) == format::HeaderCheck::kOk &&
        h.index == index && h.term == record.term && h.payload_bytes == record.payload_bytes &&
        (h.type == static_cast<std::uint8_t>(raft::EntryType::kConfig)) ==
            (record.flags == format::kOpenIndexFlagConfig) &&
        format::entry_crc_ok(entry, h);
    if (!ok) entry.clear();
    return entry;
  }

  // Loads the entries the open segment's side index covers (see OPEN SEGMENT SIDE INDEX) into
  // a ScanResult for scan() to continue from. An unusable side index gives an empty result and
  // the reason in *why (the caller then scans the whole segment).
  // `*durable_through` is set to the index of the last valid record even when the records are
  // not used: a record is written only after the entry it describes was fsynced, so a bad entry
  // at or below it is damage, never a torn tail.
  Result<ScanResult> load_open_index(File& file, std::uint64_t file_size, std::uint64_t first_index,
                                     std::string* why, std::uint64_t* durable_through) {
    const std::string idx_path = path(format::open_index_name(first_index));
    auto bytes = read_whole_file(io(), idx_path);
    if (!bytes) return bytes.error();
    ScanResult r;
    if (!format::open_index_header_ok(*bytes, first_index)) {
      *why = idx_path + ": bad header (" + std::to_string(bytes->size()) + " bytes)";
      return r;
    }
    // The longest valid prefix of records: each checks, lies right after the previous entry,
    // has a term no lower than the previous one and ends inside the file.
    std::uint64_t end = 0;
    std::uint64_t prev_term = 0;
    format::OpenIndexRecord rec;
    std::vector<std::pair<std::uint64_t, format::OpenIndexRecord>> to_check;  // configs, last
    const std::string_view body = std::string_view(*bytes).substr(format::kOpenIndexHeaderBytes);
    r.offsets.reserve(body.size() / format::kOpenIndexRecordBytes);
    for (std::size_t at = 0; at + format::kOpenIndexRecordBytes <= body.size();
         at += format::kOpenIndexRecordBytes) {
      const std::uint64_t index = first_index + r.offsets.size();
      if (!format::decode_open_index_record(body.substr(at), index, &rec) || rec.offset != end ||
          rec.term < prev_term || end + format::kEntryHeaderBytes + rec.payload_bytes > file_size) {
        break;
      }
      if (rec.term != prev_term) r.term_runs.push_back(format::TermRun{index, rec.term});
      if (rec.flags == format::kOpenIndexFlagConfig) to_check.emplace_back(index, rec);
      r.offsets.push_back(rec.offset);
      end += format::kEntryHeaderBytes + rec.payload_bytes;
      prev_term = rec.term;
    }
    if (r.offsets.empty()) return r;
    const std::uint64_t last = first_index + r.offsets.size() - 1;
    *durable_through = last;
    if (to_check.empty() || to_check.back().first != last) {
      // `rec` may hold a rejected record: decode the last accepted one again.
      const std::size_t at = (r.offsets.size() - 1) * format::kOpenIndexRecordBytes;
      (void)format::decode_open_index_record(body.substr(at), last, &rec);
      to_check.emplace_back(last, rec);
    }
    // The last covered entry and the config entries are read and checked in full; the others
    // are trusted like a sealed segment's (every read checks their CRC).
    for (const auto& [index, checked] : to_check) {
      auto entry = read_indexed_entry(file, checked.offset, index, checked);
      if (!entry) return entry.error();
      if (entry->empty()) {
        *why = idx_path + ": entry " + std::to_string(index) + " at offset " +
               std::to_string(checked.offset) + " does not match its record";
        return ScanResult{};
      }
      if (checked.flags == format::kOpenIndexFlagConfig) {
        r.configs.push_back(RawConfigEntry{index, entry->substr(format::kEntryHeaderBytes)});
      }
    }
    r.end_offset = end;
    return r;
  }

  // The highest index an open segment holds (valid headers only); 0 if unreadable.
  std::uint64_t last_index_in_open_segment(const Candidate& c) {
    auto file = io().open(path(c.name), OpenMode::kRead);
    if (!file) return 0;
    auto size = file.value()->size();
    if (!size) return 0;
    auto scanned = scan(*file.value(), *size, c.first_index);
    if (!scanned) return 0;
    std::uint64_t highest =
        scanned->offsets.empty() ? 0 : c.first_index + scanned->offsets.size() - 1;
    return std::max(highest, scanned->highest_index_seen);
  }

  // Moves the damaged suffix aside (see RECOVERY 3) and records it. `segment` holds what stays.
  Status quarantine(Segment* segment, std::uint64_t file_size, std::uint64_t bad_offset,
                    std::uint64_t bad_index, std::uint64_t highest_index, const std::string& reason,
                    const std::vector<Candidate>& later) {
    CorruptionReport report;
    report.file = segment != nullptr ? path(segment->name) : path(later.front().name);
    report.offset = bad_offset;
    report.index = bad_index;
    report.reason = reason;

    // a. Remember how far the log once reached, before touching any data.
    std::uint64_t highest = std::max(highest_index, bad_index);
    for (const Candidate& c : later) {
      highest = std::max(highest, c.closed ? c.last_index : c.first_index);
      if (!c.closed) highest = std::max(highest, last_index_in_open_segment(c));
    }
    if (highest > log_.meta_.repair_until) {
      format::Meta meta = log_.meta_;
      meta.repair_until = highest;
      if (Status s = log_.write_meta_locked(meta); !s) return s;
    }
    // b. Quarantine.
    const std::string qdir = path(kQuarantineDir);
    if (Status s = io().create_dir(qdir); !s) return s;
    auto move_aside = [&](const std::string& name) -> Status {
      std::string target = qdir + "/" + name;
      for (int n = 1; io().exists(target); ++n) {
        target = qdir + "/" + name + "." + std::to_string(n);
      }
      if (Status s = io().rename(path(name), target); !s) return s;
      report.quarantined.push_back(target);
      return Status();
    };
    for (auto it = later.rbegin(); it != later.rend(); ++it) {
      if (Status s = move_aside(it->name); !s) return s;
      if (it->closed && it->has_index_file) {
        if (Status s = move_aside(format::closed_index_name(it->first_index, it->last_index)); !s) {
          return s;
        }
      }
    }
    if (segment != nullptr) {
      std::string idx_name;
      if (segment->closed) {
        idx_name = format::closed_index_name(segment->first_index, later_closed_last_ != 0
                                                                       ? later_closed_last_
                                                                       : segment->last_index());
      }
      if (bad_offset == 0) {
        // Nothing good in this segment: move the whole file.
        segment->file.reset();
        if (Status s = move_aside(segment->name); !s) return s;
        if (!idx_name.empty() && io().exists(path(idx_name))) {
          if (Status s = move_aside(idx_name); !s) return s;
        }
        segment->name.clear();
      } else {
        std::string copy_name = qdir + "/" + segment->name + ".from-" + std::to_string(bad_offset);
        std::string bytes(file_size - bad_offset, '\0');
        auto n = segment->file->read_at(bad_offset, bytes.data(), bytes.size());
        if (!n) return n.error();
        bytes.resize(*n);
        {
          auto copy = io().open(copy_name, OpenMode::kCreateNew);
          if (!copy) return copy.error();
          if (Status s = copy.value()->write_at(0, bytes); !s) return s;
          if (Status s = copy.value()->sync(); !s) return s;
        }
        report.quarantined.push_back(copy_name);
        if (segment->closed) {
          std::string open_name = format::open_segment_name(segment->first_index);
          if (Status s = io().rename(path(segment->name), path(open_name)); !s) return s;
          if (Status s = io().sync_dir(log_.options_.dir); !s) return s;
          if (io().exists(path(idx_name))) (void)io().remove(path(idx_name));
          segment->name = open_name;
          segment->closed = false;
        }
        if (Status s = segment->file->truncate(bad_offset); !s) return s;
        segment->file_bytes = bad_offset;
        if (Status s = segment->file->sync(); !s) return s;
      }
    }
    if (Status s = io().sync_dir(qdir); !s) return s;
    if (Status s = io().sync_dir(log_.options_.dir); !s) return s;
    // c. Report.
    std::string message = "corruption in " + report.file + " at offset " +
                          std::to_string(report.offset) + " (index " +
                          std::to_string(report.index) + "): " + reason +
                          "; damaged suffix quarantined, repair from peers needed up to index " +
                          std::to_string(log_.meta_.repair_until);
    warn(message);
    report_.corruptions.push_back(std::move(report));
    return Status();
  }

  Status run() {
    FileIo& fio = io();
    const std::string& dir = log_.options_.dir;
    if (Status s = fio.create_dir(dir); !s) return s;
    {
      auto lock = fio.open(path(format::kLockFile), OpenMode::kCreate);
      if (!lock) return lock.error();
      if (Status s = lock.value()->try_lock(); !s) return s;
      log_.lock_file_ = std::move(lock).value();
    }
    auto names = fio.list_dir(dir);
    if (!names) return names.error();
    std::set<std::string> files(names->begin(), names->end());

    // 1. Meta.
    bool has_data_files = false;
    for (const std::string& n : files) {
      auto kind = format::parse_file_name(n).kind;
      if (kind != format::FileKind::kUnknown) has_data_files = true;
    }
    if (files.count(format::kMetaFile) != 0) {
      auto bytes = read_whole_file(fio, path(format::kMetaFile));
      if (!bytes) return bytes.error();
      auto meta = format::decode_meta(*bytes, path(format::kMetaFile));
      if (!meta) {
        return make_error(ErrorCode::kCorruption,
                          meta.error().message +
                              " (the hard state cannot be recovered; restore the member from "
                              "peers by wiping its data directory)");
      }
      log_.meta_ = *meta;
    } else if (has_data_files) {
      return make_error(ErrorCode::kCorruption,
                        dir + ": segment or snapshot files exist but the meta file is missing");
    } else {
      if (Status s = log_.write_meta_locked(format::Meta{}); !s) return s;
    }
    for (const char* tmp : {format::kMetaTmpFile, format::kSnapshotTmpFile}) {
      if (files.count(tmp) != 0) (void)fio.remove(path(tmp));
    }
    if (log_.meta_.discard_segments) {
      for (const std::string& n : files) {
        auto kind = format::parse_file_name(n).kind;
        if (kind == format::FileKind::kClosedSegment || kind == format::FileKind::kClosedIndex ||
            kind == format::FileKind::kOpenSegment) {
          if (Status s = fio.remove(path(n)); !s) return s;
        }
      }
      if (Status s = fio.sync_dir(dir); !s) return s;
      format::Meta meta = log_.meta_;
      meta.discard_segments = false;
      if (Status s = log_.write_meta_locked(meta); !s) return s;
      warn(dir + ": finished an interrupted snapshot install (segments discarded)");
      auto again = fio.list_dir(dir);
      if (!again) return again.error();
      files = std::set<std::string>(again->begin(), again->end());
    }
    const std::uint64_t snap_index = log_.meta_.snapshot.index;
    if (snap_index != 0 && files.count(format::snapshot_name(snap_index)) == 0) {
      return make_error(ErrorCode::kCorruption,
                        dir + ": meta names snapshot index " + std::to_string(snap_index) +
                            " but " + format::snapshot_name(snap_index) + " is missing");
    }

    // Collect segments.
    std::vector<Candidate> cands;
    std::set<std::pair<std::uint64_t, std::uint64_t>> index_files;
    for (const std::string& n : files) {
      format::ParsedName p = format::parse_file_name(n);
      switch (p.kind) {
        case format::FileKind::kSnapshot:
          if (p.first_index != snap_index) (void)fio.remove(path(n));
          break;
        case format::FileKind::kClosedIndex:
          index_files.insert({p.first_index, p.last_index});
          break;
        case format::FileKind::kClosedSegment:
          if (p.first_index == 0 || p.last_index < p.first_index) {
            warn(path(n) + ": impossible segment range, ignored");
            break;
          }
          cands.push_back(Candidate{n, true, p.first_index, p.last_index, false});
          break;
        case format::FileKind::kOpenSegment:
          if (p.first_index == 0) {
            warn(path(n) + ": impossible segment start, ignored");
            break;
          }
          cands.push_back(Candidate{n, false, p.first_index, 0, false});
          break;
        case format::FileKind::kOpenIndex:
          open_index_files_.insert(n);
          break;
        case format::FileKind::kUnknown:
          if (n != format::kMetaFile && n != format::kLockFile && n != format::kMetaTmpFile &&
              n != format::kSnapshotTmpFile) {
            warn(path(n) + ": unknown file in the log directory, ignored");
          }
          break;
      }
    }
    for (Candidate& c : cands) {
      if (c.closed && index_files.erase({c.first_index, c.last_index}) != 0) {
        c.has_index_file = true;
      }
    }
    for (const auto& [first, last] : index_files) {  // orphans: a seal interrupted before rename
      (void)fio.remove(path(format::closed_index_name(first, last)));
    }
    std::sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) {
      return a.first_index != b.first_index ? a.first_index < b.first_index : a.closed > b.closed;
    });

    // 2-3. Load in index order; stop at the first damage.
    std::uint64_t prev_last = 0;
    for (std::size_t k = 0; k < cands.size(); ++k) {
      const Candidate& c = cands[k];
      std::vector<Candidate> later(cands.begin() + static_cast<std::ptrdiff_t>(k) + 1, cands.end());
      const bool is_last = k + 1 == cands.size();
      // Continuity with what precedes.
      std::string gap;
      if (k == 0 && c.first_index > snap_index + 1) {
        gap = "log starts at index " + std::to_string(c.first_index) +
              " but the snapshot ends at " + std::to_string(snap_index);
      } else if (k > 0 && c.first_index != prev_last + 1) {
        gap = "segment starts at index " + std::to_string(c.first_index) + ", expected " +
              std::to_string(prev_last + 1);
      } else if (!c.closed && !is_last) {
        gap = "open segment followed by " + later.front().name;
      }
      if (!gap.empty()) {
        std::vector<Candidate> rest(cands.begin() + static_cast<std::ptrdiff_t>(k), cands.end());
        std::uint64_t bad_index = k == 0 ? snap_index + 1 : prev_last + 1;
        return quarantine(nullptr, 0, 0, bad_index, bad_index, gap, rest);
      }

      auto opened = fio.open(path(c.name), OpenMode::kReadWrite);
      if (!opened) return opened.error();
      Segment seg;
      seg.name = c.name;
      seg.closed = c.closed;
      seg.first_index = c.first_index;
      seg.file = std::shared_ptr<File>(std::move(opened).value());
      auto size = seg.file->size();
      if (!size) return size.error();
      const std::uint64_t file_size = *size;
      later_closed_last_ = c.closed ? c.last_index : 0;

      bool scan_needed =
          !c.closed || log_.options_.verify_on_open ||
          (log_.meta_.damaged_index != 0 && c.closed && c.last_index >= log_.meta_.damaged_index);
      bool loaded_from_index = false;
      if (!scan_needed) {
        std::string idx_name = format::closed_index_name(c.first_index, c.last_index);
        std::string why;
        if (!c.has_index_file) {
          why = "missing";
        } else {
          auto bytes = read_whole_file(fio, path(idx_name));
          if (!bytes) return bytes.error();
          auto idx = format::decode_segment_index(*bytes, path(idx_name));
          if (!idx) {
            why = idx.error().message;
          } else if (idx->first_index != c.first_index || idx->last_index != c.last_index) {
            why = "range does not match the file name";
          } else if (idx->segment_bytes != file_size) {
            why = "segment size " + std::to_string(file_size) + " differs from the indexed " +
                  std::to_string(idx->segment_bytes);
          } else {
            seg.offsets = std::move(idx->offsets);
            seg.term_runs = std::move(idx->term_runs);
            seg.end_offset = file_size;
            seg.sealed_at_unix_ms = idx->sealed_at_unix_ms;
            loaded_from_index = true;
            // Config entries: the only reads of a closed segment at open.
            for (std::uint64_t ci : idx->config_indexes) {
              if (ci <= snap_index) continue;
              std::size_t slot = ci - seg.first_index;
              std::uint64_t off = seg.offsets[slot];
              std::uint64_t end = seg.entry_end(slot);
              std::string entry(end - off, '\0');
              auto n = seg.file->read_at(off, entry.data(), entry.size());
              if (!n) return n.error();
              format::EntryHeader h;
              bool ok = *n == entry.size() &&
                        format::decode_entry_header(entry, &h) == format::HeaderCheck::kOk &&
                        h.index == ci && format::entry_crc_ok(entry, h);
              if (!ok) {
                // Keep entries before the damaged config entry.
                seg.offsets.resize(slot);
                while (!seg.term_runs.empty() && seg.term_runs.back().first_index >= ci) {
                  seg.term_runs.pop_back();
                }
                seg.end_offset = off;
                log_.segments_.push_back(std::move(seg));
                Segment& kept = log_.segments_.back();
                Status s = quarantine(&kept, file_size, off, ci, c.last_index,
                                      "config entry fails its checksum", later);
                if (kept.name.empty()) log_.segments_.pop_back();
                return s;
              }
              pending_configs_.push_back(
                  RawConfigEntry{ci, entry.substr(format::kEntryHeaderBytes)});
            }
          }
        }
        if (!loaded_from_index) {
          warn(path(idx_name) + ": " + why + "; rebuilding it by scanning " + path(c.name));
        }
      }
      if (!loaded_from_index) {
        if (c.closed) ++report_.closed_segments_scanned;
        ScanResult known;
        std::uint64_t durable_through = 0;  // entries the side index proves were fsynced
        if (!c.closed && is_last && !log_.options_.verify_on_open &&
            log_.meta_.damaged_index == 0 &&
            open_index_files_.count(format::open_index_name(c.first_index)) != 0) {
          std::string why;
          auto loaded =
              load_open_index(*seg.file, file_size, c.first_index, &why, &durable_through);
          if (!loaded) return loaded.error();
          known = std::move(loaded).value();
          report_.open_index_rejected = why;
          report_.open_segment_entries_indexed = known.offsets.size();
          open_index_first_ = c.first_index;
          open_index_valid_records_ = known.offsets.size();
        }
        const std::uint64_t scan_from = known.end_offset;
        auto scanned = scan(*seg.file, file_size, c.first_index, std::move(known));
        if (!scanned) return scanned.error();
        ScanResult& r = *scanned;
        seg.offsets = std::move(r.offsets);
        seg.term_runs = std::move(r.term_runs);
        seg.end_offset = r.end_offset;
        seg.file_bytes = file_size;
        // The open segment may end in zeros written ahead of its entries (Options::
        // preallocate_bytes): unused space, not damage, as long as the entries before it are
        // whole and nothing but zeros follows.
        const bool zero_tail =
            !c.closed && is_last && r.bad && r.zero_tail && r.bad_index > durable_through;
        if (!c.closed) {
          report_.open_segment_bytes_scanned += (zero_tail ? r.end_offset : file_size) - scan_from;
        }
        if (zero_tail) r.bad = false;
        for (auto& cfg : r.configs) pending_configs_.push_back(std::move(cfg));
        std::string reason = r.reason;
        bool bad = r.bad;
        if (!bad && c.closed && (seg.offsets.empty() || seg.last_index() != c.last_index)) {
          bad = true;
          r.bad_index = seg.first_index + seg.offsets.size();
          reason = "segment ends at index " + std::to_string(r.bad_index - 1) +
                   " but its name says " + std::to_string(c.last_index);
        }
        if (bad) {
          bool torn = !c.closed && is_last && !r.valid_entry_after && r.bad_index > durable_through;
          if (!torn && r.bad_index <= durable_through && !r.valid_entry_after && !c.closed) {
            reason += " (the side index shows entry " + std::to_string(durable_through) +
                      " was synced: damage, not a torn tail)";
          }
          if (torn) {
            if (Status s = seg.file->truncate(seg.end_offset); !s) return s;
            seg.file_bytes = seg.end_offset;
            if (Status s = seg.file->sync(); !s) return s;
            TornTail t{path(c.name), seg.end_offset, file_size - seg.end_offset};
            warn("torn tail in " + t.file + " at offset " + std::to_string(t.offset) + ": " +
                 reason + "; truncated " + std::to_string(t.bytes_discarded) +
                 " bytes (an append interrupted by a crash)");
            report_.torn_tail = t;
          } else {
            std::uint64_t highest =
                std::max({r.highest_index_seen, c.closed ? c.last_index : 0, durable_through});
            log_.segments_.push_back(std::move(seg));
            Segment& kept = log_.segments_.back();
            Status s =
                quarantine(&kept, file_size, kept.end_offset, r.bad_index, highest, reason, later);
            if (kept.name.empty()) log_.segments_.pop_back();
            return s;
          }
        } else if (c.closed) {
          // Rebuild a missing or invalid index file (best effort).
          format::SegmentIndex idx;
          idx.first_index = seg.first_index;
          idx.last_index = seg.last_index();
          idx.segment_bytes = seg.end_offset;
          // The seal time is lost: count the segment's age for retention from now.
          idx.sealed_at_unix_ms = log_.options_.now_unix_ms();
          seg.sealed_at_unix_ms = idx.sealed_at_unix_ms;
          idx.offsets = seg.offsets;
          idx.term_runs = seg.term_runs;
          for (const auto& cfg : pending_configs_) {
            if (cfg.index >= idx.first_index && cfg.index <= idx.last_index) {
              idx.config_indexes.push_back(cfg.index);
            }
          }
          std::string idx_path = path(format::closed_index_name(idx.first_index, idx.last_index));
          auto f = fio.open(idx_path, OpenMode::kCreateNew);
          if (f && f.value()->write_at(0, format::encode_segment_index(idx)) && f.value()->sync()) {
            (void)fio.sync_dir(dir);
          }
        }
      }
      prev_last = seg.first_index + seg.offsets.size() - 1;
      commit_segment(std::move(seg));
    }
    return Status();
  }

  // After finish(): deletes side indexes that belong to no open segment and attaches the open
  // segment's, cut to its valid prefix, then records the entries it lacks (after an fdatasync of
  // the segment: a record may only describe durable data). Failures to write the hint are
  // warnings.
  Status attach_open_index() {
    const bool has_open = !log_.segments_.empty() && !log_.segments_.back().closed;
    const std::string keep =
        has_open ? format::open_index_name(log_.segments_.back().first_index) : std::string();
    for (const std::string& n : open_index_files_) {
      if (n != keep) (void)io().remove(path(n));
    }
    if (!has_open) return Status();
    SegmentedLog::Segment& seg = log_.segments_.back();
    std::uint64_t valid = open_index_first_ == seg.first_index ? open_index_valid_records_ : 0;
    valid = std::min<std::uint64_t>(valid, seg.count());
    if (open_index_files_.count(keep) != 0) {
      auto file = io().open(path(keep), OpenMode::kReadWrite);
      if (!file) return file.error();
      const std::uint64_t size =
          valid == 0 ? 0 : format::kOpenIndexHeaderBytes + valid * format::kOpenIndexRecordBytes;
      auto now = file.value()->size();
      if (!now) return now.error();
      if (*now != size) {
        // Records past the valid prefix describe nothing durable: cut them before new records
        // are written after the prefix.
        if (Status s = file.value()->truncate(size); !s) return s;
        if (Status s = file.value()->sync(); !s) return s;
      }
      log_.open_index_ = std::move(file).value();
      log_.open_index_name_ = keep;
      log_.open_index_records_ = valid;
    }
    if (seg.count() > log_.open_index_records_) {
      if (Status s = seg.file->sync(); !s) return s;
      if (Status s = log_.write_open_index_locked(); !s) {
        warn(path(keep) + ": " + s.error().message +
             " (the side index is a hint: the next open scans the open segment instead)");
      }
    }
    return Status();
  }

  void commit_segment(Segment seg) {
    if (seg.closed && seg.offsets.empty()) return;
    log_.segments_.push_back(std::move(seg));
  }

  // After run(): derive last index and configs; drop segments entirely below the snapshot.
  Status finish() {
    const std::uint64_t snap_index = log_.meta_.snapshot.index;
    // Drop empty segments in the middle (an emptied damaged segment keeps its file only if last).
    std::uint64_t physical_last = 0;
    bool any = false;
    for (const Segment& s : log_.segments_) {
      if (s.count() > 0) {
        physical_last = s.last_index();
        any = true;
      }
    }
    if (any && physical_last < snap_index) {
      warn(log_.options_.dir + ": every entry is at or below the snapshot index " +
           std::to_string(snap_index) + "; deleting the compacted segments");
      while (!log_.segments_.empty()) {
        Segment seg = std::move(log_.segments_.back());
        log_.segments_.pop_back();
        if (Status s = log_.remove_segment_files_locked(seg); !s) return s;
      }
      if (Status s = io().sync_dir(log_.options_.dir); !s) return s;
      any = false;
    }
    // An open segment whose name no longer matches its first entry (all entries quarantined or a
    // compacted tail) is removed when empty so the next append creates the right one.
    if (!log_.segments_.empty() && log_.segments_.back().count() == 0) {
      std::uint64_t expected_first = any ? physical_last + 1 : snap_index + 1;
      if (log_.segments_.back().first_index != expected_first) {
        Segment seg = std::move(log_.segments_.back());
        log_.segments_.pop_back();
        if (Status s = io().remove(log_.path(seg.name)); !s) return s;
        if (Status s = io().sync_dir(log_.options_.dir); !s) return s;
      }
    }
    log_.last_index_ = any ? std::max(physical_last, snap_index) : snap_index;
    for (auto& cfg : pending_configs_) {
      if (cfg.index > snap_index && cfg.index <= log_.last_index_) {
        log_.configs_.push_back(std::move(cfg));
      }
    }
    std::sort(log_.configs_.begin(), log_.configs_.end(),
              [](const RawConfigEntry& a, const RawConfigEntry& b) { return a.index < b.index; });
    if (log_.meta_.damaged_index != 0) {
      format::Meta meta = log_.meta_;
      meta.damaged_index = 0;
      if (Status s = log_.write_meta_locked(meta); !s) return s;
    }
    report_.repair_until = log_.meta_.repair_until;
    return Status();
  }

 private:
  SegmentedLog& log_;
  OpenReport& report_;
  std::vector<RawConfigEntry> pending_configs_;
  std::uint64_t later_closed_last_ = 0;     // last index in the name of the segment being loaded
  std::set<std::string> open_index_files_;  // side index files found in the directory
  std::uint64_t open_index_first_ = 0;      // the open segment whose side index was loaded
  std::uint64_t open_index_valid_records_ = 0;
};

Result<OpenResult> SegmentedLog::open(Options options) {
  if (options.dir.empty()) return make_error(ErrorCode::kInvalidArgument, "log dir is empty");
  if (options.segment_bytes < 1024 || options.segment_bytes > (2ull << 30)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "segment_bytes = " + std::to_string(options.segment_bytes) +
                          ": must be between 1024 and 2147483648");
  }
  if (options.preallocate_bytes > kMaxPreallocateBytes) {
    return make_error(ErrorCode::kInvalidArgument,
                      "preallocate_bytes = " + std::to_string(options.preallocate_bytes) +
                          ": must be at most " + std::to_string(kMaxPreallocateBytes));
  }
  if (!options.io) options.io = default_file_io();
  if (!options.now_unix_ms) {
    options.now_unix_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  OpenResult result;
  result.log.reset(new SegmentedLog(std::move(options)));
  SegmentedLog& log = *result.log;
  std::lock_guard<std::mutex> lock(log.write_mu_);
  Opener opener(log, result.report);
  if (Status s = opener.run(); !s) return s.error();
  if (Status s = opener.finish(); !s) return s.error();
  if (Status s = opener.attach_open_index(); !s) return s.error();
  return result;
}

}  // namespace dledger::log
