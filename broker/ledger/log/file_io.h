// The file I/O layer of the durable log: every open, read, write, fsync, truncate, rename and
// delete the log performs goes through a FileIo, so tests can count calls and make any chosen
// call fail (ENOSPC, EIO) or simulate a crash (every mutation after call N is refused).
//
// Errors are Status/Result values whose message names the operation and the file; errno ENOSPC
// and EDQUOT map to ErrorCode::kDiskFull, everything else to ErrorCode::kIo.
//
// Thread safety: PosixFileIo and its File objects may be used from several threads at once
// (read_at/write_at use pread/pwrite and never share a file position).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/result.h"

namespace dledger::log {

// Builds the Status for a failed system call: kDiskFull for ENOSPC/EDQUOT, kIo otherwise.
Error io_error(int errnum, std::string_view operation, std::string_view path);

class File {
 public:
  virtual ~File() = default;
  virtual const std::string& path() const = 0;

  // Reads up to `size` bytes at `offset` into `out`; returns the number read (fewer only at end
  // of file).
  virtual Result<std::size_t> read_at(std::uint64_t offset, char* out, std::size_t size) = 0;
  // Writes all of `data` at `offset` (retrying short writes). On error some prefix of `data` may
  // have been written.
  virtual Status write_at(std::uint64_t offset, std::string_view data) = 0;
  // fdatasync: the data and the file size are durable when it returns ok.
  virtual Status sync() = 0;
  virtual Status truncate(std::uint64_t size) = 0;
  // Advice, not a mutation: the cached pages of [offset, offset + length) (length 0: to the end
  // of the file) are no longer needed and may be dropped from the page cache. Only clean pages
  // go, so callers advise ranges they have synced; the data stays on disk and later reads of it
  // are served from there. Errors only for a bad file descriptor or range.
  virtual Status drop_cached(std::uint64_t offset, std::uint64_t length) = 0;
  virtual Result<std::uint64_t> size() = 0;
  // Takes an exclusive advisory lock (flock) held until the File is destroyed. kBusy if another
  // open file description holds it (another process, or another open in this process).
  virtual Status try_lock() = 0;
};

enum class OpenMode {
  kRead,       // existing file, read only
  kReadWrite,  // existing file, read and write
  kCreate,     // create if missing (never truncates), read and write
  kCreateNew,  // create, truncating any existing file, read and write
};

class FileIo {
 public:
  virtual ~FileIo() = default;

  virtual Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
  // rename(2): atomically replaces `to` if it exists.
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  // unlink(2) a file; removing a file that does not exist is an error (kIo).
  virtual Status remove(const std::string& path) = 0;
  // fsync of a directory, making creations, renames and removals inside it durable.
  virtual Status sync_dir(const std::string& dir) = 0;
  // Names (not paths) of the regular files in `dir`, unsorted.
  virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  // Creates `dir` if missing (parents must exist). ok if it already exists.
  virtual Status create_dir(const std::string& dir) = 0;
  virtual bool exists(const std::string& path) = 0;
};

// The real thing: POSIX calls.
class PosixFileIo : public FileIo {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status sync_dir(const std::string& dir) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Status create_dir(const std::string& dir) override;
  bool exists(const std::string& path) override;
};

// A shared PosixFileIo instance.
std::shared_ptr<FileIo> default_file_io();

}  // namespace dledger::log
