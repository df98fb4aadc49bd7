// Result<T>: either a value or an Error carrying a code and a message a user can act on
// (which file, offset, key or value was at fault). Used across all broker layers instead of
// exceptions on expected failure paths (bad input, I/O errors, refused requests).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace dledger {

enum class ErrorCode {
  kInvalidArgument,  // caller passed something malformed (config value, peers string, frame)
  kNotFound,         // index / key absent
  kOutOfRange,       // index outside the retained range
  kCorruption,       // checksum mismatch or impossible on-disk content
  kIo,               // operating system I/O error
  kDiskFull,         // ENOSPC / EDQUOT
  kNotLeader,        // request needs the leader
  kTransferring,     // leadership transfer in progress, proposals refused
  kBusy,             // another change in progress (e.g. membership change not yet committed)
  kOverloaded,       // back-pressure: too many pending requests
  kTimeout,          // deadline passed
  kStopped,          // component shut down
  kUnavailable,      // peer or service unreachable
  kInternal,         // broken invariant (a bug)
};

const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;

  std::string to_string() const { return std::string(error_code_name(code)) + ": " + message; }
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

// make_error(ErrorCode::kInvalidArgument, message): a bad input, named in the message.
inline Error invalid_argument(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

// Result<void> equivalent.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  static Status ok_status() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

inline const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "InvalidArgument";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kOutOfRange:
      return "OutOfRange";
    case ErrorCode::kCorruption:
      return "Corruption";
    case ErrorCode::kIo:
      return "IoError";
    case ErrorCode::kDiskFull:
      return "DiskFull";
    case ErrorCode::kNotLeader:
      return "NotLeader";
    case ErrorCode::kTransferring:
      return "Transferring";
    case ErrorCode::kBusy:
      return "Busy";
    case ErrorCode::kOverloaded:
      return "Overloaded";
    case ErrorCode::kTimeout:
      return "Timeout";
    case ErrorCode::kStopped:
      return "Stopped";
    case ErrorCode::kUnavailable:
      return "Unavailable";
    case ErrorCode::kInternal:
      return "Internal";
  }
  return "Unknown";
}

}  // namespace dledger
