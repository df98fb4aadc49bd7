#include "broker/broker/retry_topic.h"

namespace dledger::broker {

std::string retry_topic_name(const std::string& group) {
  return "%RETRY%" + group;
}

std::string dead_letter_topic_name(const std::string& group) {
  return "%DLQ%" + group;
}

void ensure_group_topic(store::MessageStore& store, const std::string& topic,
                        store::DoneCallback done) {
  if (store.topic(topic)) return done(Status{});
  store::TopicConfig config;
  config.name = topic;
  config.read_queue_nums = 1;
  config.write_queue_nums = 1;
  store.update_topic(config, std::move(done));
}

}  // namespace dledger::broker
