#include "operator/render/names.h"
#include "operator/render/render.h"

namespace dledger::op::render {

nlohmann::json render_config_map(const api::DLedgerGroup& g, const RenderOptions& options) {
  nlohmann::json data = nlohmann::json::object();
  for (int i = 0; i < options.membership_replicas; ++i) {
    data["broker-" + std::to_string(i) + ".conf"] = render_broker_conf(g, i, options);
  }
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", object_meta(g, config_map_name(g))},
          {"data", data}};
}

}  // namespace dledger::op::render
