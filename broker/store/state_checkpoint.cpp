#include "broker/store/state_checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace dledger::store {
namespace {

Error io_error(const std::string& what, const std::string& path) {
  int err = errno;
  ErrorCode code = (err == ENOSPC || err == EDQUOT) ? ErrorCode::kDiskFull : ErrorCode::kIo;
  return make_error(code, what + " '" + path + "': " + std::strerror(err));
}

Status write_all(int fd, const std::string& data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write", path);
    }
    done += static_cast<std::size_t>(n);
  }
  return Status();
}

}  // namespace

Status write_state_checkpoint(const std::string& dir, const std::string& state_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "cannot create directory '" + dir + "': " + ec.message());
  }
  std::string path = dir + "/" + kCheckpointFileName;
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", tmp);
  Status written = write_all(fd, state_bytes, tmp);
  if (written.ok() && ::fsync(fd) != 0) written = io_error("cannot fsync", tmp);
  ::close(fd);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename to", path);
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return io_error("cannot open directory", dir);
  bool synced = ::fsync(dir_fd) == 0;
  ::close(dir_fd);
  if (!synced) return io_error("cannot fsync directory", dir);
  return Status();
}

Result<StoreState> read_state_checkpoint(const std::string& dir) {
  std::string path = dir + "/" + kCheckpointFileName;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) {
      return make_error(ErrorCode::kNotFound, "no checkpoint at '" + path + "'");
    }
    return make_error(ErrorCode::kIo, "cannot open '" + path + "'");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  auto state = StoreState::load_snapshot(buffer.str());
  if (!state.ok()) {
    return make_error(ErrorCode::kCorruption, "'" + path + "': " + state.error().message);
  }
  return state;
}

}  // namespace dledger::store
