#include "broker/ledger/transport/frame.h"

#include <string>
#include <utility>

#include "broker/base/bytes.h"
#include "broker/base/crc32c.h"

namespace dledger::transport {
namespace {

constexpr std::size_t kCrcOffset = 12;

bool known_frame_type(std::uint8_t v) {
  return v >= 1 && v <= 5;
}

std::string hex32(std::uint32_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s.push_back(digits[(v >> shift) & 0xf]);
  return s;
}

}  // namespace

const char* frame_type_name(FrameType type) {
  switch (type) {
    case FrameType::kHello:
      return "Hello";
    case FrameType::kHelloAck:
      return "HelloAck";
    case FrameType::kRaftMessage:
      return "RaftMessage";
    case FrameType::kPing:
      return "Ping";
    case FrameType::kAuth:
      return "Auth";
  }
  return "unknown";
}

std::size_t begin_frame(std::string* out) {
  std::size_t offset = out->size();
  out->append(kFrameHeaderBytes, '\0');
  return offset;
}

void end_frame(FrameType type, std::size_t header_offset, std::string* out) {
  std::size_t payload_bytes = out->size() - header_offset - kFrameHeaderBytes;
  std::string header;
  header.reserve(kFrameHeaderBytes);
  ByteWriter w(&header);
  w.u32(kFrameMagic);
  w.u16(kProtocolVersion);
  w.u8(static_cast<std::uint8_t>(type));
  w.u8(0);
  w.u32(static_cast<std::uint32_t>(payload_bytes));
  std::uint32_t crc = crc32c(header);
  crc = crc32c_extend(crc, out->data() + header_offset + kFrameHeaderBytes, payload_bytes);
  w.u32(crc);
  out->replace(header_offset, kFrameHeaderBytes, header);
}

void encode_frame(FrameType type, std::string_view payload, std::string* out) {
  out->reserve(out->size() + kFrameHeaderBytes + payload.size());
  std::size_t offset = begin_frame(out);
  out->append(payload);
  end_frame(type, offset, out);
}

std::string encode_frame(FrameType type, std::string_view payload) {
  std::string out;
  encode_frame(type, payload, &out);
  return out;
}

Error FrameDecoder::fail(ErrorCode code, std::string what) {
  error_ = make_error(
      code, "frame at stream offset " + std::to_string(stream_offset_) + ": " + std::move(what));
  return *error_;
}

void FrameDecoder::feed(std::string_view bytes) {
  if (error_) return;
  if (read_pos_ > 0) {
    buffer_.erase(0, read_pos_);
    read_pos_ = 0;
  }
  buffer_.append(bytes);
}

Result<std::optional<FrameView>> FrameDecoder::next() {
  if (error_) return *error_;
  std::string_view available(buffer_.data() + read_pos_, buffer_.size() - read_pos_);
  if (available.size() < kFrameHeaderBytes) return std::optional<FrameView>();

  if (!pending_type_) {
    ByteReader r(available.substr(0, kFrameHeaderBytes));
    std::uint32_t magic = r.u32();
    std::uint16_t version = r.u16();
    std::uint8_t type = r.u8();
    std::uint8_t flags = r.u8();
    std::uint32_t length = r.u32();
    if (magic != kFrameMagic) {
      return fail(ErrorCode::kInvalidArgument,
                  "bad magic " + hex32(magic) + " (expected " + hex32(kFrameMagic) + ")");
    }
    if (version != kProtocolVersion) {
      return fail(ErrorCode::kInvalidArgument,
                  "unsupported protocol version " + std::to_string(version) +
                      " (this build speaks " + std::to_string(kProtocolVersion) + ")");
    }
    if (!known_frame_type(type)) {
      return fail(ErrorCode::kInvalidArgument, "unknown frame type " + std::to_string(type));
    }
    if (flags != 0) {
      return fail(ErrorCode::kInvalidArgument,
                  "reserved flags are " + std::to_string(flags) + " (must be 0)");
    }
    if (length > max_payload_bytes_) {
      return fail(ErrorCode::kInvalidArgument, "payload length " + std::to_string(length) +
                                                   " exceeds the limit " +
                                                   std::to_string(max_payload_bytes_));
    }
    pending_type_ = static_cast<FrameType>(type);
    pending_length_ = length;
    buffer_.reserve(read_pos_ + kFrameHeaderBytes + length);
    available = std::string_view(buffer_.data() + read_pos_, buffer_.size() - read_pos_);
  }

  std::size_t frame_bytes = kFrameHeaderBytes + pending_length_;
  if (available.size() < frame_bytes) return std::optional<FrameView>();

  ByteReader crc_reader(available.substr(kCrcOffset, 4));
  std::uint32_t stored_crc = crc_reader.u32();
  std::uint32_t crc = crc32c(available.data(), kCrcOffset);
  crc = crc32c_extend(crc, available.data() + kFrameHeaderBytes, pending_length_);
  if (crc != stored_crc) {
    return fail(ErrorCode::kCorruption,
                "checksum mismatch: stored " + hex32(stored_crc) + ", computed " + hex32(crc));
  }
  FrameView view{*pending_type_, available.substr(kFrameHeaderBytes, pending_length_)};
  read_pos_ += frame_bytes;
  stream_offset_ += frame_bytes;
  pending_type_.reset();
  pending_length_ = 0;
  return std::optional<FrameView>(view);
}

}  // namespace dledger::transport
