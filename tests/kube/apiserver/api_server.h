// ApiServer: an in-process Kubernetes API server for tests (plain HTTP on 127.0.0.1), good enough
// for the dledger operator's client and for the real kubectl 1.32. See tests/kube/README.md for
// what it implements and where it deviates from a real API server.
//
//   ApiServerOptions options;
//   options.crd_paths = {"deploy/crds/dledger.io_dledgergroups.yaml"};
//   auto server = ApiServer::create(options);        // Result<std::unique_ptr<ApiServer>>
//   auto port = (*server)->start(0);                  // Result<uint16_t>
//   write_kubeconfig("/tmp/kc", (*server)->base_url());
//   ...
//   (*server)->stop();                                // also done by the destructor
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/base/result.h"
#include "tests/kube/apiserver/api_error.h"
#include "tests/kube/apiserver/http_server.h"
#include "tests/kube/apiserver/object_store.h"
#include "tests/kube/apiserver/resource_registry.h"

namespace dledger::kube {

struct ApiServerOptions {
  std::vector<std::string> crd_paths;
  size_t event_window = 1000;       // watch events retained; older resourceVersions are Expired
  int bookmark_interval_ms = 1000;  // BOOKMARK cadence for watches with allowWatchBookmarks
  std::vector<std::string> namespaces = {"default", "kube-system"};  // created at start
};

class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> create(const ApiServerOptions& options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  Result<uint16_t> start(uint16_t port);
  void stop();
  uint16_t port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  ObjectStore& store() { return store_; }
  const ResourceRegistry& registry() const { return registry_; }

  // Number of watch streams currently open (tests wait for a client's watch to be in place).
  int active_watches() const { return active_watches_.load(); }
  // Ends every open watch stream cleanly (like a server-side watch timeout) after flushing the
  // events already committed; takes up to ~1 s to be noticed by an idle watch.
  void close_watches() {
    watch_epoch_.fetch_add(1);
    store_.wake_watchers();
  }

  // Handles one request (also usable without sockets through a writer on a connected socket).
  void handle(const HttpRequest& request, HttpResponseWriter& writer);

 private:
  explicit ApiServer(const ApiServerOptions& options);

  struct Target {  // a parsed resource URL
    const ResourceInfo* info = nullptr;
    std::string ns;
    std::string name;         // empty for collections
    std::string subresource;  // "", "status", "scale"
  };
  void route(const HttpRequest& request, HttpResponseWriter& writer);
  bool serve_discovery(const HttpRequest& request, HttpResponseWriter& writer);
  std::optional<Target> parse_target(const std::string& path, std::string* unknown_group) const;

  void handle_get(const HttpRequest& request, const Target& target, HttpResponseWriter& writer);
  void handle_list(const HttpRequest& request, const Target& target, HttpResponseWriter& writer);
  void handle_watch(const HttpRequest& request, const Target& target, HttpResponseWriter& writer);
  void handle_create(const HttpRequest& request, const Target& target, HttpResponseWriter& writer);
  void handle_update(const HttpRequest& request, const Target& target, HttpResponseWriter& writer);
  void handle_patch(const HttpRequest& request, const Target& target, HttpResponseWriter& writer);
  void handle_delete(const HttpRequest& request, const Target& target, HttpResponseWriter& writer);
  void handle_delete_collection(const HttpRequest& request, const Target& target,
                                HttpResponseWriter& writer);
  void handle_scale(const HttpRequest& request, const Target& target, HttpResponseWriter& writer);

  // Create path shared by POST and server-side apply of a missing object.
  StoreOutcome create_object(const HttpRequest& request, const Target& target,
                             nlohmann::json object, std::vector<std::string>& warnings);
  // Custom resources: defaults, unknown-field handling per ?fieldValidation=, schema checks.
  std::optional<ApiError> admit(const HttpRequest& request, const ResourceInfo& info,
                                nlohmann::json& object, std::vector<std::string>& warnings) const;
  ObjectStore::GenerationRule generation_rule(const ResourceInfo& info) const;
  nlohmann::json scale_of(const ResourceInfo& info, const nlohmann::json& object) const;

  void send_json(HttpResponseWriter& writer, int status, const nlohmann::json& body,
                 const std::vector<std::string>& warnings = {}) const;
  void send_error(HttpResponseWriter& writer, const ApiError& error) const;

  ApiServerOptions options_;
  ResourceRegistry registry_;
  ObjectStore store_;
  HttpServer http_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_watches_{0};
  std::atomic<uint64_t> watch_epoch_{0};
};

// Writes a kubeconfig (cluster, user and context all named "dledger-test") pointing at
// `server_url` (http://127.0.0.1:<port>).
Status write_kubeconfig(const std::string& path, const std::string& server_url);

}  // namespace dledger::kube
