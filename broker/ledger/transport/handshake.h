// Handshake payloads and the shared-secret proof used when a peer connection opens.
//
//   connector                                   acceptor
//     Hello{version, group, from, to}  ───────►  refuse (HelloAck refused + reason, close) when the
//                                                version or group differ, `from` is not a member
//                                                or `to` is not the acceptor's id
//                                      ◄───────  no secret: HelloAck accepted
//                                      ◄───────  secret:    HelloAck challenge{32-byte nonce}
//     Auth{HMAC-SHA256(secret, nonce || group || u32le from)}  ───────►
//                                      ◄───────  HelloAck accepted, or refused + close
//     RaftMessage, RaftMessage, ...    ───────►  (one direction per connection: each member sends
//                                                 on the connection it opened)
//
// A connector configured with a secret refuses an acceptor that accepts it without a challenge
// (a peer without the secret, or a downgrade). Proofs are compared in constant time.
//
// Payload layouts (little-endian):
//   Hello:    u16 protocol version, u32 from, u32 to, u8 group length, group bytes
//   HelloAck: u8 status (1 accepted, 2 challenge, 3 refused), then
//             challenge: 32 nonce bytes; refused: u16 reason length, reason (<= 1024 bytes)
//   Auth:     32 proof bytes
// Each decoder rejects unknown values, wrong lengths and trailing bytes with kInvalidArgument.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/base/result.h"
#include "broker/ledger/raft/types.h"

namespace dledger::transport {

inline constexpr std::size_t kNonceBytes = 32;
inline constexpr std::size_t kProofBytes = 32;  // SHA-256
inline constexpr std::size_t kMaxGroupBytes = 255;
inline constexpr std::size_t kMaxRefusalReasonBytes = 1024;
// Frames before the handshake completes may not exceed this (unauthenticated peers cannot make
// the acceptor buffer large frames).
inline constexpr std::size_t kMaxHandshakeFrameBytes = 4096;

struct HelloPayload {
  std::uint16_t protocol_version = 0;
  std::string group;
  raft::NodeId from = raft::kNoNode;
  raft::NodeId to = raft::kNoNode;  // the member the connector believes it is talking to

  bool operator==(const HelloPayload&) const = default;
};

enum class HelloStatus : std::uint8_t { kAccepted = 1, kChallenge = 2, kRefused = 3 };

struct HelloAckPayload {
  HelloStatus status = HelloStatus::kAccepted;
  std::string nonce;   // kChallenge: kNonceBytes bytes
  std::string reason;  // kRefused: why (truncated to kMaxRefusalReasonBytes when encoded)

  bool operator==(const HelloAckPayload&) const = default;
};

std::string encode_hello(const HelloPayload& hello);  // group is truncated to kMaxGroupBytes
Result<HelloPayload> decode_hello(std::string_view payload);
std::string encode_hello_ack(const HelloAckPayload& ack);
Result<HelloAckPayload> decode_hello_ack(std::string_view payload);

// HMAC-SHA256(secret, nonce || group || u32le node_id), kProofBytes bytes.
std::string compute_auth_proof(std::string_view secret, std::string_view nonce,
                               std::string_view group, raft::NodeId node_id);
// Constant-time comparison of `proof` with the expected proof; false for a wrong length.
bool verify_auth_proof(std::string_view proof, std::string_view secret, std::string_view nonce,
                       std::string_view group, raft::NodeId node_id);

// kNonceBytes from the operating system's CSPRNG (OpenSSL RAND_bytes).
std::string random_nonce();

}  // namespace dledger::transport
