// The bounds of Java's int and long, for the range checks of the header and body decoders
// (RocketMQ's fields are Java ints and longs).
#pragma once

#include <cstdint>
#include <limits>

namespace dledger::remoting {

inline constexpr std::int32_t kI32Min = std::numeric_limits<std::int32_t>::min();
inline constexpr std::int32_t kI32Max = std::numeric_limits<std::int32_t>::max();
inline constexpr std::int64_t kI64Min = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();

}  // namespace dledger::remoting
