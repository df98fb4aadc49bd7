// A FileIo for tests: forwards to another FileIo, counts every call (per operation kind and, for
// reads, per file name), and makes chosen calls fail.
//
//   io->fail(FileOp::kWrite, ENOSPC);           // every write fails until clear_faults()
//   io->fail(FileOp::kRename, EIO, /*skip=*/2);  // the 3rd rename from now on fails, and later
//   ones io->crash_after_mutations(5);                // the 6th and later mutations are refused
//   (EIO)
//                                                // and not performed: the disk as a crash left it
//
// Mutations are write, sync, truncate, rename, remove, sync_dir, create_dir and opening with a
// create mode. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "broker/ledger/log/file_io.h"

namespace dledger::log {

enum class FileOp : std::uint8_t {
  kOpen,
  kRead,
  kWrite,
  kSync,
  kTruncate,
  kSize,
  kDropCached,
  kRename,
  kRemove,
  kSyncDir,
  kListDir,
  kCreateDir,
  kCount_,  // number of kinds
};

class FaultInjectingFileIo : public FileIo,
                             public std::enable_shared_from_this<FaultInjectingFileIo> {
 public:
  explicit FaultInjectingFileIo(std::shared_ptr<FileIo> inner = default_file_io())
      : inner_(std::move(inner)) {}

  // Calls of `op` fail with `errnum` after `skip` more successful calls of that kind, until
  // clear_faults().
  void fail(FileOp op, int errnum, std::uint64_t skip = 0);
  // After `allowed` more mutations succeed, every later mutation fails with EIO without touching
  // the disk (what a crash at that point leaves, given each completed call was durable).
  void crash_after_mutations(std::uint64_t allowed);
  void clear_faults();
  // Every File::sync() sleeps this long first (a slow disk, so group commit batches form).
  void set_sync_delay_us(std::uint64_t us);

  std::uint64_t count(FileOp op) const;
  std::uint64_t mutation_count() const;
  // Bytes read from files whose name (last path component) is `name`.
  std::uint64_t bytes_read_from(const std::string& name) const;
  // Total bytes read from files whose name starts with `prefix`.
  std::uint64_t bytes_read_from_prefix(const std::string& prefix) const;
  // The end of the highest range dropped from the page cache (File::drop_cached) of files
  // named `name` (length 0 counts as "to the end": UINT64_MAX); 0 if none.
  std::uint64_t dropped_cached_until(const std::string& name) const;
  void reset_counts();

  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status sync_dir(const std::string& dir) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Status create_dir(const std::string& dir) override;
  bool exists(const std::string& path) override;

  // Used by the wrapped File objects: counts the call and returns the injected failure, if any.
  Status before(FileOp op, const std::string& path);
  void record_read(const std::string& path, std::uint64_t bytes);
  void record_dropped(const std::string& path, std::uint64_t end);

 private:
  static bool is_mutation(FileOp op);

  std::shared_ptr<FileIo> inner_;
  mutable std::mutex mu_;
  std::array<std::uint64_t, static_cast<std::size_t>(FileOp::kCount_)> counts_{};
  struct Fault {
    bool armed = false;
    int errnum = 0;
    std::uint64_t skip = 0;
  };
  std::array<Fault, static_cast<std::size_t>(FileOp::kCount_)> faults_{};
  bool crash_armed_ = false;
  std::uint64_t crash_allowed_ = 0;
  std::uint64_t mutations_ = 0;
  std::uint64_t sync_delay_us_ = 0;
  std::map<std::string, std::uint64_t> bytes_read_;
  std::map<std::string, std::uint64_t> dropped_until_;
};

}  // namespace dledger::log
