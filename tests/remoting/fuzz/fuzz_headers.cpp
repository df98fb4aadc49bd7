// libFuzzer target: typed request headers and JSON bodies.
// The input is decoded as a JSON header and as a binary header; the resulting ext fields go
// through every typed parser. The raw input is also parsed as each JSON body. Properties checked:
// no crash / UB / leak; every body that parses writes back to text that parses to an equal value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "broker/remoting/admin_stats.h"
#include "broker/remoting/client_headers.h"
#include "broker/remoting/heartbeat.h"
#include "broker/remoting/json_util.h"
#include "broker/remoting/lock_batch.h"
#include "broker/remoting/offset_headers.h"
#include "broker/remoting/pull_header.h"
#include "broker/remoting/register_broker.h"
#include "broker/remoting/remoting_command.h"
#include "broker/remoting/route_data.h"
#include "broker/remoting/send_header.h"

using namespace dledger::remoting;

namespace {

void run_typed_parsers(RemotingCommand cmd) {
  static constexpr int32_t kCodes[] = {10, 11, 12,  14,  15,  29,  30,  31,  32,  33,  35,
                                       36, 38, 103, 104, 105, 202, 203, 204, 208, 310, 320};
  for (int32_t code : kCodes) {
    cmd.code = code;
    auto send = parse_send_message_request(cmd);
    if (send.ok()) {
      RemotingCommand again = make_request(code, 0);
      write_send_message_request(*send, &again);
      auto reparsed = parse_send_message_request(again);
      if (!reparsed.ok() || !(*reparsed == *send)) std::abort();
    }
    auto pull = parse_pull_message_request(cmd);
    if (pull.ok()) {
      RemotingCommand again = make_request(code, 0);
      write_pull_message_request(*pull, &again);
      auto reparsed = parse_pull_message_request(again);
      if (!reparsed.ok() || !(*reparsed == *pull)) std::abort();
    }
    auto query = parse_query_message_request(cmd);
    if (query.ok()) {
      auto reparsed = parse_query_message_request(make_query_message_request(*query));
      if (!reparsed.ok() || !(*reparsed == *query)) std::abort();
    }
    (void)parse_view_message_request(cmd);
    (void)parse_get_producer_connection_list_request(cmd);
    (void)parse_send_message_response(cmd);
    (void)parse_pull_message_response(cmd);
    (void)parse_query_consumer_offset_request(cmd);
    (void)parse_update_consumer_offset_request(cmd);
    (void)parse_queue_request(cmd);
    (void)parse_search_offset_request(cmd);
    (void)parse_unregister_client_request(cmd);
    (void)parse_get_consumer_list_by_group_request(cmd);
    (void)parse_consumer_send_msg_back_request(cmd);
    (void)parse_get_route_info_request(cmd);
    (void)parse_register_broker_request(cmd);
    (void)parse_topic_stats_request(cmd);
    (void)parse_consume_stats_request(cmd);
    (void)parse_unregister_broker_request(cmd);
  }
}

template <typename T, typename Parse, typename Write>
void check_body(std::string_view input, Parse parse, Write write) {
  auto parsed = parse(input);
  if (!parsed.ok()) return;
  auto again = parse(write(*parsed));
  if (!again.ok() || !(*again == *parsed)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  for (SerializeType type : {SerializeType::kJson, SerializeType::kRocketmq}) {
    auto cmd = decode_header(type, input);
    if (cmd.ok()) run_typed_parsers(*cmd);
  }

  check_body<HeartbeatData>(input, parse_heartbeat_body, write_heartbeat_body);
  check_body<TopicRouteData>(input, parse_topic_route_data, write_topic_route_data);
  check_body<LockBatchRequest>(input, parse_lock_batch_body, write_lock_batch_body);
  check_body<RegisterBrokerBody>(input, parse_register_broker_body, write_register_broker_body);
  check_body<TopicStatsTable>(input, parse_topic_stats_table, write_topic_stats_table);
  check_body<ConsumeStats>(input, parse_consume_stats, write_consume_stats);
  check_body<ConsumerConnection>(input, parse_consumer_connection, write_consumer_connection);
  check_body<ProducerConnection>(input, parse_producer_connection, write_producer_connection);
  (void)quote_fastjson_keys(input);
  return 0;
}
