#include "broker/ledger/log/log_format.h"

#include <cstdio>

#include "broker/base/bytes.h"
#include "broker/base/crc32c.h"

namespace dledger::log::format {

namespace {

constexpr std::size_t kMaxMembers = 4096;
constexpr std::size_t kMaxAddressBytes = 1024;

bool valid_entry_type(std::uint8_t t) {
  return t == static_cast<std::uint8_t>(raft::EntryType::kNormal) ||
         t == static_cast<std::uint8_t>(raft::EntryType::kNoOp) ||
         t == static_cast<std::uint8_t>(raft::EntryType::kConfig);
}

// Appends crc32c(*out) to *out.
void seal_with_crc(std::string* out) {
  std::uint32_t crc = crc32c(*out);
  ByteWriter(out).u32(crc);
}

// Checks that `bytes` ends with the CRC32C of what precedes it; returns the body without it.
Result<std::string_view> check_trailing_crc(std::string_view bytes, std::string_view what) {
  if (bytes.size() < 4) {
    return make_error(ErrorCode::kCorruption, std::string(what) + ": file too short (" +
                                                  std::to_string(bytes.size()) + " bytes)");
  }
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  ByteReader r(bytes.substr(bytes.size() - 4));
  std::uint32_t stored = r.u32();
  if (crc32c(body) != stored) {
    return make_error(ErrorCode::kCorruption, std::string(what) + ": checksum mismatch over " +
                                                  std::to_string(body.size()) + " bytes");
  }
  return body;
}

bool decode_membership(ByteReader& r, raft::Membership* m) {
  std::uint32_t count = r.u32();
  if (!r.ok() || count > kMaxMembers) return false;
  m->members.clear();
  for (std::uint32_t i = 0; i < count; ++i) {
    raft::Member member;
    member.id = r.u32();
    std::uint8_t voter = r.u8();
    if (voter > 1) return false;
    member.voter = voter == 1;
    member.address = std::string(r.blob32(kMaxAddressBytes));
    if (!r.ok()) return false;
    m->members.push_back(std::move(member));
  }
  return true;
}

}  // namespace

void encode_entry(const raft::Entry& entry, std::string* out) {
  std::size_t start = out->size();
  ByteWriter w(out);
  w.u32(kEntryMagic);
  w.u8(kEntryVersion);
  w.u8(static_cast<std::uint8_t>(entry.type));
  w.u16(0);
  w.u32(static_cast<std::uint32_t>(entry.data.size()));
  w.u64(entry.index);
  w.u64(entry.term);
  std::uint32_t header_crc = crc32c(out->data() + start, 28);
  w.u32(header_crc);
  std::uint32_t crc = crc32c(out->data() + start, 32);
  crc = crc32c_extend(crc, entry.data);
  w.u32(crc);
  w.bytes(entry.data);
}

HeaderCheck decode_entry_header(std::string_view bytes, EntryHeader* header) {
  if (bytes.size() < kEntryHeaderBytes) return HeaderCheck::kShort;
  ByteReader r(bytes.substr(0, kEntryHeaderBytes));
  if (r.u32() != kEntryMagic) return HeaderCheck::kBadMagic;
  std::uint8_t version = r.u8();
  header->type = r.u8();
  std::uint16_t reserved = r.u16();
  header->payload_bytes = r.u32();
  header->index = r.u64();
  header->term = r.u64();
  std::uint32_t header_crc = r.u32();
  header->crc = r.u32();
  if (crc32c(bytes.data(), 28) != header_crc) return HeaderCheck::kBadHeaderCrc;
  if (version != kEntryVersion) return HeaderCheck::kBadVersion;
  if (reserved != 0 || !valid_entry_type(header->type) ||
      header->payload_bytes > kMaxEntryPayloadBytes) {
    return HeaderCheck::kBadField;
  }
  return HeaderCheck::kOk;
}

const char* header_check_name(HeaderCheck check) {
  switch (check) {
    case HeaderCheck::kOk:
      return "ok";
    case HeaderCheck::kShort:
      return "short header";
    case HeaderCheck::kBadMagic:
      return "bad magic";
    case HeaderCheck::kBadVersion:
      return "unknown format version";
    case HeaderCheck::kBadHeaderCrc:
      return "header checksum mismatch";
    case HeaderCheck::kBadField:
      return "impossible header field";
  }
  return "unknown";
}

bool entry_crc_ok(std::string_view bytes, const EntryHeader& header) {
  if (bytes.size() != kEntryHeaderBytes + header.payload_bytes) return false;
  std::uint32_t crc = crc32c(bytes.data(), 32);
  crc = crc32c_extend(crc, bytes.data() + kEntryHeaderBytes, header.payload_bytes);
  return crc == header.crc;
}

std::string encode_segment_index(const SegmentIndex& index) {
  std::string out;
  out.reserve(64 + index.offsets.size() * 4 + index.term_runs.size() * 16 +
              index.config_indexes.size() * 8);
  ByteWriter w(&out);
  w.u32(kIndexMagic);
  w.u8(kIndexVersion);
  w.u8(0);
  w.u16(0);
  w.u64(index.first_index);
  w.u64(index.last_index);
  w.u64(index.segment_bytes);
  w.i64(index.sealed_at_unix_ms);
  w.u64(index.offsets.size());
  w.u32(static_cast<std::uint32_t>(index.term_runs.size()));
  w.u32(static_cast<std::uint32_t>(index.config_indexes.size()));
  for (std::uint32_t off : index.offsets) w.u32(off);
  for (const TermRun& run : index.term_runs) {
    w.u64(run.first_index);
    w.u64(run.term);
  }
  for (std::uint64_t i : index.config_indexes) w.u64(i);
  seal_with_crc(&out);
  return out;
}

Result<SegmentIndex> decode_segment_index(std::string_view bytes, std::string_view what) {
  auto body = check_trailing_crc(bytes, what);
  if (!body) return body.error();
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kCorruption, std::string(what) + ": " + why);
  };
  ByteReader r(*body);
  if (r.u32() != kIndexMagic) return bad("bad magic");
  if (r.u8() != kIndexVersion) return bad("unknown index format version");
  r.u8();
  r.u16();
  SegmentIndex index;
  index.first_index = r.u64();
  index.last_index = r.u64();
  index.segment_bytes = r.u64();
  index.sealed_at_unix_ms = r.i64();
  std::uint64_t count = r.u64();
  std::uint32_t runs = r.u32();
  std::uint32_t configs = r.u32();
  if (!r.ok()) return bad("short header");
  if (count == 0 || index.last_index + 1 - index.first_index != count || index.first_index == 0) {
    return bad("entry count " + std::to_string(count) + " does not match index range " +
               std::to_string(index.first_index) + ".." + std::to_string(index.last_index));
  }
  if (r.remaining() != count * 4 + std::uint64_t{runs} * 16 + std::uint64_t{configs} * 8) {
    return bad("length does not match its counts");
  }
  index.offsets.resize(count);
  for (auto& off : index.offsets) off = r.u32();
  for (std::size_t i = 0; i < index.offsets.size(); ++i) {
    if ((i > 0 && index.offsets[i] <= index.offsets[i - 1]) ||
        index.offsets[i] + kEntryHeaderBytes > index.segment_bytes) {
      return bad("entry offsets out of order or past the segment size");
    }
  }
  if (index.offsets[0] != 0) return bad("first entry not at offset 0");
  for (std::uint32_t i = 0; i < runs; ++i) {
    TermRun run;
    run.first_index = r.u64();
    run.term = r.u64();
    if (!index.term_runs.empty() && (run.first_index <= index.term_runs.back().first_index ||
                                     run.term < index.term_runs.back().term)) {
      return bad("term runs out of order");
    }
    index.term_runs.push_back(run);
  }
  if (index.term_runs.empty() || index.term_runs.front().first_index != index.first_index ||
      index.term_runs.back().first_index > index.last_index) {
    return bad("term runs do not cover the segment");
  }
  for (std::uint32_t i = 0; i < configs; ++i) {
    std::uint64_t ci = r.u64();
    if (ci < index.first_index || ci > index.last_index) return bad("config index out of range");
    index.config_indexes.push_back(ci);
  }
  if (!r.ok()) return bad("truncated");
  return index;
}

void encode_membership(const raft::Membership& m, std::string* out) {
  ByteWriter w(out);
  w.u32(static_cast<std::uint32_t>(m.members.size()));
  for (const raft::Member& member : m.members) {
    w.u32(member.id);
    w.u8(member.voter ? 1 : 0);
    w.blob32(member.address);
  }
}

std::string encode_meta(const Meta& meta) {
  std::string body;
  ByteWriter b(&body);
  b.u64(meta.hard_state.term);
  b.u32(meta.hard_state.vote);
  b.u64(meta.repair_until);
  b.u64(meta.snapshot.index);
  b.u64(meta.snapshot.term);
  encode_membership(meta.snapshot.membership, &body);
  b.u8(meta.discard_segments ? 1 : 0);
  b.u64(meta.damaged_index);

  std::string out;
  ByteWriter w(&out);
  w.u32(kMetaMagic);
  w.u8(kMetaVersion);
  w.u8(0);
  w.u16(0);
  w.blob32(body);
  seal_with_crc(&out);
  return out;
}

Result<Meta> decode_meta(std::string_view bytes, std::string_view what) {
  auto body = check_trailing_crc(bytes, what);
  if (!body) return body.error();
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kCorruption, std::string(what) + ": " + why);
  };
  ByteReader r(*body);
  if (r.u32() != kMetaMagic) return bad("bad magic");
  if (r.u8() != kMetaVersion) return bad("unknown meta format version");
  r.u8();
  r.u16();
  std::string_view payload = r.blob32();
  if (!r.ok() || !r.at_end()) return bad("length field does not match the file size");
  ByteReader p(payload);
  Meta meta;
  meta.hard_state.term = p.u64();
  meta.hard_state.vote = p.u32();
  meta.repair_until = p.u64();
  meta.snapshot.index = p.u64();
  meta.snapshot.term = p.u64();
  if (!decode_membership(p, &meta.snapshot.membership)) return bad("bad snapshot membership");
  std::uint8_t discard = p.u8();
  meta.damaged_index = p.u64();
  if (!p.ok() || !p.at_end() || discard > 1) return bad("malformed body");
  meta.discard_segments = discard == 1;
  return meta;
}

std::string encode_snapshot(const raft::Snapshot& snapshot) {
  std::string out;
  out.reserve(snapshot.data.size() + 128);
  ByteWriter w(&out);
  w.u32(kSnapshotMagic);
  w.u8(kSnapshotVersion);
  w.u8(0);
  w.u16(0);
  w.u64(snapshot.meta.index);
  w.u64(snapshot.meta.term);
  encode_membership(snapshot.meta.membership, &out);
  w.u64(snapshot.data.size());
  w.bytes(snapshot.data);
  seal_with_crc(&out);
  return out;
}

Result<raft::Snapshot> decode_snapshot(std::string_view bytes, std::string_view what) {
  auto body = check_trailing_crc(bytes, what);
  if (!body) return body.error();
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kCorruption, std::string(what) + ": " + why);
  };
  ByteReader r(*body);
  if (r.u32() != kSnapshotMagic) return bad("bad magic");
  if (r.u8() != kSnapshotVersion) return bad("unknown snapshot format version");
  r.u8();
  r.u16();
  raft::Snapshot snapshot;
  snapshot.meta.index = r.u64();
  snapshot.meta.term = r.u64();
  if (!decode_membership(r, &snapshot.meta.membership)) return bad("bad membership");
  std::uint64_t size = r.u64();
  if (!r.ok() || size != r.remaining()) return bad("data length does not match the file size");
  snapshot.data = std::string(r.bytes(size));
  return snapshot;
}

void encode_open_index_header(std::uint64_t first_index, std::string* out) {
  ByteWriter w(out);
  w.u32(kOpenIndexMagic);
  w.u8(kOpenIndexVersion);
  w.u8(0);
  w.u16(0);
  w.u64(first_index);
}

bool open_index_header_ok(std::string_view bytes, std::uint64_t first_index) {
  if (bytes.size() < kOpenIndexHeaderBytes) return false;
  ByteReader r(bytes.substr(0, kOpenIndexHeaderBytes));
  bool ok = r.u32() == kOpenIndexMagic;
  ok = r.u8() == kOpenIndexVersion && ok;
  ok = r.u8() == 0 && ok;
  ok = r.u16() == 0 && ok;
  ok = r.u64() == first_index && ok;
  return ok && r.ok();
}

namespace {

// CRC32C of the record's index (u64, little-endian) followed by its first 20 bytes: a record
// copied to another slot, or left over from an older file, does not check.
std::uint32_t open_index_record_crc(std::uint64_t index, std::string_view body) {
  unsigned char index_bytes[8];
  for (int i = 0; i < 8; ++i) index_bytes[i] = static_cast<unsigned char>(index >> (8 * i));
  return crc32c_extend(crc32c(index_bytes, sizeof(index_bytes)), body);
}

}  // namespace

void encode_open_index_record(std::uint64_t index, const OpenIndexRecord& record,
                              std::string* out) {
  std::size_t start = out->size();
  ByteWriter w(out);
  w.u32(record.offset);
  w.u32(record.payload_bytes);
  w.u64(record.term);
  w.u8(record.flags);
  w.u8(0);
  w.u16(0);
  w.u32(open_index_record_crc(index, std::string_view(*out).substr(start, 20)));
}

bool decode_open_index_record(std::string_view bytes, std::uint64_t index,
                              OpenIndexRecord* record) {
  if (bytes.size() < kOpenIndexRecordBytes) return false;
  ByteReader r(bytes.substr(0, kOpenIndexRecordBytes));
  record->offset = r.u32();
  record->payload_bytes = r.u32();
  record->term = r.u64();
  record->flags = r.u8();
  std::uint8_t reserved8 = r.u8();
  std::uint16_t reserved16 = r.u16();
  std::uint32_t crc = r.u32();
  if (!r.ok() || crc != open_index_record_crc(index, bytes.substr(0, 20))) return false;
  return reserved8 == 0 && reserved16 == 0 && record->flags <= kOpenIndexFlagConfig &&
         record->term != 0 && record->payload_bytes <= kMaxEntryPayloadBytes;
}

std::string closed_segment_name(std::uint64_t first_index, std::uint64_t last_index) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "segment-%020llu-%020llu.log",
                static_cast<unsigned long long>(first_index),
                static_cast<unsigned long long>(last_index));
  return buf;
}

std::string closed_index_name(std::uint64_t first_index, std::uint64_t last_index) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "segment-%020llu-%020llu.idx",
                static_cast<unsigned long long>(first_index),
                static_cast<unsigned long long>(last_index));
  return buf;
}

std::string open_segment_name(std::uint64_t first_index) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "open-%020llu.log", static_cast<unsigned long long>(first_index));
  return buf;
}

std::string open_index_name(std::uint64_t first_index) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "open-%020llu.idx", static_cast<unsigned long long>(first_index));
  return buf;
}

std::string snapshot_name(std::uint64_t index) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "snapshot-%020llu.snap", static_cast<unsigned long long>(index));
  return buf;
}

namespace {

// Parses exactly 20 decimal digits at the start of `s`.
bool parse20(std::string_view s, std::uint64_t* out) {
  if (s.size() < 20) return false;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 20; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

}  // namespace

ParsedName parse_file_name(std::string_view name) {
  ParsedName p;
  auto take = [&](std::string_view prefix, std::string_view suffix, bool two) -> bool {
    std::size_t expected = prefix.size() + 20 + (two ? 21 : 0) + suffix.size();
    if (name.size() != expected || name.substr(0, prefix.size()) != prefix ||
        name.substr(name.size() - suffix.size()) != suffix) {
      return false;
    }
    std::string_view rest = name.substr(prefix.size());
    if (!parse20(rest, &p.first_index)) return false;
    if (two) {
      if (rest[20] != '-' || !parse20(rest.substr(21), &p.last_index)) return false;
    }
    return true;
  };
  if (take("segment-", ".log", true)) {
    p.kind = FileKind::kClosedSegment;
  } else if (take("segment-", ".idx", true)) {
    p.kind = FileKind::kClosedIndex;
  } else if (take("open-", ".log", false)) {
    p.kind = FileKind::kOpenSegment;
  } else if (take("open-", ".idx", false)) {
    p.kind = FileKind::kOpenIndex;
  } else if (take("snapshot-", ".snap", false)) {
    p.kind = FileKind::kSnapshot;
  } else {
    p = ParsedName{};
  }
  return p;
}

}  // namespace dledger::log::format
