#include "broker/programs/dledgerctl/query_msg_by_key_command.h"

#include <chrono>
#include <climits>
#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/message_view.h"
#include "broker/programs/dledgerctl/uniq_key.h"
#include "broker/remoting/client_headers.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/message_codec.h"

namespace dledger::ctl {
namespace {

namespace resp = remoting::response_code;
using nlohmann::json;

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

struct Found {
  std::string broker_name;
  std::string address;
  remoting::MessageRecord record;
};

}  // namespace

int run_query_msg_by_key(const QueryMsgByKeyOptions& options, std::ostream& out,
                         std::ostream& err) {
  const char* command = options.unique_key ? "queryMsgByUniqueKey" : "queryMsgByKey";
  auto fail_usage = [&](const std::string& message) {
    err << "dledgerctl " << command << ": " << message << "\n";
    return kExitUsage;
  };
  if (options.topic.empty()) return fail_usage("-t: empty topic");
  if (options.key.empty())
    return fail_usage(options.unique_key ? "-i: empty msgId" : "-k: empty key");
  if (options.max < 1 || options.max > 64) {
    return fail_usage("--max = " + std::to_string(options.max) + ": expected 1..64");
  }
  std::int64_t begin_ms = options.begin_ms.value_or(0);
  if (!options.begin_ms && options.unique_key) {
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    // A day of slack: the producer counted from the start of its month in its own time zone.
    if (auto made = uniq_key_time_ms(options.key, now_ms))
      begin_ms = std::max<std::int64_t>(0, *made - kDayMs);
  }
  const std::int64_t end_ms = options.end_ms.value_or(INT64_MAX);
  if (begin_ms < 0 || end_ms < 0) return fail_usage("--begin-ms / --end-ms: negative time");
  if (begin_ms > end_ms) {
    return fail_usage("--begin-ms " + std::to_string(begin_ms) + " is after --end-ms " +
                      std::to_string(end_ms));
  }
  auto namesrvs = options.common.namesrv_addresses();
  if (!namesrvs.ok()) return fail_usage(namesrvs.error().message);

  RemotingSession session(options.common.timeout());
  auto route = session.topic_route(*namesrvs, options.topic);
  if (!route.ok()) {
    err << "dledgerctl " << command << ": topic " << options.topic << ": " << route.error().message
        << "\n";
    return kExitFailed;
  }
  const remoting::RemotingCommand request =
      remoting::make_query_message_request({.topic = options.topic,
                                            .key = options.key,
                                            .max_num = options.max,
                                            .begin_ms = begin_ms,
                                            .end_ms = end_ms,
                                            .unique_key = options.unique_key});

  std::vector<Found> found;
  std::string answers;  // each group with its answer
  auto note = [&answers](const std::string& text) {
    answers += (answers.empty() ? "" : "; ") + text;
  };
  for (const remoting::BrokerData& broker : route->broker_datas) {
    std::string tried;  // this group's replicas that did not answer
    bool answered = false;
    for (const std::string& address : addresses_master_first(broker)) {
      auto reply = session.invoke(address, request);
      if (!reply.ok()) {
        tried += (tried.empty() ? "" : ", ") + reply.error().message;
        continue;
      }
      const std::string remark = reply->remark.value_or("");
      if (reply->code == resp::kQueryNotFound) {
        note(broker.broker_name + " (" + address + "): none" +
             (remark.empty() ? "" : " (" + remark + ")"));
        answered = true;
        break;
      }
      if (reply->code != resp::kSuccess) {
        tried += (tried.empty() ? "" : ", ") + address + ": " + response_code_text(reply->code) +
                 (remark.empty() ? "" : ": " + remark);
        continue;
      }
      auto records = remoting::decode_message_records(reply->body);
      if (!records.ok()) {
        tried += (tried.empty() ? "" : ", ") + address +
                 ": QUERY_MESSAGE body: " + records.error().message;
        continue;
      }
      for (auto& record : *records)
        found.push_back({broker.broker_name, address, std::move(record)});
      note(broker.broker_name + " (" + address + "): " + std::to_string(records->size()));
      if (!remark.empty()) {
        err << "dledgerctl " << command << ": warning: " << broker.broker_name << " (" << address
            << "): " << remark << "\n";
      }
      answered = true;
      break;
    }
    if (!answered) note(broker.broker_name + ": no replica answered (" + tried + ")");
  }
  if (found.empty()) {
    err << "dledgerctl " << command << ": no message with "
        << (options.unique_key ? "msgId " : "key ") << options.key << " in topic " << options.topic
        << " stored between "
        << (begin_ms == 0 ? std::string("the first message") : format_unix_ms(begin_ms)) << " and "
        << (end_ms == INT64_MAX ? std::string("now") : format_unix_ms(end_ms)) << ": " << answers
        << "\n";
    return kExitFailed;
  }
  if (options.common.json) {
    json all = json::array();
    for (const Found& f : found)
      all.push_back(message_detail_json(f.record, f.broker_name, f.address));
    out << all.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  for (std::size_t i = 0; i < found.size(); ++i) {
    if (i > 0) out << "\n";
    print_message_detail(out, found[i].record, found[i].broker_name, found[i].address);
  }
  return kExitOk;
}

}  // namespace dledger::ctl
