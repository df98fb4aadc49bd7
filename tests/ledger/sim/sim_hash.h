// Hashes the simulator uses to compare logs cheaply: a 64-bit FNV-1a of payload bytes and a
// chain hash over a log prefix (chain(i) = mix(chain(i-1), index, term, type, payload hash)).
// Two logs with equal chain hashes at index i hold identical entries 1..i (up to 2^-64 odds).
// A snapshot's application data is the chain hash at its index, so chains continue across
// compaction and InstallSnapshot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "broker/ledger/raft/types.h"

namespace dledger::sim {

inline std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

inline std::uint64_t chain_hash(std::uint64_t previous, const raft::Entry& entry) {
  std::uint64_t h = mix64(previous ^ 0x5bd1e9955bd1e995ull);
  h = mix64(h ^ entry.index);
  h = mix64(h ^ (entry.term * 0x9e3779b97f4a7c15ull));
  h = mix64(h ^ static_cast<std::uint64_t>(entry.type));
  return mix64(h ^ fnv1a64(entry.data));
}

// Snapshot application data <-> chain hash ("chain:" + 16 hex digits).
inline std::string encode_snapshot_data(std::uint64_t chain) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "chain:";
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(chain >> shift) & 0xf]);
  return out;
}

inline std::optional<std::uint64_t> decode_snapshot_data(std::string_view data) {
  if (data.size() != 22 || data.substr(0, 6) != "chain:") return std::nullopt;
  std::uint64_t value = 0;
  for (char c : data.substr(6)) {
    int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    value = (value << 4) | static_cast<std::uint64_t>(digit);
  }
  return value;
}

}  // namespace dledger::sim
