// Helpers for the remoting tests: hand-built big-endian bytes, parse-error expectations.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "broker/base/result.h"

namespace dledger::remoting::testing {

inline std::string be32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * (3 - i))) & 0xff);
  return s;
}
inline std::string be16(uint16_t v) {
  return std::string{static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}
inline std::string be64(uint64_t v) {
  return be32(static_cast<uint32_t>(v >> 32)) + be32(static_cast<uint32_t>(v));
}

// A frame around a header of the given serialize type: length prefix, type/length word, header,
// body.
inline std::string frame_of(uint8_t type, std::string_view header, std::string_view body = {}) {
  std::string out = be32(static_cast<uint32_t>(4 + header.size() + body.size()));
  out += be32((static_cast<uint32_t>(type) << 24) | static_cast<uint32_t>(header.size()));
  out += header;
  out += body;
  return out;
}

// A parser refused its input as kInvalidArgument with a message containing every needle (the
// field, the value, the request...).
template <typename T>
void expect_error(const Result<T>& result, std::initializer_list<std::string> needles) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << result.error().message;
  for (const auto& needle : needles) {
    EXPECT_NE(result.error().message.find(needle), std::string::npos)
        << "'" << needle << "' not in: " << result.error().message;
  }
}

}  // namespace dledger::remoting::testing
