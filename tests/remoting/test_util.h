// Helpers for the remoting tests: hand-built big-endian bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace dledger::remoting::testing
