// Reconnect delays: exponential backoff with "equal jitter", deterministic given the random draw.
#pragma once

#include <cstdint>

namespace dledger::transport {

struct BackoffPolicy {
  std::uint32_t min_ms = 50;    // ceiling of the first retry
  std::uint32_t max_ms = 2000;  // ceiling of every retry
};

// Delay before reconnect attempt number `attempt` (0 = first retry after a failure):
// ceiling = min(max_ms, min_ms * 2^attempt); the delay is uniform in [ceiling / 2, ceiling],
// picked by `random_value` (any 64-bit value). Never below 1 ms, never above max(max_ms, 1).
std::uint32_t backoff_delay_ms(const BackoffPolicy& policy, std::uint32_t attempt,
                               std::uint64_t random_value);

}  // namespace dledger::transport
