#include "broker/programs/dledgerctl/topic_list_command.h"

#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/programs/dledgerctl/remoting_session.h"

namespace dledger::ctl {

int run_topic_list(const TopicListOptions& options, std::ostream& out, std::ostream& err) {
  auto namesrvs = options.common.namesrv_addresses();
  if (!namesrvs.ok()) {
    err << "dledgerctl topicList: " << namesrvs.error().message << "\n";
    return kExitUsage;
  }
  RemotingSession session(options.common.timeout());
  auto topics = session.topic_list(*namesrvs);
  if (!topics.ok()) return report_error(err, topics.error());
  if (options.common.json) {
    out << nlohmann::json(*topics).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
  } else {
    for (const std::string& topic : *topics) out << topic << "\n";
  }
  return kExitOk;
}

}  // namespace dledger::ctl
