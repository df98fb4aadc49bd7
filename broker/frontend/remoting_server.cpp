#include "broker/frontend/remoting_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "broker/base/thread_name.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/frame_decoder.h"

namespace dledger::frontend {

using remoting::RemotingCommand;

namespace detail {

// State shared by the server, its connections and every Responder. Connections hold it, so the
// io_contexts outlive every socket. Nothing is posted once `stopped` is set, so after the io
// threads drained and joined no handler holding a connection is left inside an io_context (no
// reference cycle survives stop()).
struct IoCore {
  RemotingServer::Options options;
  std::unordered_map<std::int32_t, Handler> handlers;
  CloseCallback close_callback;

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor;  // used on contexts[0] only

  std::mutex mu;
  bool stopped = false;                                                           // guarded by mu
  std::unordered_map<ConnectionId, std::weak_ptr<ServerConnection>> connections;  // guarded by mu

  std::atomic<ConnectionId> next_id{1};
  std::atomic<std::size_t> next_context{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> unsupported{0};

  // Posts `fn` to context `index` unless the server is stopping. Returns whether it was posted.
  template <typename Fn>
  bool post(std::size_t index, Fn&& fn) {
    std::lock_guard<std::mutex> lock(mu);
    if (stopped) return false;
    asio::post(*contexts[index], std::forward<Fn>(fn));
    return true;
  }
};

class ServerConnection final : public Connection,
                               public std::enable_shared_from_this<ServerConnection> {
 public:
  ServerConnection(std::shared_ptr<IoCore> core, std::size_t context_index,
                   asio::ip::tcp::socket socket, ConnectionInfo info)
      : core_(std::move(core)),
        context_index_(context_index),
        socket_(std::move(socket)),
        info_(std::move(info)),
        decoder_(core_->options.max_frame_bytes) {}

  const ConnectionInfo& info() const override { return info_; }

  void close(const std::string& reason) override {
    auto self = shared_from_this();
    core_->post(context_index_, [self, reason] { self->close_after_flush(reason); });
  }

  std::size_t context_index() const { return context_index_; }

  // Queues `frame` on the connection's io thread (dropped once the server is stopping). Frames
  // from other threads collect in an outbox drained by one posted task, so a burst of replies
  // completed together costs one wake-up of the io thread, not one per reply.
  static void post_enqueue(std::shared_ptr<ServerConnection> self, std::string frame) {
    auto* raw = self.get();
    {
      std::lock_guard<std::mutex> lock(raw->outbox_mu_);
      raw->outbox_.push_back(std::move(frame));
      if (raw->outbox_posted_) return;
      raw->outbox_posted_ = true;
    }
    raw->core_->post(raw->context_index_, [self = std::move(self)] { self->drain_outbox(); });
  }
  bool on_own_thread() const {
    return core_->contexts[context_index_]->get_executor().running_in_this_thread();
  }

  // --- everything below runs on the connection's io thread ---

  void start() {
    if (closed_) return;
    asio::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    read_more();
  }

  void drain_outbox() {
    std::vector<std::string> frames;
    {
      std::lock_guard<std::mutex> lock(outbox_mu_);
      frames.swap(outbox_);
      outbox_posted_ = false;
    }
    for (auto& frame : frames) enqueue(std::move(frame));
  }

  void enqueue(std::string frame) {
    if (closed_) return;
    if (queued_bytes_ + frame.size() > core_->options.max_write_queue_bytes) {
      close_now("write queue over " + std::to_string(core_->options.max_write_queue_bytes) +
                    " bytes (peer does not read its responses)",
                true);
      return;
    }
    queued_bytes_ += frame.size();
    write_queue_.push_back(std::move(frame));
    if (!writing_) write_next();
  }

  // Closes once the queued responses are written (at once when nothing is queued); stops
  // dispatching new requests meanwhile.
  void close_after_flush(const std::string& reason) {
    if (closed_) return;
    if (write_queue_.empty()) {
      close_now(reason, false);
      return;
    }
    close_reason_ = reason;
  }

  void close_now(const std::string& reason, bool warn) {
    if (closed_) return;
    closed_ = true;
    if (warn) {
      spdlog::warn("{}: closing connection {} from {}: {}", core_->options.log_name, info_.id,
                   info_.remote_address, reason);
    } else {
      spdlog::debug("{}: closing connection {} from {}: {}", core_->options.log_name, info_.id,
                    info_.remote_address, reason);
    }
    asio::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    write_queue_.clear();
    queued_bytes_ = 0;
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      core_->connections.erase(info_.id);
    }
    if (core_->close_callback) {
      try {
        core_->close_callback(info_);
      } catch (const std::exception& e) {
        spdlog::error("{}: close callback of connection {} threw: {}", core_->options.log_name,
                      info_.id, e.what());
      }
    }
  }

 private:
  void read_more() {
    if (closed_ || reading_) return;
    reading_ = true;
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(read_buffer_),
                            [self](const asio::error_code& ec, std::size_t n) {
                              self->reading_ = false;
                              self->on_read(ec, n);
                            });
  }

  void on_read(const asio::error_code& ec, std::size_t n) {
    if (closed_) return;
    if (ec) {
      close_now(ec == asio::error::eof ? "closed by peer" : "read failed: " + ec.message(), false);
      return;
    }
    decoder_.feed(std::string_view(read_buffer_.data(), n));
    process_buffered();
  }

  // Dispatches decoded requests until the decoder needs more bytes (then reads again) or the
  // write queue passes the pause mark (then the write completion resumes here): a peer that
  // pipelines requests without reading the responses is throttled by TCP, frame by frame.
  void process_buffered() {
    while (!closed_ && !close_reason_) {
      if (queued_bytes_ > core_->options.write_queue_pause_bytes) return;
      auto next = decoder_.next();
      if (!next.ok()) {
        core_->protocol_errors.fetch_add(1, std::memory_order_relaxed);
        close_now("malformed frame at stream offset " + std::to_string(decoder_.stream_offset()) +
                      ": " + next.error().message,
                  true);
        return;
      }
      if (!next->has_value()) break;
      dispatch(std::move(**next));
    }
    if (!close_reason_) read_more();
  }

  void dispatch(RemotingCommand request) {
    if (request.is_response()) {
      spdlog::debug("{}: connection {} sent a response, ignored: {}", core_->options.log_name,
                    info_.id, remoting::describe_command(request));
      return;
    }
    core_->requests.fetch_add(1, std::memory_order_relaxed);
    Responder respond;
    respond.connection_ = weak_from_this();
    respond.used_ = std::make_shared<std::atomic<bool>>(false);
    respond.opaque_ = request.opaque;
    respond.serialize_type_ = request.serialize_type;
    respond.oneway_ = request.is_oneway();

    auto it = core_->handlers.find(request.code);
    if (it == core_->handlers.end()) {
      core_->unsupported.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("{}: connection {}: unsupported {}", core_->options.log_name, info_.id,
                    remoting::describe_command(request));
      respond(remoting::make_response(request, remoting::response_code::kRequestCodeNotSupported,
                                      "request type " + std::to_string(request.code) + " (" +
                                          std::string(remoting::request_code_name(request.code)) +
                                          ") not supported"));
      return;
    }
    try {
      it->second(request, *this, respond);
    } catch (const std::exception& e) {
      spdlog::error("{}: handler of {} threw: {}", core_->options.log_name,
                    remoting::describe_command(request), e.what());
      respond(remoting::make_response(request, remoting::response_code::kSystemError,
                                      std::string("internal error: ") + e.what()));
    }
  }

  // Writes everything queued so far with one gathered write (one send() for a burst of replies).
  void write_next() {
    if (closed_) return;
    if (write_queue_.empty()) {
      writing_ = false;
      if (close_reason_) close_now(*close_reason_, false);
      return;
    }
    writing_ = true;
    writing_count_ = std::min(write_queue_.size(), kMaxGatheredFrames);
    write_buffers_.clear();
    for (std::size_t i = 0; i < writing_count_; ++i) {
      write_buffers_.push_back(asio::buffer(write_queue_[i]));
    }
    auto self = shared_from_this();
    asio::async_write(socket_, write_buffers_, [self](const asio::error_code& ec, std::size_t) {
      if (self->closed_) return;
      if (ec) {
        self->close_now("write failed: " + ec.message(), false);
        return;
      }
      for (std::size_t i = 0; i < self->writing_count_; ++i) {
        self->queued_bytes_ -= self->write_queue_.front().size();
        self->write_queue_.pop_front();
      }
      self->write_next();
      // Resumes decoding / reading if the queue had passed the pause mark.
      if (!self->reading_) self->process_buffered();
    });
  }

  // Frames per gathered write (below the usual IOV_MAX of 1024).
  static constexpr std::size_t kMaxGatheredFrames = 256;

  std::shared_ptr<IoCore> core_;  // first member: the io_context outlives socket_
  std::size_t context_index_;
  asio::ip::tcp::socket socket_;
  ConnectionInfo info_;
  remoting::FrameDecoder decoder_;
  std::array<char, 64 * 1024> read_buffer_{};
  std::deque<std::string> write_queue_;
  std::vector<asio::const_buffer> write_buffers_;  // of the write in flight
  std::size_t writing_count_ = 0;                  // frames of write_queue_ in that write
  std::size_t queued_bytes_ = 0;
  std::mutex outbox_mu_;
  std::vector<std::string> outbox_;  // guarded by outbox_mu_: frames from other threads
  bool outbox_posted_ = false;       // guarded by outbox_mu_: a drain_outbox task is queued
  bool reading_ = false;
  bool writing_ = false;
  bool closed_ = false;
  std::optional<std::string> close_reason_;  // set by close(): close once the queue is written
};

void accept_loop(const std::shared_ptr<IoCore>& core) {
  std::size_t index = core->next_context.fetch_add(1) % core->contexts.size();
  // The accepted socket belongs to contexts[index]; the acceptor lives on contexts[0]. The
  // handler keeps the core alive until the acceptor is closed by stop().
  core->acceptor->async_accept(*core->contexts[index], [core, index](const asio::error_code& ec,
                                                                     asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !core->acceptor->is_open()) return;
    if (ec) {
      spdlog::warn("{}: accept failed: {}", core->options.log_name, ec.message());
    } else {
      asio::error_code endpoint_ec;
      auto remote = socket.remote_endpoint(endpoint_ec);
      ConnectionInfo info;
      info.id = core->next_id.fetch_add(1);
      info.remote_address =
          endpoint_ec ? std::string("unknown")
                      : remote.address().to_string() + ":" + std::to_string(remote.port());
      auto connection =
          std::make_shared<ServerConnection>(core, index, std::move(socket), std::move(info));
      std::lock_guard<std::mutex> lock(core->mu);
      if (core->stopped) return;
      core->accepted.fetch_add(1, std::memory_order_relaxed);
      core->connections[connection->id()] = connection;
      asio::post(*core->contexts[index], [connection] { connection->start(); });
      spdlog::debug("{}: connection {} from {}", core->options.log_name, connection->id(),
                    connection->remote_address());
    }
    accept_loop(core);
  });
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Responder

void Responder::operator()(RemotingCommand response) const {
  if (oneway_ || !used_) return;
  if (used_->exchange(true)) return;
  auto connection = connection_.lock();
  if (!connection) return;
  response.opaque = opaque_;
  response.serialize_type = serialize_type_;
  response.flag = (response.flag | remoting::kFlagResponse) & ~remoting::kFlagOneway;
  auto frame = remoting::encode_frame(response);
  if (!frame.ok()) {
    spdlog::error("connection {}: cannot encode the response ({}); answering SYSTEM_ERROR",
                  connection->id(), frame.error().message);
    RemotingCommand fallback;
    fallback.code = remoting::response_code::kSystemError;
    fallback.opaque = opaque_;
    fallback.serialize_type = serialize_type_;
    fallback.flag = remoting::kFlagResponse;
    fallback.remark = "response could not be encoded: " + frame.error().message;
    frame = remoting::encode_frame(fallback);
    if (!frame.ok()) return;
  }
  if (connection->on_own_thread()) {
    connection->enqueue(std::move(frame).value());
    return;
  }
  detail::ServerConnection::post_enqueue(std::move(connection), std::move(frame).value());
}

bool Responder::responded() const {
  return used_ && used_->load();
}

// ---------------------------------------------------------------------------------------------
// RemotingServer

RemotingServer::RemotingServer(Options options) : options_(std::move(options)) {}

RemotingServer::~RemotingServer() {
  stop();
}

void RemotingServer::register_handler(std::int32_t code, Handler handler) {
  handlers_[code] = std::move(handler);
}

void RemotingServer::on_connection_closed(CloseCallback callback) {
  close_callback_ = std::move(callback);
}

Status RemotingServer::start() {
  if (started_) return make_error(ErrorCode::kInvalidArgument, "remoting server already started");
  if (options_.io_threads < 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "io_threads = " + std::to_string(options_.io_threads) + ": expected >= 1");
  }
  asio::error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    return make_error(ErrorCode::kInvalidArgument,
                      "listen host '" + options_.host + "' is not an IP address: " + ec.message());
  }
  auto core = std::make_shared<detail::IoCore>();
  core->options = options_;
  core->handlers = handlers_;
  core->close_callback = close_callback_;
  for (int i = 0; i < options_.io_threads; ++i) {
    core->contexts.push_back(std::make_unique<asio::io_context>(1));
  }
  auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(*core->contexts[0]);
  asio::ip::tcp::endpoint endpoint(address, options_.port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "cannot listen on " + options_.host + ":" +
                                          std::to_string(options_.port) + ": " + ec.message());
  }
  bound_port_ = acceptor->local_endpoint(ec).port();
  core->acceptor = std::move(acceptor);
  for (auto& context : core->contexts) core->guards.push_back(asio::make_work_guard(*context));
  core_ = core;
  started_ = true;
  detail::accept_loop(core);
  for (std::size_t i = 0; i < core->contexts.size(); ++i) {
    asio::io_context* ctx = core->contexts[i].get();
    core->threads.push_back(
        named_thread("remoting-io-" + std::to_string(i), [ctx] { ctx->run(); }));
  }
  spdlog::info("{}: listening on {}:{} with {} io threads", options_.log_name, options_.host,
               bound_port_, options_.io_threads);
  return Status::ok_status();
}

void RemotingServer::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  auto core = core_;
  std::vector<std::shared_ptr<detail::ServerConnection>> open;
  {
    std::lock_guard<std::mutex> lock(core->mu);
    core->stopped = true;
    for (auto& [id, weak] : core->connections) {
      if (auto connection = weak.lock()) open.push_back(std::move(connection));
    }
  }
  // Posted directly (the gate is closed now): the io threads still run and execute these before
  // they drain. Connections registered later do not exist: registration checks `stopped`.
  asio::post(*core->contexts[0], [core] {
    asio::error_code ignored;
    core->acceptor->close(ignored);
  });
  for (auto& connection : open) {
    asio::post(*core->contexts[connection->context_index()],
               [connection] { connection->close_now("server stopping", false); });
  }
  open.clear();
  core->guards.clear();
  for (auto& thread : core->threads) thread.join();
  core->threads.clear();
  spdlog::info("{}: stopped (port {})", options_.log_name, bound_port_);
}

RemotingServer::Stats RemotingServer::stats() const {
  Stats stats;
  if (!core_) return stats;
  stats.connections_accepted = core_->accepted.load();
  stats.protocol_errors = core_->protocol_errors.load();
  stats.requests = core_->requests.load();
  stats.unsupported_requests = core_->unsupported.load();
  std::lock_guard<std::mutex> lock(core_->mu);
  stats.connections_open = core_->connections.size();
  return stats;
}

}  // namespace dledger::frontend
