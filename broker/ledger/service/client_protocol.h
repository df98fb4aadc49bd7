// The ledger client protocol: DLedger's two client calls, append and get, over TCP.
//
// A connection carries a stream of frames in both directions. Every frame, all integers
// little-endian (broker/base/bytes.h):
//
//   offset size
//   0      4    frame_length   bytes that follow this field (header rest + body), 16..max
//   4      1    version        kClientProtocolVersion (1)
//   5      1    kind           FrameKind below
//   6      2    reserved       must be 0
//   8      8    request_id     chosen by the client; the response carries the same id
//   16     4    crc32c         CRC32C of bytes [4, 16) followed by the body
//   20     ...  body           frame_length - 16 bytes, layout per kind:
//
//   kAppendRequest   u32 count (1..max_batch_entries), then count x (u32 length, bytes)
//   kAppendResponse  u64 first_index  u64 term  u32 count
//   kGetRequest      u64 index (>= 1)
//   kGetResponse     u64 index  u64 term  u8 entry type (raft::EntryType 1..3)  u32 length, bytes
//   kErrorResponse   u16 error code (wire numbers below)  u32 leader id (raft::kNoNode = unknown)
//                    u16 message length, message bytes (UTF-8, at most kMaxErrorMessageBytes)
//
// Nothing may follow the last field of a body. Requests are pipelined: a client may send many
// requests before reading any response, and the server may answer them in any order (appends
// complete when committed, gets immediately). A kErrorResponse answers exactly one request;
// kNotLeader carries the leader's member id when the replica knows it, and the client maps that
// id to the leader's client address through its own peers list.
//
// Any malformed frame (bad length, version, kind, reserved bits, checksum, body shape, a response
// kind sent to the server or a request kind sent to a client) is a protocol violation: the
// receiver logs the reason and closes the connection. Decoders never read out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/result.h"
#include "broker/ledger/raft/types.h"

namespace dledger::service {

inline constexpr std::uint8_t kClientProtocolVersion = 1;
inline constexpr std::size_t kFrameLengthFieldBytes = 4;
inline constexpr std::size_t kFrameHeaderBytes = 20;  // including the length field
inline constexpr std::size_t kMaxErrorMessageBytes = 4096;
inline constexpr std::uint32_t kDefaultMaxFrameBytes = 16u << 20;
inline constexpr std::uint32_t kDefaultMaxBatchEntries = 10'000;

enum class FrameKind : std::uint8_t {
  kAppendRequest = 1,
  kAppendResponse = 2,
  kGetRequest = 3,
  kGetResponse = 4,
  kErrorResponse = 5,
};
const char* frame_kind_name(FrameKind kind);
inline bool is_request(FrameKind kind) {
  return kind == FrameKind::kAppendRequest || kind == FrameKind::kGetRequest;
}

struct FrameLimits {
  std::uint32_t max_frame_bytes = kDefaultMaxFrameBytes;  // frame_length limit
  std::uint32_t max_batch_entries = kDefaultMaxBatchEntries;
};

// Decoded fixed header (everything before the body).
struct FrameHeader {
  std::uint32_t frame_length = 0;
  FrameKind kind = FrameKind::kAppendRequest;
  std::uint64_t request_id = 0;
  std::uint32_t crc = 0;
  std::size_t body_bytes() const { return frame_length - (kFrameHeaderBytes - 4); }
};

// Checks the kFrameHeaderBytes bytes at the start of a frame: length within [16, max], version,
// kind, reserved. Errors (kInvalidArgument) name the field and value.
Result<FrameHeader> decode_frame_header(std::string_view header, const FrameLimits& limits);
// Verifies the checksum of a complete frame body against its header.
Status verify_frame_crc(std::string_view header, std::string_view body);

struct AppendRequest {
  std::vector<std::string> entries;
};
struct AppendResponse {
  std::uint64_t first_index = 0;
  std::uint64_t term = 0;
  std::uint32_t count = 0;
};
struct GetRequest {
  std::uint64_t index = 0;
};
struct GetResponse {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  raft::EntryType type = raft::EntryType::kNormal;
  std::string data;
};
struct ErrorResponse {
  ErrorCode code = ErrorCode::kInternal;
  raft::NodeId leader_id = raft::kNoNode;
  std::string message;
};

// Stable wire numbers of dledger::ErrorCode (never renumber; add at the end).
std::uint16_t error_code_to_wire(ErrorCode code);
std::optional<ErrorCode> error_code_from_wire(std::uint16_t wire);

// Encoders append one complete frame (header + body) to *out. Messages longer than
// kMaxErrorMessageBytes are cut. Encoders do not check limits; the sender checks the size
// (encoded_append_request_bytes) before sending.
void encode_append_request(std::uint64_t request_id, const std::vector<std::string>& entries,
                           std::string* out);
std::size_t encoded_append_request_bytes(const std::vector<std::string>& entries);
void encode_append_response(std::uint64_t request_id, const AppendResponse& response,
                            std::string* out);
void encode_get_request(std::uint64_t request_id, std::uint64_t index, std::string* out);
void encode_get_response(std::uint64_t request_id, const GetResponse& response, std::string* out);
void encode_error_response(std::uint64_t request_id, const ErrorResponse& response,
                           std::string* out);

// Body decoders: `body` is exactly the frame body. Errors (kInvalidArgument) name the field and
// the byte offset within the body.
Result<AppendRequest> decode_append_request(std::string_view body, const FrameLimits& limits);
Result<AppendResponse> decode_append_response(std::string_view body);
Result<GetRequest> decode_get_request(std::string_view body);
Result<GetResponse> decode_get_response(std::string_view body);
Result<ErrorResponse> decode_error_response(std::string_view body);

// Incremental frame splitter for a byte stream: feed received bytes, take complete frames.
// After an error the stream is unusable (the connection must be closed).
class FrameReader {
 public:
  explicit FrameReader(FrameLimits limits) : limits_(limits) {}

  void feed(const char* data, std::size_t size);
  // Bytes received but not yet returned as frames.
  std::size_t buffered_bytes() const { return buffer_.size() - consumed_; }

  struct Frame {
    FrameHeader header;
    std::string_view body;  // valid until the next call to feed() or next()
  };
  // The next complete, checksum-verified frame; nullopt when more bytes are needed; an Error on a
  // protocol violation.
  Result<std::optional<Frame>> next();

 private:
  FrameLimits limits_;
  std::string buffer_;
  std::size_t consumed_ = 0;
};

}  // namespace dledger::service
