// Encoders and checked decoders for the durable log's files. The byte layouts are specified in
// segmented_log.h (the format spec); this file only implements them. Every decoder validates
// lengths, magic numbers, versions and CRC32Cs and never reads out of bounds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/raft/types.h"

namespace dledger::log::format {

// ---- File names in a log directory (besides segments, their indexes and the snapshot) ----
inline constexpr char kMetaFile[] = "meta";
inline constexpr char kMetaTmpFile[] = "meta.tmp";          // a meta write in progress
inline constexpr char kSnapshotTmpFile[] = "snapshot.tmp";  // a snapshot write in progress
inline constexpr char kLockFile[] = "LOCK";                 // flock'ed by the open log

// ---- Entries in segment files ----
inline constexpr std::uint32_t kEntryMagic = 0x45474C44;  // "DLGE" as little-endian bytes
inline constexpr std::uint8_t kEntryVersion = 1;
inline constexpr std::size_t kEntryHeaderBytes = 36;
inline constexpr std::uint32_t kMaxEntryPayloadBytes = 64u << 20;  // 64 MiB

// Appends the encoded entry (header + payload) to *out.
void encode_entry(const raft::Entry& entry, std::string* out);

enum class HeaderCheck {
  kOk,
  kShort,  // fewer than kEntryHeaderBytes available
  kBadMagic,
  kBadVersion,
  kBadHeaderCrc,
  kBadField,  // header CRC fine but a field is impossible (type, length over the maximum)
};

struct EntryHeader {
  std::uint8_t type = 0;
  std::uint32_t payload_bytes = 0;
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::uint32_t crc = 0;  // over header bytes [0, 32) and the payload
};

HeaderCheck decode_entry_header(std::string_view bytes, EntryHeader* header);
const char* header_check_name(HeaderCheck check);

// Checks the whole-entry CRC of `bytes` = header + payload (exactly kEntryHeaderBytes +
// header.payload_bytes long).
bool entry_crc_ok(std::string_view bytes, const EntryHeader& header);

// ---- Sealed segment index files (.idx) ----
inline constexpr std::uint32_t kIndexMagic = 0x49474C44;  // "DLGI"
inline constexpr std::uint8_t kIndexVersion = 1;

struct TermRun {
  std::uint64_t first_index = 0;  // first entry with this term
  std::uint64_t term = 0;
  bool operator==(const TermRun&) const = default;
};

struct SegmentIndex {
  std::uint64_t first_index = 0;
  std::uint64_t last_index = 0;        // first_index - 1 when empty (never sealed empty)
  std::uint64_t segment_bytes = 0;     // exact size of the .log file
  std::int64_t sealed_at_unix_ms = 0;  // 0: unknown
  std::vector<std::uint32_t> offsets;  // offsets[i]: byte offset of entry first_index + i
  std::vector<TermRun> term_runs;
  std::vector<std::uint64_t> config_indexes;  // kConfig entries in this segment
};

std::string encode_segment_index(const SegmentIndex& index);
// `what` names the file in error messages.
Result<SegmentIndex> decode_segment_index(std::string_view bytes, std::string_view what);

// ---- Open segment side index (open-<first>.idx) ----
inline constexpr std::uint32_t kOpenIndexMagic = 0x4F474C44;  // "DLGO"
inline constexpr std::uint8_t kOpenIndexVersion = 1;
inline constexpr std::size_t kOpenIndexHeaderBytes = 16;
inline constexpr std::size_t kOpenIndexRecordBytes = 24;
inline constexpr std::uint8_t kOpenIndexFlagConfig = 1;

// One record: where entry `index` lies in the open segment and what it is.
struct OpenIndexRecord {
  std::uint32_t offset = 0;         // byte offset of the entry in open-<first>.log
  std::uint32_t payload_bytes = 0;  // the entry's payload length (it ends at offset + 36 + this)
  std::uint64_t term = 0;
  std::uint8_t flags = 0;  // kOpenIndexFlagConfig for a kConfig entry
  bool operator==(const OpenIndexRecord&) const = default;
};

// Appends the 16-byte file header to *out.
void encode_open_index_header(std::uint64_t first_index, std::string* out);
// True if `bytes` starts with a valid header naming `first_index`.
bool open_index_header_ok(std::string_view bytes, std::uint64_t first_index);
// Appends the 24-byte record of entry `index` to *out.
void encode_open_index_record(std::uint64_t index, const OpenIndexRecord& record, std::string* out);
// Decodes the record at the start of `bytes` (at least kOpenIndexRecordBytes) if its CRC matches
// `index` and its fields are possible; false otherwise.
bool decode_open_index_record(std::string_view bytes, std::uint64_t index, OpenIndexRecord* record);

// ---- Membership (inside the meta and snapshot files) ----
void encode_membership(const raft::Membership& m, std::string* out);

// ---- Meta file ----
inline constexpr std::uint32_t kMetaMagic = 0x4D474C44;  // "DLGM"
inline constexpr std::uint8_t kMetaVersion = 1;

struct Meta {
  raft::HardState hard_state;
  std::uint64_t repair_until = 0;
  raft::SnapshotMeta snapshot;
  // Set while install_snapshot replaces the log: on open, every segment is discarded.
  bool discard_segments = false;
  // A read found a damaged entry at this index: on open, the log re-verifies from here.
  std::uint64_t damaged_index = 0;

  bool operator==(const Meta&) const = default;
};

std::string encode_meta(const Meta& meta);
Result<Meta> decode_meta(std::string_view bytes, std::string_view what);

// ---- Snapshot files ----
inline constexpr std::uint32_t kSnapshotMagic = 0x53474C44;  // "DLGS"
inline constexpr std::uint8_t kSnapshotVersion = 1;

std::string encode_snapshot(const raft::Snapshot& snapshot);
Result<raft::Snapshot> decode_snapshot(std::string_view bytes, std::string_view what);

// ---- File names ----
std::string closed_segment_name(std::uint64_t first_index, std::uint64_t last_index);  // .log
std::string closed_index_name(std::uint64_t first_index, std::uint64_t last_index);    // .idx
std::string open_segment_name(std::uint64_t first_index);
std::string open_index_name(std::uint64_t first_index);  // open-<first>.idx
std::string snapshot_name(std::uint64_t index);

enum class FileKind { kUnknown, kClosedSegment, kClosedIndex, kOpenSegment, kOpenIndex, kSnapshot };
struct ParsedName {
  FileKind kind = FileKind::kUnknown;
  std::uint64_t first_index = 0;  // snapshot: its index
  std::uint64_t last_index = 0;
};
ParsedName parse_file_name(std::string_view name);

}  // namespace dledger::log::format
