#include "broker/ledger/transport/handshake.h"

#include <gtest/gtest.h>

#include <string>

#include "broker/ledger/transport/backoff.h"

namespace dledger::transport {
namespace {

TEST(Handshake, HelloRoundTrips) {
  HelloPayload hello{1, "broker-a", 3, 5};
  Result<HelloPayload> decoded = decode_hello(encode_hello(hello));
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(*decoded, hello);
}

TEST(Handshake, HelloRejectsTruncationAndTrailingBytes) {
  std::string bytes = encode_hello({1, "group", 3, 5});
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_hello(bytes.substr(0, n)).ok()) << n;
  }
  Result<HelloPayload> trailing = decode_hello(bytes + "x");
  ASSERT_FALSE(trailing.ok());
  EXPECT_NE(trailing.error().message.find("1 trailing bytes"), std::string::npos);
}

TEST(Handshake, HelloAckVariantsRoundTrip) {
  for (const HelloAckPayload& ack :
       {HelloAckPayload{HelloStatus::kAccepted, "", ""},
        HelloAckPayload{HelloStatus::kChallenge, std::string(kNonceBytes, 'n'), ""},
        HelloAckPayload{HelloStatus::kRefused, "", "n9 is not a member of group g"}}) {
    Result<HelloAckPayload> decoded = decode_hello_ack(encode_hello_ack(ack));
    ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
    EXPECT_EQ(*decoded, ack);
  }
}

TEST(Handshake, HelloAckRejectsUnknownStatusAndShortNonce) {
  EXPECT_FALSE(decode_hello_ack("").ok());
  EXPECT_FALSE(decode_hello_ack(std::string(1, '\x04')).ok());
  std::string challenge =
      encode_hello_ack({HelloStatus::kChallenge, std::string(kNonceBytes, 'n'), ""});
  EXPECT_FALSE(decode_hello_ack(challenge.substr(0, challenge.size() - 1)).ok());
  EXPECT_FALSE(decode_hello_ack(challenge + "z").ok());
}

TEST(Handshake, ProofVerifiesOnlyWithTheSameSecretNonceGroupAndNode) {
  const std::string nonce = random_nonce();
  ASSERT_EQ(nonce.size(), kNonceBytes);
  const std::string proof = compute_auth_proof("s3cret", nonce, "group", 2);
  ASSERT_EQ(proof.size(), kProofBytes);
  EXPECT_TRUE(verify_auth_proof(proof, "s3cret", nonce, "group", 2));
  EXPECT_FALSE(verify_auth_proof(proof, "other", nonce, "group", 2));
  EXPECT_FALSE(verify_auth_proof(proof, "s3cret", random_nonce(), "group", 2));
  EXPECT_FALSE(verify_auth_proof(proof, "s3cret", nonce, "groupb", 2));
  EXPECT_FALSE(verify_auth_proof(proof, "s3cret", nonce, "group", 3));
  EXPECT_FALSE(verify_auth_proof(proof.substr(1), "s3cret", nonce, "group", 2));
  EXPECT_FALSE(verify_auth_proof("", "s3cret", nonce, "group", 2));
}

std::string Hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0xf]);
  }
  return out;
}

TEST(Handshake, ProofIsHmacSha256OverNonceGroupAndNodeId) {
  // RFC 4231 test case 2 (key "Jefe", data "what do ya want for nothing?") extended by the
  // little-endian node id 0; expected value from Python's hmac module over the same bytes.
  EXPECT_EQ(Hex(compute_auth_proof("Jefe", "what do ya want ", "for nothing?", 0)),
            "733e03185f9a9dcc4df0c2beeeacb82f0db51073b56011b0654070290b5f8d43");
}

TEST(Backoff, DelayStaysWithinJitteredExponentialBounds) {
  BackoffPolicy policy{50, 2000};
  for (std::uint32_t attempt = 0; attempt < 12; ++attempt) {
    std::uint64_t ceiling = std::min<std::uint64_t>(2000, 50ull << std::min(attempt, 20u));
    for (std::uint64_t r : {0ull, 1ull, 12345ull, ~0ull}) {
      std::uint32_t delay = backoff_delay_ms(policy, attempt, r);
      EXPECT_GE(delay, ceiling / 2) << attempt;
      EXPECT_LE(delay, ceiling) << attempt;
    }
  }
  EXPECT_EQ(backoff_delay_ms(policy, 0, 0), 25u);
  EXPECT_EQ(backoff_delay_ms(policy, 100, 0), 1000u);
  EXPECT_EQ(backoff_delay_ms(policy, 100, 1000), 2000u);
}

TEST(Backoff, DegeneratePolicyNeverReturnsZero) {
  EXPECT_EQ(backoff_delay_ms({0, 0}, 0, 0), 1u);
  EXPECT_EQ(backoff_delay_ms({0, 0}, 50, ~0ull), 1u);
}

}  // namespace
}  // namespace dledger::transport
