// RemotingClient: one TCP connection to a remoting server (name server or broker), for the
// broker's name-server registration, dledgerctl, tests and benchmarks.
//
//   auto client = RemotingClient::connect("127.0.0.1:9876");           // Result<unique_ptr<...>>
//   auto reply = (*client)->invoke_sync(make_request(105, 0), 3000ms);  // Result<RemotingCommand>
//
// Requests are pipelined: the client gives each one a fresh opaque (overwriting the caller's) and
// matches responses by opaque, in any order. A request not answered within its timeout completes
// with kTimeout (a late answer is dropped). When the connection breaks or close() is called, every
// pending request completes with kUnavailable; later requests fail at once with kUnavailable.
//
// Threads: one io thread per client. Callbacks run on it, exactly once each: they must not block
// (in particular not wait on another invoke() of the same client). invoke()/invoke_sync() may be
// called from any thread except that io thread. Frames from the server that are not responses
// (server-initiated requests) and responses nobody waits for are logged and dropped.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "broker/base/result.h"
#include "broker/remoting/remoting_command.h"

namespace dledger::frontend {

class RemotingClient {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{3000};
    std::size_t max_frame_bytes = remoting::kMaxFrameBytes;
  };
  using ResponseCallback = std::function<void(Result<remoting::RemotingCommand>)>;

  // `address` is "host:port" (host: IPv4/IPv6 literal or name). Errors: malformed address
  // (kInvalidArgument), resolution or connection failure (kUnavailable), connect timeout
  // (kTimeout).
  static Result<std::unique_ptr<RemotingClient>> connect(const std::string& address,
                                                         Options options);
  static Result<std::unique_ptr<RemotingClient>> connect(const std::string& address) {
    return connect(address, Options{});
  }
  ~RemotingClient();
  RemotingClient(const RemotingClient&) = delete;
  RemotingClient& operator=(const RemotingClient&) = delete;

  // Sends `request` (as a request: response and oneway flags cleared) and calls `done` with the
  // response, or with kTimeout / kUnavailable / kInvalidArgument (unencodable request).
  void invoke_async(remoting::RemotingCommand request, std::chrono::milliseconds timeout,
                    ResponseCallback done);
  std::future<Result<remoting::RemotingCommand>> invoke(remoting::RemotingCommand request,
                                                        std::chrono::milliseconds timeout);
  Result<remoting::RemotingCommand> invoke_sync(remoting::RemotingCommand request,
                                                std::chrono::milliseconds timeout) {
    return invoke(std::move(request), timeout).get();
  }
  // Sends with the oneway flag; no response is expected. Errors: kUnavailable when closed,
  // kInvalidArgument when the request cannot be encoded. Success means "queued", not "delivered".
  Status invoke_oneway(remoting::RemotingCommand request);

  // Closes the connection, fails pending requests, joins the io thread. Idempotent.
  void close();
  bool is_open() const;
  const std::string& address() const { return address_; }

 private:
  struct State;
  RemotingClient(std::string address, std::shared_ptr<State> state);

  std::string address_;
  std::shared_ptr<State> state_;
};

// Splits "host:port" (IPv6 as "[::1]:9876"). Errors name the address.
Result<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& address);

}  // namespace dledger::frontend
