#include "broker/programs/dledgerctl/consume_message_command.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/programs/dledgerctl/message_view.h"
#include "broker/programs/dledgerctl/remoting_session.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/ext_fields.h"
#include "broker/remoting/message_codec.h"
#include "broker/remoting/message_properties.h"
#include "broker/remoting/pull_header.h"

namespace dledger::ctl {
namespace {

namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using nlohmann::json;
using remoting::RemotingCommand;

constexpr const char* kToolGroup = "dledgerctl_consumer";
constexpr int kPullBatch = 32;

struct Consumed {
  std::string broker_name;
  remoting::MessageRecord record;
  remoting::MessageProperties properties;
};

RemotingCommand queue_request(std::int32_t code, const std::string& topic, int queue_id) {
  RemotingCommand request = remoting::make_request(code, 0);
  request.ext_fields["topic"] = topic;
  request.ext_fields["queueId"] = std::to_string(queue_id);
  return request;
}

Result<std::int64_t> offset_field(const RemotingCommand& reply, const std::string& address) {
  auto it = reply.ext_fields.find("offset");
  const std::string text = it == reply.ext_fields.end() ? std::string() : it->second;
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        address + ": reply of " + remoting::describe_command(reply) + " has no valid offset");
  }
  return static_cast<std::int64_t>(value);
}

// Where to start reading one queue on `address`.
Result<std::int64_t> start_offset(RemotingSession& session, const ConsumeMessageOptions& options,
                                  const std::string& address, int queue_id) {
  if (!options.group.empty()) {
    RemotingCommand query = queue_request(rc::kQueryConsumerOffset, options.topic, queue_id);
    query.ext_fields["consumerGroup"] = options.group;
    auto reply = session.invoke_ok(address, std::move(query));
    if (reply.ok()) return offset_field(*reply, address);
    if (reply.error().code != ErrorCode::kNotFound) return reply.error();
  }
  auto reply =
      session.invoke_ok(address, queue_request(rc::kGetMinOffset, options.topic, queue_id));
  if (!reply.ok()) return reply.error();
  return offset_field(*reply, address);
}

// Pulls queue `queue_id` from `offset` until it is exhausted or `budget` messages were read.
// Returns the offset to continue from.
Result<std::int64_t> pull_queue(RemotingSession& session, const ConsumeMessageOptions& options,
                                const std::string& broker_name, const std::string& address,
                                int queue_id, std::int64_t offset, int budget,
                                std::vector<Consumed>& consumed) {
  int empty_answers = 0;
  while (budget > 0 && empty_answers < 3) {
    remoting::PullMessageRequest pull;
    pull.consumer_group = options.group.empty() ? kToolGroup : options.group;
    pull.topic = options.topic;
    pull.queue_id = queue_id;
    pull.queue_offset = offset;
    pull.max_msg_nums = std::min(budget, kPullBatch);
    pull.sys_flag = remoting::pull_sys_flag::kSubscription;
    pull.commit_offset = 0;
    pull.suspend_timeout_ms = 0;
    pull.subscription = "*";
    pull.sub_version = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    RemotingCommand request = remoting::make_request(rc::kPullMessage, 0);
    remoting::write_pull_message_request(pull, &request);
    auto reply = session.invoke(address, std::move(request));
    if (!reply.ok()) return reply.error();
    if (reply->code == resp::kPullNotFound) return offset;
    if (reply->code != resp::kSuccess && reply->code != resp::kPullOffsetMoved &&
        reply->code != resp::kPullRetryImmediately) {
      return make_error(ErrorCode::kUnavailable,
                        address + ": PULL_MESSAGE " + options.topic + " queue " +
                            std::to_string(queue_id) + ": " + response_code_text(reply->code) +
                            (reply->remark ? ": " + *reply->remark : std::string()));
    }
    auto header = remoting::parse_pull_message_response(*reply);
    if (!header.ok()) {
      return make_error(header.error().code,
                        address + ": PULL_MESSAGE reply: " + header.error().message);
    }
    if (reply->code == resp::kSuccess) {
      auto records = remoting::decode_message_records(reply->body);
      if (!records.ok()) {
        return make_error(records.error().code,
                          address + ": PULL_MESSAGE body: " + records.error().message);
      }
      for (remoting::MessageRecord& record : *records) {
        if (budget == 0) break;
        auto properties = remoting::decode_message_properties(record.properties);
        consumed.push_back({broker_name, std::move(record),
                            properties.ok() ? *properties : remoting::MessageProperties{}});
        offset = consumed.back().record.queue_offset + 1;
        --budget;
      }
      if (records->empty()) ++empty_answers;
      if (budget == 0) return offset;
    } else {
      ++empty_answers;
    }
    if (header->next_begin_offset > offset) offset = header->next_begin_offset;
    if (reply->code == resp::kSuccess && header->next_begin_offset <= pull.queue_offset) {
      return offset;  // no progress possible
    }
  }
  return offset;
}

}  // namespace

int run_consume_message(const ConsumeMessageOptions& options, std::ostream& out,
                        std::ostream& err) {
  if (Status valid = remoting::validate_topic_name(options.topic, "-t"); !valid.ok()) {
    err << "dledgerctl consumeMessage: " << valid.error().message << "\n";
    return kExitUsage;
  }
  auto namesrvs = options.common.namesrv_addresses();
  if (!namesrvs.ok()) {
    err << "dledgerctl consumeMessage: " << namesrvs.error().message << "\n";
    return kExitUsage;
  }
  RemotingSession session(options.common.timeout());
  auto route = session.topic_route(*namesrvs, options.topic);
  if (!route.ok()) return report_error(err, route.error());

  std::vector<Consumed> consumed;
  int exit_code = kExitOk;
  for (const remoting::QueueData& queue : route->queue_datas) {
    if ((queue.perm & remoting::perm::kRead) == 0) continue;
    const remoting::BrokerData* broker = find_broker(*route, queue.broker_name);
    if (broker == nullptr || broker->broker_addrs.empty()) {
      err << "dledgerctl: topic " << options.topic << ": broker group " << queue.broker_name
          << " has no live replica in the route\n";
      exit_code = kExitFailed;
      continue;
    }
    for (int queue_id = 0; queue_id < queue.read_queue_nums; ++queue_id) {
      const int budget = options.max_messages - static_cast<int>(consumed.size());
      if (budget <= 0) break;
      std::string errors;
      bool done = false;
      for (const std::string& address : addresses_master_first(*broker)) {
        auto from = start_offset(session, options, address, queue_id);
        if (!from.ok()) {
          errors += (errors.empty() ? "" : "; ") + from.error().message;
          continue;
        }
        std::vector<Consumed> read;
        auto next =
            pull_queue(session, options, queue.broker_name, address, queue_id, *from, budget, read);
        if (!next.ok()) {
          errors += (errors.empty() ? "" : "; ") + next.error().message;
          continue;
        }
        consumed.insert(consumed.end(), std::make_move_iterator(read.begin()),
                        std::make_move_iterator(read.end()));
        done = true;
        if (!options.group.empty() && *next > *from) {
          RemotingCommand commit =
              queue_request(rc::kUpdateConsumerOffset, options.topic, queue_id);
          commit.ext_fields["consumerGroup"] = options.group;
          commit.ext_fields["commitOffset"] = std::to_string(*next);
          auto committed =
              session.invoke_ok(addresses_master_first(*broker).front(), std::move(commit));
          if (!committed.ok()) {
            err << "dledgerctl: offset commit failed: " << committed.error().message << "\n";
            exit_code = kExitFailed;
          }
        }
        break;
      }
      if (!done) {
        err << "dledgerctl: " << queue.broker_name << " queue " << queue_id
            << " not read: " << errors << "\n";
        exit_code = kExitFailed;
      }
    }
  }

  if (options.common.json) {
    json array = json::array();
    for (const Consumed& c : consumed) {
      json message = message_json(c.record, c.properties);
      message["brokerName"] = c.broker_name;
      array.push_back(std::move(message));
    }
    out << array.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"BROKER", "QUEUE", "OFFSET", "MSGID", "TAGS", "KEYS", "BODY"});
    for (const Consumed& c : consumed) {
      rows.push_back({c.broker_name, std::to_string(c.record.queue_id),
                      std::to_string(c.record.queue_offset), remoting::offset_msg_id(c.record),
                      printable(property(c.properties, remoting::property_key::kTags)),
                      printable(property(c.properties, remoting::property_key::kKeys)),
                      printable(c.record.body)});
    }
    out << render_columns(rows);
  }
  return exit_code;
}

}  // namespace dledger::ctl
