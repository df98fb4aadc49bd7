#include "operator/render/names.h"
#include "operator/render/render.h"

namespace dledger::op::render {

int quorum_size(int members) {
  return members / 2 + 1;
}

int max_unavailable_members(int members) {
  return members - quorum_size(members);
}

// Voluntary disruptions (drains, evictions) may take down at most members - quorum pods, so a
// drain never costs the group its quorum. With 1 or 2 members that is 0: such groups cannot
// move without downtime, and the budget says so instead of allowing it. Pods that are not
// ready already count as down, so evicting them is always allowed (no drain deadlock on a
// crash-looping pod).
nlohmann::json render_pod_disruption_budget(const api::DLedgerGroup& g,
                                            const RenderOptions& options) {
  return {{"apiVersion", "policy/v1"},
          {"kind", "PodDisruptionBudget"},
          {"metadata", object_meta(g, statefulset_name(g))},
          {"spec",
           {{"maxUnavailable", max_unavailable_members(options.membership_replicas)},
            {"selector", {{"matchLabels", selector_labels(g)}}},
            {"unhealthyPodEvictionPolicy", "AlwaysAllow"}}}};
}

}  // namespace dledger::op::render
