#include "broker/base/bytes.h"

#include <gtest/gtest.h>

namespace dledger {
namespace {

TEST(Bytes, RoundTripsLittleEndian) {
  std::string buf;
  ByteWriter w(&buf);
  w.u8(0xab);
  w.u16(0x1234);
  w.u32(0xdeadbeef);
  w.u64(0x0102030405060708ull);
  w.i32(-5);
  w.blob32("hello");
  EXPECT_EQ(static_cast<unsigned char>(buf[1]), 0x34);
  ByteReader r(buf);
  EXPECT_EQ(r.u8(), 0xab);
  EXPECT_EQ(r.u16(), 0x1234);
  EXPECT_EQ(r.u32(), 0xdeadbeefu);
  EXPECT_EQ(r.u64(), 0x0102030405060708ull);
  EXPECT_EQ(r.i32(), -5);
  EXPECT_EQ(r.blob32(), "hello");
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());
}

TEST(Bytes, BigEndianPutsMostSignificantByteFirst) {
  std::string buf;
  ByteWriter w(&buf, Endian::kBig);
  w.u32(0x01020304);
  EXPECT_EQ(buf, std::string("\x01\x02\x03\x04", 4));
  ByteReader r(buf, Endian::kBig);
  EXPECT_EQ(r.u32(), 0x01020304u);
}

TEST(Bytes, TruncatedInputFailsWithoutReadingPastTheEnd) {
  std::string buf(
      "\x05\x00\x00\x00"
      "abc",
      7);  // claims 5 bytes, has 3
  ByteReader r(buf);
  EXPECT_EQ(r.blob32(), "");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.u64(), 0u);  // sticky failure
  EXPECT_FALSE(r.ok());
}

TEST(Bytes, Blob32RejectsLengthsAboveTheLimit) {
  std::string buf;
  ByteWriter w(&buf);
  w.blob32(std::string(100, 'z'));
  ByteReader r(buf);
  EXPECT_EQ(r.blob32(10), "");
  EXPECT_FALSE(r.ok());
}

TEST(Bytes, Blob16RoundTripsAndFailsOnATruncatedInput) {
  std::string buf;
  ByteWriter w(&buf);
  w.blob16("topic");
  w.blob16("");
  w.blob16(std::string(65535, 'x'));
  ByteReader r(buf);
  EXPECT_EQ(r.blob16(), "topic");
  EXPECT_EQ(r.blob16(), "");
  EXPECT_EQ(r.blob16().size(), 65535u);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());

  ByteReader truncated(std::string_view(buf).substr(0, 4));  // claims 5 bytes, has 2
  EXPECT_EQ(truncated.blob16(), "");
  EXPECT_FALSE(truncated.ok());
}

TEST(Bytes, PatchU32OverwritesInPlace) {
  std::string buf;
  ByteWriter w(&buf, Endian::kBig);
  w.u32(0);
  w.u8(7);
  w.patch_u32(0, 0xa0b0c0d0);
  ByteReader r(buf, Endian::kBig);
  EXPECT_EQ(r.u32(), 0xa0b0c0d0u);
  EXPECT_EQ(r.u8(), 7);
}

}  // namespace
}  // namespace dledger
