// Deterministic pseudo-random numbers for the simulator: every decision of a simulated run
// (network delays, losses, crash points, workload, each core's Config::random) is drawn from
// one 64-bit seed through this generator, so a seed replays a run exactly.
//
// splitmix64 expands the seed into the 256-bit state of xoshiro256** (Blackman and Vigna);
// fork() derives an independent stream (one per core incarnation) without disturbing the parent
// stream's sequence more than one draw.
#pragma once

#include <cstdint>

namespace dledger::sim {

__extension__ using Uint128 = unsigned __int128;

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class SimRandom {
 public:
  explicit SimRandom(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& word : state_) word = splitmix64(sm);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound) (bound > 0); Lemire's multiply-shift, bias negligible for our bounds.
  std::uint64_t below(std::uint64_t bound) {
    return static_cast<std::uint64_t>((static_cast<Uint128>(next()) * bound) >> 64);
  }
  // Uniform in [lo, hi] (inclusive).
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
  // True with probability `p` (0..1).
  bool chance(double p) { return unit() < p; }
  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // An independent generator seeded from this one.
  SimRandom fork() { return SimRandom(next()); }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4];
};

}  // namespace dledger::sim
