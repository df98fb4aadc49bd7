#include "broker/programs/dledgerctl/update_topic_command.h"

#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/programs/dledgerctl/remoting_session.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/ext_fields.h"

namespace dledger::ctl {
namespace {

struct Target {
  std::string broker_name;  // "" when given by -b
  std::string address;
};

}  // namespace

int run_update_topic(const UpdateTopicOptions& options, std::ostream& out, std::ostream& err) {
  if (Status valid = remoting::validate_topic_name(options.topic, "-t"); !valid.ok()) {
    err << "dledgerctl updateTopic: " << valid.error().message << "\n";
    return kExitUsage;
  }
  if (options.broker_address.empty() == options.cluster.empty()) {
    err << "dledgerctl updateTopic: give exactly one of -b <broker addr> and -c <cluster>\n";
    return kExitUsage;
  }
  RemotingSession session(options.common.timeout());
  std::vector<Target> targets;
  int exit_code = kExitOk;
  if (!options.broker_address.empty()) {
    auto valid = frontend::split_host_port(options.broker_address);
    if (!valid.ok() || valid->second == 0) {
      err << "dledgerctl updateTopic: -b: '" << options.broker_address
          << "' is not host:port with a port in [1, 65535]\n";
      return kExitUsage;
    }
    targets.push_back({"", options.broker_address});
  } else {
    auto namesrvs = options.common.namesrv_addresses();
    if (!namesrvs.ok()) {
      err << "dledgerctl updateTopic: " << namesrvs.error().message << "\n";
      return kExitUsage;
    }
    auto info = session.cluster_info(*namesrvs);
    if (!info.ok()) return report_error(err, info.error());
    auto cluster = info->cluster_addr_table.find(options.cluster);
    if (cluster == info->cluster_addr_table.end() || cluster->second.empty()) {
      err << "dledgerctl: cluster '" << options.cluster << "' has no live broker on "
          << (*namesrvs)[0] << "\n";
      return kExitFailed;
    }
    for (const std::string& name : cluster->second) {
      auto data = info->broker_addr_table.find(name);
      if (data == info->broker_addr_table.end() ||
          data->second.broker_addrs.count(remoting::kMasterBrokerId) == 0) {
        err << "dledgerctl: broker group " << name
            << " has no master (BID 0) registered; not updated\n";
        exit_code = kExitFailed;  // the groups that have a master are still updated
        continue;
      }
      targets.push_back({name, data->second.broker_addrs.at(remoting::kMasterBrokerId)});
    }
  }
  for (const Target& target : targets) {
    remoting::RemotingCommand request =
        remoting::make_request(remoting::request_code::kUpdateAndCreateTopic, 0);
    request.ext_fields["topic"] = options.topic;
    request.ext_fields["defaultTopic"] = "TBW102";
    request.ext_fields["readQueueNums"] = std::to_string(options.read_queues);
    request.ext_fields["writeQueueNums"] = std::to_string(options.write_queues);
    request.ext_fields["perm"] = std::to_string(options.perm);
    request.ext_fields["topicFilterType"] = "SINGLE_TAG";
    request.ext_fields["topicSysFlag"] = "0";
    request.ext_fields["order"] = "false";
    auto reply = session.invoke_ok(target.address, std::move(request));
    if (!reply.ok()) {
      report_error(err, reply.error());
      exit_code = kExitFailed;
      continue;
    }
    if (options.common.json) {
      out << nlohmann::json{{"topic", options.topic},
                            {"brokerName", target.broker_name},
                            {"address", target.address},
                            {"readQueueNums", options.read_queues},
                            {"writeQueueNums", options.write_queues},
                            {"perm", options.perm}}
                 .dump()
          << "\n";
    } else {
      out << "create topic " << options.topic << " on "
          << (target.broker_name.empty() ? target.address
                                         : target.broker_name + " (" + target.address + ")")
          << ": OK\n";
    }
  }
  return exit_code;
}

}  // namespace dledger::ctl
