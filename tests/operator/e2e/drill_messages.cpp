#include "tests/operator/e2e/drill_messages.h"

#include "broker/frontend/remoting_client.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/message_codec.h"
#include "broker/remoting/pull_header.h"
#include "broker/remoting/remoting_command.h"
#include "broker/remoting/send_header.h"

namespace dledger::e2e {
namespace {

namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using remoting::RemotingCommand;
constexpr std::chrono::milliseconds kRequestTimeout{3000};

Result<RemotingCommand> call(frontend::RemotingClient& client, RemotingCommand request) {
  auto reply = client.invoke_sync(std::move(request), kRequestTimeout);
  if (!reply.ok()) return reply.error();
  return reply;
}

RemotingCommand send_request(const std::string& topic, const std::string& body) {
  RemotingCommand cmd = remoting::make_request(rc::kSendMessageV2, 0);
  remoting::SendMessageRequest header;
  header.producer_group = "drill-producer";
  header.topic = topic;
  header.default_topic = "TBW102";
  header.default_topic_queue_nums = 1;
  header.queue_id = 0;
  header.born_timestamp_ms = 1700000000000;
  remoting::write_send_message_request(header, &cmd);
  cmd.body = body;
  return cmd;
}

}  // namespace

Status create_topic(const std::string& address, const std::string& topic) {
  auto client = frontend::RemotingClient::connect(address);
  if (!client.ok()) return client.error();
  RemotingCommand create = remoting::make_request(rc::kUpdateAndCreateTopic, 0);
  create.ext_fields["topic"] = topic;
  create.ext_fields["readQueueNums"] = "1";
  create.ext_fields["writeQueueNums"] = "1";
  auto reply = call(**client, create);
  if (!reply.ok()) return reply.error();
  if (reply->code != resp::kSuccess) {
    return Error{ErrorCode::kUnavailable, "create topic " + topic + " at " + address + ": code " +
                                              std::to_string(reply->code) + " " +
                                              reply->remark.value_or("")};
  }
  return Status();
}

Result<std::vector<std::string>> read_queue(const std::string& address, const std::string& topic) {
  auto client = frontend::RemotingClient::connect(address);
  if (!client.ok()) return client.error();
  std::vector<std::string> bodies;
  std::int64_t offset = 0;
  for (;;) {
    RemotingCommand cmd = remoting::make_request(rc::kPullMessage, 0);
    remoting::PullMessageRequest header;
    header.consumer_group = "drill-consumer";
    header.topic = topic;
    header.queue_id = 0;
    header.queue_offset = offset;
    header.max_msg_nums = 32;
    remoting::write_pull_message_request(header, &cmd);
    auto reply = call(**client, cmd);
    if (!reply.ok()) return reply.error();
    if (reply->code == resp::kPullNotFound) return bodies;
    if (reply->code != resp::kSuccess) {
      return Error{ErrorCode::kUnavailable, "pull " + topic + " at offset " +
                                                std::to_string(offset) + " from " + address +
                                                ": code " + std::to_string(reply->code)};
    }
    auto records = remoting::decode_message_records(reply->body);
    if (!records.ok()) return records.error();
    auto next = remoting::parse_pull_message_response(*reply);
    if (!next.ok()) return next.error();
    for (const auto& record : *records) bodies.push_back(record.body);
    if (next->next_begin_offset <= offset) {
      return Error{ErrorCode::kInternal,
                   "pull did not advance past offset " + std::to_string(offset)};
    }
    offset = next->next_begin_offset;
  }
}

DrillProducer::DrillProducer(LeaderLocator locate, std::string topic)
    : locate_(std::move(locate)), topic_(std::move(topic)) {}

DrillProducer::~DrillProducer() {
  stop();
}

void DrillProducer::start() {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void DrillProducer::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

std::vector<std::string> DrillProducer::acknowledged() const {
  std::lock_guard lock(mutex_);
  return acknowledged_;
}

void DrillProducer::run(std::stop_token stop) {
  std::unique_ptr<frontend::RemotingClient> client;
  std::string connected_to;
  int next = 0;
  auto pause = [&](std::chrono::milliseconds how_long) {
    const auto until = std::chrono::steady_clock::now() + how_long;
    while (!stop.stop_requested() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  while (!stop.stop_requested()) {
    const std::string body = "m-" + std::to_string(next);
    if (client == nullptr || !client->is_open()) {
      client.reset();
      auto leader = locate_();
      if (!leader) {
        ++failed_attempts_;
        pause(std::chrono::milliseconds(100));
        continue;
      }
      auto connected = frontend::RemotingClient::connect(*leader);
      if (!connected.ok()) {
        ++failed_attempts_;
        pause(std::chrono::milliseconds(100));
        continue;
      }
      client = std::move(*connected);
      connected_to = *leader;
    }
    auto reply = call(*client, send_request(topic_, body));
    if (reply.ok() && reply->code == resp::kSuccess) {
      std::lock_guard lock(mutex_);
      acknowledged_.push_back(body);
      ++next;
      pause(std::chrono::milliseconds(20));
      continue;
    }
    // Not the leader any more, or gone: find the leader again and resend the same message.
    ++failed_attempts_;
    client->close();
    client.reset();
    pause(std::chrono::milliseconds(100));
  }
}

}  // namespace dledger::e2e
