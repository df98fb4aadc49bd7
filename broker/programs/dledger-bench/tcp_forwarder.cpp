#include "broker/programs/dledger-bench/tcp_forwarder.h"

#include <fcntl.h>

#include <array>
#include <asio.hpp>
#include <atomic>
#include <list>
#include <thread>

#include "broker/frontend/remoting_client.h"

namespace dledger::bench {

using asio::ip::tcp;

namespace {

// Keeps the descriptor out of processes the bench forks and execs.
template <typename Socket>
void set_close_on_exec(Socket& socket) {
  if (socket.is_open()) ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
}

}  // namespace

struct TcpForwarder::Impl {
  // One client connection and, once connected, its backend connection.
  struct Session : std::enable_shared_from_this<Session> {
    explicit Session(Impl& owner_ref, tcp::socket client_socket)
        : owner(owner_ref),
          client(std::move(client_socket)),
          backend(owner_ref.io),
          connect_timer(owner_ref.io) {}

    Impl& owner;
    tcp::socket client;
    tcp::socket backend;
    asio::steady_timer connect_timer;
    std::vector<std::string> candidates;
    std::size_t first = 0;
    std::size_t attempt = 0;
    bool connected = false;
    bool closed = false;
    std::array<char, 64 * 1024> up{};    // client -> backend
    std::array<char, 64 * 1024> down{};  // backend -> client

    // shutdown() before close(): a child process that inherited a copy of the descriptor (the
    // bench forks brokers) would otherwise keep the connection open and the peer would never see
    // it end.
    void close() {
      if (closed) return;
      closed = true;
      asio::error_code ignored;
      connect_timer.cancel();
      client.shutdown(tcp::socket::shutdown_both, ignored);
      backend.shutdown(tcp::socket::shutdown_both, ignored);
      client.close(ignored);
      backend.close(ignored);
    }

    void try_next_backend() {
      if (closed) return;
      if (attempt >= candidates.size()) {
        ++owner.closed_without_backend;
        close();
        return;
      }
      const std::string& target = candidates[(first + attempt) % candidates.size()];
      auto split = frontend::split_host_port(target);
      asio::error_code ec;
      asio::ip::address ip;
      if (split.ok()) ip = asio::ip::make_address(split->first, ec);
      if (!split.ok() || ec) {
        ++owner.backend_connect_failures;
        ++attempt;
        try_next_backend();
        return;
      }
      backend = tcp::socket(owner.io);
      asio::error_code open_ec;
      backend.open(ip.is_v4() ? tcp::v4() : tcp::v6(), open_ec);
      set_close_on_exec(backend);
      auto self = shared_from_this();
      connect_timer.expires_after(owner.options.connect_timeout);
      connect_timer.async_wait([self, this_attempt = attempt](const asio::error_code& timer_ec) {
        // Only this attempt's connect, and only while it is still pending.
        if (!timer_ec && !self->connected && self->attempt == this_attempt) {
          asio::error_code ignored;
          self->backend.close(ignored);  // the pending connect completes with an error
        }
      });
      backend.async_connect(
          tcp::endpoint(ip, split->second), [self](const asio::error_code& connect_ec) {
            self->connect_timer.cancel();
            if (self->closed) return;
            if (connect_ec) {
              ++self->owner.backend_connect_failures;
              ++self->attempt;
              self->try_next_backend();
              return;
            }
            self->connected = true;
            self->owner.next_backend = (self->first + self->attempt + 1) % self->candidates.size();
            ++self->owner.paired;
            asio::error_code ignored;
            self->backend.set_option(tcp::no_delay(true), ignored);
            self->client.set_option(tcp::no_delay(true), ignored);
            self->pump(self->client, self->backend, self->up);
            self->pump(self->backend, self->client, self->down);
          });
    }

    // Copies `from` -> `to` until either side fails or closes; then closes both.
    void pump(tcp::socket& from, tcp::socket& to, std::array<char, 64 * 1024>& buffer) {
      auto self = shared_from_this();
      from.async_read_some(
          asio::buffer(buffer),
          [self, &from, &to, &buffer](const asio::error_code& read_ec, std::size_t bytes) {
            if (read_ec || self->closed) {
              self->close();
              return;
            }
            asio::async_write(
                to, asio::buffer(buffer.data(), bytes),
                [self, &from, &to, &buffer](const asio::error_code& write_ec, std::size_t) {
                  if (write_ec || self->closed) {
                    self->close();
                    return;
                  }
                  self->pump(from, to, buffer);
                });
          });
    }
  };

  explicit Impl(Options options_in) : options(std::move(options_in)), acceptor(io) {}

  // Handlers capture `this`: the Impl outlives the io thread and owns the io_context, whose
  // destruction destroys the handlers that were never run.
  void accept() {
    acceptor.async_accept([self = this](const asio::error_code& ec, tcp::socket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted && self->acceptor.is_open()) self->accept();
        return;
      }
      ++self->accepted;
      set_close_on_exec(socket);
      auto session = std::make_shared<Session>(*self, std::move(socket));
      session->candidates = self->options.backends();
      session->first = session->candidates.empty() ? 0 : self->next_backend;
      self->sessions.remove_if([](const std::weak_ptr<Session>& s) { return s.expired(); });
      self->sessions.push_back(session);
      session->try_next_backend();
      self->accept();
    });
  }

  Options options;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::thread thread;
  std::uint16_t port = 0;
  std::size_t next_backend = 0;                // io thread only
  std::list<std::weak_ptr<Session>> sessions;  // io thread only
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> paired{0};
  std::atomic<std::uint64_t> backend_connect_failures{0};
  std::atomic<std::uint64_t> closed_without_backend{0};
  std::atomic<bool> stopped{false};
};

Result<std::unique_ptr<TcpForwarder>> TcpForwarder::start(Options options) {
  if (!options.backends) {
    return make_error(ErrorCode::kInvalidArgument, "TcpForwarder needs a backends function");
  }
  auto impl = std::make_unique<Impl>(std::move(options));
  asio::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
  impl->acceptor.open(endpoint.protocol(), ec);
  set_close_on_exec(impl->acceptor);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "forwarder cannot listen on 127.0.0.1:0: " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->accept();
  impl->thread = std::thread([raw = impl.get()] { raw->io.run(); });
  return std::unique_ptr<TcpForwarder>(new TcpForwarder(std::move(impl)));
}

TcpForwarder::TcpForwarder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TcpForwarder::~TcpForwarder() {
  stop();
}

std::string TcpForwarder::address() const {
  return "127.0.0.1:" + std::to_string(impl_->port);
}

TcpForwarder::Stats TcpForwarder::stats() const {
  Stats out;
  out.accepted = impl_->accepted.load();
  out.paired = impl_->paired.load();
  out.backend_connect_failures = impl_->backend_connect_failures.load();
  out.closed_without_backend = impl_->closed_without_backend.load();
  return out;
}

void TcpForwarder::stop() {
  if (impl_->stopped.exchange(true)) return;
  asio::post(impl_->io, [impl = impl_.get()] {
    asio::error_code ignored;
    impl->acceptor.close(ignored);
    for (auto& weak : impl->sessions) {
      if (auto session = weak.lock()) session->close();
    }
    impl->io.stop();
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace dledger::bench
