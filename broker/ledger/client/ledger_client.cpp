#include "broker/ledger/client/ledger_client.h"

#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <atomic>
#include <charconv>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "broker/base/thread_name.h"

namespace dledger::client {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kReadChunkBytes = 64 * 1024;
constexpr auto kTickInterval = std::chrono::milliseconds(5);

Error peers_error(std::string_view item, const std::string& why) {
  return make_error(ErrorCode::kInvalidArgument, "peers item '" + std::string(item) + "': " + why);
}

bool parse_u64(std::string_view text, std::uint64_t* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool retryable(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotLeader:
    case ErrorCode::kTransferring:
    case ErrorCode::kOverloaded:
    case ErrorCode::kUnavailable:
    case ErrorCode::kStopped:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<std::vector<ClientPeer>> parse_client_peers(std::string_view peers) {
  if (peers.empty()) return make_error(ErrorCode::kInvalidArgument, "peers string is empty");
  std::vector<ClientPeer> out;
  std::set<raft::NodeId> ids;
  std::set<std::string> addresses;
  std::size_t pos = 0;
  while (pos <= peers.size()) {
    std::size_t end = peers.find(';', pos);
    if (end == std::string_view::npos) end = peers.size();
    std::string_view item = peers.substr(pos, end - pos);
    bool last = end == peers.size();
    pos = end + 1;
    if (item.empty()) {
      if (last && !out.empty()) break;  // trailing ';'
      return make_error(ErrorCode::kInvalidArgument,
                        "peers '" + std::string(peers) + "': empty item");
    }
    std::size_t dash = item.find('-');
    if (dash == std::string_view::npos) return peers_error(item, "expected nN-host:port");
    std::string_view name = item.substr(0, dash);
    std::string_view address = item.substr(dash + 1);
    std::uint64_t id = 0;
    if (name.size() < 2 || name.size() > 10 || name[0] != 'n' || !parse_u64(name.substr(1), &id) ||
        name[1] == '+' || id >= raft::kNoNode) {
      return peers_error(item, "member id '" + std::string(name) + "' is not 'n' + 1-9 digits");
    }
    std::size_t colon = address.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return peers_error(item, "address '" + std::string(address) + "' is not host:port");
    }
    std::uint64_t port = 0;
    if (!parse_u64(address.substr(colon + 1), &port) || port < 1 || port > 65535) {
      return peers_error(
          item, "port '" + std::string(address.substr(colon + 1)) + "' is not in [1, 65535]");
    }
    ClientPeer peer;
    peer.id = static_cast<raft::NodeId>(id);
    peer.name = std::string(name);
    peer.host = std::string(address.substr(0, colon));
    peer.port = static_cast<std::uint16_t>(port);
    if (!ids.insert(peer.id).second) return peers_error(item, "duplicate member id");
    if (!addresses.insert(peer.address()).second) return peers_error(item, "duplicate address");
    out.push_back(std::move(peer));
    if (last) break;
  }
  return out;
}

struct LedgerClient::Impl {
  struct Request {
    std::uint64_t id = 0;
    bool is_append = true;
    std::string frame;
    AppendCallback append_done;
    GetCallback get_done;
    Clock::time_point deadline;
    Clock::time_point not_before;
    std::uint64_t sent_epoch = 0;  // epoch of the connection it was written to; 0: not on the wire
    int attempts = 0;
    std::string last_error;
  };
  enum class State { kIdle, kWaiting, kConnecting, kConnected };

  LedgerClientOptions options;
  std::vector<ClientPeer> peers;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  asio::ip::tcp::socket socket{io};
  asio::ip::tcp::resolver resolver{io};
  asio::steady_timer tick_timer{io};
  asio::steady_timer connect_timer{io};
  std::thread thread;

  // I/O thread state.
  State state = State::kIdle;
  Clock::time_point reconnect_at;
  std::uint64_t epoch = 1;
  std::size_t target = 0;
  std::map<std::uint64_t, Request> requests;
  std::deque<std::uint64_t> queue;
  std::vector<std::uint64_t> delayed;
  std::uint32_t inflight = 0;
  std::unique_ptr<service::FrameReader> reader;
  std::string out;
  bool writing = false;
  int failures = 0;
  bool closed = false;
  std::string last_connection_error;

  std::atomic<std::uint64_t> next_id{1};
  std::atomic<raft::NodeId> leader{raft::kNoNode};
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> redirects{0};
  std::atomic<std::uint64_t> retries{0};
  std::mutex close_mu;
  bool close_started = false;

  explicit Impl(LedgerClientOptions o, std::vector<ClientPeer> p)
      : options(std::move(o)), peers(std::move(p)) {}

  std::chrono::milliseconds backoff() const {
    auto delay = options.backoff_initial;
    for (int i = 0; i < failures && delay < options.backoff_max; ++i) delay *= 2;
    return std::min(delay, options.backoff_max);
  }

  void submit(Request request) {
    asio::post(io, [this, request = std::move(request)]() mutable {
      if (closed) {
        finish(request, make_error(ErrorCode::kStopped, "client closed"));
        return;
      }
      std::uint64_t id = request.id;
      requests.emplace(id, std::move(request));
      queue.push_back(id);
      pump();
    });
  }

  void start_tick() {
    tick_timer.expires_after(kTickInterval);
    tick_timer.async_wait([this](std::error_code ec) {
      if (ec || closed) return;
      tick();
      start_tick();
    });
  }

  void tick() {
    const auto now = Clock::now();
    if (!delayed.empty()) {
      std::vector<std::uint64_t> still;
      for (std::uint64_t id : delayed) {
        auto it = requests.find(id);
        if (it == requests.end()) continue;
        if (it->second.not_before <= now) {
          queue.push_back(id);
        } else {
          still.push_back(id);
        }
      }
      delayed.swap(still);
    }
    for (auto it = requests.begin(); it != requests.end();) {
      if (it->second.deadline > now) {
        ++it;
        continue;
      }
      Request request = std::move(it->second);
      it = requests.erase(it);
      if (request.sent_epoch == epoch && state == State::kConnected) --inflight;
      std::string why =
          "no reply within " + std::to_string(options.request_timeout.count()) + " ms";
      const std::string& last =
          request.last_error.empty() ? last_connection_error : request.last_error;
      if (!last.empty()) why += "; last error: " + last;
      finish(request, make_error(ErrorCode::kTimeout, why));
    }
    if (state == State::kWaiting && now >= reconnect_at) state = State::kIdle;
    pump();
  }

  void pump() {
    if (closed) return;
    if (state == State::kIdle) {
      if (!queue.empty()) start_connect();
      return;
    }
    if (state != State::kConnected) return;
    while (inflight < options.max_inflight && !queue.empty()) {
      std::uint64_t id = queue.front();
      queue.pop_front();
      auto it = requests.find(id);
      if (it == requests.end() || it->second.sent_epoch == epoch) continue;
      Request& request = it->second;
      out += request.frame;
      request.sent_epoch = epoch;
      if (request.attempts++ > 0) retries.fetch_add(1, std::memory_order_relaxed);
      ++inflight;
    }
    flush();
  }

  void start_connect() {
    state = State::kConnecting;
    ++epoch;
    const ClientPeer& peer = peers[target];
    const std::uint64_t my_epoch = epoch;
    connect_timer.expires_after(options.connect_timeout);
    connect_timer.async_wait([this, my_epoch](std::error_code ec) {
      if (ec || my_epoch != epoch || state != State::kConnecting) return;
      connection_lost("connect timed out after " + std::to_string(options.connect_timeout.count()) +
                      " ms");
    });
    resolver.async_resolve(
        peer.host, std::to_string(peer.port),
        [this, my_epoch](std::error_code ec, asio::ip::tcp::resolver::results_type results) {
          if (my_epoch != epoch || closed) return;
          if (ec) return connection_lost("cannot resolve: " + ec.message());
          asio::async_connect(
              socket, results,
              [this, my_epoch](std::error_code cec, const asio::ip::tcp::endpoint&) {
                if (my_epoch != epoch || closed) return;
                if (cec) return connection_lost("connect failed: " + cec.message());
                on_connected();
              });
        });
  }

  void on_connected() {
    connect_timer.cancel();
    state = State::kConnected;
    connects.fetch_add(1, std::memory_order_relaxed);
    std::error_code ec;
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    reader = std::make_unique<service::FrameReader>(options.limits);
    inflight = 0;
    read_more();
    pump();
  }

  // Tears the connection down, puts every request that was on it back in the queue (in id
  // order), and schedules a connection to the next replica after a backoff.
  void connection_lost(const std::string& reason) {
    const ClientPeer& peer = peers[target];
    spdlog::debug("ledger client: {} ({}): {}", peer.name, peer.address(), reason);
    if (leader.load() == peer.id) leader.store(raft::kNoNode);
    last_connection_error = peer.name + " " + peer.address() + ": " + reason;
    reset_connection(last_connection_error);
    target = (target + 1) % peers.size();
    ++failures;
    state = State::kWaiting;
    reconnect_at = Clock::now() + backoff();
  }

  // Closes the socket and requeues every request sent on it.
  void reset_connection(const std::string& reason) {
    std::error_code ec;
    socket.close(ec);
    connect_timer.cancel();
    ++epoch;
    writing = false;
    out.clear();
    inflight = 0;
    reader.reset();
    std::deque<std::uint64_t> resend;
    for (auto& [id, request] : requests) {
      if (request.sent_epoch != 0) {
        request.sent_epoch = 0;
        request.last_error = reason;
        resend.push_back(id);
      }
    }
    // Requests that were on the wire were sent before everything still queued.
    std::set<std::uint64_t> resent(resend.begin(), resend.end());
    for (std::uint64_t id : queue) {
      if (!resent.count(id)) resend.push_back(id);
    }
    queue.swap(resend);
    state = State::kIdle;
  }

  void switch_to(std::size_t peer_index) {
    reset_connection("redirected to " + peers[peer_index].name);
    target = peer_index;
    start_connect();
  }

  void read_more() {
    auto buffer = std::make_shared<std::array<char, kReadChunkBytes>>();
    const std::uint64_t my_epoch = epoch;
    socket.async_read_some(asio::buffer(*buffer),
                           [this, buffer, my_epoch](std::error_code ec, std::size_t n) {
                             if (my_epoch != epoch || closed) return;
                             if (ec) return connection_lost("read failed: " + ec.message());
                             reader->feed(buffer->data(), n);
                             while (my_epoch == epoch) {
                               auto frame = reader->next();
                               if (!frame.ok()) {
                                 return violation(frame.error().message);
                               }
                               if (!frame->has_value()) break;
                               on_frame(**frame);
                             }
                             if (my_epoch == epoch) {
                               pump();
                               read_more();
                             }
                           });
  }

  void violation(const std::string& reason) {
    spdlog::warn("ledger client: closing connection to {}: {}", peers[target].address(), reason);
    connection_lost(reason);
  }

  void on_frame(const service::FrameReader::Frame& frame) {
    using service::FrameKind;
    if (service::is_request(frame.header.kind)) {
      return violation(std::string("unexpected ") + service::frame_kind_name(frame.header.kind) +
                       " frame from a server");
    }
    auto it = requests.find(frame.header.request_id);
    if (it == requests.end() || it->second.sent_epoch != epoch) return;  // timed out earlier
    Request& request = it->second;
    switch (frame.header.kind) {
      case FrameKind::kAppendResponse: {
        if (!request.is_append) return violation("AppendResponse to a get request");
        auto resp = service::decode_append_response(frame.body);
        if (!resp.ok()) return violation(resp.error().message);
        --inflight;
        failures = 0;
        leader.store(peers[target].id);
        return complete(
            it, Result<ledger::AppendResult>(ledger::AppendResult{resp->first_index, resp->term}));
      }
      case FrameKind::kGetResponse: {
        if (request.is_append) return violation("GetResponse to an append request");
        auto resp = service::decode_get_response(frame.body);
        if (!resp.ok()) return violation(resp.error().message);
        --inflight;
        failures = 0;
        ledger::CommittedEntry entry{resp->index, resp->term, resp->type, std::move(resp->data)};
        return complete(it, Result<ledger::CommittedEntry>(std::move(entry)));
      }
      case FrameKind::kErrorResponse: {
        auto resp = service::decode_error_response(frame.body);
        if (!resp.ok()) return violation(resp.error().message);
        --inflight;
        return on_error(it, std::move(resp).value());
      }
      default:
        return violation("unexpected frame kind");
    }
  }

  void on_error(std::map<std::uint64_t, Request>::iterator it, service::ErrorResponse error) {
    Request& request = it->second;
    if (!retryable(error.code)) {
      return complete(it, make_error(error.code, std::move(error.message)));
    }
    const ClientPeer& peer = peers[target];
    request.last_error =
        peer.name + ": " + std::string(error_code_name(error.code)) + ": " + error.message;
    request.sent_epoch = 0;
    if (error.code == ErrorCode::kNotLeader) {
      std::size_t leader_index = peers.size();
      for (std::size_t i = 0; i < peers.size(); ++i) {
        if (peers[i].id == error.leader_id) leader_index = i;
      }
      if (leader_index < peers.size() && leader_index != target) {
        leader.store(error.leader_id);
        redirects.fetch_add(1, std::memory_order_relaxed);
        queue.push_front(request.id);
        return switch_to(leader_index);
      }
      // The replica knows no leader (election under way) or names one we cannot reach: try the
      // next replica after a backoff.
      queue.push_front(request.id);
      return connection_lost(request.last_error);
    }
    if (error.code == ErrorCode::kStopped) {
      queue.push_front(request.id);
      return connection_lost(request.last_error);
    }
    // Transferring / Overloaded / Unavailable: same replica, later.
    ++failures;
    request.not_before = Clock::now() + backoff();
    delayed.push_back(request.id);
  }

  template <typename T>
  void complete(std::map<std::uint64_t, Request>::iterator it, Result<T> result) {
    Request request = std::move(it->second);
    requests.erase(it);
    if constexpr (std::is_same_v<T, ledger::AppendResult>) {
      if (request.append_done) request.append_done(std::move(result));
    } else {
      if (request.get_done) request.get_done(std::move(result));
    }
  }
  void complete(std::map<std::uint64_t, Request>::iterator it, Error error) {
    Request request = std::move(it->second);
    requests.erase(it);
    finish(request, std::move(error));
  }

  static void finish(Request& request, Error error) {
    if (request.is_append) {
      if (request.append_done) request.append_done(std::move(error));
    } else {
      if (request.get_done) request.get_done(std::move(error));
    }
  }

  void flush() {
    if (writing || out.empty() || state != State::kConnected) return;
    writing = true;
    auto buffer = std::make_shared<std::string>();
    buffer->swap(out);
    const std::uint64_t my_epoch = epoch;
    asio::async_write(socket, asio::buffer(*buffer),
                      [this, buffer, my_epoch](std::error_code ec, std::size_t) {
                        if (my_epoch != epoch || closed) return;
                        writing = false;
                        if (ec) return connection_lost("write failed: " + ec.message());
                        flush();
                      });
  }

  void shutdown() {
    closed = true;
    std::error_code ec;
    socket.close(ec);
    tick_timer.cancel();
    connect_timer.cancel();
    resolver.cancel();
    auto pending = std::move(requests);
    requests.clear();
    for (auto& [id, request] : pending) {
      finish(request, make_error(ErrorCode::kStopped, "client closed"));
    }
    work.reset();
    io.stop();
  }
};

Result<std::unique_ptr<LedgerClient>> LedgerClient::create(LedgerClientOptions options) {
  auto peers = parse_client_peers(options.peers);
  if (!peers.ok()) return peers.error();
  if (options.max_inflight == 0) {
    return make_error(ErrorCode::kInvalidArgument, "max_inflight must be at least 1");
  }
  if (options.request_timeout.count() <= 0 || options.connect_timeout.count() <= 0 ||
      options.backoff_initial.count() <= 0 || options.backoff_max < options.backoff_initial) {
    return make_error(ErrorCode::kInvalidArgument,
                      "timeouts must be positive and backoff_max >= backoff_initial");
  }
  auto impl = std::make_shared<Impl>(std::move(options), std::move(peers).value());
  Impl* raw = impl.get();
  asio::post(raw->io, [raw] { raw->start_tick(); });
  raw->thread = named_thread("ledger-client", [raw] { raw->io.run(); });
  return std::unique_ptr<LedgerClient>(new LedgerClient(std::move(impl)));
}

LedgerClient::LedgerClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

LedgerClient::~LedgerClient() {
  close();
}

void LedgerClient::close() {
  {
    std::lock_guard<std::mutex> lock(impl_->close_mu);
    if (impl_->close_started) return;
    impl_->close_started = true;
  }
  Impl* raw = impl_.get();
  asio::post(raw->io, [raw] { raw->shutdown(); });
  if (raw->thread.joinable()) raw->thread.join();
}

void LedgerClient::append(std::string data, AppendCallback done) {
  std::vector<std::string> entries;
  entries.push_back(std::move(data));
  append_batch(std::move(entries), std::move(done));
}

void LedgerClient::append_batch(std::vector<std::string> entries, AppendCallback done) {
  if (closing()) {
    done(make_error(ErrorCode::kStopped, "client closed"));
    return;
  }
  if (entries.empty() || entries.size() > impl_->options.limits.max_batch_entries) {
    done(make_error(ErrorCode::kInvalidArgument,
                    "a batch needs 1.." + std::to_string(impl_->options.limits.max_batch_entries) +
                        " entries, got " + std::to_string(entries.size())));
    return;
  }
  std::size_t bytes = service::encoded_append_request_bytes(entries);
  if (bytes - service::kFrameLengthFieldBytes > impl_->options.limits.max_frame_bytes) {
    done(make_error(ErrorCode::kInvalidArgument,
                    "append of " + std::to_string(bytes) + " bytes exceeds the frame limit " +
                        std::to_string(impl_->options.limits.max_frame_bytes)));
    return;
  }
  Impl::Request request;
  request.id = impl_->next_id.fetch_add(1, std::memory_order_relaxed);
  request.is_append = true;
  service::encode_append_request(request.id, entries, &request.frame);
  request.append_done = std::move(done);
  request.deadline = Clock::now() + impl_->options.request_timeout;
  impl_->submit(std::move(request));
}

void LedgerClient::get(std::uint64_t index, GetCallback done) {
  if (closing()) {
    done(make_error(ErrorCode::kStopped, "client closed"));
    return;
  }
  if (index == 0) {
    done(make_error(ErrorCode::kInvalidArgument, "index 0: indexes start at 1"));
    return;
  }
  Impl::Request request;
  request.id = impl_->next_id.fetch_add(1, std::memory_order_relaxed);
  request.is_append = false;
  service::encode_get_request(request.id, index, &request.frame);
  request.get_done = std::move(done);
  request.deadline = Clock::now() + impl_->options.request_timeout;
  impl_->submit(std::move(request));
}

Result<ledger::AppendResult> LedgerClient::append_sync(std::string data) {
  std::promise<Result<ledger::AppendResult>> promise;
  auto future = promise.get_future();
  append(std::move(data),
         [&promise](Result<ledger::AppendResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Result<ledger::CommittedEntry> LedgerClient::get_sync(std::uint64_t index) {
  std::promise<Result<ledger::CommittedEntry>> promise;
  auto future = promise.get_future();
  get(index, [&promise](Result<ledger::CommittedEntry> r) { promise.set_value(std::move(r)); });
  return future.get();
}

bool LedgerClient::closing() const {
  std::lock_guard<std::mutex> lock(impl_->close_mu);
  return impl_->close_started;
}

raft::NodeId LedgerClient::leader() const {
  return impl_->leader.load();
}

LedgerClient::Stats LedgerClient::stats() const {
  return Stats{impl_->connects.load(), impl_->redirects.load(), impl_->retries.load()};
}

}  // namespace dledger::client
