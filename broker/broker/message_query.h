// Finds messages by key for QUERY_MESSAGE (12) without an index: scans the consume queues of a
// topic over a store-time range and keeps the messages whose KEYS (space separated) include the
// key, or whose UNIQ_KEY is the key (the msgId a producer's SendResult reports).
//
// RocketMQ answers this from an on-disk hash index. Here the range [begin_ms, end_ms] is turned
// into queue offsets by SEARCH_OFFSET_BY_TIMESTAMP's binary search over the consume queues, and
// the messages between them are read and matched, at most `max_scan` of them per query: a
// narrow time range (a unique-key query starts at the time the msgId carries) is cheap, a wide
// one on a busy topic stops at the budget and says so (`complete` false), so the caller can ask
// for a narrower range. Reads only applied (committed) messages, like a pull.
#pragma once

#include <cstdint>
#include <string>

#include "broker/base/result.h"
#include "broker/store/message_store.h"

namespace dledger::broker {

struct MessageQuery {
  std::string topic;
  std::string key;
  bool unique_key = false;    // match UNIQ_KEY instead of KEYS
  std::int64_t begin_ms = 0;  // store timestamps, inclusive
  std::int64_t end_ms = 0;
  std::uint32_t max_num = 32;          // stop after this many matches (0: find nothing)
  std::uint64_t max_scan = 50000;      // messages read at most, over all queues
  std::uint64_t max_bytes = 4u << 20;  // records returned at most (at least one when found)
};

struct MessageQueryResult {
  std::string records;  // matching messages as stored records (a pull reply body's format)
  std::uint32_t count = 0;
  std::uint64_t scanned = 0;  // messages read
  // Every queue was read over the whole range, or max_num matches were found. False when
  // max_scan or max_bytes stopped the scan first: more messages may match.
  bool complete = true;
};

// Does `message` carry `key` (one of its KEYS, or its UNIQ_KEY for a unique-key query)?
bool message_has_key(const store::StoredMessage& message, const std::string& key, bool unique_key);

// kNotFound when the topic does not exist; store errors (kStopped, kCorruption) as they come.
Result<MessageQueryResult> query_messages(store::MessageStore& store, const MessageQuery& query);

}  // namespace dledger::broker
