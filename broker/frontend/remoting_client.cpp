#include "broker/frontend/remoting_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "broker/base/thread_name.h"
#include "broker/remoting/frame_decoder.h"

namespace dledger::frontend {

using remoting::RemotingCommand;

Result<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return make_error(ErrorCode::kInvalidArgument, "address '" + address + "': expected host:port");
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string port_text = address.substr(colon + 1);
  std::uint32_t port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9' || port > 65535) {
      return make_error(ErrorCode::kInvalidArgument,
                        "address '" + address + "': port '" + port_text + "' is not a number");
    }
    port = port * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (port == 0 || port > 65535) {
    return make_error(ErrorCode::kInvalidArgument,
                      "address '" + address + "': port must be in [1, 65535]");
  }
  return std::make_pair(host, static_cast<std::uint16_t>(port));
}

// Everything below the public API; touched on the io thread only, except the atomics.
struct RemotingClient::State : std::enable_shared_from_this<RemotingClient::State> {
  struct Pending {
    ResponseCallback done;
    std::unique_ptr<asio::steady_timer> timer;
  };

  explicit State(std::size_t max_frame_bytes)
      : guard(asio::make_work_guard(io)), socket(io), decoder(max_frame_bytes) {}

  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  asio::ip::tcp::socket socket;
  std::thread thread;
  std::mutex close_mu;  // serialises close()
  std::atomic<bool> open{false};
  // Posting is refused once close() began, so nothing is posted that the io thread will never
  // run (a future nobody completes).
  std::mutex post_mu;
  bool accepting_posts = true;  // guarded by post_mu

  template <typename Fn>
  bool post(Fn&& fn) {
    std::lock_guard<std::mutex> lock(post_mu);
    if (!accepting_posts) return false;
    asio::post(io, std::forward<Fn>(fn));
    return true;
  }
  std::atomic<std::int32_t> next_opaque{1};
  std::string address;

  remoting::FrameDecoder decoder;
  std::array<char, 64 * 1024> read_buffer{};
  std::deque<std::string> write_queue;
  std::vector<asio::const_buffer> write_buffers;  // of the write in flight
  std::size_t writing_count = 0;                  // frames of write_queue in that write
  bool writing = false;
  bool closed = false;  // io thread view
  std::map<std::int32_t, Pending> pending;

  void read_more() {
    auto self = shared_from_this();
    socket.async_read_some(
        asio::buffer(read_buffer),
        [self](const asio::error_code& ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const asio::error_code& ec, std::size_t n) {
    if (closed) return;
    if (ec) {
      shut(ec == asio::error::eof ? "connection closed by the server"
                                  : "read failed: " + ec.message());
      return;
    }
    decoder.feed(std::string_view(read_buffer.data(), n));
    while (!closed) {
      auto next = decoder.next();
      if (!next.ok()) {
        shut("malformed frame from the server: " + next.error().message);
        return;
      }
      if (!next->has_value()) break;
      RemotingCommand cmd = std::move(**next);
      if (!cmd.is_response()) {
        spdlog::debug("remoting client {}: server request dropped: {}", address,
                      remoting::describe_command(cmd));
        continue;
      }
      auto it = pending.find(cmd.opaque);
      if (it == pending.end()) {
        spdlog::debug("remoting client {}: late or unknown response dropped: {}", address,
                      remoting::describe_command(cmd));
        continue;
      }
      Pending entry = std::move(it->second);
      pending.erase(it);
      entry.timer->cancel();
      entry.done(std::move(cmd));
    }
    if (!closed) read_more();
  }

  void write(std::string frame) {
    if (closed) return;
    write_queue.push_back(std::move(frame));
    if (!writing) write_next();
  }

  // Writes everything queued so far with one gathered write (one send() for pipelined requests).
  void write_next() {
    if (closed || write_queue.empty()) {
      writing = false;
      return;
    }
    writing = true;
    writing_count = std::min<std::size_t>(write_queue.size(), 256);
    write_buffers.clear();
    for (std::size_t i = 0; i < writing_count; ++i) {
      write_buffers.push_back(asio::buffer(write_queue[i]));
    }
    auto self = shared_from_this();
    asio::async_write(socket, write_buffers, [self](const asio::error_code& ec, std::size_t) {
      if (self->closed) return;
      if (ec) {
        self->shut("write failed: " + ec.message());
        return;
      }
      self->write_queue.erase(
          self->write_queue.begin(),
          self->write_queue.begin() + static_cast<std::ptrdiff_t>(self->writing_count));
      self->write_next();
    });
  }

  void start_request(std::int32_t opaque, std::string frame, std::chrono::milliseconds timeout,
                     ResponseCallback done) {
    if (closed) {
      done(make_error(ErrorCode::kUnavailable, "connection to " + address + " is closed"));
      return;
    }
    Pending entry;
    entry.done = std::move(done);
    entry.timer = std::make_unique<asio::steady_timer>(io, timeout);
    std::weak_ptr<State> weak = shared_from_this();
    entry.timer->async_wait([weak, opaque, timeout](const asio::error_code& ec) {
      if (ec) return;  // cancelled: answered or closed
      auto self = weak.lock();
      if (!self) return;
      auto it = self->pending.find(opaque);
      if (it == self->pending.end()) return;
      Pending timed_out = std::move(it->second);
      self->pending.erase(it);
      timed_out.done(
          make_error(ErrorCode::kTimeout, "no response from " + self->address + " within " +
                                              std::to_string(timeout.count()) + " ms (opaque " +
                                              std::to_string(opaque) + ")"));
    });
    pending.emplace(opaque, std::move(entry));
    write(std::move(frame));
  }

  void shut(const std::string& reason) {
    if (closed) return;
    closed = true;
    open = false;
    spdlog::debug("remoting client {}: {}", address, reason);
    asio::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    write_queue.clear();
    auto failed = std::move(pending);
    pending.clear();
    for (auto& [opaque, entry] : failed) {
      entry.timer->cancel();
      entry.done(
          make_error(ErrorCode::kUnavailable,
                     "connection to " + address + " lost before the response (" + reason + ")"));
    }
  }
};

RemotingClient::RemotingClient(std::string address, std::shared_ptr<State> state)
    : address_(std::move(address)), state_(std::move(state)) {}

Result<std::unique_ptr<RemotingClient>> RemotingClient::connect(const std::string& address,
                                                                Options options) {
  auto host_port = split_host_port(address);
  if (!host_port.ok()) return host_port.error();
  auto state = std::make_shared<State>(options.max_frame_bytes);
  state->address = address;

  asio::error_code ec;
  asio::ip::tcp::resolver resolver(state->io);
  auto endpoints = resolver.resolve(host_port->first, std::to_string(host_port->second), ec);
  if (ec) {
    return make_error(ErrorCode::kUnavailable,
                      "cannot resolve '" + host_port->first + "': " + ec.message());
  }
  auto connected = std::make_shared<std::promise<asio::error_code>>();
  auto connect_done = connected->get_future();
  auto timer = std::make_shared<asio::steady_timer>(state->io, options.connect_timeout);
  auto finished = std::make_shared<bool>(false);
  asio::async_connect(state->socket, endpoints,
                      [connected, timer, finished](const asio::error_code& connect_ec,
                                                   const asio::ip::tcp::endpoint&) {
                        if (*finished) return;
                        *finished = true;
                        timer->cancel();
                        connected->set_value(connect_ec);
                      });
  State* raw = state.get();
  timer->async_wait([connected, finished, raw](const asio::error_code& timer_ec) {
    if (timer_ec || *finished) return;
    *finished = true;
    asio::error_code ignored;
    raw->socket.close(ignored);
    connected->set_value(asio::error::timed_out);
  });
  state->thread = named_thread("remoting-client", [raw] { raw->io.run(); });
  ec = connect_done.get();
  if (ec) {
    state->guard.reset();
    asio::post(state->io, [raw] {
      asio::error_code ignored;
      raw->socket.close(ignored);
    });
    state->thread.join();
    if (ec == asio::error::timed_out) {
      return make_error(ErrorCode::kTimeout, "connecting to " + address + " timed out after " +
                                                 std::to_string(options.connect_timeout.count()) +
                                                 " ms");
    }
    return make_error(ErrorCode::kUnavailable,
                      "cannot connect to " + address + ": " + ec.message());
  }
  state->open = true;
  asio::post(state->io, [raw] {
    asio::error_code ignored;
    raw->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    raw->read_more();
  });
  return std::unique_ptr<RemotingClient>(new RemotingClient(address, std::move(state)));
}

RemotingClient::~RemotingClient() {
  close();
}

void RemotingClient::invoke_async(RemotingCommand request, std::chrono::milliseconds timeout,
                                  ResponseCallback done) {
  const std::int32_t opaque = state_->next_opaque.fetch_add(1);
  request.opaque = opaque;
  request.flag &= ~(remoting::kFlagResponse | remoting::kFlagOneway);
  auto frame = remoting::encode_frame(request);
  if (!frame.ok()) {
    done(frame.error());
    return;
  }
  auto state = state_;
  auto shared_done = std::make_shared<ResponseCallback>(std::move(done));
  bool posted = state->post(
      [state, opaque, frame = std::move(frame).value(), timeout, shared_done]() mutable {
        state->start_request(opaque, std::move(frame), timeout, std::move(*shared_done));
      });
  if (!posted) {
    (*shared_done)(make_error(ErrorCode::kUnavailable, "connection to " + address_ + " is closed"));
  }
}

std::future<Result<RemotingCommand>> RemotingClient::invoke(RemotingCommand request,
                                                            std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<Result<RemotingCommand>>>();
  auto future = promise->get_future();
  invoke_async(std::move(request), timeout, [promise](Result<RemotingCommand> response) {
    promise->set_value(std::move(response));
  });
  return future;
}

Status RemotingClient::invoke_oneway(RemotingCommand request) {
  request.opaque = state_->next_opaque.fetch_add(1);
  request.flag = (request.flag & ~remoting::kFlagResponse) | remoting::kFlagOneway;
  auto frame = remoting::encode_frame(request);
  if (!frame.ok()) return frame.error();
  auto state = state_;
  bool posted = state->post(
      [state, frame = std::move(frame).value()]() mutable { state->write(std::move(frame)); });
  if (!posted || !state_->open) {
    return make_error(ErrorCode::kUnavailable, "connection to " + address_ + " is closed");
  }
  return Status::ok_status();
}

void RemotingClient::close() {
  std::lock_guard<std::mutex> lock(state_->close_mu);
  if (!state_->thread.joinable()) return;
  state_->open = false;
  auto state = state_;
  {
    std::lock_guard<std::mutex> post_lock(state->post_mu);
    state->accepting_posts = false;
    asio::post(state->io, [state] { state->shut("closed by the client"); });
  }
  state->guard.reset();
  state->thread.join();
}

bool RemotingClient::is_open() const {
  return state_->open.load();
}

}  // namespace dledger::frontend
