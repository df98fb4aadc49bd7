#include "operator/kube/kube_client.h"

#include <cpprest/asyncrt_utils.h>
#include <cpprest/http_client.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/asio/ssl.hpp>
#include <fstream>
#include <sstream>

namespace dledger::op::kube {
namespace {

namespace http = web::http;
using nlohmann::json;

Result<std::string> read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kInvalidArgument, what + ": cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// kubeconfig paths are relative to the file that names them.
std::string resolve_path(const std::string& base_file, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  return directory_of(base_file) + "/" + path;
}

YAML::Node find_named(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& item : list) {
    if (item["name"] && item["name"].as<std::string>() == name) return item;
  }
  return YAML::Node();
}

std::string url_encode(const std::string& text) {
  return web::uri::encode_data_string(text);
}

std::string append_query(std::string path,
                         const std::vector<std::pair<std::string, std::string>>& params) {
  char separator = path.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    path += separator;
    path += key + "=" + url_encode(value);
    separator = '&';
  }
  return path;
}

std::string object_name(const json& object) {
  if (!object.is_object() || !object.contains("metadata")) return "";
  const json& meta = object["metadata"];
  if (!meta.is_object() || !meta.contains("name") || !meta["name"].is_string()) return "";
  return meta["name"].get<std::string>();
}

std::string describe(const std::string& op, const ResourceType& type, const std::string& ns,
                     const std::string& name) {
  std::string text = op + " " + type.describe();
  if (type.namespaced || !name.empty()) {
    text += " ";
    if (type.namespaced) text += ns + (name.empty() ? "" : "/");
    text += name;
  }
  return text;
}

http::client::http_client_config client_config(const KubeConfig& config,
                                               std::chrono::milliseconds timeout) {
  http::client::http_client_config client;
  client.set_timeout(timeout);
  client.set_validate_certificates(!config.insecure_skip_tls_verify);
  if (!config.ca_pem.empty()) {
    const std::string pem = config.ca_pem;
    client.set_ssl_context_callback([pem](boost::asio::ssl::context& context) {
      boost::system::error_code ignored;
      context.add_certificate_authority(boost::asio::buffer(pem.data(), pem.size()), ignored);
    });
  }
  return client;
}

http::http_request make_request(const KubeConfig& config, const std::string& method,
                                const std::string& path_and_query, const std::string& body,
                                const std::string& content_type) {
  http::http_request request(method);
  request.set_request_uri(web::uri(path_and_query));
  request.headers().add("Accept", "application/json");
  request.headers().add("User-Agent", "dledger-operator");
  if (!config.bearer_token.empty()) {
    request.headers().add("Authorization", "Bearer " + config.bearer_token);
  }
  if (!body.empty()) {
    // cpprestsdk's std::string body path trips UBSan (see broker/admin): send bytes.
    request.set_body(std::vector<unsigned char>(body.begin(), body.end()));
    request.headers().set_content_type(content_type);
  }
  return request;
}

Error transport_error(const std::string& what, const std::string& server, const char* detail,
                      std::chrono::milliseconds timeout, bool timed_out) {
  const std::string text = detail;
  if (timed_out) {
    return make_error(ErrorCode::kTimeout, what + ": no answer from " + server + " within " +
                                               std::to_string(timeout.count()) + " ms");
  }
  return make_error(ErrorCode::kUnavailable, what + ": cannot reach " + server + ": " + text);
}

}  // namespace

// ---- configuration ----------------------------------------------------------------------------

Result<KubeConfig> load_kubeconfig(const std::string& path, const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, "kubeconfig " + path + ": " + e.what());
  }
  const std::string where = "kubeconfig " + path;
  try {
    std::string context_name = context;
    if (context_name.empty()) {
      if (!root["current-context"]) {
        return make_error(ErrorCode::kInvalidArgument, where + ": no current-context");
      }
      context_name = root["current-context"].as<std::string>();
    }
    const YAML::Node ctx = find_named(root["contexts"], context_name);
    if (!ctx || !ctx["context"]) {
      return make_error(ErrorCode::kInvalidArgument,
                        where + ": contexts: no context named \"" + context_name + "\"");
    }
    const YAML::Node context_body = ctx["context"];
    KubeConfig config;
    if (context_body["namespace"])
      config.namespace_name = context_body["namespace"].as<std::string>();
    const std::string cluster_name =
        context_body["cluster"] ? context_body["cluster"].as<std::string>() : "";
    const YAML::Node cluster = find_named(root["clusters"], cluster_name);
    if (!cluster || !cluster["cluster"] || !cluster["cluster"]["server"]) {
      return make_error(ErrorCode::kInvalidArgument, where + ": clusters: no cluster named \"" +
                                                         cluster_name + "\" with a server");
    }
    const YAML::Node cluster_body = cluster["cluster"];
    config.server = cluster_body["server"].as<std::string>();
    if (cluster_body["insecure-skip-tls-verify"]) {
      config.insecure_skip_tls_verify = cluster_body["insecure-skip-tls-verify"].as<bool>();
    }
    if (cluster_body["certificate-authority-data"]) {
      try {
        const auto bytes = utility::conversions::from_base64(
            cluster_body["certificate-authority-data"].as<std::string>());
        config.ca_pem.assign(bytes.begin(), bytes.end());
      } catch (const std::exception&) {
        return make_error(
            ErrorCode::kInvalidArgument,
            where + ": clusters[" + cluster_name + "].certificate-authority-data: not base64");
      }
    } else if (cluster_body["certificate-authority"]) {
      auto pem =
          read_file(resolve_path(path, cluster_body["certificate-authority"].as<std::string>()),
                    where + ": clusters[" + cluster_name + "].certificate-authority");
      if (!pem.ok()) return pem.error();
      config.ca_pem = *pem;
    }
    const std::string user_name =
        context_body["user"] ? context_body["user"].as<std::string>() : "";
    const YAML::Node user = find_named(root["users"], user_name);
    if (user && user["user"] && user["user"].IsMap()) {
      const YAML::Node user_body = user["user"];
      for (const char* unsupported :
           {"client-certificate", "client-certificate-data", "exec", "auth-provider", "username"}) {
        if (user_body[unsupported]) {
          return make_error(ErrorCode::kInvalidArgument,
                            where + ": users[" + user_name + "]." + unsupported +
                                ": not supported (use a bearer token)");
        }
      }
      if (user_body["token"]) {
        config.bearer_token = user_body["token"].as<std::string>();
      } else if (user_body["tokenFile"]) {
        auto token = read_file(resolve_path(path, user_body["tokenFile"].as<std::string>()),
                               where + ": users[" + user_name + "].tokenFile");
        if (!token.ok()) return token.error();
        config.bearer_token = trim(*token);
      }
    }
    if (config.server.rfind("http://", 0) != 0 && config.server.rfind("https://", 0) != 0) {
      return make_error(ErrorCode::kInvalidArgument, where + ": clusters[" + cluster_name +
                                                         "].server: not an http(s) URL: \"" +
                                                         config.server + "\"");
    }
    while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
    return config;
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::kInvalidArgument, where + ": " + e.what());
  }
}

Result<KubeConfig> load_in_cluster_config(const std::function<const char*(const char*)>& getenv_fn,
                                          const std::string& service_account_dir) {
  const char* host = getenv_fn("KUBERNETES_SERVICE_HOST");
  const char* port = getenv_fn("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    return make_error(ErrorCode::kInvalidArgument,
                      "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                      "must be set (not running in a pod? use --kubeconfig)");
  }
  KubeConfig config;
  std::string host_text = host;
  if (host_text.find(':') != std::string::npos) host_text = "[" + host_text + "]";  // IPv6
  config.server = "https://" + host_text + ":" + port;
  auto token = read_file(service_account_dir + "/token", "in-cluster config");
  if (!token.ok()) return token.error();
  config.bearer_token = trim(*token);
  auto ca = read_file(service_account_dir + "/ca.crt", "in-cluster config");
  if (!ca.ok()) return ca.error();
  config.ca_pem = *ca;
  auto ns = read_file(service_account_dir + "/namespace", "in-cluster config");
  if (ns.ok() && !trim(*ns).empty()) config.namespace_name = trim(*ns);
  return config;
}

// ---- paths and errors -------------------------------------------------------------------------

std::string collection_path(const ResourceType& type, const std::string& ns) {
  std::string path = type.api_version.find('/') == std::string::npos ? "/api/" + type.api_version
                                                                     : "/apis/" + type.api_version;
  if (type.namespaced) path += "/namespaces/" + url_encode(ns);
  return path + "/" + type.plural;
}

std::string object_path(const ResourceType& type, const std::string& ns, const std::string& name) {
  return collection_path(type, ns) + "/" + url_encode(name);
}

Error api_error(const std::string& what, int http_status, const std::string& body) {
  std::string reason;
  std::string message;
  const json status = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (status.is_object() && status.value("kind", "") == "Status") {
    if (status.contains("reason") && status["reason"].is_string()) reason = status["reason"];
    if (status.contains("message") && status["message"].is_string()) message = status["message"];
  } else {
    message = body.substr(0, 200);
  }
  ErrorCode code = ErrorCode::kInternal;
  switch (http_status) {
    case 400:
    case 401:
    case 403:
    case 405:
    case 415:
    case 422:
      code = ErrorCode::kInvalidArgument;
      break;
    case 404:
      code = ErrorCode::kNotFound;
      break;
    case 409:
      code = kConflict;
      break;
    case 410:
      code = kGone;
      break;
    case 429:
      code = ErrorCode::kOverloaded;
      break;
    case 504:
      code = ErrorCode::kTimeout;
      break;
    default:
      if (http_status >= 500) code = ErrorCode::kUnavailable;
  }
  std::string text = what + ": HTTP " + std::to_string(http_status);
  if (!reason.empty()) text += " " + reason;
  if (!message.empty()) text += ": " + message;
  return make_error(code, text);
}

// ---- requests ---------------------------------------------------------------------------------

KubeClient::KubeClient(KubeConfig config) : config_(std::move(config)) {}

Result<KubeClient::Reply> KubeClient::send(const std::string& method,
                                           const std::string& path_and_query,
                                           const std::string& body, const std::string& content_type,
                                           const std::string& what) {
  try {
    http::client::http_client client(web::uri(config_.server),
                                     client_config(config_, config_.request_timeout));
    http::http_response response =
        client.request(make_request(config_, method, path_and_query, body, content_type)).get();
    Reply reply;
    reply.status = response.status_code();
    const std::vector<unsigned char> bytes = response.extract_vector().get();
    reply.body.assign(bytes.begin(), bytes.end());
    return reply;
  } catch (const web::uri_exception& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      what + ": bad URL " + config_.server + path_and_query + ": " + e.what());
  } catch (const http::http_exception& e) {
    return transport_error(what, config_.server, e.what(), config_.request_timeout,
                           e.error_code() == std::errc::timed_out);
  } catch (const std::exception& e) {
    return transport_error(what, config_.server, e.what(), config_.request_timeout, false);
  }
}

Result<json> KubeClient::send_json(const std::string& method, const std::string& path_and_query,
                                   const std::string& body, const std::string& content_type,
                                   const std::string& what, int expected_low, int expected_high) {
  auto reply = send(method, path_and_query, body, content_type, what);
  if (!reply.ok()) return reply.error();
  if (reply->status < expected_low || reply->status > expected_high) {
    return api_error(what, reply->status, reply->body);
  }
  json parsed = json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return make_error(ErrorCode::kInternal,
                      what + ": HTTP " + std::to_string(reply->status) +
                          " with a body that is not JSON: " + reply->body.substr(0, 200));
  }
  return parsed;
}

Result<json> KubeClient::get(const ResourceType& type, const std::string& ns,
                             const std::string& name) {
  return send_json("GET", object_path(type, ns, name), "", "", describe("get", type, ns, name));
}

Result<ObjectList> KubeClient::list(const ResourceType& type, const std::string& ns,
                                    const ListOptions& options) {
  const std::string path = append_query(
      collection_path(type, ns),
      {{"labelSelector", options.label_selector}, {"fieldSelector", options.field_selector}});
  const std::string what = describe("list", type, ns, "");
  auto body = send_json("GET", path, "", "", what);
  if (!body.ok()) return body.error();
  ObjectList list;
  if (!body->contains("items") || !((*body)["items"].is_array() || (*body)["items"].is_null())) {
    return make_error(ErrorCode::kInternal, what + ": answer has no items array");
  }
  if ((*body)["items"].is_array()) {
    for (auto& item : (*body)["items"]) list.items.push_back(std::move(item));
  }
  if (body->contains("metadata") && (*body)["metadata"].is_object()) {
    list.resource_version = (*body)["metadata"].value("resourceVersion", "");
  }
  return list;
}

Result<json> KubeClient::create(const ResourceType& type, const std::string& ns,
                                const json& object) {
  return send_json("POST", collection_path(type, ns), object.dump(), "application/json",
                   describe("create", type, ns, object_name(object)));
}

Result<json> KubeClient::update(const ResourceType& type, const std::string& ns,
                                const json& object) {
  const std::string name = object_name(object);
  const std::string what = describe("update", type, ns, name);
  if (name.empty())
    return make_error(ErrorCode::kInvalidArgument, what + ": metadata.name is empty");
  return send_json("PUT", object_path(type, ns, name), object.dump(), "application/json", what);
}

Result<json> KubeClient::update_status(const ResourceType& type, const std::string& ns,
                                       const json& object) {
  const std::string name = object_name(object);
  const std::string what = describe("update status of", type, ns, name);
  if (name.empty())
    return make_error(ErrorCode::kInvalidArgument, what + ": metadata.name is empty");
  return send_json("PUT", object_path(type, ns, name) + "/status", object.dump(),
                   "application/json", what);
}

Result<json> KubeClient::patch(const ResourceType& type, const std::string& ns,
                               const std::string& name, const json& merge_patch) {
  return send_json("PATCH", object_path(type, ns, name), merge_patch.dump(),
                   "application/merge-patch+json", describe("patch", type, ns, name));
}

Status KubeClient::delete_object(const ResourceType& type, const std::string& ns,
                                 const std::string& name, const std::string& propagation_policy) {
  const json options = {
      {"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", propagation_policy}};
  auto result = send_json("DELETE", object_path(type, ns, name), options.dump(), "application/json",
                          describe("delete", type, ns, name));
  if (!result.ok()) return result.error();
  return Status();
}

// ---- watch ------------------------------------------------------------------------------------

Status KubeClient::watch(const ResourceType& type, const std::string& ns,
                         const WatchOptions& options, const WatchHandler& handler,
                         std::stop_token stop) {
  const std::string what = describe("watch", type, ns, "");
  const std::string path =
      append_query(collection_path(type, ns),
                   {{"watch", "true"},
                    {"resourceVersion", options.resource_version},
                    {"allowWatchBookmarks", options.allow_bookmarks ? "true" : ""},
                    {"timeoutSeconds", std::to_string(std::max(1, options.timeout_seconds))},
                    {"labelSelector", options.label_selector},
                    {"fieldSelector", options.field_selector}});
  const auto idle_timeout =
      std::chrono::milliseconds(std::max(1, options.timeout_seconds) * 1000LL) +
      config_.request_timeout;
  pplx::cancellation_token_source cancel;
  std::stop_callback on_stop(stop, [&cancel] { cancel.cancel(); });
  try {
    http::client::http_client client(web::uri(config_.server),
                                     client_config(config_, idle_timeout));
    http::http_response response =
        client.request(make_request(config_, "GET", path, "", ""), cancel.get_token()).get();
    if (response.status_code() != 200) {
      const std::vector<unsigned char> bytes = response.extract_vector().get();
      return api_error(what, response.status_code(), std::string(bytes.begin(), bytes.end()));
    }
    auto buffer = response.body().streambuf();
    std::string pending;
    std::vector<unsigned char> chunk(16384);
    for (;;) {
      if (stop.stop_requested()) return Status();
      // Block for one byte, then take whatever else already arrived.
      const auto first = buffer.bumpc().get();
      if (first == std::char_traits<char>::eof()) break;
      pending.push_back(static_cast<char>(first));
      const size_t available = buffer.in_avail();
      if (available > 0) {
        const size_t got = buffer.getn(chunk.data(), std::min(available, chunk.size())).get();
        pending.append(reinterpret_cast<const char*>(chunk.data()), got);
      }
      size_t newline;
      while ((newline = pending.find('\n')) != std::string::npos) {
        const std::string line = trim(pending.substr(0, newline));
        pending.erase(0, newline + 1);
        if (line.empty()) continue;
        json event = json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (!event.is_object() || !event.contains("type") || !event["type"].is_string() ||
            !event.contains("object")) {
          return make_error(ErrorCode::kInternal,
                            what + ": malformed watch event: " + line.substr(0, 200));
        }
        WatchEvent watch_event{event["type"].get<std::string>(), std::move(event["object"])};
        if (watch_event.type == "ERROR") {
          const int code = watch_event.object.is_object() && watch_event.object.contains("code") &&
                                   watch_event.object["code"].is_number_integer()
                               ? watch_event.object["code"].get<int>()
                               : 500;
          return api_error(what, code, watch_event.object.dump());
        }
        if (!handler(watch_event)) return Status();
      }
    }
    return Status();
  } catch (const pplx::task_canceled&) {
    return Status();
  } catch (const web::uri_exception& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      what + ": bad URL " + config_.server + path + ": " + e.what());
  } catch (const http::http_exception& e) {
    if (stop.stop_requested()) return Status();
    return transport_error(what, config_.server, e.what(), idle_timeout,
                           e.error_code() == std::errc::timed_out);
  } catch (const std::exception& e) {
    if (stop.stop_requested()) return Status();
    return transport_error(what, config_.server, e.what(), idle_timeout, false);
  }
}

}  // namespace dledger::op::kube
