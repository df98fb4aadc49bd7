#include "broker/namesrv/name_server.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "broker/base/thread_name.h"
#include "broker/namesrv/namesrv_handlers.h"

namespace dledger::namesrv {

namespace {

std::int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

frontend::RemotingServer::Options server_options(const NameServerOptions& options) {
  frontend::RemotingServer::Options out;
  out.host = options.host;
  out.port = options.port;
  out.io_threads = options.io_threads;
  out.log_name = "namesrv";
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

Result<NameServerOptions> NameServerOptions::from_properties(const Properties& props) {
  NameServerOptions options;
  auto port = props.get_int("listenPort", kDefaultListenPort, 0, 65535);
  if (!port.ok()) return port.error();
  auto expire = props.get_int("brokerExpireSeconds", kDefaultBrokerExpireMs / 1000, 1, 86400);
  if (!expire.ok()) return expire.error();
  auto threads = props.get_int("serverWorkerThreads", options.io_threads, 1, 64);
  if (!threads.ok()) return threads.error();
  options.port = static_cast<std::uint16_t>(*port);
  options.broker_expire_ms = *expire * 1000;
  options.io_threads = static_cast<int>(*threads);
  return options;
}

NameServer::NameServer(NameServerOptions options)
    : options_(options),
      table_(steady_now_ms, options.broker_expire_ms),
      server_(server_options(options)) {}

Result<std::unique_ptr<NameServer>> NameServer::start(NameServerOptions options) {
  std::unique_ptr<NameServer> ns(new NameServer(options));
  NameServer* self = ns.get();
  for (std::int32_t code : namesrv_request_codes()) {
    self->server_.register_handler(
        code, [self](const remoting::RemotingCommand& request, frontend::Connection& conn,
                     frontend::Responder respond) {
          std::optional<remoting::RemotingCommand> reply;
          {
            std::lock_guard<std::mutex> lock(self->mu_);
            reply = handle_namesrv_request(self->table_, request, conn.id());
          }
          if (request.code == remoting::request_code::kRegisterBroker && reply &&
              reply->code != remoting::response_code::kSuccess) {
            spdlog::warn("namesrv: registration from {} refused: {}", conn.remote_address(),
                         reply->remark.value_or(""));
          }
          if (reply) respond(std::move(*reply));
        });
  }
  self->server_.on_connection_closed([self](const frontend::ConnectionInfo& info) {
    std::vector<std::string> dropped;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      dropped = self->table_.on_connection_closed(info.id);
    }
    if (!dropped.empty()) {
      spdlog::info("namesrv: connection {} from {} closed, brokers dropped: {}", info.id,
                   info.remote_address, join(dropped));
    }
  });
  Status started = self->server_.start();
  if (!started.ok()) return started.error();
  self->scanner_ = named_thread("namesrv-scan", [self] { self->scan_loop(); });
  return ns;
}

NameServer::~NameServer() {
  stop();
}

void NameServer::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (scanner_.joinable()) scanner_.join();
  server_.stop();
}

void NameServer::scan_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.scan_interval_ms));
    if (stopping_) break;
    auto expired = table_.expire_silent_brokers();
    if (!expired.empty()) {
      spdlog::warn("namesrv: brokers silent for over {} s dropped: {}",
                   options_.broker_expire_ms / 1000, join(expired));
    }
  }
}

}  // namespace dledger::namesrv
