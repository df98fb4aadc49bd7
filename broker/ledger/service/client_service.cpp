#include "broker/ledger/service/client_service.h"

#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "broker/base/thread_name.h"

namespace dledger::service {

namespace {

constexpr std::size_t kReadChunkBytes = 64 * 1024;
// Append requests decoded from one read are handed to the backend as one batch of at most this
// many payload bytes (a single larger request still goes alone).
constexpr std::size_t kMaxCoalescedBytes = 1 << 20;

// Lets backend threads post to the I/O thread while it exists, and drop results after stop.
struct Poster {
  std::mutex mu;
  asio::io_context* io = nullptr;

  template <typename F>
  void post(F&& f) {
    std::lock_guard<std::mutex> lock(mu);
    if (io != nullptr) asio::post(*io, std::forward<F>(f));
  }
};

class LedgerBackend final : public ClientBackend {
 public:
  explicit LedgerBackend(ledger::LedgerServer& server) : server_(server) {}

  void append(std::vector<std::string> entries, ledger::AppendCallback done) override {
    if (entries.size() == 1) {
      server_.append(std::move(entries.front()), std::move(done));
    } else {
      server_.append_batch(std::move(entries), std::move(done));
    }
  }
  Result<ledger::CommittedEntry> get(std::uint64_t index) override { return server_.get(index); }
  raft::NodeId leader_id() override { return server_.status().leader_id; }

 private:
  ledger::LedgerServer& server_;
};

}  // namespace

std::unique_ptr<ClientBackend> make_ledger_backend(ledger::LedgerServer& server) {
  return std::make_unique<LedgerBackend>(server);
}

Result<ClientServiceOptions> ClientServiceOptions::from_properties(const Properties& props) {
  ClientServiceOptions o;
  auto host = props.get_string("clientHost", std::string("0.0.0.0"));
  if (!host.ok()) return host.error();
  o.host = *host;
  auto port = props.get_int("clientPort", kDefaultClientPort, 0, 65535);
  if (!port.ok()) return port.error();
  o.port = static_cast<std::uint16_t>(*port);
  auto frame = props.get_int("clientMaxFrameBytes", kDefaultMaxFrameBytes, 1024, 1ll << 30);
  if (!frame.ok()) return frame.error();
  o.limits.max_frame_bytes = static_cast<std::uint32_t>(*frame);
  return o;
}

class Session;

struct ClientService::Impl {
  ClientServiceOptions options;
  ClientBackend& backend;
  asio::io_context own_io;  // unused when options.io_context is set
  asio::io_context& io;
  // With options.io_context: one thread that serves get requests (log reads), so they never
  // block the shared context. Without: gets run on the I/O thread.
  std::unique_ptr<asio::thread_pool> reader;
  asio::ip::tcp::acceptor acceptor{io};
  std::shared_ptr<Poster> poster = std::make_shared<Poster>();
  std::thread thread;
  std::uint16_t port = 0;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // I/O thread only
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> requests{0};
  std::mutex stop_mu;
  bool stopped = false;

  Impl(ClientServiceOptions o, ClientBackend& b)
      : options(std::move(o)),
        backend(b),
        io(options.io_context != nullptr ? *options.io_context : own_io) {}
  bool external() const { return options.io_context != nullptr; }
  void accept_next();
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ClientService::Impl& service, asio::ip::tcp::socket socket)
      : service_(service), socket_(std::move(socket)), reader_(service.options.limits) {
    std::error_code ec;
    auto remote = socket_.remote_endpoint(ec);
    peer_ = ec ? std::string("unknown")
               : remote.address().to_string() + ":" + std::to_string(remote.port());
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  }

  void start() { read_more(); }

  void close() {
    if (closed_) return;
    closed_ = true;
    std::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    service_.sessions.erase(this);
  }

 private:
  void read_more() {
    if (closed_ || reading_) return;
    if (inflight_ >= service_.options.max_inflight_per_connection) return;  // back-pressure
    reading_ = true;
    socket_.async_read_some(
        asio::buffer(read_buffer_, sizeof(read_buffer_)),
        [self = shared_from_this()](std::error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(std::error_code ec, std::size_t n) {
    reading_ = false;
    if (closed_) return;
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted) {
        spdlog::debug("client {}: read failed: {}", peer_, ec.message());
      }
      close();
      return;
    }
    reader_.feed(read_buffer_, n);
    while (!closed_) {
      auto frame = reader_.next();
      if (!frame.ok()) {
        violation(frame.error().message);
        return;
      }
      if (!frame->has_value()) break;
      handle_frame(**frame);
    }
    submit_coalesced();
    flush();
    read_more();
  }

  void violation(const std::string& reason) {
    service_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("client {}: closing connection: {}", peer_, reason);
    close();
  }

  void handle_frame(const FrameReader::Frame& frame) {
    service_.requests.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t id = frame.header.request_id;
    switch (frame.header.kind) {
      case FrameKind::kAppendRequest: {
        auto req = decode_append_request(frame.body, service_.options.limits);
        if (!req.ok()) return violation(req.error().message);
        coalesce(id, std::move(req->entries));
        return;
      }
      case FrameKind::kGetRequest: {
        submit_coalesced();  // keep appends ahead of later requests of the same connection
        auto req = decode_get_request(frame.body);
        if (!req.ok()) return violation(req.error().message);
        if (service_.reader) {
          // On a shared (consensus) context a log read must not stall it: read on the reader
          // thread and answer back on the I/O thread.
          ++inflight_;
          std::weak_ptr<Session> weak = weak_from_this();
          std::shared_ptr<Poster> poster = service_.poster;
          ClientBackend* backend = &service_.backend;
          asio::post(*service_.reader, [weak, poster, backend, id, index = req->index] {
            auto entry = backend->get(index);
            poster->post([weak, id, entry = std::move(entry)]() mutable {
              if (auto self = weak.lock()) self->on_get_done(id, std::move(entry));
            });
          });
          return;
        }
        answer_get(id, service_.backend.get(req->index));
        return;
      }
      default:
        return violation(std::string("unexpected ") + frame_kind_name(frame.header.kind) +
                         " frame from a client");
    }
  }

  // One append request inside a coalesced backend batch: its entries start `offset` entries
  // after the batch's first index.
  struct CoalescedRequest {
    std::uint64_t id = 0;
    std::uint32_t count = 0;
    std::uint32_t offset = 0;
  };

  // Adds one decoded append request to the batch being built from this read. Consecutive
  // requests become one backend append (one consensus proposal, one completion callback): the
  // batch's entries are stored consecutively, so request k's first index is the batch's first
  // index plus the entries of the requests before it. A failed batch fails each of its requests
  // with the batch's error.
  void coalesce(std::uint64_t id, std::vector<std::string> entries) {
    std::size_t bytes = 0;
    for (const auto& e : entries) bytes += e.size();
    const std::size_t max_entries = service_.options.limits.max_batch_entries;
    if (!coalesced_requests_.empty() &&
        (coalesced_bytes_ + bytes > kMaxCoalescedBytes ||
         coalesced_entries_.size() + entries.size() > max_entries)) {
      submit_coalesced();
    }
    const auto offset = static_cast<std::uint32_t>(coalesced_entries_.size());
    coalesced_requests_.push_back(
        CoalescedRequest{id, static_cast<std::uint32_t>(entries.size()), offset});
    coalesced_bytes_ += bytes;
    if (coalesced_entries_.empty()) {
      coalesced_entries_ = std::move(entries);
    } else {
      for (auto& e : entries) coalesced_entries_.push_back(std::move(e));
    }
  }

  void submit_coalesced() {
    if (coalesced_requests_.empty()) return;
    inflight_ += static_cast<std::uint32_t>(coalesced_requests_.size());
    std::weak_ptr<Session> weak = weak_from_this();
    std::shared_ptr<Poster> poster = service_.poster;
    auto requests = std::make_shared<std::vector<CoalescedRequest>>(std::move(coalesced_requests_));
    coalesced_requests_.clear();
    coalesced_bytes_ = 0;
    std::vector<std::string> entries = std::move(coalesced_entries_);
    coalesced_entries_.clear();
    service_.backend.append(std::move(entries),
                            [weak, poster, requests](Result<ledger::AppendResult> result) {
                              poster->post([weak, requests, result = std::move(result)]() {
                                if (auto self = weak.lock())
                                  self->on_append_done(*requests, result);
                              });
                            });
  }

  void answer_get(std::uint64_t id, Result<ledger::CommittedEntry> entry) {
    if (!entry.ok()) {
      reply_error(id, entry.error());
    } else {
      GetResponse resp{entry->index, entry->term, entry->type, std::move(entry->data)};
      encode_get_response(id, resp, &out_);
    }
  }

  void on_get_done(std::uint64_t id, Result<ledger::CommittedEntry> entry) {
    --inflight_;
    if (closed_) return;
    answer_get(id, std::move(entry));
    flush();
    read_more();
  }

  void on_append_done(const std::vector<CoalescedRequest>& requests,
                      const Result<ledger::AppendResult>& result) {
    inflight_ -= static_cast<std::uint32_t>(requests.size());
    if (closed_) return;
    for (const CoalescedRequest& r : requests) {
      if (result.ok()) {
        encode_append_response(
            r.id, AppendResponse{result->index + r.offset, result->term, r.count}, &out_);
      } else {
        reply_error(r.id, result.error());
      }
    }
    flush();
    read_more();
  }

  void reply_error(std::uint64_t id, const Error& error) {
    ErrorResponse resp;
    resp.code = error.code;
    resp.message = error.message;
    if (error.code == ErrorCode::kNotLeader) resp.leader_id = service_.backend.leader_id();
    encode_error_response(id, resp, &out_);
  }

  void flush() {
    if (closed_ || writing_ || out_.empty()) return;
    writing_ = true;
    writing_buffer_.swap(out_);
    out_.clear();
    asio::async_write(socket_, asio::buffer(writing_buffer_),
                      [self = shared_from_this()](std::error_code ec, std::size_t) {
                        self->writing_ = false;
                        self->writing_buffer_.clear();
                        if (ec) {
                          if (!self->closed_) {
                            spdlog::debug("client {}: write failed: {}", self->peer_, ec.message());
                          }
                          self->close();
                          return;
                        }
                        self->flush();
                      });
  }

  ClientService::Impl& service_;
  asio::ip::tcp::socket socket_;
  std::string peer_;
  FrameReader reader_;
  char read_buffer_[kReadChunkBytes];
  std::string out_;
  std::string writing_buffer_;
  std::uint32_t inflight_ = 0;
  std::vector<CoalescedRequest> coalesced_requests_;
  std::vector<std::string> coalesced_entries_;
  std::size_t coalesced_bytes_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool closed_ = false;
};

void ClientService::Impl::accept_next() {
  acceptor.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      spdlog::warn("client service: accept failed: {}", ec.message());
    } else {
      accepted.fetch_add(1, std::memory_order_relaxed);
      auto session = std::make_shared<Session>(*this, std::move(socket));
      sessions.emplace(session.get(), session);
      session->start();
    }
    accept_next();
  });
}

Result<std::unique_ptr<ClientService>> ClientService::start(ClientServiceOptions options,
                                                            ClientBackend& backend) {
  auto impl = std::make_unique<Impl>(std::move(options), backend);
  std::error_code ec;
  auto address = asio::ip::make_address(impl->options.host, ec);
  if (ec) {
    return make_error(ErrorCode::kInvalidArgument,
                      "clientHost = '" + impl->options.host + "': not an IP address");
  }
  asio::ip::tcp::endpoint endpoint(address, impl->options.port);
  const std::string where = impl->options.host + ":" + std::to_string(impl->options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      "client service: cannot listen on " + where + ": " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->poster->io = &impl->io;
  Impl* raw = impl.get();
  if (impl->external()) {
    impl->reader = std::make_unique<asio::thread_pool>(1);
    // The owner's thread may already run the context: touch the acceptor only from it.
    asio::post(impl->io, [raw] { raw->accept_next(); });
  } else {
    impl->accept_next();
    impl->thread = named_thread("ledger-clients", [raw] { raw->io.run(); });
  }
  return std::unique_ptr<ClientService>(new ClientService(std::move(impl)));
}

ClientService::ClientService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ClientService::~ClientService() {
  stop();
}

void ClientService::stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  Impl* impl = impl_.get();
  auto close_all = [impl] {
    std::error_code ec;
    impl->acceptor.close(ec);
    auto sessions = impl->sessions;
    for (auto& [raw, weak] : sessions) {
      if (auto s = weak.lock()) s->close();
    }
  };
  if (!impl->external()) {
    asio::post(impl->io, [impl, close_all] {
      close_all();
      impl->io.stop();
    });
    if (impl->thread.joinable()) impl->thread.join();
  } else if (impl->io.get_executor().running_in_this_thread()) {
    close_all();
  } else {
    std::promise<void> closed;
    auto done = closed.get_future();
    asio::post(impl->io, [&] {
      close_all();
      closed.set_value();
    });
    done.wait();
  }
  if (impl->reader) impl->reader->join();  // finishes queued gets; their answers are dropped
  {
    std::lock_guard<std::mutex> poster_lock(impl->poster->mu);
    impl->poster->io = nullptr;
  }
}

std::uint16_t ClientService::port() const {
  return impl_->port;
}

ClientService::Stats ClientService::stats() const {
  return Stats{impl_->accepted.load(), impl_->protocol_errors.load(), impl_->requests.load()};
}

}  // namespace dledger::service
