#include "broker/programs/dledger-bench/topic_route.h"

#include <thread>

#include "broker/frontend/remoting_client.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/route_data.h"

namespace dledger::bench {
namespace {

using remoting::RemotingCommand;
namespace resp = remoting::response_code;

Result<RemotingCommand> call_once(const std::string& address, RemotingCommand request) {
  auto client = frontend::RemotingClient::connect(address);
  if (!client.ok()) return client.error();
  return (*client)->invoke_sync(std::move(request), std::chrono::seconds(5));
}

}  // namespace

Result<std::string> create_topic_and_wait_for_master(const std::string& broker_address,
                                                     const std::string& namesrv_address,
                                                     const std::string& topic, int queues,
                                                     std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string last = "no attempt";
  bool created = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!created) {
      RemotingCommand update =
          remoting::make_request(remoting::request_code::kUpdateAndCreateTopic, 0);
      update.ext_fields["topic"] = topic;
      update.ext_fields["readQueueNums"] = std::to_string(queues);
      update.ext_fields["writeQueueNums"] = std::to_string(queues);
      update.ext_fields["perm"] = "6";
      auto reply = call_once(broker_address, update);
      created = reply.ok() && reply->code == resp::kSuccess;
      if (!created) {
        last = "UPDATE_AND_CREATE_TOPIC " + topic + " to " + broker_address + ": " +
               (reply.ok() ? "answered " + std::to_string(reply->code) : reply.error().message);
      }
    } else {
      RemotingCommand route_request =
          remoting::make_request(remoting::request_code::kGetRouteinfoByTopic, 0);
      route_request.ext_fields["topic"] = topic;
      auto reply = call_once(namesrv_address, route_request);
      auto route =
          reply.ok() && reply->code == resp::kSuccess
              ? remoting::parse_topic_route_data(reply->body)
              : Result<remoting::TopicRouteData>(make_error(ErrorCode::kUnavailable, "no route"));
      for (const auto& broker :
           route.ok() ? route->broker_datas : std::vector<remoting::BrokerData>{}) {
        auto master = broker.broker_addrs.find(remoting::kMasterBrokerId);
        if (master != broker.broker_addrs.end()) return master->second;
      }
      last = "the name server " + namesrv_address + " has no master in the route of " + topic;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return make_error(ErrorCode::kTimeout, last);
}

}  // namespace dledger::bench
