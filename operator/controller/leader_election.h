// Leader election among operator replicas with a coordination.k8s.io/v1 Lease, as client-go's
// leaderelection: the holder renews spec.renewTime every retry period; another candidate takes
// over only after renewTime + leaseDurationSeconds has passed on ITS clock; every write is an
// update with the Lease's resourceVersion, so two candidates racing for an expired Lease cannot
// both win (the loser gets 409 Conflict). A leader that cannot renew within its lease duration
// must stop reconciling (LeaderElector::try_acquire_or_renew returns false).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/kube/kube_client.h"

namespace dledger::op::controller {

using WallClock = std::function<std::chrono::system_clock::time_point()>;

struct LeaseState {
  std::string holder;
  int lease_duration_seconds = 15;
  std::optional<std::chrono::system_clock::time_point> renew_time;
  std::int64_t transitions = 0;
};

enum class LeaseAction {
  kCreate,    // no Lease yet
  kRenew,     // we hold it
  kTakeOver,  // expired (or released) and held by someone else
  kWait,      // someone else holds a live lease
};

// Pure decision for candidate `me` at `now`.
LeaseAction decide_lease_action(const std::optional<LeaseState>& lease, const std::string& me,
                                std::chrono::system_clock::time_point now);

// MicroTime "2026-01-02T03:04:05.123456Z" both ways.
std::string format_micro_time(std::chrono::system_clock::time_point time);
std::optional<std::chrono::system_clock::time_point> parse_micro_time(const std::string& text);

LeaseState lease_state_from_json(const nlohmann::json& lease);

struct LeaderElectionOptions {
  std::string lease_name = "dledger-operator";
  std::string namespace_name = "default";
  std::string identity;  // unique per replica (pod name)
  int lease_duration_seconds = 15;
  WallClock clock = [] { return std::chrono::system_clock::now(); };
};

class LeaderElector {
 public:
  LeaderElector(kube::KubeClient& client, LeaderElectionOptions options);
  // One round: creates, renews or takes over the Lease as decide_lease_action says. Returns
  // whether this replica leads now. API errors (other than a lost race) are returned.
  Result<bool> try_acquire_or_renew();

 private:
  kube::KubeClient& client_;
  LeaderElectionOptions options_;
};

}  // namespace dledger::op::controller
