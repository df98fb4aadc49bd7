#include "broker/programs/dledgerctl/transfer_leader_command.h"

#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/admin/admin_json.h"

namespace dledger::ctl {
namespace {

void print_result(const TransferLeaderOptions& options, const admin::TransferResult& result,
                  std::ostream& out) {
  if (options.common.json) {
    out << admin::transfer_to_json(result).dump() << "\n";
  } else {
    out << "leadership transferred to " << result.leader_id << " (term " << result.term << ")\n";
  }
}

void print_skipped(const TransferLeaderOptions& options, const std::string& address,
                   const std::string& why, std::ostream& out) {
  if (options.common.json) {
    out << nlohmann::json{{"skipped", true}, {"admin", address}, {"reason", why}}.dump() << "\n";
  } else {
    out << address << ": " << why << "; nothing to do\n";
  }
}

int run_if_leader(const TransferLeaderOptions& options, const std::string& address,
                  std::ostream& out, std::ostream& err) {
  admin::AdminClientOptions client_options = options.common.client_options(kMutationTimeoutMs);
  client_options.follow_leader = false;
  admin::AdminClient client(client_options);
  auto status = client.status(address);
  if (!status.ok()) return report_error(err, status.error());
  if (status->role != admin::kRoleLeader) {
    print_skipped(options, address,
                  status->self_id + " is not the leader (role " + status->role + ")", out);
    return kExitOk;
  }
  auto result = client.transfer_leadership(address, options.to);
  if (!result.ok()) {
    if (result.error().code == ErrorCode::kNotLeader) {
      print_skipped(options, address, status->self_id + " no longer leads", out);
      return kExitOk;
    }
    return report_error(err, result.error());
  }
  print_result(options, *result, out);
  return kExitOk;
}

}  // namespace

int run_transfer_leader(const TransferLeaderOptions& options, std::ostream& out,
                        std::ostream& err) {
  auto addresses = options.common.addresses();
  if (!addresses.ok()) {
    err << "dledgerctl transferLeader: " << addresses.error().message << "\n";
    return kExitUsage;
  }
  if (!options.to.empty()) {
    if (Status valid = admin::validate_member_id(options.to, "--to"); !valid.ok()) {
      err << "dledgerctl transferLeader: " << valid.error().message << "\n";
      return kExitUsage;
    }
  }
  if (options.if_leader) {
    if (addresses->size() != 1) {
      err << "dledgerctl transferLeader: --if-leader needs exactly one --admin (the replica "
             "that may be leading)\n";
      return kExitUsage;
    }
    return run_if_leader(options, addresses->front(), out, err);
  }
  admin::AdminClient client(options.common.client_options(kMutationTimeoutMs));
  auto result = first_answer<admin::TransferResult>(*addresses, [&](const std::string& address) {
    return client.transfer_leadership(address, options.to);
  });
  if (!result.ok()) return report_error(err, result.error());
  print_result(options, *result, out);
  return kExitOk;
}

}  // namespace dledger::ctl
