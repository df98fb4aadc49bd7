// KubeClient: a small blocking Kubernetes API client over cpprestsdk, JSON in and out, addressed
// by resource path (no generated types). Every call is one HTTP request with a timeout.
//
// Errors (dledger::Error) always name the operation, the resource and the object, then the HTTP
// status and the API server's Status message, e.g.
//   update apps/v1 statefulsets default/g1: HTTP 409 Conflict: Operation cannot be fulfilled ...
// Codes:
//   kNotFound          404
//   kConflict (kBusy)  409: a stale resourceVersion on update, or AlreadyExists on create
//   kGone (kOutOfRange) 410 Expired/Gone, or a watch ERROR event carrying code 410: the
//                      resourceVersion is older than the server keeps; the caller must relist
//   kInvalidArgument   400 / 422 (message carries the field causes), 401 / 403, unusable config
//   kOverloaded        429
//   kTimeout           no answer within the request timeout
//   kUnavailable       connection failures, 5xx
//   kInternal          anything else unexpected (non-JSON answers)
// ErrorCode has no Conflict/Gone values; the aliases below name them (see is_conflict/is_gone).
//
// Thread safety: every method may be called concurrently (each call builds its own request).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/result.h"

namespace dledger::op::kube {

inline constexpr ErrorCode kConflict = ErrorCode::kBusy;
inline constexpr ErrorCode kGone = ErrorCode::kOutOfRange;
inline bool is_conflict(const Error& error) {
  return error.code == kConflict;
}
inline bool is_gone(const Error& error) {
  return error.code == kGone;
}
inline bool is_not_found(const Error& error) {
  return error.code == ErrorCode::kNotFound;
}

// Where and how to reach the API server.
struct KubeConfig {
  std::string server;        // "https://10.0.0.1:443" or "http://127.0.0.1:6443"
  std::string bearer_token;  // sent as "Authorization: Bearer ..." when set
  std::string ca_pem;        // PEM bundle trusted for https (empty: system roots)
  bool insecure_skip_tls_verify = false;
  std::string namespace_name = "default";  // the context's / service account's namespace
  std::chrono::milliseconds request_timeout{15000};
};

// Reads a kubeconfig file (YAML): the current context (or `context` when not empty), its
// cluster's server, certificate-authority (file) or certificate-authority-data (base64),
// insecure-skip-tls-verify, its user's token or tokenFile, and its namespace (default
// "default"). Client certificates and exec/auth-provider plugins are not supported and are
// reported as kInvalidArgument naming the user. Errors name the file and the key.
Result<KubeConfig> load_kubeconfig(const std::string& path, const std::string& context = "");

// In-cluster configuration: KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT from `getenv`
// and token, ca.crt, namespace from `service_account_dir`. Tests inject both.
Result<KubeConfig> load_in_cluster_config(
    const std::function<const char*(const char*)>& getenv_fn,
    const std::string& service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// A resource type: apiVersion ("v1", "apps/v1", "dledger.io/v1alpha1") and plural name.
struct ResourceType {
  std::string api_version;
  std::string plural;
  bool namespaced = true;
  std::string describe() const { return api_version + " " + plural; }
};

namespace resources {
inline const ResourceType kConfigMaps{"v1", "configmaps"};
inline const ResourceType kServices{"v1", "services"};
inline const ResourceType kPods{"v1", "pods"};
inline const ResourceType kSecrets{"v1", "secrets"};
inline const ResourceType kPersistentVolumeClaims{"v1", "persistentvolumeclaims"};
inline const ResourceType kEvents{"v1", "events"};
inline const ResourceType kStatefulSets{"apps/v1", "statefulsets"};
inline const ResourceType kPodDisruptionBudgets{"policy/v1", "poddisruptionbudgets"};
inline const ResourceType kLeases{"coordination.k8s.io/v1", "leases"};
inline const ResourceType kDLedgerGroups{"dledger.io/v1alpha1", "dledgergroups"};
inline const ResourceType kServiceMonitors{"monitoring.coreos.com/v1", "servicemonitors"};
}  // namespace resources

// "/api/v1/namespaces/ns/pods" or "/apis/apps/v1/namespaces/ns/statefulsets" (+ "/name").
std::string collection_path(const ResourceType& type, const std::string& ns);
std::string object_path(const ResourceType& type, const std::string& ns, const std::string& name);

struct ListOptions {
  std::string label_selector;  // "a=b,c=d"
  std::string field_selector;  // "metadata.name=x"
};

struct ObjectList {
  std::vector<nlohmann::json> items;
  std::string resource_version;  // list metadata.resourceVersion: where a watch continues
};

struct WatchOptions {
  std::string resource_version;  // continue after this version ("" = from now)
  std::string label_selector;
  std::string field_selector;
  int timeout_seconds = 300;  // the server closes the stream after this
  bool allow_bookmarks = true;
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK
  nlohmann::json object;
};

// Return false to end the watch.
using WatchHandler = std::function<bool(const WatchEvent&)>;

class KubeClient {
 public:
  explicit KubeClient(KubeConfig config);

  const KubeConfig& config() const { return config_; }

  Result<nlohmann::json> get(const ResourceType& type, const std::string& ns,
                             const std::string& name);
  Result<ObjectList> list(const ResourceType& type, const std::string& ns,
                          const ListOptions& options = {});
  // POST; the answer is the stored object. AlreadyExists -> kConflict.
  Result<nlohmann::json> create(const ResourceType& type, const std::string& ns,
                                const nlohmann::json& object);
  // PUT of the whole object; metadata.name and metadata.resourceVersion are taken from
  // `object` (a missing resourceVersion is an unconditional update). Stale -> kConflict.
  Result<nlohmann::json> update(const ResourceType& type, const std::string& ns,
                                const nlohmann::json& object);
  // PUT .../status (the status subresource: the server ignores spec changes).
  Result<nlohmann::json> update_status(const ResourceType& type, const std::string& ns,
                                       const nlohmann::json& object);
  // PATCH with application/merge-patch+json (RFC 7386).
  Result<nlohmann::json> patch(const ResourceType& type, const std::string& ns,
                               const std::string& name, const nlohmann::json& merge_patch);
  // DELETE with propagationPolicy ("Background", "Foreground", "Orphan").
  Status delete_object(const ResourceType& type, const std::string& ns, const std::string& name,
                       const std::string& propagation_policy = "Background");

  // Streams watch events (one JSON object per line of a chunked answer) to `handler` until the
  // server ends the stream (timeout_seconds; returns OK), the handler returns false (OK),
  // `stop` is requested (OK), or an error: kGone when the resourceVersion is too old (HTTP 410
  // or an ERROR event with code 410), other ERROR events as their code, broken streams as
  // kUnavailable. BOOKMARK events are delivered too (their object carries only
  // metadata.resourceVersion). The stream's idle timeout is timeout_seconds plus the request
  // timeout, so a silent dead connection ends with kTimeout.
  Status watch(const ResourceType& type, const std::string& ns, const WatchOptions& options,
               const WatchHandler& handler, std::stop_token stop = {});

 private:
  struct Reply {
    int status = 0;
    std::string body;
  };
  Result<Reply> send(const std::string& method, const std::string& path_and_query,
                     const std::string& body, const std::string& content_type,
                     const std::string& what);
  Result<nlohmann::json> send_json(const std::string& method, const std::string& path_and_query,
                                   const std::string& body, const std::string& content_type,
                                   const std::string& what, int expected_low = 200,
                                   int expected_high = 299);

  KubeConfig config_;
};

// Error for an HTTP answer: maps the status (and a Status body's reason/message/causes) to an
// ErrorCode as described at the top; `what` names the operation and object.
Error api_error(const std::string& what, int http_status, const std::string& body);

// Calls `attempt` until it succeeds, fails with something other than kConflict, or
// `max_attempts` conflicts happened (the last conflict is returned). `attempt` must re-read the
// object itself (GET, modify, update) so each try works on the newest resourceVersion.
template <typename T, typename F>
Result<T> retry_on_conflict(F attempt, int max_attempts = 5) {
  for (int i = 1;; ++i) {
    Result<T> result = attempt();
    if (result.ok() || !is_conflict(result.error()) || i >= max_attempts) return result;
  }
}

}  // namespace dledger::op::kube
