#include "broker/base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace dledger {
namespace {

constexpr std::uint32_t kPoly = 0x82F63B78u;

struct Tables {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  Tables() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[0][i] = c;
    }
    for (std::uint32_t i = 0; i < 256; ++i) {
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
  }
};

const Tables& tables() {
  static const Tables kTables;
  return kTables;
}

std::uint32_t extend_software(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  const auto& t = tables().t;
  std::uint32_t c = ~crc;
  while (n >= 8) {
    std::uint32_t lo;
    std::uint32_t hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;  // little-endian host assumed (x86-64, aarch64)
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
        t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xff];
  return ~c;
}

#if defined(__x86_64__)
// Zero-byte shift operators for the interleaved hardware path. Running the CRC register over
// `len` zero bytes is linear in the register, so it is a 32x32 matrix over GF(2); it is tabulated
// per register byte (four 256-entry tables), and applying it costs four lookups. With it,
// independent CRCs of adjacent blocks combine: reg(r, A || B) = shift_|B|(reg(r, A)) ^ reg(0, B).
struct ZeroShift {
  std::array<std::array<std::uint32_t, 256>, 4> t{};
  explicit ZeroShift(std::size_t len) {
    const auto& bytewise = tables().t[0];
    std::array<std::uint32_t, 32> column{};  // the operator applied to each single-bit register
    for (int bit = 0; bit < 32; ++bit) {
      std::uint32_t reg = 1u << bit;
      for (std::size_t i = 0; i < len; ++i) reg = (reg >> 8) ^ bytewise[reg & 0xff];
      column[static_cast<std::size_t>(bit)] = reg;
    }
    for (std::size_t byte = 0; byte < 4; ++byte) {
      for (std::uint32_t v = 0; v < 256; ++v) {
        std::uint32_t out = 0;
        for (std::size_t b = 0; b < 8; ++b) {
          if (v & (1u << b)) out ^= column[byte * 8 + b];
        }
        t[byte][v] = out;
      }
    }
  }
  std::uint32_t apply(std::uint32_t reg) const {
    return t[0][reg & 0xff] ^ t[1][(reg >> 8) & 0xff] ^ t[2][(reg >> 16) & 0xff] ^ t[3][reg >> 24];
  }
};

// Block lengths of the three interleaved streams: the crc32 instruction has a latency of three
// cycles and a throughput of one per cycle, so three independent chains run about three times
// as fast as one. kLongBlock serves large payloads, kShortBlock the common 1 KiB entry.
constexpr std::size_t kLongBlock = 4096;
constexpr std::size_t kShortBlock = 128;

const ZeroShift& long_shift() {
  static const ZeroShift kShift(kLongBlock);
  return kShift;
}
const ZeroShift& short_shift() {
  static const ZeroShift kShift(kShortBlock);
  return kShift;
}

__attribute__((target("sse4.2"))) inline std::uint64_t crc_word(std::uint64_t reg,
                                                                const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_ia32_crc32di(reg, v);
}

// Three streams over [p, p + 3 * block), combined into reg; returns the new register.
template <std::size_t kBlock>
__attribute__((target("sse4.2"))) std::uint64_t crc_three_blocks(std::uint64_t reg,
                                                                 const unsigned char* p,
                                                                 const ZeroShift& shift) {
  std::uint64_t r1 = 0;
  std::uint64_t r2 = 0;
  for (std::size_t i = 0; i < kBlock; i += 8) {
    reg = crc_word(reg, p + i);
    r1 = crc_word(r1, p + kBlock + i);
    r2 = crc_word(r2, p + 2 * kBlock + i);
  }
  std::uint32_t combined =
      shift.apply(static_cast<std::uint32_t>(reg)) ^ static_cast<std::uint32_t>(r1);
  combined = shift.apply(combined) ^ static_cast<std::uint32_t>(r2);
  return combined;
}

__attribute__((target("sse4.2"))) std::uint32_t extend_hardware(std::uint32_t crc,
                                                                const unsigned char* p,
                                                                std::size_t n) {
  std::uint64_t c = ~crc;
  while (n >= 3 * kLongBlock) {
    c = crc_three_blocks<kLongBlock>(c, p, long_shift());
    p += 3 * kLongBlock;
    n -= 3 * kLongBlock;
  }
  while (n >= 3 * kShortBlock) {
    c = crc_three_blocks<kShortBlock>(c, p, short_shift());
    p += 3 * kShortBlock;
    n -= 3 * kShortBlock;
  }
  while (n >= 8) {
    c = crc_word(c, p);
    p += 8;
    n -= 8;
  }
  std::uint32_t c32 = static_cast<std::uint32_t>(c);
  while (n-- > 0) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return ~c32;
}

bool cpu_has_sse42() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx & bit_SSE4_2) != 0;
}
#endif

}  // namespace

std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
#if defined(__x86_64__)
  static const bool kHardware = cpu_has_sse42();
  if (kHardware) return extend_hardware(crc, p, size);
#endif
  return extend_software(crc, p, size);
}

}  // namespace dledger
