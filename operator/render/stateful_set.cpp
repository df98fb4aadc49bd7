#include "operator/render/names.h"
#include "operator/render/render.h"

namespace dledger::op::render {

namespace {

using nlohmann::json;

json string_map(const std::map<std::string, std::string>& m) {
  json out = json::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

// The container entry point. The pod name ends in the StatefulSet ordinal ("g1-2" -> 2), which
// picks this member's broker.conf; it works on every Kubernetes version (unlike the
// apps.kubernetes.io/pod-index label). Secrets arrive as environment variables and are passed
// with -p, so they never sit in the ConfigMap.
std::string entrypoint_script(const api::DLedgerGroup& g) {
  std::string script =
      "set -eu\n"
      "ordinal=\"${HOSTNAME##*-}\"\n"
      "set -- -c \"" +
      std::string(kConfigMountPath) + "/broker-${ordinal}.conf\"\n";
  if (g.spec.admin_token_secret_ref) {
    script += "set -- \"$@\" -p \"adminToken=${" + std::string(kAdminTokenEnv) + "}\"\n";
  }
  if (g.spec.group_secret_ref) {
    script += "set -- \"$@\" -p \"groupSecret=${" + std::string(kGroupSecretEnv) + "}\"\n";
  }
  script += "exec dledger-broker \"$@\"\n";
  return script;
}

json field_env(const char* name, const char* field_path) {
  return {{"name", name}, {"valueFrom", {{"fieldRef", {{"fieldPath", field_path}}}}}};
}

json secret_env(const char* name, const api::SecretKeyRef& ref) {
  return {{"name", name},
          {"valueFrom", {{"secretKeyRef", {{"name", ref.name}, {"key", ref.key}}}}}};
}

json http_probe(const char* path, int period_seconds, int failure_threshold) {
  return {{"httpGet", {{"path", path}, {"port", "admin"}, {"scheme", "HTTP"}}},
          {"periodSeconds", period_seconds},
          {"timeoutSeconds", 3},
          {"failureThreshold", failure_threshold}};
}

json container(const api::DLedgerGroup& g) {
  const auto& s = g.spec;
  json env = json::array(
      {field_env("POD_NAME", "metadata.name"), field_env("POD_NAMESPACE", "metadata.namespace")});
  if (s.admin_token_secret_ref)
    env.push_back(secret_env(kAdminTokenEnv, *s.admin_token_secret_ref));
  if (s.group_secret_ref) env.push_back(secret_env(kGroupSecretEnv, *s.group_secret_ref));

  return {
      {"name", kContainerName},
      {"image", s.image},
      {"imagePullPolicy", api::to_string(s.image_pull_policy)},
      {"command", {"/bin/sh", "-c", entrypoint_script(g)}},
      {"ports",
       {{{"name", "remoting"}, {"containerPort", s.ports.remoting}, {"protocol", "TCP"}},
        {{"name", "peer"}, {"containerPort", s.ports.peer}, {"protocol", "TCP"}},
        {{"name", "admin"}, {"containerPort", s.ports.admin}, {"protocol", "TCP"}}}},
      {"env", env},
      {"resources", s.resources},
      {"volumeMounts",
       {{{"name", "data"}, {"mountPath", kDataMountPath}},
        {{"name", "config"}, {"mountPath", kConfigMountPath}, {"readOnly", true}},
        {{"name", "tmp"}, {"mountPath", "/tmp"}}}},
      // Log recovery after a crash may take a while: allow up to 10 minutes before liveness.
      {"startupProbe", http_probe("/healthz", 5, 120)},
      {"livenessProbe", http_probe("/healthz", 10, 6)},
      // /readyz never requires quorum (docs/admin-api.md), so Parallel start cannot deadlock.
      {"readinessProbe", http_probe("/readyz", 5, 3)},
      {"lifecycle",
       {{"preStop",
         {{"exec",
           {{"command",
             {"dledgerctl", "transferLeader", "--if-leader", "--admin",
              "127.0.0.1:" + std::to_string(s.ports.admin)}}}}}}}},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", kRunAsUser},
        {"runAsGroup", kRunAsUser},
        {"readOnlyRootFilesystem", true},
        {"allowPrivilegeEscalation", false},
        {"capabilities", {{"drop", {"ALL"}}}},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
  };
}

json pod_template(const api::DLedgerGroup& g) {
  const auto& pod = g.spec.pod;
  json labels = string_map(pod.labels);
  labels.update(standard_labels(g));  // the operator's labels win (validation forbids clashes)
  json annotations = string_map(pod.annotations);
  annotations[kConfigHashAnnotation] = config_hash(g);

  json spec = {
      {"terminationGracePeriodSeconds", kTerminationGracePeriodSeconds},
      {"enableServiceLinks", false},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", kRunAsUser},
        {"runAsGroup", kRunAsUser},
        {"fsGroup", kRunAsUser},
        {"fsGroupChangePolicy", "OnRootMismatch"},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"containers", {container(g)}},
      {"volumes",
       {{{"name", "config"}, {"configMap", {{"name", config_map_name(g)}}}},
        {{"name", "tmp"}, {"emptyDir", json::object()}}}},
  };
  if (!pod.service_account_name.empty()) spec["serviceAccountName"] = pod.service_account_name;
  if (!pod.priority_class_name.empty()) spec["priorityClassName"] = pod.priority_class_name;
  if (!pod.node_selector.empty()) spec["nodeSelector"] = string_map(pod.node_selector);
  if (!pod.tolerations.is_null()) spec["tolerations"] = pod.tolerations;
  if (!pod.affinity.is_null()) spec["affinity"] = pod.affinity;
  if (!pod.topology_spread_constraints.is_null()) {
    spec["topologySpreadConstraints"] = pod.topology_spread_constraints;
  }
  return {{"metadata", {{"labels", labels}, {"annotations", annotations}}}, {"spec", spec}};
}

json volume_claim_template(const api::DLedgerGroup& g) {
  json spec = {{"accessModes", {"ReadWriteOnce"}},
               {"resources", {{"requests", {{"storage", g.spec.storage.size}}}}}};
  if (g.spec.storage.storage_class_name) {
    spec["storageClassName"] = *g.spec.storage.storage_class_name;
  }
  return {{"metadata", {{"name", "data"}, {"labels", selector_labels(g)}}}, {"spec", spec}};
}

}  // namespace

nlohmann::json render_stateful_set(const api::DLedgerGroup& g, const RenderOptions& options) {
  const auto& retention = g.spec.storage.retention_policy;
  return {{"apiVersion", "apps/v1"},
          {"kind", "StatefulSet"},
          {"metadata", object_meta(g, statefulset_name(g))},
          {"spec",
           {{"replicas", options.membership_replicas},
            {"serviceName", headless_service_name(g)},
            // Quorum systems must start all members at once (OrderedReady would wait for pod 0
            // to be ready, and with a quorum-dependent start it never would).
            {"podManagementPolicy", "Parallel"},
            // The reconciler restarts pods itself: one at a time, followers first, the leader
            // last after transferring leadership.
            {"updateStrategy", {{"type", "OnDelete"}}},
            {"persistentVolumeClaimRetentionPolicy",
             {{"whenDeleted", api::to_string(retention.when_deleted)},
              {"whenScaled", api::to_string(retention.when_scaled)}}},
            {"selector", {{"matchLabels", selector_labels(g)}}},
            {"template", pod_template(g)},
            {"volumeClaimTemplates", {volume_claim_template(g)}}}}};
}

}  // namespace dledger::op::render
