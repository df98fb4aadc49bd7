#include "broker/ledger/transport/handshake.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <random>

#include "broker/base/bytes.h"

namespace dledger::transport {
namespace {

Error invalid(const char* what, const std::string& detail) {
  return make_error(ErrorCode::kInvalidArgument, std::string(what) + ": " + detail);
}

}  // namespace

std::string encode_hello(const HelloPayload& hello) {
  std::string out;
  ByteWriter w(&out);
  std::string_view group = std::string_view(hello.group).substr(0, kMaxGroupBytes);
  w.u16(hello.protocol_version);
  w.u32(hello.from);
  w.u32(hello.to);
  w.u8(static_cast<std::uint8_t>(group.size()));
  w.bytes(group);
  return out;
}

Result<HelloPayload> decode_hello(std::string_view payload) {
  ByteReader r(payload);
  HelloPayload hello;
  hello.protocol_version = r.u16();
  hello.from = r.u32();
  hello.to = r.u32();
  std::uint8_t group_length = r.u8();
  hello.group = std::string(r.bytes(group_length));
  if (!r.ok()) {
    return invalid("hello", "truncated payload of " + std::to_string(payload.size()) + " bytes");
  }
  if (!r.at_end()) {
    return invalid("hello", std::to_string(r.remaining()) + " trailing bytes");
  }
  if (hello.from == raft::kNoNode) return invalid("hello.from", "is the reserved id kNoNode");
  return hello;
}

std::string encode_hello_ack(const HelloAckPayload& ack) {
  std::string out;
  ByteWriter w(&out);
  w.u8(static_cast<std::uint8_t>(ack.status));
  if (ack.status == HelloStatus::kChallenge) {
    w.bytes(ack.nonce);
  } else if (ack.status == HelloStatus::kRefused) {
    std::string_view reason = std::string_view(ack.reason).substr(0, kMaxRefusalReasonBytes);
    w.u16(static_cast<std::uint16_t>(reason.size()));
    w.bytes(reason);
  }
  return out;
}

Result<HelloAckPayload> decode_hello_ack(std::string_view payload) {
  ByteReader r(payload);
  HelloAckPayload ack;
  std::uint8_t status = r.u8();
  if (!r.ok()) return invalid("hello-ack.status", "missing (empty payload)");
  if (status < 1 || status > 3) {
    return invalid("hello-ack.status", std::to_string(status) + " is not 1, 2 or 3");
  }
  ack.status = static_cast<HelloStatus>(status);
  if (ack.status == HelloStatus::kChallenge) {
    ack.nonce = std::string(r.bytes(kNonceBytes));
    if (!r.ok()) return invalid("hello-ack.nonce", "shorter than " + std::to_string(kNonceBytes));
  } else if (ack.status == HelloStatus::kRefused) {
    std::uint16_t length = r.u16();
    if (r.ok() && length > kMaxRefusalReasonBytes) {
      return invalid("hello-ack.reason", "length " + std::to_string(length) + " exceeds " +
                                             std::to_string(kMaxRefusalReasonBytes));
    }
    ack.reason = std::string(r.bytes(length));
    if (!r.ok()) return invalid("hello-ack.reason", "truncated");
  }
  if (!r.at_end()) {
    return invalid("hello-ack", std::to_string(r.remaining()) + " trailing bytes");
  }
  return ack;
}

std::string compute_auth_proof(std::string_view secret, std::string_view nonce,
                               std::string_view group, raft::NodeId node_id) {
  std::string message;
  message.reserve(nonce.size() + group.size() + 4);
  message.append(nonce);
  message.append(group);
  ByteWriter(&message).u32(node_id);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  static const unsigned char kEmpty = 0;
  const void* key = secret.empty() ? static_cast<const void*>(&kEmpty) : secret.data();
  if (HMAC(EVP_sha256(), key, static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest,
           &digest_length) == nullptr ||
      digest_length != kProofBytes) {
    // OpenSSL failing to compute SHA-256 leaves nothing sensible to do; an empty proof never
    // verifies, so the connection is refused rather than authenticated.
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(digest), digest_length);
}

bool verify_auth_proof(std::string_view proof, std::string_view secret, std::string_view nonce,
                       std::string_view group, raft::NodeId node_id) {
  std::string expected = compute_auth_proof(secret, nonce, group, node_id);
  if (expected.size() != kProofBytes || proof.size() != kProofBytes) return false;
  return CRYPTO_memcmp(expected.data(), proof.data(), kProofBytes) == 0;
}

std::string random_nonce() {
  std::string nonce(kNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), static_cast<int>(kNonceBytes)) !=
      1) {
    // Fall back to std::random_device (also an OS source on Linux) rather than a fixed nonce.
    std::random_device device;
    for (char& c : nonce) c = static_cast<char>(device() & 0xff);
  }
  return nonce;
}

}  // namespace dledger::transport
