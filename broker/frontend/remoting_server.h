// RemotingServer: the TCP server of the RocketMQ 4.x remoting protocol (broker and name server).
//
//   RemotingServer::Options options;          // host, port (0 = any free port), io_threads ...
//   RemotingServer server(options);
//   server.register_handler(request_code::kHeartBeat,
//       [](const RemotingCommand& request, Connection& conn, Responder respond) {
//         respond(make_response(request, response_code::kSuccess));   // now or later
//       });
//   server.on_connection_closed([](const ConnectionInfo& info) { ... });
//   auto started = server.start();            // binds; server.port() is the bound port
//   ...
//   server.stop();                            // also done by the destructor
//
// Threads: `io_threads` threads, each running its own io_context. A connection lives on one of
// them (round robin at accept), so everything about one connection — reads, decoding, handler
// calls, writes, its close callback — runs on that one thread, in order.
//
// Per connection:
//   - bytes go through a FrameDecoder (max_frame_bytes); a malformed frame or an oversized length
//     prefix closes THAT connection with a logged reason (peer address, connection id, error).
//     Nothing a peer sends can crash the server or affect other connections.
//   - each decoded request is dispatched to the handler registered for its code, on the
//     connection's io thread. Handlers must not block: work that waits (long-polling pulls, disk,
//     replication) keeps the Responder and answers later from any thread.
//   - unknown codes are answered REQUEST_CODE_NOT_SUPPORTED (3) with a remark naming the code;
//     a handler that throws is answered SYSTEM_ERROR (1) and logged.
//   - a response takes the request's opaque and serialize type and the response flag, whatever the
//     handler put there. Oneway requests (flag bit 1) get no reply: their Responder is a no-op.
//     Commands arriving with the response flag set are ignored (this server sends no requests).
//   - writes are queued: while more than `write_queue_pause_bytes` are queued the server stops
//     reading from that socket (TCP back-pressure for a pipelining peer that does not read);
//     beyond `max_write_queue_bytes` (asynchronous replies keep arriving) the connection is closed.
//
// Lifetime: stop() must not be called from a handler or callback (it joins the io threads).
// Handlers and the close callback are registered before start() and never change
// after. stop() closes the listener and every connection, waits for the io threads to finish what
// is queued, and joins them; Responders called later are no-ops. The server must outlive no
// handler state: after stop() returns no handler or callback runs any more.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "broker/base/result.h"
#include "broker/remoting/remoting_command.h"

namespace dledger::frontend {

using ConnectionId = std::uint64_t;

struct ConnectionInfo {
  ConnectionId id = 0;         // unique per server, never reused, starts at 1
  std::string remote_address;  // "ip:port" of the peer
};

// The connection a request arrived on. Valid only during the handler call; to answer later keep
// the Responder (and, if needed, a copy of info()), not the reference.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual const ConnectionInfo& info() const = 0;
  ConnectionId id() const { return info().id; }
  const std::string& remote_address() const { return info().remote_address; }
  // Closes the connection (debug log with `reason`) once the responses already queued are
  // written; requests already received but not yet dispatched are dropped. Safe from any thread;
  // idempotent.
  virtual void close(const std::string& reason) = 0;
};

namespace detail {
class ServerConnection;
struct IoCore;
}  // namespace detail

// Sends the response to one request. Copyable (copies share the "already answered" state), safe to
// call from any thread; the first call sends, later calls are ignored. A no-op when the request
// was oneway, after the connection closed, and after the server stopped.
class Responder {
 public:
  Responder() = default;  // a no-op responder
  void operator()(remoting::RemotingCommand response) const;
  // True once called (by any copy).
  bool responded() const;

 private:
  friend class detail::ServerConnection;
  std::weak_ptr<detail::ServerConnection> connection_;
  std::shared_ptr<std::atomic<bool>> used_;
  std::int32_t opaque_ = 0;
  remoting::SerializeType serialize_type_ = remoting::SerializeType::kJson;
  bool oneway_ = true;
};

using Handler = std::function<void(const remoting::RemotingCommand& request, Connection& conn,
                                   Responder respond)>;
using CloseCallback = std::function<void(const ConnectionInfo& info)>;

class RemotingServer {
 public:
  struct Options {
    std::string host = "0.0.0.0";
    std::uint16_t port = 0;  // 0: any free port, see port()
    int io_threads = 2;      // >= 1
    std::size_t max_frame_bytes = remoting::kMaxFrameBytes;
    std::size_t write_queue_pause_bytes = 4u << 20;
    std::size_t max_write_queue_bytes = 64u << 20;
    std::string log_name = "remoting";  // prefix of log lines
  };

  struct Stats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_open = 0;
    std::uint64_t protocol_errors = 0;  // connections closed for a malformed frame
    std::uint64_t requests = 0;
    std::uint64_t unsupported_requests = 0;
  };

  explicit RemotingServer(Options options);
  ~RemotingServer();
  RemotingServer(const RemotingServer&) = delete;
  RemotingServer& operator=(const RemotingServer&) = delete;

  // Before start() only. A second handler for the same code replaces the first.
  void register_handler(std::int32_t code, Handler handler);
  // Before start() only. Runs once per accepted connection when it closes (for any reason,
  // including stop()), on the connection's io thread.
  void on_connection_closed(CloseCallback callback);

  // Binds, listens and starts the io threads. Errors: bad host (kInvalidArgument), address in use
  // or other socket errors (kIo), second start (kInvalidArgument).
  Status start();
  // Idempotent; see the lifetime note above.
  void stop();

  // The bound port (meaningful after a successful start()).
  std::uint16_t port() const { return bound_port_; }
  Stats stats() const;

 private:
  Options options_;
  std::unordered_map<std::int32_t, Handler> handlers_;
  CloseCallback close_callback_;
  std::shared_ptr<detail::IoCore> core_;
  std::uint16_t bound_port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace dledger::frontend
