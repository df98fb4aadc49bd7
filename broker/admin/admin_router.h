// AdminRouter: the transport-independent half of the admin endpoint. It maps one decoded HTTP
// request (method, path, Authorization header, body) to a reply, calling the AdminBackend and
// rendering the metrics registry. AdminHttpServer only moves bytes between cpprestsdk and this
// class, so every rule of docs/admin-api.md is implemented (and testable) here.
// Never throws: unexpected exceptions from the backend become 500 Internal.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "broker/admin/admin_backend.h"

namespace prometheus {
class Registry;
}

namespace dledger::admin {

struct AdminRequest {
  std::string method;         // "GET", "POST", "DELETE", ...
  std::string path;           // percent-encoded path without query, e.g. "/v1/members/n3"
  std::string authorization;  // Authorization header value, "" when absent
  std::string body;
};

struct AdminReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

class AdminRouter {
 public:
  AdminRouter(std::shared_ptr<AdminBackend> backend, std::shared_ptr<prometheus::Registry> registry,
              std::string token, std::chrono::milliseconds operation_timeout);

  AdminReply handle(const AdminRequest& request) const;

 private:
  AdminReply route(const AdminRequest& request) const;
  AdminReply readyz() const;
  AdminReply status() const;
  AdminReply metrics() const;
  AdminReply transfer(const std::string& body) const;
  AdminReply add_member(const std::string& body) const;
  AdminReply promote(const std::string& id) const;
  AdminReply remove(const std::string& id) const;
  // Turns a backend error into its JSON answer (NotLeader gets the leader fields).
  AdminReply error_reply(const Error& error) const;
  bool authorized(const std::string& authorization) const;

  std::shared_ptr<AdminBackend> backend_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::string token_;
  std::chrono::milliseconds operation_timeout_;
};

// Splits a percent-encoded path into decoded segments, dropping empty ones ("/a//b/" -> a, b).
// Errors: malformed percent escapes.
Result<std::vector<std::string>> split_path(const std::string& path);

}  // namespace dledger::admin
