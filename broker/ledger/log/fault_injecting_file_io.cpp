#include "broker/ledger/log/fault_injecting_file_io.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

namespace dledger::log {

namespace {

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

class FaultInjectingFile : public File {
 public:
  FaultInjectingFile(std::shared_ptr<FaultInjectingFileIo> io, std::unique_ptr<File> inner)
      : io_(std::move(io)), inner_(std::move(inner)) {}

  const std::string& path() const override { return inner_->path(); }

  Result<std::size_t> read_at(std::uint64_t offset, char* out, std::size_t size) override {
    if (Status s = io_->before(FileOp::kRead, path()); !s) return s.error();
    auto r = inner_->read_at(offset, out, size);
    if (r) io_->record_read(path(), *r);
    return r;
  }
  Status write_at(std::uint64_t offset, std::string_view data) override {
    if (Status s = io_->before(FileOp::kWrite, path()); !s) return s;
    return inner_->write_at(offset, data);
  }
  Status sync() override {
    if (Status s = io_->before(FileOp::kSync, path()); !s) return s;
    return inner_->sync();
  }
  Status truncate(std::uint64_t size) override {
    if (Status s = io_->before(FileOp::kTruncate, path()); !s) return s;
    return inner_->truncate(size);
  }
  Status drop_cached(std::uint64_t offset, std::uint64_t length) override {
    if (Status s = io_->before(FileOp::kDropCached, path()); !s) return s;
    Status s = inner_->drop_cached(offset, length);
    if (s) io_->record_dropped(path(), length == 0 ? UINT64_MAX : offset + length);
    return s;
  }
  Result<std::uint64_t> size() override {
    if (Status s = io_->before(FileOp::kSize, path()); !s) return s.error();
    return inner_->size();
  }
  Status try_lock() override { return inner_->try_lock(); }

 private:
  std::shared_ptr<FaultInjectingFileIo> io_;
  std::unique_ptr<File> inner_;
};

}  // namespace

bool FaultInjectingFileIo::is_mutation(FileOp op) {
  switch (op) {
    case FileOp::kWrite:
    case FileOp::kSync:
    case FileOp::kTruncate:
    case FileOp::kRename:
    case FileOp::kRemove:
    case FileOp::kSyncDir:
    case FileOp::kCreateDir:
      return true;
    default:
      return false;
  }
}

void FaultInjectingFileIo::fail(FileOp op, int errnum, std::uint64_t skip) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_[static_cast<std::size_t>(op)] = Fault{true, errnum, skip};
}

void FaultInjectingFileIo::crash_after_mutations(std::uint64_t allowed) {
  std::lock_guard<std::mutex> lock(mu_);
  crash_armed_ = true;
  crash_allowed_ = allowed;
}

void FaultInjectingFileIo::set_sync_delay_us(std::uint64_t us) {
  std::lock_guard<std::mutex> lock(mu_);
  sync_delay_us_ = us;
}

void FaultInjectingFileIo::clear_faults() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_ = {};
  crash_armed_ = false;
}

std::uint64_t FaultInjectingFileIo::count(FileOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_[static_cast<std::size_t>(op)];
}

std::uint64_t FaultInjectingFileIo::mutation_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mutations_;
}

std::uint64_t FaultInjectingFileIo::bytes_read_from(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bytes_read_.find(name);
  return it == bytes_read_.end() ? 0 : it->second;
}

std::uint64_t FaultInjectingFileIo::bytes_read_from_prefix(const std::string& prefix) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::uint64_t total = 0;
  for (const auto& [name, bytes] : bytes_read_) {
    if (name.compare(0, prefix.size(), prefix) == 0) total += bytes;
  }
  return total;
}

std::uint64_t FaultInjectingFileIo::dropped_cached_until(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = dropped_until_.find(name);
  return it == dropped_until_.end() ? 0 : it->second;
}

void FaultInjectingFileIo::reset_counts() {
  std::lock_guard<std::mutex> lock(mu_);
  counts_ = {};
  mutations_ = 0;
  bytes_read_.clear();
  dropped_until_.clear();
}

Status FaultInjectingFileIo::before(FileOp op, const std::string& path) {
  if (op == FileOp::kSync) {
    std::uint64_t delay;
    {
      std::lock_guard<std::mutex> lock(mu_);
      delay = sync_delay_us_;
    }
    if (delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[static_cast<std::size_t>(op)];
  if (is_mutation(op)) {
    ++mutations_;
    if (crash_armed_) {
      if (crash_allowed_ == 0) return io_error(EIO, "simulated crash before mutation of", path);
      --crash_allowed_;
    }
  }
  Fault& f = faults_[static_cast<std::size_t>(op)];
  if (f.armed) {
    if (f.skip == 0) return io_error(f.errnum, "injected fault on", path);
    --f.skip;
  }
  return Status();
}

void FaultInjectingFileIo::record_read(const std::string& path, std::uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  bytes_read_[base_name(path)] += bytes;
}

void FaultInjectingFileIo::record_dropped(const std::string& path, std::uint64_t end) {
  std::lock_guard<std::mutex> lock(mu_);
  std::uint64_t& until = dropped_until_[base_name(path)];
  until = std::max(until, end);
}

Result<std::unique_ptr<File>> FaultInjectingFileIo::open(const std::string& path, OpenMode mode) {
  bool creates = mode == OpenMode::kCreate || mode == OpenMode::kCreateNew;
  if (creates) {
    // Creating a file is a mutation: count it as a write for crash simulation.
    if (Status s = before(FileOp::kWrite, path); !s) return s.error();
  }
  if (Status s = before(FileOp::kOpen, path); !s) return s.error();
  auto file = inner_->open(path, mode);
  if (!file) return file.error();
  return std::unique_ptr<File>(new FaultInjectingFile(shared_from_this(), std::move(file).value()));
}

Status FaultInjectingFileIo::rename(const std::string& from, const std::string& to) {
  if (Status s = before(FileOp::kRename, from); !s) return s;
  return inner_->rename(from, to);
}

Status FaultInjectingFileIo::remove(const std::string& path) {
  if (Status s = before(FileOp::kRemove, path); !s) return s;
  return inner_->remove(path);
}

Status FaultInjectingFileIo::sync_dir(const std::string& dir) {
  if (Status s = before(FileOp::kSyncDir, dir); !s) return s;
  return inner_->sync_dir(dir);
}

Result<std::vector<std::string>> FaultInjectingFileIo::list_dir(const std::string& dir) {
  if (Status s = before(FileOp::kListDir, dir); !s) return s.error();
  return inner_->list_dir(dir);
}

Status FaultInjectingFileIo::create_dir(const std::string& dir) {
  if (Status s = before(FileOp::kCreateDir, dir); !s) return s;
  return inner_->create_dir(dir);
}

bool FaultInjectingFileIo::exists(const std::string& path) {
  return inner_->exists(path);
}

}  // namespace dledger::log
