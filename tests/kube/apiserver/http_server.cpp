#include "tests/kube/apiserver/http_server.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>

namespace dledger::kube {
namespace {

constexpr size_t kMaxHeadBytes = 64 * 1024;
constexpr size_t kMaxBodyBytes = 16 * 1024 * 1024;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

bool parse_head(const std::string& head, HttpRequest& request) {
  size_t line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  size_t first_space = request_line.find(' ');
  size_t second_space = request_line.find(' ', first_space + 1);
  if (first_space == std::string::npos || second_space == std::string::npos) return false;
  request.method = request_line.substr(0, first_space);
  request.target = request_line.substr(first_space + 1, second_space - first_space - 1);
  size_t question = request.target.find('?');
  request.path = percent_decode(request.target.substr(0, question), false);
  if (question != std::string::npos) {
    const std::string query = request.target.substr(question + 1);
    size_t start = 0;
    while (start <= query.size()) {
      size_t amp = query.find('&', start);
      const std::string pair =
          query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
      if (!pair.empty()) {
        size_t eq = pair.find('=');
        request.query[percent_decode(pair.substr(0, eq), true)] =
            eq == std::string::npos ? "" : percent_decode(pair.substr(eq + 1), true);
      }
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
  }
  size_t position = line_end == std::string::npos ? head.size() : line_end + 2;
  while (position < head.size()) {
    size_t end = head.find("\r\n", position);
    if (end == std::string::npos) end = head.size();
    const std::string line = head.substr(position, end - position);
    position = end + 2;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string::npos) return false;
    request.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return true;
}

}  // namespace

std::string percent_decode(const std::string& text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (text[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

const char* http_reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 500:
      return "Internal Server Error";
    default:
      return "Status";
  }
}

std::string HttpRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string HttpRequest::query_value(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

bool HttpResponseWriter::write_all(const std::string& data) {
  if (failed_) return false;
  asio::error_code error;
  asio::write(socket_, asio::buffer(data), error);
  if (error) failed_ = true;
  return !failed_;
}

void HttpResponseWriter::send(int status, const std::string& content_type, const std::string& body,
                              const std::map<std::string, std::string>& extra_headers) {
  responded_ = true;
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + http_reason_phrase(status) +
                     "\r\nContent-Type: " + content_type +
                     "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [name, value] : extra_headers) head += name + ": " + value + "\r\n";
  head += "\r\n";
  write_all(head + body);
}

bool HttpResponseWriter::begin_stream(int status, const std::string& content_type) {
  responded_ = true;
  streamed_ = true;
  return write_all("HTTP/1.1 " + std::to_string(status) + " " + http_reason_phrase(status) +
                   "\r\nContent-Type: " + content_type +
                   "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
}

bool HttpResponseWriter::write_chunk(const std::string& data) {
  if (data.empty()) return !failed_;
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return write_all(size + data + "\r\n");
}

void HttpResponseWriter::end_stream() {
  write_all("0\r\n\r\n");
}

bool HttpResponseWriter::peer_closed() const {
  if (failed_) return true;
  pollfd descriptor{socket_.native_handle(), POLLIN | POLLRDHUP, 0};
  if (::poll(&descriptor, 1, 0) <= 0) return false;
  if (descriptor.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  char byte;
  return ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

HttpServer::HttpServer(HttpHandler handler) : handler_(std::move(handler)), acceptor_(io_) {}

HttpServer::~HttpServer() {
  stop();
}

Result<uint16_t> HttpServer::start(uint16_t port) {
  asio::error_code error;
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return make_error(ErrorCode::kIo, "cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                                          error.message());
  }
  const uint16_t bound = acceptor_.local_endpoint().port();
  accept_thread_ = std::thread([this] { accept_loop(); });
  return bound;
}

void HttpServer::accept_loop() {
  while (!stopping_) {
    auto connection = std::make_unique<Connection>(io_);
    asio::error_code error;
    acceptor_.accept(connection->socket, error);
    if (stopping_) break;
    if (error) {
      if (error == asio::error::invalid_argument || error == asio::error::bad_descriptor) break;
      continue;
    }
    connection->socket.set_option(asio::ip::tcp::no_delay(true), error);
    std::lock_guard<std::mutex> lock(connections_mutex_);
    reap_finished_locked();
    Connection* raw = connection.get();
    connections_.push_back(std::move(connection));
    raw->thread = std::thread([this, raw] { serve(raw); });
  }
}

void HttpServer::reap_finished_locked() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->done.load()) {
      (*it)->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void HttpServer::serve(Connection* connection) {
  asio::ip::tcp::socket& socket = connection->socket;
  asio::streambuf buffer;
  while (!stopping_) {
    asio::error_code error;
    const size_t head_bytes = asio::read_until(socket, buffer, "\r\n\r\n", error);
    if (error || head_bytes > kMaxHeadBytes) break;
    std::string head(asio::buffers_begin(buffer.data()),
                     asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(head_bytes));
    buffer.consume(head_bytes);
    HttpRequest request;
    HttpResponseWriter writer(socket);
    if (!parse_head(head, request)) {
      writer.send(400, "text/plain", "malformed request\n", {{"Connection", "close"}});
      break;
    }
    if (!request.header("transfer-encoding").empty()) {
      writer.send(411, "text/plain", "chunked request bodies are not supported\n",
                  {{"Connection", "close"}});
      break;
    }
    const std::string length_text = request.header("content-length");
    size_t length = 0;
    if (!length_text.empty()) {
      try {
        length = std::stoull(length_text);
      } catch (const std::exception&) {
        writer.send(400, "text/plain", "bad Content-Length\n", {{"Connection", "close"}});
        break;
      }
    }
    if (length > kMaxBodyBytes) {
      writer.send(413, "text/plain", "body too large\n", {{"Connection", "close"}});
      break;
    }
    if (buffer.size() < length) {
      asio::read(socket, buffer, asio::transfer_exactly(length - buffer.size()), error);
      if (error) break;
    }
    request.body.assign(asio::buffers_begin(buffer.data()),
                        asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(length));
    buffer.consume(length);
    handler_(request, writer);
    if (!writer.responded()) writer.send(500, "text/plain", "no response\n");
    if (writer.streamed() || lower(request.header("connection")) == "close") break;
  }
  asio::error_code ignored;
  socket.shutdown(asio::socket_base::shutdown_both, ignored);
  connection->done = true;
}

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.is_open()) ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  {
    std::lock_guard<std::mutex> lock(connections_mutex_);
    for (auto& connection : connections_) {
      if (!connection->done) ::shutdown(connection->socket.native_handle(), SHUT_RDWR);
    }
  }
  for (auto& connection : connections_) {
    if (connection->thread.joinable()) connection->thread.join();
  }
  connections_.clear();
  asio::error_code ignored;
  acceptor_.close(ignored);
}

}  // namespace dledger::kube
