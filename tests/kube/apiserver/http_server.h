// A small HTTP/1.1 server on standalone Asio for the test API server: one thread per
// connection, blocking I/O, keep-alive for Content-Length responses, chunked transfer encoding
// for streaming (watch) responses, after which the connection closes.
//
// Limits (test infrastructure): request heads up to 64 KiB, bodies up to 16 MiB (larger -> 413),
// no TLS, no Expect: 100-continue, no chunked request bodies (-> 411/400).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <asio.hpp>

#include "broker/base/result.h"

namespace dledger::kube {

struct HttpRequest {
  std::string method;
  std::string target;                          // raw request target (/api/v1/pods?watch=true)
  std::string path;                            // percent-decoded path
  std::map<std::string, std::string> query;    // decoded; the last value wins
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& lower_name) const;
  std::string query_value(const std::string& name) const;
};

// Writes one response on a connection. Either send() once, or begin_stream() then
// write_chunk() any number of times (false once the peer is gone) and end_stream().
class HttpResponseWriter {
 public:
  explicit HttpResponseWriter(asio::ip::tcp::socket& socket) : socket_(socket) {}
  void send(int status, const std::string& content_type, const std::string& body,
            const std::map<std::string, std::string>& extra_headers = {});
  bool begin_stream(int status, const std::string& content_type);
  bool write_chunk(const std::string& data);
  void end_stream();
  // True when the peer closed its side (checked without blocking).
  bool peer_closed() const;
  bool responded() const { return responded_; }
  bool streamed() const { return streamed_; }

 private:
  bool write_all(const std::string& data);
  asio::ip::tcp::socket& socket_;
  bool responded_ = false;
  bool streamed_ = false;
  bool failed_ = false;
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponseWriter&)>;

class HttpServer {
 public:
  explicit HttpServer(HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds 127.0.0.1:port (0 = any free port) and starts accepting; returns the bound port.
  Result<uint16_t> start(uint16_t port);
  // Stops accepting, shuts down every open connection and joins all threads. Handlers that
  // block (watches) must be woken by the owner before or during stop().
  void stop();

 private:
  struct Connection {
    explicit Connection(asio::io_context& io) : socket(io) {}
    asio::ip::tcp::socket socket;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void accept_loop();
  void serve(Connection* connection);
  void reap_finished_locked();

  HttpHandler handler_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
  std::mutex connections_mutex_;
  std::list<std::unique_ptr<Connection>> connections_;
};

std::string percent_decode(const std::string& text, bool plus_is_space);
const char* http_reason_phrase(int status);

}  // namespace dledger::kube
