#include "operator/render/names.h"
#include "operator/render/render.h"

namespace dledger::op::render {

// Scrapes every member's admin port through the headless Service (which lists not-ready pods
// too, so a member that lost its leader is still observed).
std::optional<nlohmann::json> render_service_monitor(const api::DLedgerGroup& g) {
  const auto& sm = g.spec.monitoring.service_monitor;
  if (!sm.enabled) return std::nullopt;
  nlohmann::json selector = selector_labels(g);
  selector[kServiceRoleLabel] = "headless";
  return nlohmann::json{{"apiVersion", "monitoring.coreos.com/v1"},
                        {"kind", "ServiceMonitor"},
                        {"metadata", object_meta(g, statefulset_name(g))},
                        {"spec",
                         {{"selector", {{"matchLabels", selector}}},
                          {"namespaceSelector", {{"matchNames", {g.metadata.namespace_name}}}},
                          {"endpoints",
                           {{{"port", "admin"},
                             {"path", "/metrics"},
                             {"scheme", "http"},
                             {"interval", sm.interval}}}}}}};
}

}  // namespace dledger::op::render
