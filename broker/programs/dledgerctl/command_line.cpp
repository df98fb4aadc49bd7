#include "broker/programs/dledgerctl/command_line.h"

#include <cstdint>
#include <iostream>
#include <limits>
#include <memory>
#include <ostream>

#include <CLI/CLI.hpp>

#include "broker/programs/dledgerctl/add_member_command.h"
#include "broker/programs/dledgerctl/append_command.h"
#include "broker/programs/dledgerctl/cli_common.h"
#include "broker/programs/dledgerctl/cluster_list_command.h"
#include "broker/programs/dledgerctl/consume_message_command.h"
#include "broker/programs/dledgerctl/consumer_connection_command.h"
#include "broker/programs/dledgerctl/consumer_progress_command.h"
#include "broker/programs/dledgerctl/get_command.h"
#include "broker/programs/dledgerctl/producer_connection_command.h"
#include "broker/programs/dledgerctl/promote_member_command.h"
#include "broker/programs/dledgerctl/query_msg_by_id_command.h"
#include "broker/programs/dledgerctl/query_msg_by_key_command.h"
#include "broker/programs/dledgerctl/remoting_session.h"
#include "broker/programs/dledgerctl/remove_member_command.h"
#include "broker/programs/dledgerctl/send_message_command.h"
#include "broker/programs/dledgerctl/status_command.h"
#include "broker/programs/dledgerctl/topic_list_command.h"
#include "broker/programs/dledgerctl/topic_status_command.h"
#include "broker/programs/dledgerctl/transfer_leader_command.h"
#include "broker/programs/dledgerctl/update_topic_command.h"

namespace dledger::ctl {
namespace {

// Adds subcommand `name`; when it is parsed, `action` runs `run` with the options its flags
// filled in. Returns the subcommand and the options for the caller to declare flags on.
template <typename Options, typename Run>
std::pair<CLI::App*, Options*> add_command(CLI::App& app, CommandAction& action, const char* name,
                                           const char* description, Run run) {
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(name, description);
  command->callback([options, &action, run] {
    action = [options, run](std::ostream& out, std::ostream& err) {
      return run(*options, out, err);
    };
  });
  return {command, options.get()};
}

// --admin/--admins, --token, --timeout-ms and --json of the replica (admin HTTP) commands.
void add_common_options(CLI::App& command, CommonOptions& options) {
  command.add_option("--admin", options.admin,
                     "Admin endpoint host:port of a replica (repeatable; default 127.0.0.1:10980)");
  command.add_option("--admins", options.admins, "Admin endpoints separated by ';' or ','");
  command.add_option("--token", options.token, "Admin bearer token")->envname(kTokenEnv);
  command.add_option("--timeout-ms", options.timeout_ms, "Per-request timeout in milliseconds")
      ->check(CLI::PositiveNumber);
  command.add_flag("--json", options.json, "Print JSON instead of text");
}

// -n/--namesrv, --timeout-ms and --json of the broker (remoting) commands.
void add_broker_common_options(CLI::App& command, BrokerCommonOptions& options) {
  command.add_option("-n,--namesrv", options.namesrv,
                     "Name servers host:port;host:port (default $NAMESRV_ADDR or 127.0.0.1:9876)");
  command.add_option("--timeout-ms", options.timeout_ms, "Per-request timeout in milliseconds")
      ->check(CLI::PositiveNumber);
  command.add_flag("--json", options.json, "Print JSON instead of text");
}

void add_replica_commands(CLI::App& app, CommandAction& action) {
  {
    auto [command, options] = add_command<StatusOptions>(
        app, action, "status", "Show the status of every given replica", run_status);
    add_common_options(*command, options->common);
  }
  {
    auto [command, options] = add_command<TransferLeaderOptions>(
        app, action, "transferLeader", "Move leadership to another voter", run_transfer_leader);
    add_common_options(*command, options->common);
    command->add_option("--to", options->to, "New leader id (default: any caught-up voter)");
    command->add_flag("--if-leader", options->if_leader,
                      "Only if the addressed replica leads now; exit 0 otherwise (preStop)");
  }
  {
    auto [command, options] = add_command<AddMemberOptions>(
        app, action, "addMember", "Add a replica to the group as a learner", run_add_member);
    add_common_options(*command, options->common);
    command->add_option("--id", options->id, "Member id, e.g. n3")->required();
    command->add_option("--address", options->address, "Its ledger peer endpoint host:port")
        ->required();
  }
  {
    auto [command, options] = add_command<PromoteMemberOptions>(
        app, action, "promoteMember", "Turn a learner into a voter", run_promote_member);
    add_common_options(*command, options->common);
    command->add_option("--id", options->id, "Member id, e.g. n3")->required();
  }
  {
    auto [command, options] = add_command<RemoveMemberOptions>(
        app, action, "removeMember", "Remove a voter or learner from the group", run_remove_member);
    add_common_options(*command, options->common);
    command->add_option("--id", options->id, "Member id, e.g. n3")->required();
  }
}

// --peers of append and get.
constexpr const char* kLedgerPeersHelp =
    "Client addresses n0-host:port;... (default $DLEDGER_PEERS or n0-127.0.0.1:20911)";

void add_ledger_client_commands(CLI::App& app, CommandAction& action) {
  {
    auto [command, options] = add_command<AppendOptions>(
        app, action, "append", "Append entries through the ledger client protocol", run_append);
    command->add_option("--peers", options->peers, kLedgerPeersHelp);
    command->add_flag("--batch", options->batch, "Append all DATA as one batch");
    command->add_flag("--json", options->json, "JSON output");
    command->add_option("--timeout-ms", options->timeout_ms, "Deadline per append, with retries")
        ->check(CLI::PositiveNumber);
    command->add_option("data", options->data, "Entries (default: lines of stdin)");
  }
  {
    auto [command, options] =
        add_command<GetOptions>(app, action, "get", "Read committed entries by index", run_get);
    command->add_option("--peers", options->peers, kLedgerPeersHelp);
    command->add_flag("--raw", options->raw, "Print the entry bytes only");
    command->add_flag("--json", options->json, "JSON output");
    command->add_option("--timeout-ms", options->timeout_ms, "Deadline per read, with retries")
        ->check(CLI::PositiveNumber);
    command->add_option("index", options->indexes, "Indexes to read (>= 1)")
        ->required()
        ->check(CLI::Range(std::uint64_t{1}, std::numeric_limits<std::uint64_t>::max()));
  }
}

void add_broker_commands(CLI::App& app, CommandAction& action) {
  {
    auto [command, options] = add_command<ClusterListOptions>(
        app, action, "clusterList",
        "List every broker replica the name server knows, with its ledger state", run_cluster_list);
    add_broker_common_options(*command, options->common);
  }
  {
    auto [command, options] = add_command<TopicListOptions>(
        app, action, "topicList", "List the topics of the cluster", run_topic_list);
    add_broker_common_options(*command, options->common);
  }
  {
    auto [command, options] = add_command<UpdateTopicOptions>(
        app, action, "updateTopic", "Create or update a topic on one broker or a cluster",
        run_update_topic);
    add_broker_common_options(*command, options->common);
    command->add_option("-t,--topic", options->topic, "Topic name")->required();
    command->add_option("-r,--read-queues", options->read_queues, "Read queue count [8]")
        ->check(CLI::Range(1, 1024));
    command->add_option("-w,--write-queues", options->write_queues, "Write queue count [8]")
        ->check(CLI::Range(1, 1024));
    command->add_option("-p,--perm", options->perm, "Permission bits: 2 write, 4 read [6]")
        ->check(CLI::Range(0, 7));
    command->add_option("-b,--broker", options->broker_address,
                        "Broker remoting address host:port");
    command->add_option("-c,--cluster", options->cluster, "Cluster name (every broker group)");
  }
  {
    auto [command, options] = add_command<SendMessageOptions>(
        app, action, "sendMessage", "Send a message to a topic (quick produce check)",
        run_send_message);
    add_broker_common_options(*command, options->common);
    command->add_option("-t,--topic", options->topic, "Topic")->required();
    command->add_option("-p,--body", options->body, "Message body")->required();
    command->add_option("--tags", options->tags, "TAGS property");
    command->add_option("--keys", options->keys, "KEYS property (space separated keys)");
    command->add_option("--group", options->group, "Producer group [dledgerctl_producer]");
    command->add_option("--count", options->count, "Send the message this many times [1]")
        ->check(CLI::Range(1, 1000000));
    command->add_option("--retries", options->retries, "Retries per message [2]")
        ->check(CLI::Range(0, 100));
  }
  {
    auto [command, options] = add_command<ConsumeMessageOptions>(
        app, action, "consumeMessage", "Read messages of a topic (quick consume check)",
        run_consume_message);
    add_broker_common_options(*command, options->common);
    command->add_option("-t,--topic", options->topic, "Topic")->required();
    command->add_option(
        "-g,--group", options->group,
        "Consumer group: start at its committed offsets and commit where it stopped");
    command->add_option("--max", options->max_messages, "Stop after this many messages [32]")
        ->check(CLI::Range(1, 100000000));
  }
  {
    auto [command, options] = add_command<TopicStatusOptions>(
        app, action, "topicStatus", "Min and max offset of every queue of a topic",
        run_topic_status);
    add_broker_common_options(*command, options->common);
    command->add_option("-t,--topic", options->topic, "Topic")->required();
  }
  {
    auto [command, options] = add_command<ConsumerProgressOptions>(
        app, action, "consumerProgress",
        "Committed offsets of a consumer group against each queue's max offset",
        run_consumer_progress);
    add_broker_common_options(*command, options->common);
    command->add_option("-g,--group", options->group, "Consumer group")->required();
    command->add_option("-t,--topic", options->topic, "Only this topic");
  }
  {
    auto [command, options] = add_command<ConsumerConnectionOptions>(
        app, action, "consumerConnection",
        "Live clients of a consumer group and what they subscribe to", run_consumer_connection);
    add_broker_common_options(*command, options->common);
    command->add_option("-g,--group", options->group, "Consumer group")->required();
  }
  {
    auto [command, options] = add_command<QueryMsgByIdOptions>(
        app, action, "queryMsgById",
        "A message by its offset msgId (asks the replica that stored it, then its group)",
        run_query_msg_by_id);
    add_broker_common_options(*command, options->common);
    command->add_option("-i,--msg-id", options->msg_id, "Offset msgId (32 or 56 hex digits)")
        ->required();
  }
  {
    auto [command, options] = add_command<ProducerConnectionOptions>(
        app, action, "producerConnection", "Clients of a producer group connected to each replica",
        run_producer_connection);
    add_broker_common_options(*command, options->common);
    command->add_option("-g,--group", options->group, "Producer group")->required();
    command->add_option("-t,--topic", options->topic,
                        "Ask only the broker groups of this topic (default: every group)");
  }
  for (const bool unique : {false, true}) {
    auto [command, options] = add_command<QueryMsgByKeyOptions>(
        app, action, unique ? "queryMsgByUniqueKey" : "queryMsgByKey",
        unique ? "Messages by the msgId a producer's SendResult reports (UNIQ_KEY)"
               : "Messages by one of their keys (KEYS), in every group of the topic",
        run_query_msg_by_key);
    options->unique_key = unique;
    add_broker_common_options(*command, options->common);
    command->add_option("-t,--topic", options->topic, "Topic")->required();
    if (unique) {
      command->add_option("-i,--msg-id", options->key, "The producer's msgId (UNIQ_KEY)")
          ->required();
    } else {
      command->add_option("-k,--key", options->key, "One of the message's keys")->required();
      command->add_option("--max", options->max, "Messages per broker group, 1..64")
          ->capture_default_str();
    }
    command->add_option_function<std::int64_t>(
        "--begin-ms", [options](const std::int64_t& v) { options->begin_ms = v; },
        unique ? "Earliest store time, Unix ms (default: a day before the time in the msgId)"
               : "Earliest store time, Unix ms (default: the first message)");
    command->add_option_function<std::int64_t>(
        "--end-ms", [options](const std::int64_t& v) { options->end_ms = v; },
        "Latest store time, Unix ms (default: now)");
  }
}

}  // namespace

int run_command_line(int argc, char** argv) {
  CLI::App app{
      "dledgerctl: administer dledger replicas (admin HTTP endpoints) and broker clusters (name "
      "server and brokers)"};
  app.require_subcommand(1);
  CommandAction action;
  add_replica_commands(app, action);
  add_ledger_client_commands(app, action);
  add_broker_commands(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help or the error
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!action) return kExitUsage;
  return action(std::cout, std::cerr);
}

}  // namespace dledger::ctl
