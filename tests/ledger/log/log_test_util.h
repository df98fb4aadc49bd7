// Shared helpers for the durable log tests: a temporary directory per test, entry builders and
// raw file surgery (flip a byte, cut a file, append zeros) used to craft crash and corruption
// cases.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "broker/ledger/log/fault_injecting_file_io.h"
#include "broker/ledger/log/segmented_log.h"

namespace dledger::log::testing {

namespace fs = std::filesystem;

inline constexpr std::uint64_t kMiB = 1 << 20;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "dledger-log-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string log_dir() const { return path_ + "/log"; }

 private:
  std::string path_;
};

// Payload of entry `index`, deterministic so reads can be checked byte for byte.
inline std::string payload_for(std::uint64_t index, std::size_t size = 100) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    s[i] = static_cast<char>('a' + (index * 7 + i) % 26);
  }
  return s;
}

inline raft::Entry make_entry(std::uint64_t index, std::uint64_t term, std::size_t size = 100,
                              raft::EntryType type = raft::EntryType::kNormal) {
  raft::Entry e;
  e.index = index;
  e.term = term;
  e.type = type;
  e.data = payload_for(index, size);
  return e;
}

inline std::vector<raft::Entry> make_entries(std::uint64_t first, std::uint64_t last,
                                             std::uint64_t term, std::size_t size = 100) {
  std::vector<raft::Entry> out;
  for (std::uint64_t i = first; i <= last; ++i) out.push_back(make_entry(i, term, size));
  return out;
}

inline Options small_options(const std::string& dir, std::shared_ptr<FileIo> io = nullptr,
                             std::uint64_t segment_bytes = 4096) {
  Options o;
  o.dir = dir;
  o.segment_bytes = segment_bytes;
  if (io) o.io = std::move(io);
  o.on_warning = [](const std::string&) {};
  return o;
}

inline OpenResult open_ok(const Options& options) {
  auto r = SegmentedLog::open(options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  if (!r.ok()) return OpenResult{};
  return std::move(r).value();
}

inline std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  if (!fs::exists(dir)) return names;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

inline std::vector<std::string> files_with_prefix(const std::string& dir,
                                                  const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& n : files_in(dir)) {
    if (n.rfind(prefix, 0) == 0) out.push_back(n);
  }
  return out;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void flip_byte(const std::string& path, std::uint64_t offset) {
  std::string bytes = read_file(path);
  ASSERT_LT(offset, bytes.size());
  bytes[offset] = static_cast<char>(bytes[offset] ^ 0x5a);
  write_file(path, bytes);
}

inline void cut_file(const std::string& path, std::uint64_t size) {
  fs::resize_file(path, size);
}

inline void append_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Checks that entries [first, last] read back with the payloads make_entry gives them.
inline void expect_entries(const SegmentedLog& log, std::uint64_t first, std::uint64_t last,
                           std::uint64_t term, std::size_t size = 100) {
  for (std::uint64_t i = first; i <= last; ++i) {
    auto e = log.read(i);
    ASSERT_TRUE(e.ok()) << "index " << i << ": " << e.error().to_string();
    EXPECT_EQ(e->index, i);
    EXPECT_EQ(e->term, term);
    EXPECT_EQ(e->data, payload_for(i, size)) << "index " << i;
  }
}

// The open segment of a log directory (exactly one expected) and its side index.
inline std::string open_segment_path(const std::string& dir) {
  std::vector<std::string> open;
  for (const std::string& name : files_with_prefix(dir, "open-")) {
    if (name.size() > 4 && name.substr(name.size() - 4) == ".log") open.push_back(name);
  }
  EXPECT_EQ(open.size(), 1u);
  return open.empty() ? std::string() : dir + "/" + open.front();
}

inline std::string open_index_path(const std::string& dir) {
  std::string segment = open_segment_path(dir);
  return segment.empty() ? segment : segment.substr(0, segment.size() - 4) + ".idx";
}

// Deletes the open segment's side index: the next open scans the whole open segment, as a log
// written before side indexes existed.
inline void remove_open_index(const std::string& dir) {
  ASSERT_TRUE(fs::remove(open_index_path(dir))) << open_index_path(dir);
}

inline constexpr std::uint64_t kEntryBytes100 = 36 + 100;  // encoded size of a 100-byte entry

}  // namespace dledger::log::testing
