#include "operator/render/render.h"

#include "operator/render/names.h"

namespace dledger::op::render {

std::vector<nlohmann::json> DesiredObjects::all() const {
  std::vector<nlohmann::json> out = {config_map, headless_service, client_service, stateful_set,
                                     pod_disruption_budget};
  if (service_monitor) out.push_back(*service_monitor);
  return out;
}

Status check_render_input(const api::DLedgerGroup& g, const RenderOptions& options) {
  auto invalid = [](std::string message) {
    return Status(make_error(ErrorCode::kInvalidArgument, std::move(message)));
  };
  if (options.membership_replicas < api::kMinReplicas ||
      options.membership_replicas > api::kMaxReplicas) {
    return invalid("membership_replicas = " + std::to_string(options.membership_replicas) +
                   ": must be in [" + std::to_string(api::kMinReplicas) + ", " +
                   std::to_string(api::kMaxReplicas) + "]");
  }
  if (options.bootstrap_replicas < 0 || options.bootstrap_replicas > api::kMaxReplicas) {
    return invalid("bootstrap_replicas = " + std::to_string(options.bootstrap_replicas) +
                   ": must be in [0, " + std::to_string(api::kMaxReplicas) + "]");
  }
  if (g.metadata.name.empty()) return invalid("metadata.name is required to render");
  if (g.metadata.namespace_name.empty()) {
    return invalid("metadata.namespace is required to render DLedgerGroup " + g.metadata.name);
  }
  if (g.metadata.uid.empty()) {
    return invalid("metadata.uid is required to render owner references of DLedgerGroup " +
                   g.metadata.namespace_name + "/" + g.metadata.name);
  }
  return Status::ok_status();
}

Result<DesiredObjects> render_group(const api::DLedgerGroup& g, const RenderOptions& options) {
  if (Status st = check_render_input(g, options); !st.ok()) return st.error();
  DesiredObjects out;
  out.config_map = render_config_map(g, options);
  out.headless_service = render_headless_service(g);
  out.client_service = render_client_service(g);
  out.stateful_set = render_stateful_set(g, options);
  out.pod_disruption_budget = render_pod_disruption_budget(g, options);
  out.service_monitor = render_service_monitor(g);
  return out;
}

}  // namespace dledger::op::render
