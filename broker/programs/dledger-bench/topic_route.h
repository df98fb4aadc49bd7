// Topic set-up for the broker benchmarks, done as a RocketMQ admin tool and client would: create
// the topic on a broker, then read its route from the name server.
#pragma once

#include <chrono>
#include <string>

#include "broker/base/result.h"

namespace dledger::bench {

// Sends UPDATE_AND_CREATE_TOPIC (`queues` read and write queues, perm 6) to `broker_address`
// until it answers SUCCESS, then asks the name server at `namesrv_address` for the topic's
// route until it names a master (brokerId 0), every 100 ms. Returns the master's address, as a
// producer would use it. Error kTimeout after `limit`, naming the last reason.
Result<std::string> create_topic_and_wait_for_master(const std::string& broker_address,
                                                     const std::string& namesrv_address,
                                                     const std::string& topic, int queues,
                                                     std::chrono::milliseconds limit);

}  // namespace dledger::bench
