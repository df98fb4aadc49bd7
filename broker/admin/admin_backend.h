// AdminBackend: what the admin HTTP endpoint needs from a running replica. The LedgerServer (or
// a broker embedding one) implements it through a small adapter; tests implement it with a fake.
// This header is the only coupling between broker/admin and the replica, so it uses plain
// strings for member ids ("n3") and roles, exactly as they appear in docs/admin-api.md.
//
// Threading: every method may be called concurrently from the HTTP server's worker threads.
// The mutating calls block until the change has committed (or the transfer has finished), or
// until `timeout` passes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/base/result.h"

namespace dledger::admin {

// Role strings used in /status, in metrics and by dledgerctl.
inline constexpr const char* kRoleLeader = "leader";
inline constexpr const char* kRoleFollower = "follower";
inline constexpr const char* kRoleCandidate = "candidate";
inline constexpr const char* kRoleLearner = "learner";

// True for exactly the four role strings above.
bool is_valid_role(const std::string& role);

struct MemberStatus {
  std::string id;                            // "n1"
  std::string address;                       // peer endpoint "host:port"
  bool voter = true;                         // false: learner
  std::string role;                          // as seen by the reporting replica; "" when unknown
  std::optional<std::uint64_t> match_index;  // known on the leader only
  std::optional<std::uint64_t> lag;          // leader's last_index - match_index; leader only
  bool reachable = false;

  bool operator==(const MemberStatus&) const = default;
};

struct ReplicaStatus {
  std::string group;
  std::string self_id;
  std::string role;  // leader | follower | candidate | learner
  std::uint64_t term = 0;
  std::string leader_id;       // "" when no leader is known
  std::string leader_address;  // leader's peer endpoint, "" when unknown
  std::string leader_admin;    // leader's admin endpoint "host:port", "" when unknown
  std::uint64_t commit_index = 0;
  std::uint64_t last_index = 0;
  std::uint64_t first_index = 0;
  std::string flush_mode;  // "sync" | "async"
  bool membership_change_pending = false;
  std::optional<std::string> transfer_target;  // set while a leadership transfer runs
  std::uint64_t repair_until = 0;
  std::vector<MemberStatus> members;

  // Readiness inputs, not part of the /status JSON.
  bool log_open = false;
  bool leader_alive = false;  // leading, or heard from a live leader within an election timeout

  bool operator==(const ReplicaStatus&) const = default;
};

// /readyz: the log is open and the replica leads or follows a live leader. Never needs quorum.
bool is_ready(const ReplicaStatus& status);

// A committed configuration change: {"index":N,"term":T} in the HTTP answer.
struct ChangeResult {
  std::uint64_t index = 0;
  std::uint64_t term = 0;

  bool operator==(const ChangeResult&) const = default;
};

// A finished leadership transfer: {"leader_id":"n2","term":T}.
struct TransferResult {
  std::string leader_id;  // the new leader
  std::uint64_t term = 0;

  bool operator==(const TransferResult&) const = default;
};

// Errors the mutating calls return (anything else is answered 500):
//   kNotLeader        this replica does not lead. The HTTP layer adds leader_id/leader_admin
//                     from status() to the answer, so the message need only be readable.
//   kBusy             another membership change has not committed yet
//   kTransferring     a leadership transfer is in progress
//   kInvalidArgument  unknown member, id already present, learner still lagging on promote, ...
//   kNotFound         the member does not exist (DELETE / promote)
//   kTimeout          the change did not commit within `timeout` (it may still commit later)
//   kUnavailable / kStopped  the replica is not serving
class AdminBackend {
 public:
  virtual ~AdminBackend() = default;

  // A consistent snapshot of the replica's state. Must not block on quorum.
  virtual ReplicaStatus status() = 0;

  // Moves leadership to `target` ("" = any caught-up voter). Completes when a new leader is known.
  virtual Result<TransferResult> transfer_leadership(const std::string& target,
                                                     std::chrono::milliseconds timeout) = 0;
  // Adds `id` at peer `address` as a learner; completes when the configuration entry commits.
  virtual Result<ChangeResult> add_learner(const std::string& id, const std::string& address,
                                           std::chrono::milliseconds timeout) = 0;
  // Learner -> voter; refused (kInvalidArgument or kBusy) while the learner lags.
  virtual Result<ChangeResult> promote(const std::string& id,
                                       std::chrono::milliseconds timeout) = 0;
  // Removes a voter or learner.
  virtual Result<ChangeResult> remove_member(const std::string& id,
                                             std::chrono::milliseconds timeout) = 0;
};

}  // namespace dledger::admin
