#include "broker/admin/admin_client.h"

#include <cpprest/http_client.h>

#include <cctype>
#include <exception>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/admin/admin_json.h"

namespace dledger::admin {
namespace {

namespace http = web::http;
using nlohmann::json;

std::string strip_scheme(const std::string& address) {
  static constexpr std::string_view kScheme = "http://";
  std::string result = address;
  if (result.compare(0, kScheme.size(), kScheme) == 0) result = result.substr(kScheme.size());
  while (!result.empty() && result.back() == '/') result.pop_back();
  return result;
}

Result<json> parse_body(const std::string& admin_address, const std::string& body) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "admin " + admin_address + ": answer is not valid JSON");
  }
  return parsed;
}

// Request bodies may carry user input; invalid UTF-8 is replaced instead of thrown on.
std::string dump(const json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

template <typename T>
Result<T> with_address(const std::string& admin_address, Result<T> result) {
  if (result.ok()) return result;
  return make_error(result.error().code,
                    "admin " + admin_address + ": answer: " + result.error().message);
}

}  // namespace

std::string encode_path_segment(const std::string& segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : segment) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

AdminClient::AdminClient(AdminClientOptions options) : options_(std::move(options)) {}

Result<HttpReply> AdminClient::request(const std::string& admin_address, const std::string& method,
                                       const std::string& path, const std::string& body,
                                       const std::string& authorization) {
  const std::string address = strip_scheme(admin_address);
  if (Status valid = validate_host_port(address, "admin address"); !valid.ok()) {
    return valid.error();
  }
  try {
    http::client::http_client_config config;
    config.set_timeout(options_.timeout);
    http::client::http_client client(web::uri("http://" + address), config);
    http::http_request req(method);
    req.set_request_uri(web::uri(path));
    if (authorization == "-") {
      // explicitly no Authorization header
    } else if (!authorization.empty()) {
      req.headers().add("Authorization", authorization);
    } else if (!options_.token.empty()) {
      req.headers().add("Authorization", "Bearer " + options_.token);
    }
    if (!body.empty()) {
      // See admin_http_server.cpp: avoid cpprestsdk's std::string body path (UBSan).
      req.headers().set_content_type("application/json");
      req.set_body(std::vector<unsigned char>(body.begin(), body.end()));
    }
    http::http_response response = client.request(req).get();
    HttpReply reply;
    reply.status = response.status_code();
    reply.content_type = response.headers().content_type();
    const std::vector<unsigned char> bytes = response.extract_vector().get();
    reply.body.assign(bytes.begin(), bytes.end());
    return reply;
  } catch (const http::http_exception& e) {
    const bool timed_out = e.error_code() == std::errc::timed_out;
    return make_error(
        timed_out ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
        "admin " + address + ": " + method + " " + path + ": " +
            (timed_out ? "no answer within " + std::to_string(options_.timeout.count()) + " ms"
                       : std::string(e.what())));
  } catch (const web::uri_exception& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      "admin " + address + ": bad address or path: " + e.what());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kUnavailable,
                      "admin " + address + ": " + method + " " + path + ": " + e.what());
  }
}

Error AdminClient::reply_error(const std::string& admin_address, const HttpReply& reply) {
  json parsed = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  std::string code_name;
  std::string message;
  if (parsed.is_object()) {
    if (auto it = parsed.find("error"); it != parsed.end() && it->is_string()) {
      code_name = it->get<std::string>();
    }
    if (auto it = parsed.find("message"); it != parsed.end() && it->is_string()) {
      message = it->get<std::string>();
    }
  }
  ErrorCode code = ErrorCode::kInternal;
  if (!code_name.empty()) {
    code = error_code_from_name(code_name);
  } else if (reply.status == 404) {
    // Not an admin endpoint (or, within one process, an AdminHttpServer that was stopped while
    // others still run: cpprestsdk keeps the port open and answers 404 with no body).
    code = ErrorCode::kUnavailable;
    message = "no admin endpoint here";
  } else if (reply.status == 401) {
    code = ErrorCode::kInvalidArgument;
  } else if (reply.status == 503) {
    code = ErrorCode::kUnavailable;
  } else if (reply.status == 504) {
    code = ErrorCode::kTimeout;
  }
  if (code_name == "Unauthorized") code = ErrorCode::kInvalidArgument;
  if (code_name.empty()) code_name = "HTTP";
  if (message.empty()) message = reply.body.substr(0, 200);
  std::string text = "admin " + admin_address + ": HTTP " + std::to_string(reply.status) + " " +
                     code_name + ": " + message;
  if (code == ErrorCode::kNotLeader && parsed.is_object()) {
    last_leader_ = {};
    if (auto it = parsed.find("leader_id"); it != parsed.end() && it->is_string()) {
      last_leader_.leader_id = it->get<std::string>();
    }
    if (auto it = parsed.find("leader_admin"); it != parsed.end() && it->is_string()) {
      last_leader_.leader_admin = it->get<std::string>();
    }
    text += " (leader " + (last_leader_.leader_id.empty() ? "unknown" : last_leader_.leader_id) +
            (last_leader_.leader_admin.empty() ? "" : " at " + last_leader_.leader_admin) + ")";
  }
  return make_error(code, std::move(text));
}

Result<std::string> AdminClient::mutate(const std::string& admin_address, const std::string& method,
                                        const std::string& path, const std::string& body) {
  last_leader_ = {};
  auto reply = request(admin_address, method, path, body);
  if (!reply.ok()) return reply.error();
  if (reply->status == 200) return reply->body;
  Error error = reply_error(admin_address, *reply);
  if (error.code != ErrorCode::kNotLeader || !options_.follow_leader ||
      last_leader_.leader_admin.empty() ||
      strip_scheme(last_leader_.leader_admin) == strip_scheme(admin_address)) {
    return error;
  }
  const std::string leader_admin = last_leader_.leader_admin;
  auto redirected = request(leader_admin, method, path, body);
  if (!redirected.ok()) {
    return make_error(redirected.error().code,
                      error.message + "; redirect to leader failed: " + redirected.error().message);
  }
  if (redirected->status == 200) return redirected->body;
  return reply_error(leader_admin, *redirected);
}

Result<ReplicaStatus> AdminClient::status(const std::string& admin_address) {
  auto reply = request(admin_address, "GET", "/status", "");
  if (!reply.ok()) return reply.error();
  if (reply->status != 200) return reply_error(admin_address, *reply);
  return with_address(admin_address, status_from_text(reply->body));
}

Result<bool> AdminClient::ready(const std::string& admin_address) {
  auto reply = request(admin_address, "GET", "/readyz", "");
  if (!reply.ok()) return reply.error();
  if (reply->status == 200) return true;
  if (reply->status == 503) return false;
  return reply_error(admin_address, *reply);
}

Result<TransferResult> AdminClient::transfer_leadership(const std::string& admin_address,
                                                        const std::string& target) {
  auto body =
      mutate(admin_address, "POST", "/v1/leadership/transfer", dump(json{{"target", target}}));
  if (!body.ok()) return body.error();
  auto parsed = parse_body(admin_address, *body);
  if (!parsed.ok()) return parsed.error();
  return with_address(admin_address, transfer_from_json(*parsed));
}

Result<ChangeResult> AdminClient::add_learner(const std::string& admin_address,
                                              const std::string& id,
                                              const std::string& peer_address) {
  auto body = mutate(admin_address, "POST", "/v1/members",
                     dump(json{{"id", id}, {"address", peer_address}}));
  if (!body.ok()) return body.error();
  auto parsed = parse_body(admin_address, *body);
  if (!parsed.ok()) return parsed.error();
  return with_address(admin_address, change_from_json(*parsed));
}

Result<ChangeResult> AdminClient::promote(const std::string& admin_address, const std::string& id) {
  auto body =
      mutate(admin_address, "POST", "/v1/members/" + encode_path_segment(id) + "/promote", "");
  if (!body.ok()) return body.error();
  auto parsed = parse_body(admin_address, *body);
  if (!parsed.ok()) return parsed.error();
  return with_address(admin_address, change_from_json(*parsed));
}

Result<ChangeResult> AdminClient::remove_member(const std::string& admin_address,
                                                const std::string& id) {
  auto body = mutate(admin_address, "DELETE", "/v1/members/" + encode_path_segment(id), "");
  if (!body.ok()) return body.error();
  auto parsed = parse_body(admin_address, *body);
  if (!parsed.ok()) return parsed.error();
  return with_address(admin_address, change_from_json(*parsed));
}

}  // namespace dledger::admin
