#include "broker/programs/dledgerctl/cluster_list_command.h"

#include <map>
#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/admin/admin_client.h"
#include "broker/programs/dledgerctl/remoting_session.h"
#include "broker/remoting/codes.h"

namespace dledger::ctl {
namespace {

using nlohmann::json;

std::optional<std::uint64_t> to_u64(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
      text.size() > 19) {
    return std::nullopt;
  }
  return std::stoull(text);
}

// Fills the row from the GET_BROKER_RUNTIME_INFO KVTable body; errors name the address.
Status apply_runtime_info(const std::string& body, ClusterRow& row) {
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("table") ||
      !parsed["table"].is_object()) {
    return make_error(ErrorCode::kInvalidArgument,
                      row.address + ": GET_BROKER_RUNTIME_INFO: body is not a KVTable");
  }
  const json& table = parsed["table"];
  auto text = [&table](const char* key) {
    return table.contains(key) && table[key].is_string() ? table[key].get<std::string>()
                                                         : std::string();
  };
  row.self_id = text("dLegerSelfId");
  row.role = text("dLegerRole");
  row.term = to_u64(text("dLegerTerm"));
  row.commit_index = to_u64(text("dLegerCommitIndex"));
  row.last_index = to_u64(text("dLegerLastIndex"));
  row.admin = text("adminAddress");
  if (row.role.empty()) row.role = "error";
  return Status::ok_status();
}

std::string number_or_dash(const std::optional<std::uint64_t>& value) {
  return value ? std::to_string(*value) : "-";
}

}  // namespace

int run_cluster_list(const ClusterListOptions& options, std::ostream& out, std::ostream& err) {
  auto namesrvs = options.common.namesrv_addresses();
  if (!namesrvs.ok()) {
    err << "dledgerctl clusterList: " << namesrvs.error().message << "\n";
    return kExitUsage;
  }
  RemotingSession session(options.common.timeout());
  auto info = session.cluster_info(*namesrvs);
  if (!info.ok()) return report_error(err, info.error());

  admin::AdminClientOptions admin_options;
  admin_options.timeout = options.common.timeout();
  admin::AdminClient admin_client(admin_options);
  std::vector<ClusterRow> rows;
  std::vector<std::optional<admin::ReplicaStatus>> statuses;
  bool all_answered = true;
  for (const auto& [name, data] : info->broker_addr_table) {
    for (const auto& [broker_id, address] : data.broker_addrs) {
      ClusterRow row;
      row.cluster = data.cluster;
      row.broker_name = name;
      row.broker_id = broker_id;
      row.address = address;
      std::optional<admin::ReplicaStatus> status;
      auto runtime = session.invoke_ok(
          address, remoting::make_request(remoting::request_code::kGetBrokerRuntimeInfo, 0));
      Status applied =
          runtime.ok() ? apply_runtime_info(runtime->body, row) : Status(runtime.error());
      if (!applied.ok()) {
        const ErrorCode code = applied.error().code;
        row.role = code == ErrorCode::kUnavailable || code == ErrorCode::kTimeout ? "unreachable"
                                                                                  : "error";
        row.error = applied.error().message;
      } else if (!row.admin.empty()) {
        auto answered = admin_client.status(row.admin);
        if (answered.ok()) {
          status = *answered;
          row.role = answered->role;
          row.self_id = answered->self_id;
          row.term = answered->term;
          row.commit_index = answered->commit_index;
          row.last_index = answered->last_index;
        } else {
          row.error = "admin " + row.admin + ": " + answered.error().message;
        }
      }
      if (!row.error.empty()) {
        all_answered = false;
        err << "dledgerctl clusterList: " << row.broker_name << " BID " << row.broker_id << ": "
            << row.error << "\n";
      }
      rows.push_back(std::move(row));
      statuses.push_back(std::move(status));
    }
  }
  // LAG from the view of each broker name's leader (highest term among the answers).
  std::map<std::string, const admin::ReplicaStatus*> leaders;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& status = statuses[i];
    if (!status || status->role != admin::kRoleLeader) continue;
    const admin::ReplicaStatus*& leader = leaders[rows[i].broker_name];
    if (leader == nullptr || status->term > leader->term) leader = &*status;
  }
  for (ClusterRow& row : rows) {
    auto leader = leaders.find(row.broker_name);
    if (leader == leaders.end() || row.self_id.empty()) continue;
    for (const admin::MemberStatus& member : leader->second->members) {
      if (member.id == row.self_id) row.lag = member.lag;
    }
    if (!row.lag && row.self_id == leader->second->self_id) row.lag = 0;
  }
  out << (options.common.json ? render_cluster_json(rows) : render_cluster_table(rows));
  return all_answered ? kExitOk : kExitFailed;
}

std::string render_cluster_table(const std::vector<ClusterRow>& rows) {
  std::vector<std::vector<std::string>> table;
  table.push_back({"CLUSTER", "BROKER", "BID", "ADDRESS", "ID", "ROLE", "TERM", "COMMIT", "LAST",
                   "LAG", "ADMIN"});
  for (const ClusterRow& row : rows) {
    table.push_back({row.cluster.empty() ? "-" : row.cluster, row.broker_name,
                     std::to_string(row.broker_id), row.address,
                     row.self_id.empty() ? "-" : row.self_id, row.role, number_or_dash(row.term),
                     number_or_dash(row.commit_index), number_or_dash(row.last_index),
                     number_or_dash(row.lag), row.admin.empty() ? "-" : row.admin});
  }
  return render_columns(table);
}

std::string render_cluster_json(const std::vector<ClusterRow>& rows) {
  auto number = [](const std::optional<std::uint64_t>& value) {
    return value ? json(*value) : json(nullptr);
  };
  json array = json::array();
  for (const ClusterRow& row : rows) {
    json item = {{"cluster", row.cluster},
                 {"brokerName", row.broker_name},
                 {"brokerId", row.broker_id},
                 {"address", row.address},
                 {"selfId", row.self_id},
                 {"role", row.role},
                 {"term", number(row.term)},
                 {"commitIndex", number(row.commit_index)},
                 {"lastIndex", number(row.last_index)},
                 {"lag", number(row.lag)},
                 {"admin", row.admin}};
    if (!row.error.empty()) item["error"] = row.error;
    array.push_back(std::move(item));
  }
  return array.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace dledger::ctl
