#include "broker/ledger/log/file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dledger::log {

Error io_error(int errnum, std::string_view operation, std::string_view path) {
  ErrorCode code = (errnum == ENOSPC || errnum == EDQUOT) ? ErrorCode::kDiskFull : ErrorCode::kIo;
  std::string message =
      std::string(operation) + " " + std::string(path) + ": " + std::strerror(errnum);
  if (code == ErrorCode::kDiskFull) message += " (disk full: free space and retry)";
  return make_error(code, std::move(message));
}

namespace {

class PosixFile : public File {
 public:
  PosixFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  const std::string& path() const override { return path_; }

  Result<std::size_t> read_at(std::uint64_t offset, char* out, std::size_t size) override {
    std::size_t done = 0;
    while (done < size) {
      ssize_t n = ::pread(fd_, out + done, size - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return io_error(errno, "read", path_);
      }
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    return done;
  }

  Status write_at(std::uint64_t offset, std::string_view data) override {
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n =
          ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return io_error(errno, "write", path_);
      }
      done += static_cast<std::size_t>(n);
    }
    return Status();
  }

  Status sync() override {
    if (::fdatasync(fd_) != 0) return io_error(errno, "fdatasync", path_);
    return Status();
  }

  Status truncate(std::uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return io_error(errno, "truncate", path_);
    return Status();
  }

  Status drop_cached(std::uint64_t offset, std::uint64_t length) override {
    int rc = ::posix_fadvise(fd_, static_cast<off_t>(offset), static_cast<off_t>(length),
                             POSIX_FADV_DONTNEED);
    if (rc != 0) return io_error(rc, "posix_fadvise(DONTNEED)", path_);
    return Status();
  }

  Status try_lock() override {
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return make_error(ErrorCode::kBusy,
                          path_ +
                              " is locked: the log is already open (another process or "
                              "another instance in this process)");
      }
      return io_error(errno, "lock", path_);
    }
    return Status();
  }

  Result<std::uint64_t> size() override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return io_error(errno, "stat", path_);
    return static_cast<std::uint64_t>(st.st_size);
  }

 private:
  std::string path_;
  int fd_;
};

}  // namespace

Result<std::unique_ptr<File>> PosixFileIo::open(const std::string& path, OpenMode mode) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case OpenMode::kRead:
      flags |= O_RDONLY;
      break;
    case OpenMode::kReadWrite:
      flags |= O_RDWR;
      break;
    case OpenMode::kCreate:
      flags |= O_RDWR | O_CREAT;
      break;
    case OpenMode::kCreateNew:
      flags |= O_RDWR | O_CREAT | O_TRUNC;
      break;
  }
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return io_error(errno, "open", path);
  return std::unique_ptr<File>(new PosixFile(path, fd));
}

Status PosixFileIo::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return io_error(errno, "rename to " + to, from);
  return Status();
}

Status PosixFileIo::remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return io_error(errno, "unlink", path);
  return Status();
}

Status PosixFileIo::sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error(errno, "open directory", dir);
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) return io_error(saved, "fsync directory", dir);
  return Status();
}

Result<std::vector<std::string>> PosixFileIo::list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return io_error(errno, "list directory", dir);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    std::string full = dir + "/" + name;
    if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode)) names.push_back(std::move(name));
  }
  ::closedir(d);
  return names;
}

Status PosixFileIo::create_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return io_error(errno, "create directory", dir);
  }
  return Status();
}

bool PosixFileIo::exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::shared_ptr<FileIo> default_file_io() {
  static std::shared_ptr<FileIo> io = std::make_shared<PosixFileIo>();
  return io;
}

}  // namespace dledger::log
