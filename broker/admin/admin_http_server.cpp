#include "broker/admin/admin_http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cpprest/http_listener.h>
#include <prometheus/registry.h>

#include <exception>
#include <mutex>
#include <set>
#include <vector>

#include "broker/admin/admin_json.h"
#include "broker/admin/admin_router.h"

namespace dledger::admin {
namespace {

namespace http = web::http;
using web::http::experimental::listener::http_listener;
using web::http::experimental::listener::http_listener_config;

// Binds a TCP socket to host:0 to learn a free port, then closes it. Racy by nature: the caller
// retries when the port is taken before it binds again.
Result<std::uint16_t> pick_free_port(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), "0", &hints, &found);
  if (rc != 0 || found == nullptr) {
    return make_error(ErrorCode::kInvalidArgument,
                      "admin host \"" + host + "\": cannot resolve (" + gai_strerror(rc) + ")");
  }
  Result<std::uint16_t> result =
      make_error(ErrorCode::kUnavailable, "admin host \"" + host + "\": no bindable address");
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    sockaddr_storage bound{};
    socklen_t length = sizeof(bound);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) == 0) {
      const std::uint16_t port =
          bound.ss_family == AF_INET6
              ? ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port)
              : ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
      ::close(fd);
      result = port;
      break;
    }
    ::close(fd);
  }
  freeaddrinfo(found);
  return result;
}

// Ports held by AdminHttpServer instances of this process. cpprestsdk shares one socket per port
// among all listeners of a process, and a second listener that fails to register on a port in
// use tears down the first one's socket; so the conflict is detected here, before cpprestsdk.
class PortsInUse {
 public:
  bool claim(std::uint16_t port) {
    std::lock_guard<std::mutex> lock(mutex_);
    return ports_.insert(port).second;
  }
  void release(std::uint16_t port) {
    std::lock_guard<std::mutex> lock(mutex_);
    ports_.erase(port);
  }

 private:
  std::mutex mutex_;
  std::set<std::uint16_t> ports_;
};

PortsInUse& ports_in_use() {
  static PortsInUse* ports = new PortsInUse();  // never destroyed: used from destructors
  return *ports;
}

std::string bracket_host(const std::string& host) {
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

// Completes a reply task, swallowing errors (the client may have gone away). An unobserved
// exceptional pplx task would otherwise terminate the process.
void send(const http::http_request& request, const AdminReply& reply) {
  http::http_response response(static_cast<http::status_code>(reply.status));
  // Content type first, then the bytes as a vector: set_body(std::string) goes through a
  // char -> unsigned char stream cast inside cpprestsdk that UBSan reports.
  response.headers().set_content_type(reply.content_type);
  response.set_body(std::vector<unsigned char>(reply.body.begin(), reply.body.end()));
  for (const auto& [name, value] : reply.headers) response.headers().add(name, value);
  request.reply(response).then([](const pplx::task<void>& done) {
    try {
      done.get();
    } catch (...) {
    }
  });
}

}  // namespace

bool constant_time_equals(const std::string& a, const std::string& b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  const std::size_t n = a.size() > b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

class AdminHttpServer::Impl {
 public:
  Impl(AdminServerOptions options, std::shared_ptr<AdminBackend> backend)
      : options_(std::move(options)),
        registry_(options_.registry ? options_.registry : std::make_shared<prometheus::Registry>()),
        router_(std::move(backend), registry_, options_.token, options_.operation_timeout) {}

  ~Impl() { stop(); }

  Status open(std::uint16_t port) {
    const std::string address = bracket_host(options_.host) + ":" + std::to_string(port);
    if (!ports_in_use().claim(port)) {
      return make_error(ErrorCode::kUnavailable, "admin endpoint " + address +
                                                     ": cannot listen: port already used by "
                                                     "another admin endpoint of this process");
    }
    try {
      http_listener_config config;
      config.set_timeout(std::chrono::seconds(30));
      auto listener = std::make_unique<http_listener>(web::uri("http://" + address + "/"), config);
      listener->support([this](const http::http_request& request) { serve(request); });
      listener->open().wait();
      listener_ = std::move(listener);
      port_ = port;
      return Status();
    } catch (const std::exception& e) {
      ports_in_use().release(port);
      return make_error(ErrorCode::kUnavailable,
                        "admin endpoint " + address + ": cannot listen: " + e.what());
    }
  }

  void stop() {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (!listener_) return;
    try {
      listener_->close().wait();
    } catch (...) {
    }
    listener_.reset();
    ports_in_use().release(port_);
  }

  void serve(const http::http_request& request) {
    AdminReply reply;
    try {
      AdminRequest decoded;
      decoded.method = request.method();
      decoded.path = request.relative_uri().path();
      const auto& headers = request.headers();
      auto auth = headers.find("Authorization");
      if (auth != headers.end()) decoded.authorization = auth->second;
      const std::size_t declared = headers.content_length();
      if (declared > options_.max_body_bytes) {
        reply.status = 413;
        reply.body = R"({"error":"InvalidArgument","message":"body: larger than )" +
                     std::to_string(options_.max_body_bytes) + R"( bytes"})";
        send(request, reply);
        return;
      }
      const std::vector<unsigned char> bytes = request.extract_vector().get();
      if (bytes.size() > options_.max_body_bytes) {
        reply.status = 413;
        reply.body = R"({"error":"InvalidArgument","message":"body: too large"})";
        send(request, reply);
        return;
      }
      decoded.body.assign(bytes.begin(), bytes.end());
      reply = router_.handle(decoded);
    } catch (const std::exception& e) {
      reply = AdminReply{};
      // cpprestsdk could not decode the request (headers or body).
      reply.status = 400;
      reply.body = error_to_json("InvalidArgument", std::string("request: ") + e.what())
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } catch (...) {
      reply = AdminReply{};
      reply.status = 500;
      reply.body = R"({"error":"Internal","message":"unexpected error"})";
    }
    send(request, reply);
  }

  std::uint16_t port() const { return port_; }
  const AdminServerOptions& options() const { return options_; }
  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

 private:
  AdminServerOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  AdminRouter router_;
  std::mutex stop_mutex_;
  std::unique_ptr<http_listener> listener_;
  std::uint16_t port_ = 0;
};

Result<std::unique_ptr<AdminHttpServer>> AdminHttpServer::start(
    AdminServerOptions options, std::shared_ptr<AdminBackend> backend) {
  if (!backend) return make_error(ErrorCode::kInvalidArgument, "admin server: no backend");
  if (options.host.empty()) return make_error(ErrorCode::kInvalidArgument, "admin host: empty");
  const std::uint16_t requested_port = options.port;
  auto impl = std::make_unique<Impl>(std::move(options), std::move(backend));
  if (requested_port != 0) {
    Status opened = impl->open(requested_port);
    if (!opened.ok()) return opened.error();
  } else {
    // See the header: pick a free port and retry if someone else takes it first.
    constexpr int kAttempts = 20;
    Status opened = make_error(ErrorCode::kUnavailable, "admin endpoint: no free port");
    for (int attempt = 0; attempt < kAttempts && !opened.ok(); ++attempt) {
      auto port = pick_free_port(impl->options().host);
      if (!port.ok()) return port.error();
      opened = impl->open(*port);
    }
    if (!opened.ok()) return opened.error();
  }
  return std::unique_ptr<AdminHttpServer>(new AdminHttpServer(std::move(impl)));
}

AdminHttpServer::AdminHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AdminHttpServer::~AdminHttpServer() {
  stop();
}

void AdminHttpServer::stop() {
  impl_->stop();
}

std::uint16_t AdminHttpServer::port() const {
  return impl_->port();
}

std::string AdminHttpServer::address() const {
  return bracket_host(impl_->options().host) + ":" + std::to_string(impl_->port());
}

std::shared_ptr<prometheus::Registry> AdminHttpServer::registry() const {
  return impl_->registry();
}

}  // namespace dledger::admin
