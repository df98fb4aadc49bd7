// decode_base64: the Secret data encoding (RFC 4648 standard alphabet).
#include "operator/controller/secret_value.h"

#include <gtest/gtest.h>

namespace dledger::op::controller {
namespace {

TEST(DecodeBase64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(*decode_base64("czNjcmV0LXRva2Vu"), "s3cret-token");
  EXPECT_EQ(*decode_base64("dG9rZW4="), "token");
  EXPECT_EQ(*decode_base64("dG9rZW4"), "token");
  EXPECT_EQ(*decode_base64("YQ=="), "a");
  EXPECT_EQ(*decode_base64(""), "");
  EXPECT_EQ(*decode_base64("//8="), std::string("\xff\xff"));
}

TEST(DecodeBase64, RejectsForeignCharactersNamingTheOffset) {
  auto decoded = decode_base64("dG9r ZW4=");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(decoded.error().message.find("offset 4"), std::string::npos) << decoded.error().message;
}

TEST(DecodeBase64, RejectsATruncatedQuantum) {
  EXPECT_FALSE(decode_base64("dG9rZ").ok());
}

}  // namespace
}  // namespace dledger::op::controller
