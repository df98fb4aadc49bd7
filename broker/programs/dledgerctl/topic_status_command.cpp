#include "broker/programs/dledgerctl/topic_status_command.h"

#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/programs/dledgerctl/remoting_session.h"
#include "broker/remoting/admin_stats.h"

namespace dledger::ctl {
namespace {

using nlohmann::json;

}  // namespace

int run_topic_status(const TopicStatusOptions& options, std::ostream& out, std::ostream& err) {
  auto namesrvs = options.common.namesrv_addresses();
  if (!namesrvs.ok()) {
    err << "dledgerctl topicStatus: " << namesrvs.error().message << "\n";
    return kExitUsage;
  }
  RemotingSession session(options.common.timeout());
  auto route = session.topic_route(*namesrvs, options.topic);
  if (!route.ok()) {
    err << "dledgerctl topicStatus: topic " << options.topic << ": " << route.error().message
        << "\n";
    return kExitFailed;
  }

  remoting::TopicStatsTable all;
  bool every_group_answered = true;
  for (const remoting::BrokerData& broker : route->broker_datas) {
    auto table =
        ask_broker_group(session, broker, remoting::make_topic_stats_request(options.topic),
                         remoting::parse_topic_stats_table);
    if (!table.ok()) {
      every_group_answered = false;
      err << "dledgerctl topicStatus: " << broker.broker_name << ": " << table.error().message
          << "\n";
      continue;
    }
    all.offset_table.insert(table->offset_table.begin(), table->offset_table.end());
  }

  if (options.common.json) {
    json rows = json::array();
    for (const auto& [mq, offset] : all.offset_table) {
      rows.push_back({{"brokerName", mq.broker_name},
                      {"queueId", mq.queue_id},
                      {"minOffset", offset.min_offset},
                      {"maxOffset", offset.max_offset},
                      {"lastUpdateTimestamp", offset.last_update_timestamp}});
    }
    out << rows.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::vector<std::vector<std::string>> table{{"BROKER", "QID", "MIN", "MAX", "LAST_UPDATED"}};
    for (const auto& [mq, offset] : all.offset_table) {
      table.push_back({mq.broker_name, std::to_string(mq.queue_id),
                       std::to_string(offset.min_offset), std::to_string(offset.max_offset),
                       format_unix_ms(offset.last_update_timestamp)});
    }
    out << render_columns(table);
  }
  return every_group_answered ? kExitOk : kExitFailed;
}

}  // namespace dledger::ctl
