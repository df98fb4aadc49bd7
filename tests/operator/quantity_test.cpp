#include "operator/api/quantity.h"

#include <gtest/gtest.h>

namespace dledger::op::api {
namespace {

TEST(Quantity, BinaryAndDecimalSuffixes) {
  EXPECT_EQ(*parse_quantity_bytes("10Gi"), 10ll << 30);
  EXPECT_EQ(*parse_quantity_bytes("1Ki"), 1024);
  EXPECT_EQ(*parse_quantity_bytes("500M"), 500000000);
  EXPECT_EQ(*parse_quantity_bytes("2k"), 2000);
  EXPECT_EQ(*parse_quantity_bytes("1E"), 1000000000000000000ll);
  EXPECT_EQ(*parse_quantity_bytes("1e3"), 1000);
  EXPECT_EQ(*parse_quantity_bytes("123"), 123);
}

TEST(Quantity, FractionsRoundUp) {
  EXPECT_EQ(*parse_quantity_bytes("1.5Ki"), 1536);
  EXPECT_EQ(*parse_quantity_bytes("1500m"), 2);
}

TEST(Quantity, MalformedNegativeAndHugeValuesRejectedNamingTheText) {
  auto bad = parse_quantity_bytes("10 GB");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'10 GB'"), std::string::npos);
  EXPECT_FALSE(parse_quantity_bytes("").ok());
  EXPECT_FALSE(parse_quantity_bytes("-1Gi").ok());
  EXPECT_FALSE(parse_quantity_bytes("100Ei").ok());
  EXPECT_FALSE(parse_quantity_bytes("1e400").ok());
}

}  // namespace
}  // namespace dledger::op::api
