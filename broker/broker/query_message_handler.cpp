// QUERY_MESSAGE (12): a client's queryMessage(topic, key, maxNum, begin, end) and
// viewMessage(topic, uniqKey) ask every broker group of the topic for the messages with that key
// (message_query.h: a scan over the time range, no index). Any replica answers from what it has
// applied.
//
//   matches                  -> SUCCESS, body = the messages as stored records (a pull reply
//                               body's format); a remark when the scan budget stopped it early
//   no match                 -> QUERY_NOT_FOUND "can not find message, maybe time range not
//                               correct", naming the budget when it stopped the scan
//   unknown topic            -> QUERY_NOT_FOUND naming the topic
//   bad header               -> SYSTEM_ERROR naming the field
//
// maxNum is capped at 64 (RocketMQ's maxMsgsNumBatch); a unique-key query uses 32 (its
// defaultQueryMaxNum), as RocketMQ's broker does. The reply's indexLastUpdateTimestamp is the
// broker's clock and indexLastUpdatePhyoffset the physical offset after the last applied ledger
// entry: with no index, everything applied is searchable. The scan runs on the connection's io
// thread; the budget (BrokerHandlers::Options::max_query_scan) bounds how long it holds it.
#include <chrono>
#include <optional>
#include <string>

#include "broker/broker/broker_handlers.h"
#include "broker/broker/message_query.h"
#include "broker/remoting/client_headers.h"
#include "broker/remoting/codes.h"

namespace dledger::broker {

namespace resp = remoting::response_code;
using remoting::RemotingCommand;

namespace {

constexpr std::int32_t kMaxQueryNum = 64;
constexpr std::int32_t kUniqueKeyQueryNum = 32;

std::string budget_note(const MessageQueryResult& result) {
  return "stopped after reading " + std::to_string(result.scanned) +
         " messages (the scan budget): more may match; narrow the time range";
}

}  // namespace

frontend::Handler make_query_message_handler(BrokerContext& context) {
  return [&context](const RemotingCommand& request, frontend::Connection&,
                    frontend::Responder respond) {
    auto header = remoting::parse_query_message_request(request);
    if (!header.ok()) {
      respond(remoting::make_response(request, resp::kSystemError, header.error().message));
      return;
    }
    MessageQuery query;
    query.topic = header->topic;
    query.key = header->key;
    query.unique_key = header->unique_key;
    query.begin_ms = header->begin_ms;
    query.end_ms = header->end_ms;
    query.max_num = static_cast<std::uint32_t>(
        header->unique_key ? kUniqueKeyQueryNum : std::min(header->max_num, kMaxQueryNum));
    query.max_scan = context.max_query_scan;
    query.max_bytes = context.max_pull_bytes;
    const std::uint64_t searched_to = context.store->applied_index() + 1;
    auto result = query_messages(*context.store, query);
    auto reply = [&](std::int32_t code, std::optional<std::string> remark) {
      RemotingCommand response = remoting::make_response(request, code, std::move(remark));
      const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      remoting::write_query_message_response(now_ms, store::physical_offset_of(searched_to, 0),
                                             &response);
      return response;
    };
    if (!result.ok()) {
      const bool missing = result.error().code == ErrorCode::kNotFound;
      respond(reply(missing ? resp::kQueryNotFound : resp::kSystemError, result.error().message));
      return;
    }
    if (result->count == 0) {
      std::string remark = "can not find message, maybe time range not correct";
      if (!result->complete) remark += " (" + budget_note(*result) + ")";
      respond(reply(resp::kQueryNotFound, remark));
      return;
    }
    RemotingCommand response =
        reply(resp::kSuccess,
              result->complete ? std::nullopt : std::optional<std::string>(budget_note(*result)));
    response.body = std::move(result->records);
    respond(std::move(response));
  };
}

}  // namespace dledger::broker
