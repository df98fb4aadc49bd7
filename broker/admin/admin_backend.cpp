#include "broker/admin/admin_backend.h"

namespace dledger::admin {

bool is_valid_role(const std::string& role) {
  return role == kRoleLeader || role == kRoleFollower || role == kRoleCandidate ||
         role == kRoleLearner;
}

bool is_ready(const ReplicaStatus& status) {
  return status.log_open && (status.role == kRoleLeader || status.leader_alive);
}

}  // namespace dledger::admin
