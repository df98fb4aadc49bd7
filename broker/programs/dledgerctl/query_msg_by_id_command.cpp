#include "broker/programs/dledgerctl/query_msg_by_id_command.h"

#include <algorithm>
#include <optional>
#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/programs/dledgerctl/message_view.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/message_codec.h"
#include "broker/remoting/message_properties.h"

namespace dledger::ctl {
namespace {

using nlohmann::json;

// Where to ask, in order: the replica named in the msgId, then the other replicas of its
// broker group (master first); when no group lists that replica any more (it died and its
// registration was replaced or expired), every group's replicas. A physical offset means
// something only in the group that stored it, so an answer counts only if the message it
// returns carries the same msgId (store host and offset), which rules out another group's
// message at the same offset.
struct Candidate {
  std::string broker_name;  // "-" when unknown
  std::string address;
};

std::vector<Candidate> candidates(const remoting::ClusterInfo* info, const std::string& stored_by) {
  std::vector<Candidate> out;
  std::string stored_by_group = "-";
  if (info != nullptr) {
    for (const auto& [name, broker] : info->broker_addr_table) {
      auto addresses = addresses_master_first(broker);
      if (std::find(addresses.begin(), addresses.end(), stored_by) != addresses.end()) {
        stored_by_group = name;
      }
    }
  }
  out.push_back({stored_by_group, stored_by});
  if (info == nullptr) return out;
  for (const auto& [name, broker] : info->broker_addr_table) {
    if (stored_by_group != "-" && name != stored_by_group) continue;
    for (const std::string& address : addresses_master_first(broker)) {
      if (address != stored_by) out.push_back({name, address});
    }
  }
  return out;
}

std::string unique_key_hint(const std::string& msg_id) {
  return "(a producer's SendResult msgId is its UNIQ_KEY, not an offset msgId: look that up with "
         "`dledgerctl queryMsgByUniqueKey -t <topic> -i " +
         msg_id + "`)\n";
}

}  // namespace

int run_query_msg_by_id(const QueryMsgByIdOptions& options, std::ostream& out, std::ostream& err) {
  auto id = remoting::decode_offset_msg_id(options.msg_id);
  if (!id.ok()) {
    err << "dledgerctl queryMsgById: -i: " << id.error().message << "\n"
        << unique_key_hint(options.msg_id);
    return kExitUsage;
  }
  auto namesrvs = options.common.namesrv_addresses();
  if (!namesrvs.ok()) {
    err << "dledgerctl queryMsgById: " << namesrvs.error().message << "\n";
    return kExitUsage;
  }
  RemotingSession session(options.common.timeout());
  const std::string stored_by = id->store_host.to_string();

  std::string namesrv_error;
  auto info = session.cluster_info(*namesrvs);
  if (!info.ok()) namesrv_error = info.error().message;
  const std::vector<Candidate> asked = candidates(info.ok() ? &*info : nullptr, stored_by);

  remoting::RemotingCommand request =
      remoting::make_request(remoting::request_code::kViewMessageById, 0);
  request.ext_fields["offset"] = std::to_string(id->physical_offset);
  // The canonical (upper-case) form of the requested id, as offset_msg_id prints it.
  const std::string wanted = remoting::encode_offset_msg_id(id->store_host, id->physical_offset);
  const Candidate* answered = nullptr;
  std::optional<remoting::MessageRecord> found;
  std::string errors;  // each address with its answer (invoke_ok's errors name it)
  auto note = [&errors](const std::string& error) {
    errors += (errors.empty() ? "" : "; ") + error;
  };
  for (const Candidate& candidate : asked) {
    auto reply = session.invoke_ok(candidate.address, request);
    if (!reply.ok()) {
      note(reply.error().message);
      continue;
    }
    auto records = remoting::decode_message_records(reply->body);
    if (!records.ok() || records->size() != 1) {
      note(candidate.address + ": VIEW_MESSAGE_BY_ID body: " +
           (records.ok() ? std::to_string(records->size()) + " messages instead of 1"
                         : records.error().message));
      continue;
    }
    if (const std::string got = remoting::offset_msg_id(records->front()); got != wanted) {
      note(candidate.address + ": holds another message at that offset (msgId " + got + ")");
      continue;
    }
    answered = &candidate;
    found = std::move(records->front());
    break;
  }
  if (!found) {
    err << "dledgerctl queryMsgById: message " << options.msg_id << " not found: " << errors;
    if (!namesrv_error.empty()) {
      err << " (the other replicas of its group are unknown: " << namesrv_error << ")";
    }
    err << "\n" << unique_key_hint(options.msg_id);
    return kExitFailed;
  }
  if (options.common.json) {
    out << message_detail_json(*found, answered->broker_name, answered->address)
               .dump(2, ' ', false, json::error_handler_t::replace)
        << "\n";
    return kExitOk;
  }
  print_message_detail(out, *found, answered->broker_name, answered->address);
  return kExitOk;
}

}  // namespace dledger::ctl
