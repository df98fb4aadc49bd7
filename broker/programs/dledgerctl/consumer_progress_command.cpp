#include "broker/programs/dledgerctl/consumer_progress_command.h"

#include <algorithm>
#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/programs/dledgerctl/remoting_session.h"
#include "broker/remoting/admin_stats.h"

namespace dledger::ctl {
namespace {

using nlohmann::json;

// The broker groups to ask: the topic's route, or every group the name servers know.
Result<std::vector<remoting::BrokerData>> brokers_to_ask(RemotingSession& session,
                                                         const std::vector<std::string>& namesrvs,
                                                         const std::string& topic) {
  if (!topic.empty()) {
    auto route = session.topic_route(namesrvs, topic);
    if (!route.ok()) return route.error();
    return route->broker_datas;
  }
  auto info = session.cluster_info(namesrvs);
  if (!info.ok()) return info.error();
  std::vector<remoting::BrokerData> out;
  for (const auto& [name, data] : info->broker_addr_table) out.push_back(data);
  return out;
}

}  // namespace

int run_consumer_progress(const ConsumerProgressOptions& options, std::ostream& out,
                          std::ostream& err) {
  auto namesrvs = options.common.namesrv_addresses();
  if (!namesrvs.ok()) {
    err << "dledgerctl consumerProgress: " << namesrvs.error().message << "\n";
    return kExitUsage;
  }
  RemotingSession session(options.common.timeout());
  auto brokers = brokers_to_ask(session, *namesrvs, options.topic);
  if (!brokers.ok()) {
    err << "dledgerctl consumerProgress: "
        << (options.topic.empty() ? std::string() : "topic " + options.topic + ": ")
        << brokers.error().message << "\n";
    return kExitFailed;
  }

  remoting::ConsumeStats all;
  bool every_group_answered = true;
  for (const remoting::BrokerData& broker : *brokers) {
    auto stats = ask_broker_group(
        session, broker, remoting::make_consume_stats_request(options.group, options.topic),
        remoting::parse_consume_stats);
    if (!stats.ok()) {
      every_group_answered = false;
      err << "dledgerctl consumerProgress: " << broker.broker_name << ": " << stats.error().message
          << "\n";
      continue;
    }
    all.offset_table.insert(stats->offset_table.begin(), stats->offset_table.end());
  }

  std::int64_t diff_total = 0;
  auto diff_of = [](const remoting::OffsetWrapper& offset) {
    return std::max<std::int64_t>(0, offset.broker_offset - offset.consumer_offset);
  };
  for (const auto& [mq, offset] : all.offset_table) diff_total += diff_of(offset);
  if (options.common.json) {
    json queues = json::array();
    for (const auto& [mq, offset] : all.offset_table) {
      queues.push_back({{"topic", mq.topic},
                        {"brokerName", mq.broker_name},
                        {"queueId", mq.queue_id},
                        {"brokerOffset", offset.broker_offset},
                        {"consumerOffset", offset.consumer_offset},
                        {"diff", diff_of(offset)},
                        {"lastTimestamp", offset.last_timestamp}});
    }
    json body = {
        {"consumerGroup", options.group}, {"diffTotal", diff_total}, {"queues", std::move(queues)}};
    out << body.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::vector<std::vector<std::string>> table{
        {"TOPIC", "BROKER", "QID", "BROKER_OFFSET", "CONSUMER_OFFSET", "DIFF", "LAST_CONSUMED"}};
    for (const auto& [mq, offset] : all.offset_table) {
      table.push_back({mq.topic, mq.broker_name, std::to_string(mq.queue_id),
                       std::to_string(offset.broker_offset), std::to_string(offset.consumer_offset),
                       std::to_string(diff_of(offset)), format_unix_ms(offset.last_timestamp)});
    }
    out << render_columns(table) << "\nDiff Total: " << diff_total << "\n";
  }
  return every_group_answered ? kExitOk : kExitFailed;
}

}  // namespace dledger::ctl
