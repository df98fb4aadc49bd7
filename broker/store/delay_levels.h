// Delay levels (RocketMQ "delayed messages"): a message whose property DELAY holds a level
// 1..N is stored first in SCHEDULE_TOPIC_XXXX, queue level-1, and becomes consumable in its real
// topic only once `delay_levels_ms[level-1]` passed since it was stored. DelayScheduler
// (delay_scheduler.h) moves due messages to their real topic.
//
//   levels     messageDelayLevel in broker.conf, default kDefaultMessageDelayLevel:
//              "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h" (units s, m, h, d)
//   DELAY <= 0 no delay (as RocketMQ); DELAY > N is treated as N; not an integer -> error
//   scheduled  topic SCHEDULE_TOPIC_XXXX, queueId level-1, properties REAL_TOPIC and REAL_QID
//              added (DELAY kept), everything else unchanged
//   delivered  topic REAL_TOPIC, queueId REAL_QID, DELAY removed (REAL_* kept, as RocketMQ)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/result.h"
#include "broker/store/store_command.h"

namespace dledger::store {

inline constexpr std::string_view kScheduleTopic = "SCHEDULE_TOPIC_XXXX";
inline constexpr std::string_view kDefaultMessageDelayLevel =
    "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";
// The consumer group under which the delivery progress per level (queue offset of the next
// scheduled message to deliver) is committed through the ledger.
inline constexpr std::string_view kScheduleProgressGroup = "%SCHEDULE_DELIVERY%";

// Parses a messageDelayLevel value: space-separated durations, each a positive integer followed
// by s, m, h or d; 1..kMaxDelayLevels of them. Errors name the item and its position.
inline constexpr std::size_t kMaxDelayLevels = 64;
Result<std::vector<std::int64_t>> parse_delay_levels(std::string_view text);
std::vector<std::int64_t> default_delay_levels_ms();

// The DELAY level of the message: 0 when absent or <= 0, at most `level_count`. kInvalidArgument
// when the value is not an integer or the properties do not decode.
Result<std::int32_t> delay_level_of(const StoredMessage& message, std::size_t level_count);

// Rewrites `message` (with a delay level > 0) into its scheduled form (see above).
Status schedule_delayed(StoredMessage& message, std::int32_t level);

// The message as it must be delivered to its real topic, from its scheduled form. kCorruption
// when REAL_TOPIC or REAL_QID is missing or bad (message names them).
Result<StoredMessage> delivered_form(const StoredMessage& scheduled);

}  // namespace dledger::store
