#include "broker/ledger/service/client_protocol.h"

#include "broker/base/bytes.h"
#include "broker/base/crc32c.h"

namespace dledger::service {

namespace {

constexpr std::size_t kHeaderAfterLength = kFrameHeaderBytes - kFrameLengthFieldBytes;  // 16
constexpr std::size_t kCrcOffset = 16;

Error bad(std::string what) {
  return make_error(ErrorCode::kInvalidArgument, "client protocol: " + std::move(what));
}

std::string at(const ByteReader& r) {
  return " (body offset " + std::to_string(r.position()) + ")";
}

// Writes the header with a zero crc and returns the offset of the frame start.
std::size_t begin_frame(FrameKind kind, std::uint64_t request_id, std::string* out) {
  std::size_t start = out->size();
  ByteWriter w(out);
  w.u32(0);  // patched in end_frame
  w.u8(kClientProtocolVersion);
  w.u8(static_cast<std::uint8_t>(kind));
  w.u16(0);
  w.u64(request_id);
  w.u32(0);  // crc, patched in end_frame
  return start;
}

void end_frame(std::size_t start, std::string* out) {
  ByteWriter w(out);
  std::size_t frame_length = out->size() - start - kFrameLengthFieldBytes;
  w.patch_u32(start, static_cast<std::uint32_t>(frame_length));
  std::string_view all(*out);
  std::uint32_t crc = crc32c(all.substr(start + kFrameLengthFieldBytes, 12));
  crc = crc32c_extend(crc, all.substr(start + kFrameHeaderBytes));
  w.patch_u32(start + kCrcOffset, crc);
}

}  // namespace

const char* frame_kind_name(FrameKind kind) {
  switch (kind) {
    case FrameKind::kAppendRequest:
      return "AppendRequest";
    case FrameKind::kAppendResponse:
      return "AppendResponse";
    case FrameKind::kGetRequest:
      return "GetRequest";
    case FrameKind::kGetResponse:
      return "GetResponse";
    case FrameKind::kErrorResponse:
      return "ErrorResponse";
  }
  return "Unknown";
}

std::uint16_t error_code_to_wire(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 1;
    case ErrorCode::kNotFound:
      return 2;
    case ErrorCode::kOutOfRange:
      return 3;
    case ErrorCode::kCorruption:
      return 4;
    case ErrorCode::kIo:
      return 5;
    case ErrorCode::kDiskFull:
      return 6;
    case ErrorCode::kNotLeader:
      return 7;
    case ErrorCode::kTransferring:
      return 8;
    case ErrorCode::kBusy:
      return 9;
    case ErrorCode::kOverloaded:
      return 10;
    case ErrorCode::kTimeout:
      return 11;
    case ErrorCode::kStopped:
      return 12;
    case ErrorCode::kUnavailable:
      return 13;
    case ErrorCode::kInternal:
      return 14;
  }
  return 14;
}

std::optional<ErrorCode> error_code_from_wire(std::uint16_t wire) {
  static constexpr ErrorCode kCodes[] = {
      ErrorCode::kInvalidArgument, ErrorCode::kNotFound,     ErrorCode::kOutOfRange,
      ErrorCode::kCorruption,      ErrorCode::kIo,           ErrorCode::kDiskFull,
      ErrorCode::kNotLeader,       ErrorCode::kTransferring, ErrorCode::kBusy,
      ErrorCode::kOverloaded,      ErrorCode::kTimeout,      ErrorCode::kStopped,
      ErrorCode::kUnavailable,     ErrorCode::kInternal,
  };
  if (wire < 1 || wire > std::size(kCodes)) return std::nullopt;
  return kCodes[wire - 1];
}

Result<FrameHeader> decode_frame_header(std::string_view header, const FrameLimits& limits) {
  if (header.size() < kFrameHeaderBytes) {
    return bad("frame header needs " + std::to_string(kFrameHeaderBytes) + " bytes, got " +
               std::to_string(header.size()));
  }
  ByteReader r(header.substr(0, kFrameHeaderBytes));
  FrameHeader h;
  h.frame_length = r.u32();
  std::uint8_t version = r.u8();
  std::uint8_t kind = r.u8();
  std::uint16_t reserved = r.u16();
  h.request_id = r.u64();
  h.crc = r.u32();
  if (h.frame_length < kHeaderAfterLength || h.frame_length > limits.max_frame_bytes) {
    return bad("frame_length " + std::to_string(h.frame_length) + " outside [" +
               std::to_string(kHeaderAfterLength) + ", " + std::to_string(limits.max_frame_bytes) +
               "]");
  }
  if (version != kClientProtocolVersion) {
    return bad("unsupported version " + std::to_string(version) + " (expected " +
               std::to_string(kClientProtocolVersion) + ")");
  }
  if (kind < 1 || kind > 5) return bad("unknown frame kind " + std::to_string(kind));
  if (reserved != 0) return bad("reserved field is " + std::to_string(reserved) + ", must be 0");
  h.kind = static_cast<FrameKind>(kind);
  return h;
}

Status verify_frame_crc(std::string_view header, std::string_view body) {
  ByteReader r(header.substr(kCrcOffset, 4));
  std::uint32_t expected = r.u32();
  std::uint32_t actual = crc32c_extend(crc32c(header.substr(kFrameLengthFieldBytes, 12)), body);
  if (expected != actual) {
    return bad("checksum mismatch: frame says " + std::to_string(expected) + ", computed " +
               std::to_string(actual));
  }
  return Status::ok_status();
}

std::size_t encoded_append_request_bytes(const std::vector<std::string>& entries) {
  std::size_t n = kFrameHeaderBytes + 4;
  for (const auto& e : entries) n += 4 + e.size();
  return n;
}

void encode_append_request(std::uint64_t request_id, const std::vector<std::string>& entries,
                           std::string* out) {
  out->reserve(out->size() + encoded_append_request_bytes(entries));
  std::size_t start = begin_frame(FrameKind::kAppendRequest, request_id, out);
  ByteWriter w(out);
  w.u32(static_cast<std::uint32_t>(entries.size()));
  for (const auto& e : entries) w.blob32(e);
  end_frame(start, out);
}

void encode_append_response(std::uint64_t request_id, const AppendResponse& response,
                            std::string* out) {
  std::size_t start = begin_frame(FrameKind::kAppendResponse, request_id, out);
  ByteWriter w(out);
  w.u64(response.first_index);
  w.u64(response.term);
  w.u32(response.count);
  end_frame(start, out);
}

void encode_get_request(std::uint64_t request_id, std::uint64_t index, std::string* out) {
  std::size_t start = begin_frame(FrameKind::kGetRequest, request_id, out);
  ByteWriter w(out);
  w.u64(index);
  end_frame(start, out);
}

void encode_get_response(std::uint64_t request_id, const GetResponse& response, std::string* out) {
  std::size_t start = begin_frame(FrameKind::kGetResponse, request_id, out);
  ByteWriter w(out);
  w.u64(response.index);
  w.u64(response.term);
  w.u8(static_cast<std::uint8_t>(response.type));
  w.blob32(response.data);
  end_frame(start, out);
}

void encode_error_response(std::uint64_t request_id, const ErrorResponse& response,
                           std::string* out) {
  std::size_t start = begin_frame(FrameKind::kErrorResponse, request_id, out);
  ByteWriter w(out);
  w.u16(error_code_to_wire(response.code));
  w.u32(response.leader_id);
  std::string_view message(response.message);
  if (message.size() > kMaxErrorMessageBytes) message = message.substr(0, kMaxErrorMessageBytes);
  w.u16(static_cast<std::uint16_t>(message.size()));
  w.bytes(message);
  end_frame(start, out);
}

Result<AppendRequest> decode_append_request(std::string_view body, const FrameLimits& limits) {
  ByteReader r(body);
  std::uint32_t count = r.u32();
  if (!r.ok()) return bad("AppendRequest: body too short for the entry count");
  if (count == 0 || count > limits.max_batch_entries) {
    return bad("AppendRequest: entry count " + std::to_string(count) + " outside [1, " +
               std::to_string(limits.max_batch_entries) + "]");
  }
  // Each entry needs at least its 4-byte length; reject before allocating.
  if (static_cast<std::uint64_t>(count) * 4 > r.remaining()) {
    return bad("AppendRequest: entry count " + std::to_string(count) + " cannot fit in " +
               std::to_string(r.remaining()) + " remaining bytes");
  }
  AppendRequest req;
  req.entries.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::size_t offset = r.position();
    std::uint32_t length = r.u32();
    if (!r.ok() || length > r.remaining()) {
      return bad("AppendRequest: entries[" + std::to_string(i) + "] length " +
                 std::to_string(length) + " exceeds the " + std::to_string(r.remaining()) +
                 " remaining bytes (body offset " + std::to_string(offset) + ")");
    }
    req.entries.emplace_back(r.bytes(length));
  }
  if (!r.at_end()) {
    return bad("AppendRequest: " + std::to_string(r.remaining()) + " trailing bytes" + at(r));
  }
  return req;
}

Result<AppendResponse> decode_append_response(std::string_view body) {
  ByteReader r(body);
  AppendResponse resp;
  resp.first_index = r.u64();
  resp.term = r.u64();
  resp.count = r.u32();
  if (!r.ok())
    return bad("AppendResponse: body of " + std::to_string(body.size()) + " bytes, expected 20");
  if (!r.at_end()) return bad("AppendResponse: trailing bytes" + at(r));
  if (resp.first_index == 0 || resp.count == 0) {
    return bad("AppendResponse: first_index " + std::to_string(resp.first_index) + " / count " +
               std::to_string(resp.count) + " must be positive");
  }
  return resp;
}

Result<GetRequest> decode_get_request(std::string_view body) {
  ByteReader r(body);
  GetRequest req;
  req.index = r.u64();
  if (!r.ok())
    return bad("GetRequest: body of " + std::to_string(body.size()) + " bytes, expected 8");
  if (!r.at_end()) return bad("GetRequest: trailing bytes" + at(r));
  if (req.index == 0) return bad("GetRequest: index 0 (indexes start at 1)");
  return req;
}

Result<GetResponse> decode_get_response(std::string_view body) {
  ByteReader r(body);
  GetResponse resp;
  resp.index = r.u64();
  resp.term = r.u64();
  std::uint8_t type = r.u8();
  if (!r.ok())
    return bad("GetResponse: body too short (" + std::to_string(body.size()) + " bytes)");
  if (type < 1 || type > 3) return bad("GetResponse: unknown entry type " + std::to_string(type));
  resp.type = static_cast<raft::EntryType>(type);
  std::size_t offset = r.position();
  std::uint32_t length = r.u32();
  if (!r.ok() || length > r.remaining()) {
    return bad("GetResponse: data length " + std::to_string(length) + " exceeds the " +
               std::to_string(r.remaining()) + " remaining bytes (body offset " +
               std::to_string(offset) + ")");
  }
  resp.data = std::string(r.bytes(length));
  if (!r.at_end()) return bad("GetResponse: trailing bytes" + at(r));
  return resp;
}

Result<ErrorResponse> decode_error_response(std::string_view body) {
  ByteReader r(body);
  ErrorResponse resp;
  std::uint16_t wire = r.u16();
  resp.leader_id = r.u32();
  std::uint16_t length = r.u16();
  if (!r.ok())
    return bad("ErrorResponse: body too short (" + std::to_string(body.size()) + " bytes)");
  auto code = error_code_from_wire(wire);
  if (!code) return bad("ErrorResponse: unknown error code " + std::to_string(wire));
  resp.code = *code;
  if (length > kMaxErrorMessageBytes || length > r.remaining()) {
    return bad("ErrorResponse: message length " + std::to_string(length) + " invalid with " +
               std::to_string(r.remaining()) + " remaining bytes");
  }
  resp.message = std::string(r.bytes(length));
  if (!r.at_end()) return bad("ErrorResponse: trailing bytes" + at(r));
  return resp;
}

void FrameReader::feed(const char* data, std::size_t size) {
  if (consumed_ > 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(data, size);
}

Result<std::optional<FrameReader::Frame>> FrameReader::next() {
  std::string_view rest = std::string_view(buffer_).substr(consumed_);
  if (rest.size() < kFrameHeaderBytes) {
    // A length field alone can already be rejected (e.g. a giant frame announced).
    if (rest.size() >= 4) {
      ByteReader r(rest.substr(0, 4));
      std::uint32_t length = r.u32();
      if (length < kHeaderAfterLength || length > limits_.max_frame_bytes) {
        return bad("frame_length " + std::to_string(length) + " outside [" +
                   std::to_string(kHeaderAfterLength) + ", " +
                   std::to_string(limits_.max_frame_bytes) + "]");
      }
    }
    return std::optional<Frame>();
  }
  auto header = decode_frame_header(rest, limits_);
  if (!header.ok()) return header.error();
  std::size_t total = kFrameLengthFieldBytes + header->frame_length;
  if (rest.size() < total) return std::optional<Frame>();
  std::string_view body = rest.substr(kFrameHeaderBytes, total - kFrameHeaderBytes);
  Status crc = verify_frame_crc(rest, body);
  if (!crc.ok()) return crc.error();
  consumed_ += total;
  return std::optional<Frame>(Frame{*header, body});
}

}  // namespace dledger::service
