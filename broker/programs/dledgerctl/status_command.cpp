#include "broker/programs/dledgerctl/status_command.h"

#include <algorithm>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "broker/admin/admin_json.h"

namespace dledger::ctl {
namespace {

constexpr int kStatusTimeoutMs = 5000;

// The answer of the leader with the highest term, if any replica claims to lead.
const admin::ReplicaStatus* find_leader(const std::vector<StatusAnswer>& answers) {
  const admin::ReplicaStatus* leader = nullptr;
  for (const StatusAnswer& answer : answers) {
    if (!answer.status.ok() || answer.status->role != admin::kRoleLeader) continue;
    if (leader == nullptr || answer.status->term > leader->term) leader = &*answer.status;
  }
  return leader;
}

std::string lag_of(const admin::ReplicaStatus* leader, const std::string& id) {
  if (leader == nullptr) return "-";
  for (const admin::MemberStatus& member : leader->members) {
    if (member.id == id && member.lag) return std::to_string(*member.lag);
  }
  return "-";
}

std::string or_dash(const std::string& text) {
  return text.empty() ? "-" : text;
}

}  // namespace

int run_status(const StatusOptions& options, std::ostream& out, std::ostream& err) {
  auto addresses = options.common.addresses();
  if (!addresses.ok()) {
    err << "dledgerctl status: " << addresses.error().message << "\n";
    return kExitUsage;
  }
  admin::AdminClient client(options.common.client_options(kStatusTimeoutMs));
  std::vector<StatusAnswer> answers;
  bool all_answered = true;
  for (const std::string& address : *addresses) {
    answers.push_back({address, client.status(address)});
    if (!answers.back().status.ok()) {
      all_answered = false;
      report_error(err, answers.back().status.error());
    }
  }
  out << (options.common.json ? render_status_json(answers) : render_status_table(answers));
  return all_answered ? kExitOk : kExitFailed;
}

std::string render_status_table(const std::vector<StatusAnswer>& answers) {
  const admin::ReplicaStatus* leader = find_leader(answers);
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"ID", "ROLE", "TERM", "LEADER", "COMMIT", "LAST", "LAG", "ADDRESS"});
  for (const StatusAnswer& answer : answers) {
    if (!answer.status.ok()) {
      const ErrorCode code = answer.status.error().code;
      const bool unreachable = code == ErrorCode::kUnavailable || code == ErrorCode::kTimeout;
      rows.push_back({"?", unreachable ? "unreachable" : "error", "-", "-", "-", "-", "-",
                      answer.admin_address});
      continue;
    }
    const admin::ReplicaStatus& s = *answer.status;
    rows.push_back({or_dash(s.self_id), s.role, std::to_string(s.term), or_dash(s.leader_id),
                    std::to_string(s.commit_index), std::to_string(s.last_index),
                    lag_of(leader, s.self_id), answer.admin_address});
  }
  return render_columns(rows);
}

std::string render_status_json(const std::vector<StatusAnswer>& answers) {
  nlohmann::json array = nlohmann::json::array();
  for (const StatusAnswer& answer : answers) {
    if (answer.status.ok()) {
      nlohmann::json item = admin::status_to_json(*answer.status);
      item["admin"] = answer.admin_address;
      array.push_back(std::move(item));
    } else {
      array.push_back({{"admin", answer.admin_address},
                       {"error", error_code_name(answer.status.error().code)},
                       {"message", answer.status.error().message}});
    }
  }
  return array.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace dledger::ctl
