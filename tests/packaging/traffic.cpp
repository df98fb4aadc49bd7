// packaging-traffic: steady produce + consume traffic against a broker group, for the Prometheus
// end-to-end check (tests/packaging/prometheus_e2e.py). Test tool, never shipped.
//
//   packaging-traffic --brokers "127.0.0.1:p0;127.0.0.1:p1;127.0.0.1:p2" --topics orders,payments
//                     [--interval-ms 20] [--duration-ms 0]
//
// Creates each topic (1 queue) through the first broker that accepts it, then until SIGTERM /
// SIGINT (or --duration-ms, when > 0) sends one message per topic every interval (to the same
// broker; a follower forwards to the leader; on a failure the next broker is tried with the same
// message) and pulls every topic's queue back from its cursor, committing the consumer offset of
// group "packaging-traffic" with each pull. At the end it pulls until everything acknowledged has
// been read back and checks the bodies come back in send order, each once — except that a message
// whose send failed before it was acknowledged may appear twice in a row (the failed attempt may
// have been stored, as with any RocketMQ producer). The first 5 send failures are printed on
// stderr. Prints one JSON line
//   {"sent": N, "pulled": M, "send_errors": E}
// Exit codes: 0 when N > 0 and every acknowledged message was read back in order; 1 otherwise
// (the reason on stderr); 2 usage error.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "broker/frontend/remoting_client.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/message_codec.h"
#include "broker/remoting/pull_header.h"
#include "broker/remoting/send_header.h"

namespace {

using namespace dledger;
using namespace std::chrono_literals;
using remoting::RemotingCommand;
namespace rc = remoting::request_code;
namespace resp = remoting::response_code;

std::atomic<bool> stop_requested{false};
extern "C" void request_stop(int) {
  stop_requested.store(true);
}

struct TopicState {
  std::int64_t sent = 0;           // messages acknowledged; bodies are "<topic>-<n>", n from 0
  std::int64_t next_pull = 0;      // next consume-queue offset to pull
  std::int64_t pulled = 0;         // distinct messages read back, in order
  std::int64_t first_offset = -1;  // queue offset of message 0
  std::set<std::int64_t> retried;  // n whose send failed at least once before it was acknowledged
};

class Traffic {
 public:
  Traffic(std::vector<std::string> brokers, std::vector<std::string> topics)
      : brokers_(std::move(brokers)) {
    for (auto& t : topics) topics_[t] = TopicState{};
  }

  // Creates the topics on whichever broker accepts them; that broker is the leader.
  bool create_topics(std::chrono::steady_clock::time_point deadline) {
    while (std::chrono::steady_clock::now() < deadline && !stop_requested.load()) {
      for (std::size_t i = 0; i < brokers_.size(); ++i) {
        bool all = true;
        for (const auto& [topic, state] : topics_) {
          RemotingCommand create = remoting::make_request(rc::kUpdateAndCreateTopic, 0);
          create.ext_fields["topic"] = topic;
          create.ext_fields["readQueueNums"] = "1";
          create.ext_fields["writeQueueNums"] = "1";
          auto reply = invoke(i, std::move(create));
          if (!reply.ok() || reply->code != resp::kSuccess) {
            all = false;
            break;
          }
        }
        if (all) {
          leader_ = i;
          return true;
        }
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  // One round: a send per topic, then a pull per topic.
  void round() {
    for (auto& [topic, state] : topics_) send(topic, state);
    for (auto& [topic, state] : topics_) pull(topic, state);
  }

  // Pulls until every acknowledged message was read back, or the deadline.
  bool drain(std::chrono::steady_clock::time_point deadline) {
    while (std::chrono::steady_clock::now() < deadline) {
      bool done = true;
      for (auto& [topic, state] : topics_) {
        pull(topic, state);
        if (state.pulled < state.sent) done = false;
      }
      if (done || !error_.empty()) return done && error_.empty();
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  std::int64_t total_sent() const {
    std::int64_t n = 0;
    for (const auto& [topic, state] : topics_) n += state.sent;
    return n;
  }
  std::int64_t total_pulled() const {
    std::int64_t n = 0;
    for (const auto& [topic, state] : topics_) n += state.pulled;
    return n;
  }
  std::int64_t send_errors() const { return send_errors_; }
  const std::string& error() const { return error_; }
  std::string shortfall() const {
    std::ostringstream out;
    for (const auto& [topic, state] : topics_) {
      if (state.pulled < state.sent) {
        out << "topic " << topic << ": " << state.sent << " acknowledged, " << state.pulled
            << " read back; ";
      }
    }
    return out.str();
  }

 private:
  Result<RemotingCommand> invoke(std::size_t i, RemotingCommand request) {
    if (clients_.size() < brokers_.size()) clients_.resize(brokers_.size());
    if (!clients_[i] || !clients_[i]->is_open()) {
      auto connected = frontend::RemotingClient::connect(brokers_[i]);
      if (!connected.ok()) return connected.error();
      clients_[i] = std::move(connected).value();
    }
    return clients_[i]->invoke_sync(std::move(request), 5000ms);
  }

  void send(const std::string& topic, TopicState& state) {
    for (std::size_t attempt = 0; attempt < brokers_.size(); ++attempt) {
      RemotingCommand cmd = remoting::make_request(rc::kSendMessageV2, 0);
      remoting::SendMessageRequest header;
      header.producer_group = "packaging-traffic";
      header.topic = topic;
      header.default_topic = "TBW102";
      header.default_topic_queue_nums = 1;
      header.queue_id = 0;
      header.born_timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
      remoting::write_send_message_request(header, &cmd);
      cmd.body = topic + "-" + std::to_string(state.sent);
      auto reply = invoke(leader_, std::move(cmd));
      if (reply.ok() && reply->code == resp::kSuccess) {
        auto parsed = remoting::parse_send_message_response(*reply);
        if (!parsed.ok()) {
          fail("send reply of " + brokers_[leader_] + ": " + parsed.error().to_string());
          return;
        }
        if (state.first_offset < 0) {
          state.first_offset = parsed->queue_offset;
          state.next_pull = parsed->queue_offset;
        }
        ++state.sent;
        return;
      }
      ++send_errors_;
      if (send_errors_ <= 5) {
        std::cerr << "packaging-traffic: send " << topic << "-" << state.sent << " to "
                  << brokers_[leader_] << " failed: "
                  << (reply.ok()
                          ? "code " + std::to_string(reply->code) + " " + reply->remark.value_or("")
                          : reply.error().to_string())
                  << "\n";
      }
      // The message may still have been stored (a timeout after the append): the retry can
      // store it twice, as with any RocketMQ producer. pull() accepts that one duplicate.
      state.retried.insert(state.sent);
      leader_ = (leader_ + 1) % brokers_.size();  // refused or unreachable: try the next member
    }
  }

  void pull(const std::string& topic, TopicState& state) {
    if (state.first_offset < 0 || state.pulled >= state.sent) return;
    RemotingCommand cmd = remoting::make_request(rc::kPullMessage, 0);
    remoting::PullMessageRequest header;
    header.consumer_group = "packaging-traffic";
    header.topic = topic;
    header.queue_id = 0;
    header.queue_offset = state.next_pull;
    header.max_msg_nums = 32;
    // Commit what was consumed so far with the pull, as RocketMQ consumers do (so the broker
    // has consumer offsets and consumer lag to report).
    header.sys_flag = remoting::pull_sys_flag::kCommitOffset;
    header.commit_offset = state.next_pull;
    remoting::write_pull_message_request(header, &cmd);
    auto reply = invoke(leader_, std::move(cmd));
    if (!reply.ok() || reply->code != resp::kSuccess) return;  // not there yet, or not the leader
    auto records = remoting::decode_message_records(reply->body);
    if (!records.ok()) {
      fail("pull reply of " + brokers_[leader_] + ": " + records.error().to_string());
      return;
    }
    for (const auto& record : *records) {
      const std::string want = topic + "-" + std::to_string(state.pulled);
      const bool retry_copy = state.pulled > 0 && state.retried.count(state.pulled - 1) > 0 &&
                              record.body == topic + "-" + std::to_string(state.pulled - 1);
      if (record.body != want && !retry_copy) {
        fail("topic " + topic + " offset " + std::to_string(record.queue_offset) + ": read '" +
             record.body + "', expected '" + want + "'");
        return;
      }
      if (!retry_copy) ++state.pulled;
      state.next_pull = record.queue_offset + 1;
    }
  }

  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  std::vector<std::string> brokers_;
  std::map<std::string, TopicState> topics_;
  std::vector<std::unique_ptr<frontend::RemotingClient>> clients_;
  std::size_t leader_ = 0;
  std::int64_t send_errors_ = 0;
  std::string error_;
};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, separator)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int run(int argc, char** argv) {
  CLI::App app{"packaging-traffic: produce + consume traffic for the Prometheus check"};
  std::string brokers_text;
  std::string topics_text = "orders,payments";
  int interval_ms = 20;
  int duration_ms = 0;
  app.add_option("--brokers", brokers_text, "broker remoting addresses, host:port;...")->required();
  app.add_option("--topics", topics_text, "comma-separated topics");
  app.add_option("--interval-ms", interval_ms, "pause between rounds")->check(CLI::Range(0, 60000));
  app.add_option("--duration-ms", duration_ms, "stop after this long (0: at SIGTERM only)")
      ->check(CLI::Range(0, 3600000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto brokers = split(brokers_text, ';');
  auto topics = split(topics_text, ',');
  if (brokers.empty() || topics.empty()) {
    std::cerr << "packaging-traffic: --brokers and --topics must name at least one item\n";
    return 2;
  }
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);

  Traffic traffic(brokers, topics);
  const auto start = std::chrono::steady_clock::now();
  if (!traffic.create_topics(start + 60s)) {
    std::cerr << "packaging-traffic: no broker of " << brokers_text << " created the topics\n";
    return 1;
  }
  while (!stop_requested.load() && traffic.error().empty()) {
    if (duration_ms > 0 &&
        std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(duration_ms)) {
      break;
    }
    traffic.round();
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  const bool drained = traffic.drain(std::chrono::steady_clock::now() + 30s);
  std::cout << "{\"sent\": " << traffic.total_sent() << ", \"pulled\": " << traffic.total_pulled()
            << ", \"send_errors\": " << traffic.send_errors() << "}" << std::endl;
  if (!traffic.error().empty()) {
    std::cerr << "packaging-traffic: " << traffic.error() << "\n";
    return 1;
  }
  if (traffic.total_sent() == 0) {
    std::cerr << "packaging-traffic: no message was acknowledged\n";
    return 1;
  }
  if (!drained) {
    std::cerr << "packaging-traffic: not every acknowledged message was read back: "
              << traffic.shortfall() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv);
}
