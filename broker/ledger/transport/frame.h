// Length-prefixed, checksummed frames: the unit the peer transport sends over TCP.
//
// Header, 16 bytes, little-endian, followed by `payload length` bytes of payload:
//
//   offset  size  field
//   0       4     magic "DLGR" (bytes 0x44 0x4C 0x47 0x52)
//   4       2     protocol version (kProtocolVersion = 1)
//   6       1     frame type (FrameType, 1..5)
//   7       1     flags, reserved: must be 0
//   8       4     payload length in bytes (at most the decoder's max_payload_bytes)
//   12      4     CRC32C of header bytes [0, 12) followed by the payload
//
// A FrameDecoder accepts the byte stream in chunks of any size and yields complete frames. It
// checks each header as soon as its 16 bytes have arrived (so an oversized length is refused
// before its payload is buffered) and the checksum once the payload is complete. Any fault is
// final: the decoder keeps returning the same Error and the connection must be closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "broker/base/result.h"

namespace dledger::transport {

inline constexpr std::uint32_t kFrameMagic = 0x52474C44;  // "DLGR" in little-endian order
inline constexpr std::uint16_t kProtocolVersion = 1;
inline constexpr std::size_t kFrameHeaderBytes = 16;
inline constexpr std::size_t kDefaultMaxFrameBytes = 64ull << 20;  // payload bytes

enum class FrameType : std::uint8_t {
  kHello = 1,        // connector -> acceptor: HelloPayload (handshake.h)
  kHelloAck = 2,     // acceptor -> connector: HelloAckPayload (accepted / challenge / refused)
  kRaftMessage = 3,  // connector -> acceptor: one raft::Message (message_codec.h)
  kPing = 4,         // either way, empty payload; ignored by the receiver
  kAuth = 5,         // connector -> acceptor: HMAC proof answering a challenge
};

const char* frame_type_name(FrameType type);

// Appends a complete frame (header + payload) to `*out`.
void encode_frame(FrameType type, std::string_view payload, std::string* out);
std::string encode_frame(FrameType type, std::string_view payload);

// Building a frame in place, without copying the payload: begin_frame() appends a placeholder
// header and returns its offset; append the payload to `*out`; end_frame() fills the header in.
std::size_t begin_frame(std::string* out);
void end_frame(FrameType type, std::size_t header_offset, std::string* out);

// A decoded frame. `payload` points into the decoder's buffer and stays valid until the next
// call to feed() or next() on that decoder.
struct FrameView {
  FrameType type;
  std::string_view payload;
};

class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_payload_bytes = kDefaultMaxFrameBytes)
      : max_payload_bytes_(max_payload_bytes) {}

  // Appends received bytes. Ignored once the decoder has failed.
  void feed(std::string_view bytes);

  // The next complete frame, std::nullopt when more bytes are needed, or an Error
  // (kInvalidArgument / kCorruption) describing the first fault, e.g. "frame at stream offset 32:
  // payload length 70000000 exceeds the limit 67108864". Errors are sticky.
  Result<std::optional<FrameView>> next();

  // The limit applies to frames whose header has not been validated yet (the transport raises it
  // once a handshake completes).
  void set_max_payload_bytes(std::size_t max_payload_bytes) {
    max_payload_bytes_ = max_payload_bytes;
  }
  std::size_t max_payload_bytes() const { return max_payload_bytes_; }

  // Bytes received but not yet returned as frames.
  std::size_t buffered_bytes() const { return buffer_.size() - read_pos_; }
  bool failed() const { return error_.has_value(); }

 private:
  Error fail(ErrorCode code, std::string what);

  std::size_t max_payload_bytes_;
  std::string buffer_;
  std::size_t read_pos_ = 0;         // start of the first unconsumed byte in buffer_
  std::uint64_t stream_offset_ = 0;  // stream position of buffer_[read_pos_]
  // Header of the frame being assembled, once validated.
  std::optional<FrameType> pending_type_;
  std::uint32_t pending_length_ = 0;
  std::optional<Error> error_;
};

}  // namespace dledger::transport
