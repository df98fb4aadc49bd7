// What dledgerctl's broker commands (clusterList, topicList, topicStatus, consumerProgress,
// consumerConnection, updateTopic, sendMessage, consumeMessage) share: the -n/--namesrv flag, one
// RemotingClient per address for the length of a command, and the name-server queries.
//
// Name servers: -n "host:port;host:port" (also ',' separated), default $NAMESRV_ADDR, else
// 127.0.0.1:9876. A query goes to each name server in turn until one answers.
//
// Every error message names the address at fault ("127.0.0.1:10911: SERVICE_NOT_AVAILABLE(14):
// <remark>"), and for a failed name-server query every name server tried.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/base/result.h"
#include "broker/frontend/remoting_client.h"
#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/remoting/remoting_command.h"
#include "broker/remoting/route_data.h"

namespace dledger::ctl {

inline constexpr const char* kNamesrvEnv = "NAMESRV_ADDR";
inline constexpr const char* kDefaultNamesrv = "127.0.0.1:9876";
inline constexpr int kDefaultRemotingTimeoutMs = 5000;

struct BrokerCommonOptions {
  std::string namesrv;  // -n; "" = $NAMESRV_ADDR or the default
  int timeout_ms = kDefaultRemotingTimeoutMs;
  bool json = false;

  // The name servers in order, duplicates removed. Errors name the malformed address.
  Result<std::vector<std::string>> namesrv_addresses() const;
  std::chrono::milliseconds timeout() const { return std::chrono::milliseconds(timeout_ms); }
};

// "SERVICE_NOT_AVAILABLE(14)"-style name of a response code (number only when unknown).
std::string response_code_text(std::int32_t code);

// Connections opened on first use and kept until the session ends; a connection that failed is
// dropped so the next call reconnects.
class RemotingSession {
 public:
  explicit RemotingSession(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  // Sends `request` to `address` and returns the response whatever its code. Errors (network,
  // timeout) name the address.
  Result<remoting::RemotingCommand> invoke(const std::string& address,
                                           remoting::RemotingCommand request);
  // Like invoke(), but a response code other than SUCCESS is an error naming the address, the
  // code and the remark (kNotFound for TOPIC_NOT_EXIST and QUERY_NOT_FOUND, kNotLeader for
  // SERVICE_NOT_AVAILABLE, kUnavailable otherwise; CONSUMER_NOT_ONLINE is kNotFound too).
  Result<remoting::RemotingCommand> invoke_ok(const std::string& address,
                                              remoting::RemotingCommand request);
  // invoke_ok() on each address in turn (a broker group's replicas, master first) until one
  // answers SUCCESS: no answer, SERVICE_NOT_AVAILABLE or another failure moves on to the next,
  // except TOPIC_NOT_EXIST / QUERY_NOT_FOUND (kNotFound), which ends the loop. The error of a
  // total failure names every address with its own error.
  Result<remoting::RemotingCommand> invoke_ok_first(const std::vector<std::string>& addresses,
                                                    const remoting::RemotingCommand& request);

  // Name-server queries, each tried on every name server in turn until one answers.
  Result<remoting::ClusterInfo> cluster_info(const std::vector<std::string>& namesrvs);
  Result<remoting::TopicRouteData> topic_route(const std::vector<std::string>& namesrvs,
                                               const std::string& topic);
  Result<std::vector<std::string>> topic_list(const std::vector<std::string>& namesrvs);

  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  Result<remoting::RemotingCommand> ask_namesrvs(const std::vector<std::string>& namesrvs,
                                                 const remoting::RemotingCommand& request);

  std::chrono::milliseconds timeout_;
  std::map<std::string, std::unique_ptr<frontend::RemotingClient>> clients_;
};

// Parses a GET_BROKER_CLUSTER_INFO (106) body (route_data.h). Errors name the JSON path.
Result<remoting::ClusterInfo> parse_cluster_info(std::string_view body);
// Parses {"topicList":[...]} (GET_ALL_TOPIC_LIST_FROM_NAMESERVER). Errors name the field.
Result<std::vector<std::string>> parse_topic_list(std::string_view body);

// The replicas of a broker group, master (BID 0) first, then the slaves by brokerId.
std::vector<std::string> addresses_master_first(const remoting::BrokerData& data);

// Asks a broker group (invoke_ok_first on its replicas, master first) and parses the reply body
// with `parse` (std::string_view -> Result<T>). Errors are invoke_ok_first's or the parser's.
template <typename Parse>
auto ask_broker_group(RemotingSession& session, const remoting::BrokerData& broker,
                      const remoting::RemotingCommand& request, Parse parse)
    -> decltype(parse(std::string_view())) {
  auto reply = session.invoke_ok_first(addresses_master_first(broker), request);
  if (!reply.ok()) return reply.error();
  return parse(reply->body);
}
// The BrokerData of `broker_name` in `route`, or nullptr.
const remoting::BrokerData* find_broker(const remoting::TopicRouteData& route,
                                        const std::string& broker_name);

}  // namespace dledger::ctl
