#include "broker/programs/dledgerctl/send_message_command.h"

#include <chrono>
#include <ostream>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "broker/programs/dledgerctl/remoting_session.h"
#include "broker/programs/dledgerctl/uniq_key.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/ext_fields.h"
#include "broker/remoting/message_properties.h"
#include "broker/remoting/send_header.h"

namespace dledger::ctl {
namespace {

namespace resp = remoting::response_code;

struct WritableQueue {
  std::string broker_name;
  std::string address;
  int queue_id = 0;
};

std::vector<WritableQueue> writable_queues(const remoting::TopicRouteData& route) {
  std::vector<WritableQueue> queues;
  for (const remoting::QueueData& queue : route.queue_datas) {
    if ((queue.perm & remoting::perm::kWrite) == 0) continue;
    const remoting::BrokerData* broker = find_broker(route, queue.broker_name);
    if (broker == nullptr || broker->broker_addrs.count(remoting::kMasterBrokerId) == 0) continue;
    for (int q = 0; q < queue.write_queue_nums; ++q) {
      queues.push_back({queue.broker_name, broker->broker_addrs.at(remoting::kMasterBrokerId), q});
    }
  }
  return queues;
}

bool retriable(const Error& error) {
  // invoke_ok maps the retriable response codes and network failures to these.
  return error.code != ErrorCode::kInvalidArgument;
}

}  // namespace

int run_send_message(const SendMessageOptions& options, std::ostream& out, std::ostream& err) {
  if (Status valid = remoting::validate_topic_name(options.topic, "-t"); !valid.ok()) {
    err << "dledgerctl sendMessage: " << valid.error().message << "\n";
    return kExitUsage;
  }
  remoting::MessageProperties base_properties;
  if (!options.tags.empty())
    base_properties[std::string(remoting::property_key::kTags)] = options.tags;
  if (!options.keys.empty())
    base_properties[std::string(remoting::property_key::kKeys)] = options.keys;
  base_properties[std::string(remoting::property_key::kWaitStoreMsgOk)] = "true";
  if (auto encoded = remoting::encode_message_properties(base_properties); !encoded.ok()) {
    err << "dledgerctl sendMessage: --tags/--keys: " << encoded.error().message << "\n";
    return kExitUsage;
  }
  auto namesrvs = options.common.namesrv_addresses();
  if (!namesrvs.ok()) {
    err << "dledgerctl sendMessage: " << namesrvs.error().message << "\n";
    return kExitUsage;
  }
  RemotingSession session(options.common.timeout());
  std::mt19937_64 random(std::random_device{}());
  std::size_t next_queue = random();
  auto counter = static_cast<std::uint16_t>(random());
  std::vector<WritableQueue> queues;
  for (int i = 0; i < options.count; ++i) {
    remoting::MessageProperties properties = base_properties;
    const std::string uniq_key =
        make_uniq_key(std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count(),
                      counter++, random);
    properties[std::string(remoting::property_key::kUniqKey)] = uniq_key;
    Error last_error{ErrorCode::kUnavailable, "no attempt"};
    bool sent = false;
    for (int attempt = 0; attempt <= options.retries && !sent; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
      if (queues.empty() || attempt > 0) {
        auto route = session.topic_route(*namesrvs, options.topic);
        if (!route.ok()) {
          last_error = route.error();
          if (route.error().code == ErrorCode::kNotFound) {
            last_error.message = "topic " + options.topic + " not found: " + last_error.message;
          }
          continue;
        }
        queues = writable_queues(*route);
        if (queues.empty()) {
          last_error = make_error(ErrorCode::kUnavailable,
                                  "topic " + options.topic +
                                      ": no broker group with a master (BID 0) and a writable "
                                      "queue in its route");
          continue;
        }
      }
      const WritableQueue& queue = queues[next_queue++ % queues.size()];
      remoting::SendMessageRequest header;
      header.producer_group = options.group;
      header.topic = options.topic;
      header.default_topic = "TBW102";
      header.default_topic_queue_nums = 4;
      header.queue_id = queue.queue_id;
      header.born_timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
      header.properties = remoting::encode_message_properties(properties).value();
      remoting::RemotingCommand request =
          remoting::make_request(remoting::request_code::kSendMessageV2, 0);
      remoting::write_send_message_request(header, &request);
      request.body = options.body;
      auto reply = session.invoke_ok(queue.address, std::move(request));
      if (!reply.ok()) {
        last_error = reply.error();
        if (!retriable(last_error)) break;
        continue;
      }
      auto parsed = remoting::parse_send_message_response(*reply);
      if (!parsed.ok()) {
        last_error =
            make_error(parsed.error().code,
                       queue.address + ": SEND_MESSAGE_V2 reply: " + parsed.error().message);
        break;
      }
      sent = true;
      if (options.common.json) {
        out << nlohmann::json{{"status", "SEND_OK"},
                              {"msgId", parsed->msg_id},
                              {"uniqKey", uniq_key},
                              {"brokerName", queue.broker_name},
                              {"address", queue.address},
                              {"queueId", parsed->queue_id},
                              {"queueOffset", parsed->queue_offset}}
                   .dump()
            << "\n";
      } else {
        out << "SEND_OK msgId=" << parsed->msg_id << " broker=" << queue.broker_name
            << " address=" << queue.address << " queueId=" << parsed->queue_id
            << " queueOffset=" << parsed->queue_offset << "\n";
      }
    }
    if (!sent) return report_error(err, last_error);
  }
  return kExitOk;
}

}  // namespace dledger::ctl
