#include "broker/base/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace dledger {
namespace {

TEST(Crc32c, MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
}

TEST(Crc32c, EmptyInputIsZero) {
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, ExtendEqualsChecksumOfConcatenation) {
  std::string a = "header-bytes-";
  std::string b(1000, 'x');
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>(i * 7);
  EXPECT_EQ(crc32c_extend(crc32c(a), b), crc32c(a + b));
}

TEST(Crc32c, DetectsASingleBitFlip) {
  std::string data(4096, 'a');
  std::uint32_t before = crc32c(data);
  data[2048] ^= 0x01;
  EXPECT_NE(crc32c(data), before);
}

TEST(Crc32c, AllAlignmentsAgreeWithBytewiseComputation) {
  std::string data(64, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + 5);
  for (std::size_t start = 0; start < 8; ++start) {
    std::uint32_t whole = crc32c(data.data() + start, data.size() - start);
    std::uint32_t bytewise = 0;
    for (std::size_t i = start; i < data.size(); ++i)
      bytewise = crc32c_extend(bytewise, &data[i], 1);
    EXPECT_EQ(whole, bytewise) << "start " << start;
  }
}

// Bit-at-a-time reference: the definition of CRC32C, with no tables and no hardware.
std::uint32_t reference_crc32c(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  std::uint32_t c = ~crc;
  for (std::size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

TEST(Crc32c, EveryLengthAndSeedAgreesWithTheBitwiseDefinition) {
  // Covers the serial tail, the interleaved short blocks (3 x 128 bytes) and the interleaved long
  // blocks (3 x 4096 bytes), and every boundary between them.
  std::mt19937 rng(7);
  std::vector<unsigned char> data(3 * 4096 * 2 + 3 * 128 + 64);
  for (auto& b : data) b = static_cast<unsigned char>(rng());
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 1100; ++n) lengths.push_back(n);
  const std::size_t long_round = 3 * 4096;
  for (std::size_t n : {long_round - 1, long_round, long_round + 1, long_round + 384,
                        2 * long_round, data.size() - 1, data.size()}) {
    lengths.push_back(n);
  }
  for (std::size_t n : lengths) {
    for (std::size_t start : {std::size_t{0}, std::size_t{3}}) {
      if (start + n > data.size()) continue;
      const std::uint32_t seed = static_cast<std::uint32_t>(rng());
      EXPECT_EQ(crc32c_extend(seed, data.data() + start, n),
                reference_crc32c(seed, data.data() + start, n))
          << "length " << n << " start " << start;
    }
  }
}

}  // namespace
}  // namespace dledger
