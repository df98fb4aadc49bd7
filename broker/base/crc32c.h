// CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), as used by iSCSI, ext4 and
// most storage engines. crc32c("123456789") == 0xE3069283.
//
// extend() continues a running checksum, so a header and a payload can be covered without
// concatenating them: crc32c_extend(crc32c(header), payload) == crc32c(header + payload).
// Uses the SSE4.2 crc32 instruction when the CPU has it (three interleaved streams for inputs of
// 384 bytes and more), a slicing-by-8 table otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dledger {

std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size);

inline std::uint32_t crc32c(const void* data, std::size_t size) {
  return crc32c_extend(0, data, size);
}
inline std::uint32_t crc32c(std::string_view data) {
  return crc32c(data.data(), data.size());
}
inline std::uint32_t crc32c_extend(std::uint32_t crc, std::string_view data) {
  return crc32c_extend(crc, data.data(), data.size());
}

}  // namespace dledger
