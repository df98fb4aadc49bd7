#include "broker/ledger/transport/backoff.h"

#include <algorithm>

namespace dledger::transport {

std::uint32_t backoff_delay_ms(const BackoffPolicy& policy, std::uint32_t attempt,
                               std::uint64_t random_value) {
  std::uint64_t max_ms = std::max<std::uint64_t>(policy.max_ms, 1);
  std::uint64_t ceiling = std::max<std::uint64_t>(policy.min_ms, 1);
  for (std::uint32_t i = 0; i < attempt && ceiling < max_ms; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, max_ms);
  std::uint64_t floor = ceiling / 2;
  std::uint64_t delay = floor + random_value % (ceiling - floor + 1);
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(delay, 1));
}

}  // namespace dledger::transport
