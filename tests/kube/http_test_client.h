// A tiny blocking HTTP/1.1 client for the test API server tests: one request per connection,
// Content-Length and chunked responses, and a WatchStream reading watch events line by line.
// Every socket read gives up after 10 s (SO_RCVTIMEO) so a broken server fails a test instead
// of hanging it.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <map>
#include <optional>
#include <string>

#include <asio.hpp>
#include <nlohmann/json.hpp>

namespace dledger::kube::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

class HttpConnection {
 public:
  explicit HttpConnection(uint16_t port) : socket_(io_) {
    socket_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval timeout{10, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }

  void send_request(const std::string& method, const std::string& target, const std::string& body,
                    const std::map<std::string, std::string>& headers) {
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    asio::write(socket_, asio::buffer(request));
  }

  // Reads the status line and headers.
  bool read_head(HttpResponse& response) {
    asio::error_code error;
    const size_t bytes = asio::read_until(socket_, buffer_, "\r\n\r\n", error);
    if (error) return false;
    std::string head(asio::buffers_begin(buffer_.data()),
                     asio::buffers_begin(buffer_.data()) + static_cast<std::ptrdiff_t>(bytes));
    buffer_.consume(bytes);
    response.status = std::stoi(head.substr(9, 3));
    size_t position = head.find("\r\n") + 2;
    while (position < head.size()) {
      size_t end = head.find("\r\n", position);
      const std::string line = head.substr(position, end - position);
      position = end + 2;
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    return true;
  }

  // Next chunk of a chunked body; nullopt at the end of the stream or on error.
  std::optional<std::string> read_chunk() {
    asio::error_code error;
    size_t bytes = asio::read_until(socket_, buffer_, "\r\n", error);
    if (error) return std::nullopt;
    std::string size_line(asio::buffers_begin(buffer_.data()),
                          asio::buffers_begin(buffer_.data()) + static_cast<std::ptrdiff_t>(bytes));
    buffer_.consume(bytes);
    const size_t size = std::stoul(size_line, nullptr, 16);
    if (size == 0) return std::nullopt;
    if (buffer_.size() < size + 2) {
      asio::read(socket_, buffer_, asio::transfer_exactly(size + 2 - buffer_.size()), error);
      if (error) return std::nullopt;
    }
    std::string chunk(asio::buffers_begin(buffer_.data()),
                      asio::buffers_begin(buffer_.data()) + static_cast<std::ptrdiff_t>(size));
    buffer_.consume(size + 2);
    return chunk;
  }

  std::string read_body(const HttpResponse& response) {
    auto it = response.headers.find("transfer-encoding");
    if (it != response.headers.end() && it->second == "chunked") {
      std::string body;
      while (auto chunk = read_chunk()) body += *chunk;
      return body;
    }
    const size_t length = std::stoul(response.headers.at("content-length"));
    asio::error_code error;
    if (buffer_.size() < length) {
      asio::read(socket_, buffer_, asio::transfer_exactly(length - buffer_.size()), error);
    }
    std::string body(asio::buffers_begin(buffer_.data()),
                     asio::buffers_begin(buffer_.data()) + static_cast<std::ptrdiff_t>(length));
    buffer_.consume(length);
    return body;
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  asio::streambuf buffer_;
};

inline HttpResponse http_request(uint16_t port, const std::string& method,
                                 const std::string& target, const std::string& body = "",
                                 std::map<std::string, std::string> headers = {}) {
  if (!body.empty() && headers.count("Content-Type") == 0) {
    headers["Content-Type"] = "application/json";
  }
  HttpConnection connection(port);
  connection.send_request(method, target, body, headers);
  HttpResponse response;
  if (!connection.read_head(response)) return response;
  response.body = connection.read_body(response);
  return response;
}

// A watch: the events of one chunked stream, one JSON object per line.
class WatchStream {
 public:
  WatchStream(uint16_t port, const std::string& target,
              const std::map<std::string, std::string>& headers = {})
      : connection_(port) {
    connection_.send_request("GET", target, "", headers);
    connection_.read_head(head_);
  }
  int status() const { return head_.status; }
  // The next event, or nullopt when the stream ended.
  std::optional<nlohmann::json> next() {
    while (true) {
      size_t newline = pending_.find('\n');
      if (newline != std::string::npos) {
        std::string line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        return nlohmann::json::parse(line);
      }
      auto chunk = connection_.read_chunk();
      if (!chunk) return std::nullopt;
      pending_ += *chunk;
    }
  }
  // Skips BOOKMARK events.
  std::optional<nlohmann::json> next_change() {
    while (auto event = next()) {
      if ((*event)["type"] != "BOOKMARK") return event;
    }
    return std::nullopt;
  }

 private:
  HttpConnection connection_;
  HttpResponse head_;
  std::string pending_;
};

}  // namespace dledger::kube::testing
