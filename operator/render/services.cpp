#include "operator/render/names.h"
#include "operator/render/render.h"

namespace dledger::op::render {

namespace {

nlohmann::json port(const char* name, std::int64_t number) {
  return {{"name", name}, {"port", number}, {"targetPort", name}, {"protocol", "TCP"}};
}

}  // namespace

// Gives every pod a stable DNS name (<pod>.<name>-headless.<ns>.svc) that resolves before the
// pod is ready: peers must find each other to elect the leader that makes them ready.
nlohmann::json render_headless_service(const api::DLedgerGroup& g) {
  const auto& ports = g.spec.ports;
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", object_meta(g, headless_service_name(g), {{kServiceRoleLabel, "headless"}})},
          {"spec",
           {{"clusterIP", "None"},
            {"publishNotReadyAddresses", true},
            {"selector", selector_labels(g)},
            {"ports",
             {port("remoting", ports.remoting), port("peer", ports.peer),
              port("admin", ports.admin)}}}}};
}

// Ready pods only: RocketMQ remoting for clients and the admin API for dledgerctl (which
// follows NotLeader redirects to the leader).
nlohmann::json render_client_service(const api::DLedgerGroup& g) {
  const auto& ports = g.spec.ports;
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", object_meta(g, client_service_name(g), {{kServiceRoleLabel, "client"}})},
          {"spec",
           {{"type", "ClusterIP"},
            {"selector", selector_labels(g)},
            {"ports", {port("remoting", ports.remoting), port("admin", ports.admin)}}}}};
}

}  // namespace dledger::op::render
