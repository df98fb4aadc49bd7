// A consumer group's own topics, as RocketMQ names them: %RETRY%<group> receives the messages the
// group sent back for a later retry, %DLQ%<group> its dead letters. Both are created on demand
// with one read and one write queue (by the first heartbeat of the group for %RETRY%, by the
// first CONSUMER_SEND_MSG_BACK that needs them otherwise).
#pragma once

#include <string>

#include "broker/base/result.h"
#include "broker/store/message_store.h"

namespace dledger::broker {

// "%RETRY%" + group.
std::string retry_topic_name(const std::string& group);
// "%DLQ%" + group.
std::string dead_letter_topic_name(const std::string& group);

// Creates `topic` with one read and one write queue unless the store already knows it (an
// existing topic is left as it is), then calls `done`: at once when the topic exists, otherwise
// on another thread once the change is applied. Never blocks (safe on remoting io threads).
// Errors are those of MessageStore::update_topic (kNotLeader on a follower, ledger failures).
void ensure_group_topic(store::MessageStore& store, const std::string& topic,
                        store::DoneCallback done);

}  // namespace dledger::broker
