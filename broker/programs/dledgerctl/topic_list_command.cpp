#include "broker/programs/dledgerctl/topic_list_command.h"

#include <memory>
#include <ostream>

#include <nlohmann/json.hpp>

#include "broker/programs/dledgerctl/remoting_session.h"

namespace dledger::ctl {
namespace {

struct TopicListOptions {
  BrokerCommonOptions common;
};

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

}  // namespace

void add_topic_list_command(CLI::App& app, CommandAction& action) {
  auto options = std::make_shared<TopicListOptions>();
  CLI::App* command = app.add_subcommand("topicList", "List the topics of the cluster");
  add_broker_common_options(*command, options->common);
  command->callback([options, &action] {
    action = [options](std::ostream& out, std::ostream& err) {
      return run_topic_list(*options, out, err);
    };
  });
}

}  // namespace dledger::ctl
