#include "broker/base/crc32c.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace dledger
