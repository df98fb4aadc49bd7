#include "broker/programs/dledger-bench/broker_group.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "broker/admin/admin_client.h"
#include "broker/programs/dledger-bench/process_group.h"

namespace dledger::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

BrokerGroup::BrokerGroup(BrokerGroupOptions options) : options_(std::move(options)) {
  std::string templ = (fs::temp_directory_path() / "dledger-brokers-XXXXXX").string();
  char* made = ::mkdtemp(templ.data());
  dir_ = made != nullptr ? std::string(made) : templ;
  std::set<std::uint16_t> used;
  auto fresh = [&used] {
    for (;;) {
      std::uint16_t port = pick_free_port();
      if (port != 0 && used.insert(port).second) return port;
    }
  };
  namesrv_port_ = fresh();
  for (int id = 0; id < options_.replicas; ++id) {
    Broker& broker = brokers_[id];
    broker.listen_port = fresh();
    broker.peer_port = fresh();
    broker.admin_port = fresh();
  }
}

BrokerGroup::~BrokerGroup() {
  for (auto& [id, broker] : brokers_) kill_and_reap(broker.pid);
  kill_and_reap(namesrv_pid_);
  if (std::getenv("DLEDGER_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  } else {
    std::cerr << "kept configs, logs and data in " << dir_ << "\n";
  }
}

std::vector<int> BrokerGroup::ids() const {
  std::vector<int> out;
  for (const auto& [id, broker] : brokers_) out.push_back(id);
  return out;
}

std::string BrokerGroup::namesrv_address() const {
  return "127.0.0.1:" + std::to_string(namesrv_port_);
}
std::string BrokerGroup::broker_address(int id) const {
  return "127.0.0.1:" + std::to_string(brokers_.at(id).listen_port);
}
std::string BrokerGroup::admin_address(int id) const {
  return "127.0.0.1:" + std::to_string(brokers_.at(id).admin_port);
}
std::string BrokerGroup::config_path(int id) const {
  return dir_ + "/broker-n" + std::to_string(id) + ".conf";
}
std::string BrokerGroup::log_path(int id) const {
  return dir_ + "/broker-n" + std::to_string(id) + ".log";
}
std::string BrokerGroup::namesrv_log_path() const {
  return dir_ + "/namesrv.log";
}

int BrokerGroup::id_of_address(const std::string& address) const {
  for (const auto& [id, broker] : brokers_) {
    if (broker_address(id) == address) return id;
  }
  return -1;
}

Status BrokerGroup::write_config(int id) const {
  std::string peers;
  std::string admin_peers;
  std::string broker_peers;
  for (const auto& [other, broker] : brokers_) {
    const std::string prefix =
        (peers.empty() ? "" : ";") + std::string("n") + std::to_string(other) + "-127.0.0.1:";
    peers += prefix + std::to_string(broker.peer_port);
    admin_peers += prefix + std::to_string(broker.admin_port);
    broker_peers += prefix + std::to_string(broker.listen_port);
  }
  const Broker& self = brokers_.at(id);
  const std::string root = dir_ + "/store/node0" + std::to_string(id);
  const std::string path = config_path(id);
  std::ofstream out(path, std::ios::trunc);
  out << "# broker n" << id << " of " << options_.broker_name << " (seed deployment format)\n"
      << "brokerClusterName = " << options_.cluster_name << "\n"
      << "brokerName = " << options_.broker_name << "\n"
      << "brokerIP1 = 127.0.0.1\n"
      << "brokerIP2 = 127.0.0.1\n"
      << "listenPort = " << self.listen_port << "\n"
      << "namesrvAddr = " << namesrv_address() << "\n"
      << "storePathRootDir = " << root << "\n"
      << "storePathCommitLog = " << root << "/commitlog\n"
      << "storePathConsumeQueue = " << root << "/consumequeue\n"
      << "storePathIndex = " << root << "/index\n"
      << "storeCheckpoint = " << root << "/checkpoint\n"
      << "abortFile = " << root << "/abort\n"
      << "enableDLegerCommitLog = true\n"
      << "dLegerGroup = " << options_.broker_name << "\n"
      << "dLegerPeers = " << peers << "\n"
      << "dLegerSelfId = n" << id << "\n"
      << "sendMessageThreadPoolNums = 16\n"
      << "# dledger keys\n"
      << "adminHost = 127.0.0.1\n"
      << "adminPort = " << self.admin_port << "\n"
      << "adminPeers = " << admin_peers << "\n"
      << "brokerPeers = " << broker_peers << "\n"
      << options_.extra_config << "\n";
  if (!out) return make_error(ErrorCode::kIo, "cannot write " + path);
  return Status::ok_status();
}

Status BrokerGroup::start_namesrv() {
  auto pid =
      spawn_logged(options_.namesrv_binary, {"-p", "listenPort=" + std::to_string(namesrv_port_)},
                   namesrv_log_path());
  if (!pid.ok()) return pid.error();
  namesrv_pid_ = *pid;
  return Status::ok_status();
}

Status BrokerGroup::start_broker(int id) {
  if (!fs::exists(config_path(id))) {
    if (Status written = write_config(id); !written.ok()) return written;
  }
  auto pid = spawn_logged(options_.broker_binary, {"-c", config_path(id)}, log_path(id));
  if (!pid.ok()) return pid.error();
  brokers_.at(id).pid = *pid;
  return Status::ok_status();
}

Status BrokerGroup::start_all() {
  if (Status started = start_namesrv(); !started.ok()) return started;
  for (int id : ids()) {
    if (Status started = start_broker(id); !started.ok()) return started;
  }
  return Status::ok_status();
}

void BrokerGroup::kill9_broker(int id) {
  kill_and_reap(brokers_.at(id).pid);
}

int BrokerGroup::terminate_broker(int id) {
  return terminate_and_reap(brokers_.at(id).pid);
}

bool BrokerGroup::broker_running(int id) {
  return still_running(brokers_.at(id).pid);
}

std::optional<double> BrokerGroup::broker_cpu_seconds(int id) const {
  return process_cpu_seconds(brokers_.at(id).pid);
}

Result<admin::ReplicaStatus> BrokerGroup::status(int id) const {
  admin::AdminClientOptions options;
  options.timeout = 2s;
  admin::AdminClient client(options);
  return client.status(admin_address(id));
}

Result<int> BrokerGroup::wait_for_leader(const std::vector<int>& ids,
                                         std::chrono::milliseconds limit) {
  return wait_for_single_leader(
      ids, [this](int id) { return broker_running(id); }, [this](int id) { return status(id); },
      [this](int id) { return exited_message("broker n" + std::to_string(id), log_path(id)); },
      limit);
}

}  // namespace dledger::bench
