// GET_TOPIC_STATS_INFO (202) and GET_CONSUME_STATS (208), as a RocketMQ 4.x broker answers them
// (bodies in remoting/admin_stats.h), from this replica's applied state:
//
//   202  per write queue of the topic: min offset, max offset and the store time of the newest
//        message (0 when the queue is empty); TOPIC_NOT_EXIST for an unknown topic.
//   208  per read queue of each topic (the request's, or every topic the group has committed
//        offsets on): the queue's max offset, the group's committed offset (0 when none) and the
//        store time of the last consumed message (0 when unknown or removed by retention).
//        Topics that no longer exist are left out, and so are topics the group's live clients
//        do not subscribe to when it has live clients. consumeTps is 0: the broker keeps no
//        per-group rate (dledger_broker_messages_out_total has the pulls per topic).
#include <algorithm>
#include <optional>
#include <set>

#include "broker/broker/broker_handlers.h"
#include "broker/remoting/admin_stats.h"
#include "broker/remoting/codes.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

frontend::Handler make_topic_stats_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto header = remoting::parse_topic_stats_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, header.error().message));
      return;
    }
    auto config = context.store->topic(header->topic);
    if (!config) {
      respond(remoting::make_response(request, resp::kTopicNotExist,
                                      "topic[" + header->topic + "] not exist"));
      return;
    }
    remoting::TopicStatsTable table;
    for (std::int32_t queue = 0; queue < config->write_queue_nums; ++queue) {
      remoting::TopicOffset offset;
      offset.min_offset =
          std::max<std::int64_t>(0, context.store->min_offset(header->topic, queue));
      offset.max_offset =
          std::max<std::int64_t>(0, context.store->max_offset(header->topic, queue));
      if (offset.max_offset > 0) {
        offset.last_update_timestamp =
            context.store->store_time_at(header->topic, queue, offset.max_offset - 1).value_or(0);
      }
      table.offset_table[{header->topic, context.broker_name, queue}] = offset;
    }
    RemotingCommand response = remoting::make_response(request, resp::kSuccess);
    response.body = remoting::write_topic_stats_table(table);
    respond(std::move(response));
  };
}

frontend::Handler make_consume_stats_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto header = remoting::parse_consume_stats_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, header.error().message));
      return;
    }
    const std::string& group = header->consumer_group;
    std::set<std::string> topics;
    if (!header->topic.empty()) {
      topics.insert(header->topic);
    } else {
      for (const auto& [key, offset] : context.store->consumer_offsets()) {
        if (key.group == group) topics.insert(key.topic);
      }
    }
    // With live clients, only the topics they subscribe to (as a RocketMQ broker does).
    std::optional<std::set<std::string>> subscribed;
    if (auto live = context.consumers.connection(group)) {
      subscribed.emplace();
      for (const auto& sub : live->subscriptions) subscribed->insert(sub.topic);
    }
    remoting::ConsumeStats stats;
    for (const std::string& topic : topics) {
      auto config = context.store->topic(topic);
      if (!config) continue;
      if (subscribed && !subscribed->contains(topic)) continue;
      for (std::int32_t queue = 0; queue < config->read_queue_nums; ++queue) {
        remoting::OffsetWrapper offset;
        offset.broker_offset = std::max<std::int64_t>(0, context.store->max_offset(topic, queue));
        offset.consumer_offset =
            std::max<std::int64_t>(0, context.store->query_offset(group, topic, queue).value_or(0));
        if (offset.consumer_offset > 0) {
          offset.last_timestamp =
              context.store->store_time_at(topic, queue, offset.consumer_offset - 1).value_or(0);
        }
        stats.offset_table[{topic, context.broker_name, queue}] = offset;
      }
    }
    RemotingCommand response = remoting::make_response(request, resp::kSuccess);
    response.body = remoting::write_consume_stats(stats);
    respond(std::move(response));
  };
}

}  // namespace dledger::broker
