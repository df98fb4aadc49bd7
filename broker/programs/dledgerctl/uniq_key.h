// RocketMQ client-generated message ids (the UNIQ_KEY property; the msgId a producer's
// SendResult reports): 16 bytes as 32 upper-case hex digits for an IPv4 client, 28 bytes (56
// digits) for IPv6: the client's address (4 or 16 bytes), its pid (2), a class-loader hash (4),
// the milliseconds since the start of the month the client was in (4, big-endian) and a
// counter (2). Only the time matters to a broker: a query for the id starts there.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace dledger::ctl {

// A new id for a message sent at `now_ms` by this process (IPv4 127.0.0.1, its pid, a random
// hash, the UTC month's milliseconds, `counter`).
std::string make_uniq_key(std::int64_t now_ms, std::uint16_t counter, std::mt19937_64& random);

// When the id was made, read against the UTC month of `now_ms` (the previous month when that
// would be after now_ms). nullopt when `id` is not 32 or 56 hex digits, or its time does not
// fall before now_ms in either month (not a client-generated id).
std::optional<std::int64_t> uniq_key_time_ms(const std::string& id, std::int64_t now_ms);

}  // namespace dledger::ctl
