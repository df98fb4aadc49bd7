// ApiServer lifecycle, URL routing, discovery, OpenAPI and response helpers. The resource verbs
// live in resource_handlers.cpp, scale_handler.cpp and watch_handler.cpp.
#include "tests/kube/apiserver/api_server.h"

#include <fstream>
#include <sstream>

namespace dledger::kube {

using nlohmann::json;

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> segments;
  std::stringstream stream(path);
  std::string segment;
  while (std::getline(stream, segment, '/')) {
    if (!segment.empty()) segments.push_back(segment);
  }
  return segments;
}

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::create(const ApiServerOptions& options) {
  std::unique_ptr<ApiServer> server(new ApiServer(options));
  for (const auto& path : options.crd_paths) {
    Status loaded = server->registry_.add_crd_file(path);
    if (!loaded) return loaded.error();
  }
  for (const auto& ns : options.namespaces) {
    json object = {{"apiVersion", "v1"},
                   {"kind", "Namespace"},
                   {"metadata", {{"name", ns}}},
                   {"spec", {{"finalizers", {"kubernetes"}}}},
                   {"status", {{"phase", "Active"}}}};
    server->store_.create(ObjectKey{"v1/namespaces", "", ns}, object, false, {"", "namespaces"});
  }
  return server;
}

ApiServer::ApiServer(const ApiServerOptions& options)
    : options_(options),
      store_(options.event_window),
      http_([this](const HttpRequest& request, HttpResponseWriter& writer) {
        handle(request, writer);
      }) {}

ApiServer::~ApiServer() {
  stop();
}

Result<uint16_t> ApiServer::start(uint16_t port) {
  auto bound = http_.start(port);
  if (bound.ok()) port_ = *bound;
  return bound;
}

void ApiServer::stop() {
  stopping_ = true;
  store_.wake_watchers();
  http_.stop();
}

void ApiServer::send_json(HttpResponseWriter& writer, int status, const json& body,
                          const std::vector<std::string>& warnings) const {
  std::map<std::string, std::string> headers;
  std::string warning_header;
  for (const auto& warning : warnings) {
    if (!warning_header.empty()) warning_header += ", ";
    warning_header += "299 - " + json(warning).dump();
  }
  if (!warning_header.empty()) headers["Warning"] = warning_header;
  writer.send(status, "application/json", body.dump(), headers);
}

void ApiServer::send_error(HttpResponseWriter& writer, const ApiError& error) const {
  send_json(writer, error.code, error.to_json());
}

void ApiServer::handle(const HttpRequest& request, HttpResponseWriter& writer) {
  try {
    route(request, writer);
  } catch (const std::exception& e) {
    if (!writer.responded()) {
      send_error(
          writer,
          ApiError{
              500, "InternalError", std::string("internal error: ") + e.what(), "", "", "", {}});
    }
  }
}

bool ApiServer::serve_discovery(const HttpRequest& request, HttpResponseWriter& writer) {
  const std::string& path = request.path;
  if (request.method != "GET") return false;
  if (path == "/version") {
    send_json(writer, 200,
              {{"major", "1"},
               {"minor", "32"},
               {"gitVersion", "v1.32.0"},
               {"gitCommit", "0000000000000000000000000000000000000000"},
               {"gitTreeState", "clean"},
               {"buildDate", "2024-12-11T00:00:00Z"},
               {"goVersion", "go1.23.3"},
               {"compiler", "gc"},
               {"platform", "linux/amd64"}});
    return true;
  }
  if (path == "/healthz" || path == "/readyz" || path == "/livez") {
    writer.send(200, "text/plain", "ok");
    return true;
  }
  if (path == "/api") {
    send_json(writer, 200, registry_.api_versions("127.0.0.1:" + std::to_string(port_)));
    return true;
  }
  if (path == "/apis") {
    send_json(writer, 200, registry_.api_group_list());
    return true;
  }
  const auto segments = split_path(path);
  if ((segments.size() == 2 && segments[0] == "api") ||
      (segments.size() == 3 && segments[0] == "apis")) {
    auto list = segments[0] == "api" ? registry_.api_resource_list("", segments[1])
                                     : registry_.api_resource_list(segments[1], segments[2]);
    if (!list) {
      send_error(
          writer,
          ApiError{
              404, "NotFound", "the server could not find the requested resource", "", "", "", {}});
    } else {
      send_json(writer, 200, *list);
    }
    return true;
  }
  if (path == "/openapi/v3") {
    send_json(writer, 200, registry_.openapi_root());
    return true;
  }
  if (path.rfind("/openapi/v3/", 0) == 0) {
    auto document =
        registry_.openapi_group_document(path.substr(std::string("/openapi/v3/").size()));
    if (!document) {
      send_error(
          writer,
          ApiError{
              404, "NotFound", "the server could not find the requested resource", "", "", "", {}});
    } else {
      send_json(writer, 200, *document);
    }
    return true;
  }
  return false;
}

std::optional<ApiServer::Target> ApiServer::parse_target(const std::string& path,
                                                         std::string* unknown_group) const {
  const auto segments = split_path(path);
  size_t position = 0;
  std::string group;
  std::string version;
  if (segments.size() >= 3 && segments[0] == "api") {
    version = segments[1];
    position = 2;
  } else if (segments.size() >= 4 && segments[0] == "apis") {
    group = segments[1];
    version = segments[2];
    position = 3;
  } else {
    return std::nullopt;
  }
  Target target;
  std::vector<std::string> rest(segments.begin() + static_cast<std::ptrdiff_t>(position),
                                segments.end());
  // /namespaces/<ns>/<plural>/... (but /api/v1/namespaces/<name>[/status] is the Namespace).
  if (rest.size() >= 3 && rest[0] == "namespaces" && rest[2] != "status" && rest[2] != "finalize") {
    target.ns = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (rest.empty() || rest.size() > 3) return std::nullopt;
  target.info = registry_.find(group, version, rest[0]);
  if (target.info == nullptr) {
    if (unknown_group != nullptr) *unknown_group = group;
    return std::nullopt;
  }
  if (target.info->namespaced == target.ns.empty() && rest.size() >= 2) {
    // Namespaced resource addressed without a namespace (or the reverse): only lists across
    // all namespaces are allowed.
    return std::nullopt;
  }
  if (rest.size() >= 2) target.name = rest[1];
  if (rest.size() == 3) target.subresource = rest[2];
  return target;
}

void ApiServer::route(const HttpRequest& request, HttpResponseWriter& writer) {
  if (serve_discovery(request, writer)) return;
  std::string unknown_group;
  auto target = parse_target(request.path, &unknown_group);
  if (!target) {
    send_error(
        writer,
        ApiError{
            404, "NotFound", "the server could not find the requested resource", "", "", "", {}});
    return;
  }
  const std::string& method = request.method;
  if (!target->subresource.empty()) {
    const bool known = (target->subresource == "status" && target->info->has_status) ||
                       (target->subresource == "scale" && target->info->scale.has_value());
    if (!known) {
      send_error(
          writer,
          ApiError{
              404, "NotFound", "the server could not find the requested resource", "", "", "", {}});
      return;
    }
    if (target->subresource == "scale") {
      handle_scale(request, *target, writer);
    } else if (method == "GET") {
      handle_get(request, *target, writer);
    } else if (method == "PUT") {
      handle_update(request, *target, writer);
    } else if (method == "PATCH") {
      handle_patch(request, *target, writer);
    } else {
      send_error(writer, method_not_allowed("method " + method + " not allowed on status"));
    }
    return;
  }
  if (target->name.empty()) {
    if (method == "GET") {
      const std::string watch = request.query_value("watch");
      if (watch == "true" || watch == "1") {
        handle_watch(request, *target, writer);
      } else {
        handle_list(request, *target, writer);
      }
    } else if (method == "POST") {
      handle_create(request, *target, writer);
    } else if (method == "DELETE") {
      handle_delete_collection(request, *target, writer);
    } else {
      send_error(writer, method_not_allowed("method " + method + " not allowed on a collection"));
    }
    return;
  }
  if (method == "GET") {
    handle_get(request, *target, writer);
  } else if (method == "PUT") {
    handle_update(request, *target, writer);
  } else if (method == "PATCH") {
    handle_patch(request, *target, writer);
  } else if (method == "DELETE") {
    handle_delete(request, *target, writer);
  } else {
    send_error(writer, method_not_allowed("method " + method + " not allowed"));
  }
}

Status write_kubeconfig(const std::string& path, const std::string& server_url) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return make_error(ErrorCode::kIo, path + ": cannot open for writing");
  out << "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: dledger-test\n"
         "  cluster:\n"
         "    server: "
      << server_url
      << "\n"
         "users:\n"
         "- name: dledger-test\n"
         "  user: {}\n"
         "contexts:\n"
         "- name: dledger-test\n"
         "  context:\n"
         "    cluster: dledger-test\n"
         "    user: dledger-test\n"
         "    namespace: default\n"
         "current-context: dledger-test\n";
  out.close();
  if (!out) return make_error(ErrorCode::kIo, path + ": write failed");
  return Status();
}

}  // namespace dledger::kube
