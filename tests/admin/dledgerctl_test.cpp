// dledgerctl run as a subprocess against admin endpoints served in this process by fake
// backends: table and JSON output, preStop's --if-leader, membership commands, exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "broker/admin/admin_http_server.h"
#include "broker/frontend/remoting_server.h"
#include "broker/programs/dledgerctl/uniq_key.h"
#include "broker/remoting/admin_stats.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/heartbeat.h"
#include "broker/remoting/message_codec.h"
#include "broker/remoting/message_properties.h"
#include "broker/remoting/route_data.h"
#include "broker/remoting/send_header.h"
#include "tests/admin/fake_backend.h"
#include "tests/common/test_net.h"

#ifndef DLEDGERCTL_PATH
#error "DLEDGERCTL_PATH must name the dledgerctl binary"
#endif

namespace dledger::admin {
namespace {

using nlohmann::json;
using testing::FakeBackend;

struct CtlRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string quote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted.push_back(c);
    }
  }
  return quoted + "'";
}

// Runs dledgerctl with `args` (and optional environment assignments) through /bin/sh.
CtlRun dledgerctl(const std::vector<std::string>& args, const std::string& env = "") {
  char dir_template[] = "/tmp/dledgerctl_test_XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  EXPECT_NE(dir, nullptr);
  const std::string out_path = std::string(dir) + "/out";
  const std::string err_path = std::string(dir) + "/err";
  std::string command = "env -u DLEDGER_ADMIN_TOKEN " + env + " " + quote(DLEDGERCTL_PATH);
  for (const std::string& arg : args) command += " " + quote(arg);
  command += " >" + quote(out_path) + " 2>" + quote(err_path);
  const int status = std::system(command.c_str());
  CtlRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_file(out_path);
  run.err = read_file(err_path);
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  ::rmdir(dir);
  return run;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> result;
  for (std::string word; in >> word;) result.push_back(word);
  return result;
}

std::vector<std::string> lines(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> result;
  for (std::string line; std::getline(in, line);) result.push_back(line);
  return result;
}

class DledgerctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    leader_backend_ = std::make_shared<FakeBackend>(testing::leader_status());
    leader_ = start(leader_backend_, "");
    ASSERT_TRUE(leader_);
    follower_backend_ = std::make_shared<FakeBackend>(testing::follower_status(leader_->address()));
    follower_ = start(follower_backend_, "");
    ASSERT_TRUE(follower_);
    leader_backend_->edit([&](ReplicaStatus& s) { s.leader_admin = leader_->address(); });
  }

  static std::unique_ptr<AdminHttpServer> start(std::shared_ptr<FakeBackend> backend,
                                                const std::string& token) {
    AdminServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.token = token;
    auto server = AdminHttpServer::start(options, std::move(backend));
    EXPECT_TRUE(server.ok()) << server.error().to_string();
    return server.ok() ? std::move(server).value() : nullptr;
  }

  std::shared_ptr<FakeBackend> leader_backend_;
  std::unique_ptr<AdminHttpServer> leader_;
  std::shared_ptr<FakeBackend> follower_backend_;
  std::unique_ptr<AdminHttpServer> follower_;
};

TEST_F(DledgerctlTest, StatusPrintsOneRowPerReplicaWithTheLeadersLag) {
  CtlRun run =
      dledgerctl({"status", "--admin", leader_->address(), "--admin", follower_->address()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto rows = lines(run.out);
  ASSERT_EQ(rows.size(), 3u) << run.out;
  EXPECT_EQ(words(rows[0]), (std::vector<std::string>{"ID", "ROLE", "TERM", "LEADER", "COMMIT",
                                                      "LAST", "LAG", "ADDRESS"}));
  EXPECT_EQ(words(rows[1]), (std::vector<std::string>{"n0", "leader", "3", "n0", "1200", "1200",
                                                      "0", leader_->address()}));
  EXPECT_EQ(words(rows[2]), (std::vector<std::string>{"n1", "follower", "3", "n0", "1200", "1200",
                                                      "0", follower_->address()}));
}

TEST_F(DledgerctlTest, StatusJsonPrintsAnArrayOfStatusObjects) {
  CtlRun run =
      dledgerctl({"status", "--admins", leader_->address() + ";" + follower_->address(), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json array = json::parse(run.out, nullptr, false);
  ASSERT_TRUE(array.is_array()) << run.out;
  ASSERT_EQ(array.size(), 2u);
  EXPECT_EQ(array[0]["admin"], leader_->address());
  EXPECT_EQ(array[0]["role"], "leader");
  EXPECT_EQ(array[0]["members"][2]["lag"], 1);
  EXPECT_EQ(array[1]["admin"], follower_->address());
  EXPECT_EQ(array[1]["self_id"], "n1");
  EXPECT_TRUE(array[1]["members"][0]["match_index"].is_null());
}

TEST_F(DledgerctlTest, StatusWithAnUnreachableReplicaPrintsTheRestAndFails) {
  const std::string gone = follower_->address();
  follower_->stop();
  CtlRun run = dledgerctl({"status", "--admin", leader_->address(), "--admin", gone});
  EXPECT_EQ(run.exit_code, 1);
  const auto rows = lines(run.out);
  ASSERT_EQ(rows.size(), 3u) << run.out;
  EXPECT_EQ(words(rows[1])[1], "leader");
  EXPECT_EQ(words(rows[2]),
            (std::vector<std::string>{"?", "unreachable", "-", "-", "-", "-", "-", gone}));
  EXPECT_NE(run.err.find(gone), std::string::npos) << run.err;

  CtlRun as_json = dledgerctl({"status", "--admin", gone, "--json"});
  EXPECT_EQ(as_json.exit_code, 1);
  json array = json::parse(as_json.out, nullptr, false);
  ASSERT_TRUE(array.is_array()) << as_json.out;
  EXPECT_EQ(array[0]["error"], "Unavailable");
}

TEST_F(DledgerctlTest, TransferIfLeaderOnAFollowerDoesNothingAndSucceeds) {
  CtlRun run = dledgerctl({"transferLeader", "--if-leader", "--admin", follower_->address()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("not the leader"), std::string::npos) << run.out;
  EXPECT_TRUE(follower_backend_->calls().empty());
  EXPECT_TRUE(leader_backend_->calls().empty());
}

TEST_F(DledgerctlTest, TransferIfLeaderOnTheLeaderHandsOverToACaughtUpVoter) {
  CtlRun run = dledgerctl({"transferLeader", "--if-leader", "--admin", leader_->address()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(leader_backend_->calls(), std::vector<std::string>{"transfer "});
  EXPECT_NE(run.out.find("leadership transferred to n1 (term 4)"), std::string::npos) << run.out;
  EXPECT_EQ(leader_backend_->status().role, kRoleFollower);
}

TEST_F(DledgerctlTest, TransferToATargetThroughAFollowerReachesTheLeader) {
  CtlRun run =
      dledgerctl({"transferLeader", "--to", "n2", "--admin", follower_->address(), "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(json::parse(run.out, nullptr, false), (json{{"leader_id", "n2"}, {"term", 4}}))
      << run.out;
  EXPECT_EQ(leader_backend_->calls(), std::vector<std::string>{"transfer n2"});
}

TEST_F(DledgerctlTest, MembershipCommandsUseTheTokenFromTheEnvironment) {
  auto secured_backend = std::make_shared<FakeBackend>(testing::leader_status());
  auto secured = start(secured_backend, "tok");
  ASSERT_TRUE(secured);
  const std::string admin = secured->address();

  CtlRun anonymous =
      dledgerctl({"addMember", "--id", "n3", "--address", "10.0.0.3:40911", "--admin", admin});
  EXPECT_EQ(anonymous.exit_code, 1);
  EXPECT_NE(anonymous.err.find("401"), std::string::npos) << anonymous.err;
  EXPECT_NE(anonymous.err.find(admin), std::string::npos) << anonymous.err;
  EXPECT_TRUE(secured_backend->calls().empty());

  CtlRun added =
      dledgerctl({"addMember", "--id", "n3", "--address", "10.0.0.3:40911", "--admin", admin},
                 "DLEDGER_ADMIN_TOKEN=tok");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_NE(added.out.find("added n3 (10.0.0.3:40911) as a learner at index 1201, term 3"),
            std::string::npos)
      << added.out;

  CtlRun lagging = dledgerctl({"promoteMember", "--id", "n3", "--admin", admin, "--token", "tok"});
  EXPECT_EQ(lagging.exit_code, 1);
  EXPECT_NE(lagging.err.find("Busy"), std::string::npos) << lagging.err;

  secured_backend->edit([](ReplicaStatus& s) { s.members.back().lag = 0; });
  CtlRun promoted =
      dledgerctl({"promoteMember", "--id", "n3", "--admin", admin, "--token", "tok", "--json"});
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err;
  EXPECT_EQ(json::parse(promoted.out, nullptr, false), (json{{"index", 1202}, {"term", 3}}));

  CtlRun removed =
      dledgerctl({"removeMember", "--id", "n3", "--admin", admin}, "DLEDGER_ADMIN_TOKEN=tok");
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(secured_backend->status().members.size(), 3u);
  EXPECT_EQ(
      secured_backend->calls(),
      (std::vector<std::string>{"add n3 10.0.0.3:40911", "promote n3", "promote n3", "remove n3"}));
}

TEST_F(DledgerctlTest, MutationsSkipUnreachableAdminsAndFollowTheLeader) {
  const std::string gone = "127.0.0.1:1";
  CtlRun run =
      dledgerctl({"removeMember", "--id", "n2", "--admins", gone + "," + follower_->address()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(leader_backend_->calls(), std::vector<std::string>{"remove n2"});
}

TEST_F(DledgerctlTest, UsageErrorsExitWithTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"frobnicate"},
      {"status", "--bogus"},
      {"status", "--admin", "no-port"},
      {"status", "--timeout-ms", "-5"},
      {"addMember", "--id", "n3"},
      {"addMember", "--id", "n3", "--address", "nohost"},
      {"promoteMember"},
      {"removeMember", "--id", "bad id"},
      {"transferLeader", "--if-leader", "--admins", "h:1;h:2"},
      {"transferLeader", "--to", "n/1"},
  };
  for (const auto& args : cases) {
    CtlRun run = dledgerctl(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(run.exit_code, 2) << joined << "\n" << run.out << run.err;
    EXPECT_FALSE(run.err.empty()) << joined;
  }
  EXPECT_TRUE(leader_backend_->calls().empty());
  EXPECT_EQ(dledgerctl({"--help"}).exit_code, 0);
}

// ---- Broker commands (clusterList, topicList, updateTopic, sendMessage) against an in-process
// fake name server and fake brokers speaking the remoting protocol.

namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using remoting::RemotingCommand;

// A remoting server answering the given codes; records every request it handled.
class FakeRemoting {
 public:
  using Answer = std::function<RemotingCommand(const RemotingCommand&)>;
  explicit FakeRemoting(std::map<std::int32_t, Answer> answers) {
    frontend::RemotingServer::Options options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.io_threads = 1;
    server_ = std::make_unique<frontend::RemotingServer>(options);
    for (auto& [code, answer] : answers) {
      server_->register_handler(
          code, [this, answer](const RemotingCommand& request, frontend::Connection&,
                               frontend::Responder respond) {
            {
              std::lock_guard<std::mutex> lock(mu_);
              requests_.push_back(request);
            }
            respond(answer(request));
          });
    }
    EXPECT_TRUE(server_->start().ok());
  }
  ~FakeRemoting() { server_->stop(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  std::vector<RemotingCommand> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  std::unique_ptr<frontend::RemotingServer> server_;
  std::mutex mu_;
  std::vector<RemotingCommand> requests_;
};

// The fake slave's VIEW_MESSAGE_BY_ID knows a message at this physical offset, stored by a
// replica that is gone (port 1: nothing listens there).
constexpr std::int64_t kViewableOffset = 4242;
const remoting::HostAddress kViewableStoreHost = remoting::HostAddress::ipv4(127, 0, 0, 1, 1);
std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
// The UNIQ_KEY of that message: made an hour ago (initialized before main; the fakes only
// read it).
const std::string kQueryableUniqKey = [] {
  std::mt19937_64 random(7);
  return ctl::make_uniq_key(now_unix_ms() - 3600 * 1000, 1, random);
}();

RemotingCommand ok_with_body(const RemotingCommand& request, std::string body) {
  RemotingCommand response = remoting::make_response(request, resp::kSuccess);
  response.body = std::move(body);
  return response;
}

// A fake broker replica: GET_BROKER_RUNTIME_INFO names `admin_address`; topic updates and sends
// succeed. With `stats`, GET_TOPIC_STATS_INFO and GET_CONSUME_STATS answer canned tables for
// broker-a and VIEW_MESSAGE_BY_ID a message at kViewableOffset (without, they get
// REQUEST_CODE_NOT_SUPPORTED).
std::unique_ptr<FakeRemoting> fake_broker(const std::string& self_id, const std::string& role,
                                          const std::string& admin_address, bool stats = false) {
  std::map<std::int32_t, FakeRemoting::Answer> stats_answers;
  if (stats) {
    stats_answers[rc::kGetTopicStatsInfo] = [](const RemotingCommand& request) {
      remoting::TopicStatsTable table;
      table.offset_table[{"orders", "broker-a", 0}] = {2, 10, 1700000000123};
      table.offset_table[{"orders", "broker-a", 1}] = {0, 0, 0};
      return ok_with_body(request, remoting::write_topic_stats_table(table));
    };
    stats_answers[rc::kGetConsumeStats] = [](const RemotingCommand& request) {
      remoting::ConsumeStats progress;
      progress.offset_table[{"orders", "broker-a", 0}] = {10, 7, 1700000000100};
      progress.offset_table[{"orders", "broker-a", 1}] = {4, 4, 1700000000200};
      return ok_with_body(request, remoting::write_consume_stats(progress));
    };
    stats_answers[rc::kViewMessageById] = [](const RemotingCommand& request) {
      if (request.ext_fields.at("offset") != std::to_string(kViewableOffset)) {
        return remoting::make_response(
            request, resp::kSystemError,
            "can not find message by the offset, " + request.ext_fields.at("offset"));
      }
      remoting::MessageRecord record;
      record.topic = "orders";
      record.queue_id = 3;
      record.queue_offset = 17;
      record.physical_offset = kViewableOffset;
      record.born_host = remoting::HostAddress::ipv4(10, 0, 0, 5, 40001);
      record.store_host = kViewableStoreHost;
      record.born_timestamp_ms = 1700000000000;
      record.store_timestamp_ms = 1700000000123;
      record.body = "hello";
      record.properties = *remoting::encode_message_properties({{"TAGS", "TagA"}, {"KEYS", "k1"}});
      std::string body;
      EXPECT_TRUE(remoting::append_message_record(record, &body).ok());
      return ok_with_body(request, body);
    };
    // QUERY_MESSAGE: the message at kViewableOffset for key "k1" or unique key kQueryableUniqKey.
    stats_answers[rc::kQueryMessage] = [](const RemotingCommand& request) {
      const bool unique = request.ext_fields.contains("_UNIQUE_KEY_QUERY");
      if (request.ext_fields.at("key") != (unique ? kQueryableUniqKey : "k1")) {
        return remoting::make_response(request, resp::kQueryNotFound,
                                       "can not find message, maybe time range not correct");
      }
      remoting::MessageRecord record;
      record.topic = "orders";
      record.queue_id = 3;
      record.queue_offset = 17;
      record.physical_offset = kViewableOffset;
      record.store_host = kViewableStoreHost;
      record.born_host = remoting::HostAddress::ipv4(10, 0, 0, 5, 40001);
      record.store_timestamp_ms = 1700000000123;
      record.body = "hello";
      record.properties = *remoting::encode_message_properties(
          {{"KEYS", "k1 k2"}, {"UNIQ_KEY", kQueryableUniqKey}});
      std::string body;
      EXPECT_TRUE(remoting::append_message_record(record, &body).ok());
      RemotingCommand response = ok_with_body(request, body);
      response.ext_fields["indexLastUpdateTimestamp"] = "1700000000200";
      response.ext_fields["indexLastUpdatePhyoffset"] = "5000";
      return response;
    };
    stats_answers[rc::kGetConsumerConnectionList] = [](const RemotingCommand& request) {
      if (request.ext_fields.at("consumerGroup") != "g1") {
        return remoting::make_response(request, resp::kConsumerNotOnline, "not online");
      }
      remoting::ConsumerConnection connection;
      connection.connections = {{"10.0.0.5@1", "10.0.0.5:40001", "JAVA", 373}};
      remoting::SubscriptionData sub;
      sub.topic = "orders";
      sub.sub_string = "TagA || TagB";
      connection.subscriptions = {sub};
      return ok_with_body(request, remoting::write_consumer_connection(connection));
    };
  }
  auto answers = std::map<std::int32_t, FakeRemoting::Answer>{
      {rc::kGetBrokerRuntimeInfo,
       [=](const RemotingCommand& request) {
         json table = {{"dLegerSelfId", self_id}, {"dLegerRole", role},
                       {"dLegerTerm", "3"},       {"dLegerCommitIndex", "7"},
                       {"dLegerLastIndex", "7"},  {"adminAddress", admin_address}};
         return ok_with_body(request, json{{"table", table}}.dump());
       }},
      {rc::kUpdateAndCreateTopic,
       [](const RemotingCommand& request) {
         return remoting::make_response(request, resp::kSuccess);
       }},
      // Producer group "PG" has one client on each replica whose admin endpoint is reachable,
      // "<selfId>@<role>".
      {rc::kGetProducerConnectionList,
       [=](const RemotingCommand& request) {
         const std::string& group = request.ext_fields.at("producerGroup");
         if (group != "PG" || admin_address == "127.0.0.1:1") {
           return remoting::make_response(request, resp::kSystemError,
                                          "the producer group[" + group + "] not exist");
         }
         remoting::ProducerConnection connection;
         connection.connections = {{self_id + "@" + role, "10.0.0.9:4000", "JAVA", 395}};
         return ok_with_body(request, remoting::write_producer_connection(connection));
       }},
      {rc::kSendMessageV2, [](const RemotingCommand& request) {
         RemotingCommand response = remoting::make_response(request, resp::kSuccess);
         remoting::SendMessageResponse sent;
         sent.msg_id = "7F00000100002A9F0000000000000000";
         sent.queue_id = std::stoi(request.ext_fields.at("e"));
         sent.queue_offset = 41;
         remoting::write_send_message_response(sent, &response);
         return response;
       }}};
  answers.insert(stats_answers.begin(), stats_answers.end());
  return std::make_unique<FakeRemoting>(std::move(answers));
}

class DledgerctlBrokerTest : public DledgerctlTest {
 protected:
  void SetUp() override {
    DledgerctlTest::SetUp();
    master_ = fake_broker("n0", "leader", leader_->address());
    slave_ = fake_broker("n1", "follower", follower_->address(), /*stats=*/true);
    other_master_ = fake_broker("n0", "leader", "127.0.0.1:1");  // admin unreachable
    remoting::ClusterInfo info;
    info.broker_addr_table["broker-a"] = {
        "DefaultCluster", "broker-a", {{0, master_->address()}, {2, slave_->address()}}};
    info.broker_addr_table["broker-b"] = {
        "DefaultCluster", "broker-b", {{0, other_master_->address()}}};
    info.cluster_addr_table["DefaultCluster"] = {"broker-a", "broker-b"};
    remoting::TopicRouteData route;
    route.queue_datas = {{"broker-a", 4, 4, remoting::perm::kReadWrite, 0}};
    route.broker_datas = {info.broker_addr_table["broker-a"]};
    namesrv_ = std::make_unique<FakeRemoting>(std::map<std::int32_t, FakeRemoting::Answer>{
        {rc::kGetBrokerClusterInfo,
         [info](const RemotingCommand& request) {
           return ok_with_body(request, remoting::write_cluster_info(info));
         }},
        {rc::kGetAllTopicListFromNameserver,
         [](const RemotingCommand& request) {
           return ok_with_body(request, R"({"topicList":["orders","%RETRY%g1"]})");
         }},
        {rc::kGetRouteinfoByTopic, [route](const RemotingCommand& request) {
           if (request.ext_fields.at("topic") != "orders") {
             return remoting::make_response(request, resp::kTopicNotExist, "no route");
           }
           return ok_with_body(request, remoting::write_topic_route_data(route));
         }}});
  }

  std::unique_ptr<FakeRemoting> master_;
  std::unique_ptr<FakeRemoting> slave_;
  std::unique_ptr<FakeRemoting> other_master_;
  std::unique_ptr<FakeRemoting> namesrv_;
};

TEST_F(DledgerctlBrokerTest, ClusterListShowsEveryReplicaWithItsLedgerStateAndLag) {
  CtlRun run = dledgerctl({"clusterList", "-n", namesrv_->address()});
  // broker-b's admin endpoint does not answer: its row falls back to the runtime info, the
  // command fails and names the admin address.
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("127.0.0.1:1"), std::string::npos) << run.err;
  const auto rows = lines(run.out);
  ASSERT_EQ(rows.size(), 4u) << run.out;
  EXPECT_EQ(words(rows[0]),
            (std::vector<std::string>{"CLUSTER", "BROKER", "BID", "ADDRESS", "ID", "ROLE", "TERM",
                                      "COMMIT", "LAST", "LAG", "ADMIN"}));
  // Term, commit and last index from each replica's /status (1200), lag from the leader's view.
  EXPECT_EQ(words(rows[1]),
            (std::vector<std::string>{"DefaultCluster", "broker-a", "0", master_->address(), "n0",
                                      "leader", "3", "1200", "1200", "0", leader_->address()}));
  EXPECT_EQ(words(rows[2]),
            (std::vector<std::string>{"DefaultCluster", "broker-a", "2", slave_->address(), "n1",
                                      "follower", "3", "1200", "1200", "0", follower_->address()}));
  EXPECT_EQ(words(rows[3]),
            (std::vector<std::string>{"DefaultCluster", "broker-b", "0", other_master_->address(),
                                      "n0", "leader", "3", "7", "7", "-", "127.0.0.1:1"}));
}

TEST_F(DledgerctlBrokerTest, ClusterListJsonMarksUnreachableBrokers) {
  slave_.reset();  // broker-a BID 2 no longer answers
  CtlRun run = dledgerctl({"clusterList", "-n", namesrv_->address(), "--json"});
  EXPECT_EQ(run.exit_code, 1);
  json rows = json::parse(run.out, nullptr, false);
  ASSERT_TRUE(rows.is_array()) << run.out;
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["brokerId"], 0);
  EXPECT_EQ(rows[0]["role"], "leader");
  EXPECT_EQ(rows[0]["lag"], 0);
  EXPECT_EQ(rows[1]["brokerId"], 2);
  EXPECT_EQ(rows[1]["role"], "unreachable");
  EXPECT_TRUE(rows[1]["term"].is_null());
  const std::string slave_address = rows[1]["address"];
  EXPECT_NE(rows[1]["error"].get<std::string>().find(slave_address), std::string::npos);
  EXPECT_NE(run.err.find(slave_address), std::string::npos) << run.err;
}

TEST_F(DledgerctlBrokerTest, ClusterListWithoutANameServerFailsNamingIt) {
  const std::string gone = "127.0.0.1:" + std::to_string(dledger::testing::free_port());
  CtlRun run = dledgerctl({"clusterList", "-n", gone});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find(gone), std::string::npos) << run.err;
  CtlRun from_env = dledgerctl({"topicList"}, "NAMESRV_ADDR=" + gone);
  EXPECT_EQ(from_env.exit_code, 1);
  EXPECT_NE(from_env.err.find(gone), std::string::npos) << from_env.err;
}

TEST_F(DledgerctlBrokerTest, TopicListPrintsTheNameServersTopics) {
  CtlRun run = dledgerctl({"topicList", "-n", namesrv_->address()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(lines(run.out), (std::vector<std::string>{"%RETRY%g1", "orders"}));
  CtlRun as_json = dledgerctl({"topicList", "-n", namesrv_->address(), "--json"});
  EXPECT_EQ(json::parse(as_json.out, nullptr, false), json({"%RETRY%g1", "orders"}));
}

TEST_F(DledgerctlBrokerTest, UpdateTopicOnAClusterReachesEveryMaster) {
  CtlRun run = dledgerctl({"updateTopic", "-n", namesrv_->address(), "-c", "DefaultCluster", "-t",
                           "payments", "-r", "3", "-w", "5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(lines(run.out).size(), 2u) << run.out;
  for (FakeRemoting* master : {master_.get(), other_master_.get()}) {
    std::vector<RemotingCommand> updates;
    for (const auto& r : master->requests()) {
      if (r.code == rc::kUpdateAndCreateTopic) updates.push_back(r);
    }
    ASSERT_EQ(updates.size(), 1u) << master->address();
    EXPECT_EQ(updates[0].ext_fields.at("topic"), "payments");
    EXPECT_EQ(updates[0].ext_fields.at("readQueueNums"), "3");
    EXPECT_EQ(updates[0].ext_fields.at("writeQueueNums"), "5");
  }
  EXPECT_TRUE(slave_->requests().empty());

  CtlRun direct = dledgerctl({"updateTopic", "-b", slave_->address(), "-t", "payments"});
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  ASSERT_EQ(slave_->requests().size(), 1u);
  EXPECT_EQ(slave_->requests()[0].ext_fields.at("readQueueNums"), "8");

  CtlRun unknown = dledgerctl(
      {"updateTopic", "-n", namesrv_->address(), "-c", "NoSuchCluster", "-t", "payments"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("NoSuchCluster"), std::string::npos) << unknown.err;
}

TEST_F(DledgerctlBrokerTest, SendMessageGoesToTheMasterWithTagsAndKeys) {
  CtlRun run = dledgerctl({"sendMessage", "-n", namesrv_->address(), "-t", "orders", "-p", "hello",
                           "--tags", "TagA", "--keys", "k1", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json ack = json::parse(run.out, nullptr, false);
  EXPECT_EQ(ack["status"], "SEND_OK");
  EXPECT_EQ(ack["address"], master_->address());
  EXPECT_EQ(ack["queueOffset"], 41);
  std::vector<RemotingCommand> sends;
  for (const auto& r : master_->requests()) {
    if (r.code == rc::kSendMessageV2) sends.push_back(r);
  }
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].body, "hello");
  auto properties = remoting::decode_message_properties(sends[0].ext_fields.at("i"));
  ASSERT_TRUE(properties.ok());
  EXPECT_EQ(properties->at("TAGS"), "TagA");
  EXPECT_EQ(properties->at("KEYS"), "k1");
  EXPECT_EQ(properties->at("UNIQ_KEY"), ack["uniqKey"]);
  EXPECT_TRUE(slave_->requests().empty());

  CtlRun missing = dledgerctl(
      {"sendMessage", "-n", namesrv_->address(), "-t", "nosuch", "-p", "x", "--retries", "0"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nosuch"), std::string::npos) << missing.err;
}

TEST_F(DledgerctlBrokerTest, TopicStatusAsksTheNextReplicaWhenTheMasterDoesNotAnswer) {
  // broker-a's master does not know GET_TOPIC_STATS_INFO; its slave answers.
  CtlRun run = dledgerctl({"topicStatus", "-n", namesrv_->address(), "-t", "orders"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto rows = lines(run.out);
  ASSERT_EQ(rows.size(), 3u) << run.out;
  EXPECT_EQ(words(rows[0]),
            (std::vector<std::string>{"BROKER", "QID", "MIN", "MAX", "LAST_UPDATED"}));
  EXPECT_EQ(words(rows[1]),
            (std::vector<std::string>{"broker-a", "0", "2", "10", "2023-11-14T22:13:20.123Z"}));
  EXPECT_EQ(words(rows[2]), (std::vector<std::string>{"broker-a", "1", "0", "0", "-"}));
  const auto asked = slave_->requests();
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].code, rc::kGetTopicStatsInfo);
  EXPECT_EQ(asked[0].ext_fields.at("topic"), "orders");

  CtlRun unknown = dledgerctl({"topicStatus", "-n", namesrv_->address(), "-t", "nope"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("nope"), std::string::npos) << unknown.err;
}

TEST_F(DledgerctlBrokerTest, ConsumerProgressPrintsWhatAnsweredAndNamesTheGroupThatDidNot) {
  // Every broker group is asked: broker-a through its slave, broker-b (no answer) is named.
  CtlRun run = dledgerctl({"consumerProgress", "-n", namesrv_->address(), "-g", "g1", "--json"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("broker-b"), std::string::npos) << run.err;
  json report = json::parse(run.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_EQ(report["consumerGroup"], "g1");
  EXPECT_EQ(report["diffTotal"], 3);
  ASSERT_EQ(report["queues"].size(), 2u);
  EXPECT_EQ(report["queues"][0]["brokerOffset"], 10);
  EXPECT_EQ(report["queues"][0]["consumerOffset"], 7);
  EXPECT_EQ(report["queues"][0]["diff"], 3);
  EXPECT_EQ(report["queues"][0]["lastTimestamp"], 1700000000100);
  const auto requests = slave_->requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().ext_fields.at("consumerGroup"), "g1");
  EXPECT_EQ(requests.back().ext_fields.count("topic"), 0u);

  // With -t only the topic's route (broker-a) is asked.
  CtlRun text =
      dledgerctl({"consumerProgress", "-n", namesrv_->address(), "-g", "g1", "-t", "orders"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("Diff Total: 3"), std::string::npos) << text.out;
  EXPECT_EQ(slave_->requests().back().ext_fields.at("topic"), "orders");
}

TEST_F(DledgerctlBrokerTest, ConsumerConnectionListsTheClientsOfAGroupOnlineSomewhere) {
  // A name server whose only broker group is served by a replica that answers 203.
  remoting::ClusterInfo info;
  info.broker_addr_table["broker-a"] = {"DefaultCluster", "broker-a", {{0, slave_->address()}}};
  FakeRemoting namesrv(std::map<std::int32_t, FakeRemoting::Answer>{
      {rc::kGetBrokerClusterInfo, [info](const RemotingCommand& request) {
         return ok_with_body(request, remoting::write_cluster_info(info));
       }}});
  CtlRun run = dledgerctl({"consumerConnection", "-n", namesrv.address(), "-g", "g1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto rows = lines(run.out);
  ASSERT_GE(rows.size(), 6u) << run.out;
  EXPECT_EQ(words(rows[0]),
            (std::vector<std::string>{"BROKER", "CLIENT_ID", "ADDRESS", "LANGUAGE", "VERSION"}));
  EXPECT_EQ(words(rows[1]),
            (std::vector<std::string>{"broker-a", "10.0.0.5@1", "10.0.0.5:40001", "JAVA", "373"}));
  EXPECT_NE(run.out.find("messageModel: CLUSTERING"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("TagA || TagB"), std::string::npos) << run.out;

  CtlRun offline = dledgerctl({"consumerConnection", "-n", namesrv.address(), "-g", "g2"});
  EXPECT_EQ(offline.exit_code, 1);
  EXPECT_NE(offline.err.find("g2 has no live client"), std::string::npos) << offline.err;
}

TEST_F(DledgerctlBrokerTest, QueryMsgByIdFindsAMessageWhoseStoringReplicaIsGone) {
  // The msgId names a replica no group lists any more (it died): every group is asked, master
  // first; broker-a's master does not know VIEW_MESSAGE_BY_ID, its slave has the message.
  const std::string id = remoting::encode_offset_msg_id(kViewableStoreHost, kViewableOffset);
  CtlRun run = dledgerctl({"queryMsgById", "-n", namesrv_->address(), "-i", id, "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json message = json::parse(run.out, nullptr, false);
  ASSERT_TRUE(message.is_object()) << run.out;
  EXPECT_EQ(message["msgId"], id);
  EXPECT_EQ(message["brokerName"], "broker-a");
  EXPECT_EQ(message["address"], slave_->address());
  EXPECT_EQ(message["topic"], "orders");
  EXPECT_EQ(message["queueId"], 3);
  EXPECT_EQ(message["queueOffset"], 17);
  EXPECT_EQ(message["physicalOffset"], kViewableOffset);
  EXPECT_EQ(message["tags"], "TagA");
  EXPECT_EQ(message["keys"], "k1");
  EXPECT_EQ(message["body"], "hello");
  EXPECT_EQ(message["bornHost"], "10.0.0.5:40001");
  EXPECT_EQ(message["storeTimestamp"], 1700000000123);
  const auto asked = slave_->requests();
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].ext_fields.at("offset"), std::to_string(kViewableOffset));

  // Text: one "field: value" line each. A lower-case msgId is the same id.
  std::string lower = id;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CtlRun text = dledgerctl({"queryMsgById", "-n", namesrv_->address(), "-i", lower});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("topic:           orders\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("storeTimestamp:  2023-11-14T22:13:20.123Z\n"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("body:            hello\n"), std::string::npos) << text.out;
}

TEST_F(DledgerctlBrokerTest, QueryMsgByIdNeverReturnsAnotherReplicasMessageAtTheSameOffset) {
  // The msgId names broker-a's master and kViewableOffset: its slave holds a message at that
  // offset, but one stored by another replica (another msgId), so it is not the answer.
  auto master = remoting::HostAddress::parse(master_->address());
  ASSERT_TRUE(master.ok());
  const std::string id = remoting::encode_offset_msg_id(*master, kViewableOffset);
  CtlRun run = dledgerctl({"queryMsgById", "-n", namesrv_->address(), "-i", id});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find(master_->address() + ": VIEW_MESSAGE_BY_ID: REQUEST_CODE_NOT_SUPPORTED"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find(slave_->address() + ": holds another message at that offset"),
            std::string::npos)
      << run.err;
  EXPECT_TRUE(other_master_->requests().empty()) << "broker-b is not the master's group";

  // No replica has a message at the offset: every address named with its answer.
  const std::string unknown = remoting::encode_offset_msg_id(*master, kViewableOffset + 1);
  CtlRun missing = dledgerctl({"queryMsgById", "-n", namesrv_->address(), "-i", unknown});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("can not find message by the offset, 4243"), std::string::npos)
      << missing.err;
}

TEST_F(DledgerctlBrokerTest, QueryMsgByKeyAsksEachGroupOfTheTopicUntilAReplicaAnswers) {
  // broker-a's master does not know QUERY_MESSAGE; its slave answers.
  CtlRun run = dledgerctl(
      {"queryMsgByKey", "-n", namesrv_->address(), "-t", "orders", "-k", "k1", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json messages = json::parse(run.out, nullptr, false);
  ASSERT_TRUE(messages.is_array()) << run.out;
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["brokerName"], "broker-a");
  EXPECT_EQ(messages[0]["address"], slave_->address());
  EXPECT_EQ(messages[0]["keys"], "k1 k2");
  EXPECT_EQ(messages[0]["body"], "hello");
  EXPECT_EQ(messages[0]["queueOffset"], 17);
  auto asked = slave_->requests();
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].code, rc::kQueryMessage);
  EXPECT_EQ(asked[0].ext_fields.at("topic"), "orders");
  EXPECT_EQ(asked[0].ext_fields.at("maxNum"), "32");
  EXPECT_EQ(asked[0].ext_fields.at("beginTimestamp"), "0");
  EXPECT_EQ(asked[0].ext_fields.at("endTimestamp"), std::to_string(INT64_MAX));
  EXPECT_FALSE(asked[0].ext_fields.contains("_UNIQUE_KEY_QUERY"));
  EXPECT_TRUE(other_master_->requests().empty()) << "broker-b serves no queue of the topic";

  // The range and --max go to the broker as given; text output as queryMsgById's.
  CtlRun text = dledgerctl({"queryMsgByKey", "-n", namesrv_->address(), "-t", "orders", "-k", "k1",
                            "--begin-ms", "5", "--end-ms", "1700000000999", "--max", "3"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("keys:            k1 k2\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("address:         " + slave_->address() + "\n"), std::string::npos);
  asked = slave_->requests();
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[1].ext_fields.at("beginTimestamp"), "5");
  EXPECT_EQ(asked[1].ext_fields.at("endTimestamp"), "1700000000999");
  EXPECT_EQ(asked[1].ext_fields.at("maxNum"), "3");

  // Nothing found: exit 1, each group named with its answer.
  CtlRun none =
      dledgerctl({"queryMsgByKey", "-n", namesrv_->address(), "-t", "orders", "-k", "k9"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no message with key k9 in topic orders"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("broker-a (" + slave_->address() + "): none (can not find message"),
            std::string::npos)
      << none.err;
  CtlRun unknown_topic =
      dledgerctl({"queryMsgByKey", "-n", namesrv_->address(), "-t", "nosuch", "-k", "k1"});
  EXPECT_EQ(unknown_topic.exit_code, 1);
  EXPECT_NE(unknown_topic.err.find("nosuch"), std::string::npos) << unknown_topic.err;
}

TEST_F(DledgerctlBrokerTest, QueryMsgByUniqueKeyAsksFromADayBeforeTheTimeInTheMsgId) {
  CtlRun run = dledgerctl(
      {"queryMsgByUniqueKey", "-n", namesrv_->address(), "-t", "orders", "-i", kQueryableUniqKey});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("uniqKey:         " + kQueryableUniqKey + "\n"), std::string::npos)
      << run.out;
  auto asked = slave_->requests();
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].ext_fields.at("key"), kQueryableUniqKey);
  EXPECT_EQ(asked[0].ext_fields.at("_UNIQUE_KEY_QUERY"), "true");
  auto made = ctl::uniq_key_time_ms(kQueryableUniqKey, now_unix_ms());
  ASSERT_TRUE(made.has_value());
  EXPECT_EQ(asked[0].ext_fields.at("beginTimestamp"), std::to_string(*made - 24 * 3600 * 1000));
  // An id that carries no usable time (not 32/56 hex digits) is looked up from the beginning.
  CtlRun odd = dledgerctl(
      {"queryMsgByUniqueKey", "-n", namesrv_->address(), "-t", "orders", "-i", "custom-id"});
  EXPECT_EQ(odd.exit_code, 1);
  asked = slave_->requests();
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[1].ext_fields.at("beginTimestamp"), "0");
  EXPECT_NE(odd.err.find("no message with msgId custom-id"), std::string::npos) << odd.err;
  // queryMsgById refuses such an id (its pid reads as a port beyond 65535) and points here.
  CtlRun by_id = dledgerctl({"queryMsgById", "-n", namesrv_->address(), "-i", kQueryableUniqKey});
  EXPECT_EQ(by_id.exit_code, 2);
  EXPECT_NE(by_id.err.find("not an offset msgId"), std::string::npos) << by_id.err;
  EXPECT_NE(by_id.err.find("dledgerctl queryMsgByUniqueKey -t <topic> -i " + kQueryableUniqKey),
            std::string::npos)
      << by_id.err;
}

TEST_F(DledgerctlBrokerTest, ProducerConnectionAsksEveryReplicaForItsOwnClients) {
  CtlRun run = dledgerctl({"producerConnection", "-n", namesrv_->address(), "-g", "PG", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json report = json::parse(run.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << run.out;
  EXPECT_EQ(report["producerGroup"], "PG");
  ASSERT_EQ(report["connections"].size(), 2u) << run.out;  // broker-b's replica has none
  EXPECT_EQ(report["connections"][0]["brokerName"], "broker-a");
  EXPECT_EQ(report["connections"][0]["replica"], master_->address());
  EXPECT_EQ(report["connections"][0]["clientId"], "n0@leader");
  EXPECT_EQ(report["connections"][1]["replica"], slave_->address());
  EXPECT_EQ(report["connections"][1]["clientId"], "n1@follower");
  EXPECT_EQ(report["connections"][1]["version"], 395);
  EXPECT_EQ(other_master_->requests().size(), 1u);

  // With -t only the topic's broker groups are asked; text output is a table.
  CtlRun text =
      dledgerctl({"producerConnection", "-n", namesrv_->address(), "-g", "PG", "-t", "orders"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("CLIENT_ID"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("n1@follower"), std::string::npos) << text.out;
  EXPECT_EQ(other_master_->requests().size(), 1u) << "broker-b serves no queue of orders";

  CtlRun nobody = dledgerctl({"producerConnection", "-n", namesrv_->address(), "-g", "nobody"});
  EXPECT_EQ(nobody.exit_code, 1);
  EXPECT_NE(nobody.err.find("the producer group nobody has no client connected to any replica"),
            std::string::npos)
      << nobody.err;
}

TEST_F(DledgerctlBrokerTest, BrokerCommandUsageErrorsExitWithTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {"clusterList", "-n", "no-port"},
      {"updateTopic", "-t", "orders"},
      {"updateTopic", "-t", "orders", "-b", "h:1", "-c", "C"},
      {"updateTopic", "-t", "bad topic", "-b", "h:1"},
      {"updateTopic", "-t", "orders", "-b", "h:1", "-r", "0"},
      {"sendMessage", "-t", "orders"},
      {"sendMessage", "-t", "orders", "-p", "x", "--tags", std::string("a\x01") + "b"},
      {"consumeMessage", "-t", "orders", "--max", "0"},
      {"topicStatus"},
      {"consumerProgress", "-t", "orders"},
      {"consumerConnection"},
      {"queryMsgById"},
      {"queryMsgById", "-i", "not-a-msg-id"},
      {"queryMsgByKey", "-t", "orders"},
      {"queryMsgByKey", "-k", "k1"},
      {"queryMsgByKey", "-t", "orders", "-k", "k1", "--max", "65"},
      {"queryMsgByKey", "-t", "orders", "-k", "k1", "--begin-ms", "9", "--end-ms", "8"},
      {"queryMsgByKey", "-t", "orders", "-k", "k1", "--begin-ms", "soon"},
      {"queryMsgByUniqueKey", "-t", "orders"},
      {"producerConnection"},
  };
  for (const auto& args : cases) {
    CtlRun run = dledgerctl(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(run.exit_code, 2) << joined << "\n" << run.out << run.err;
    EXPECT_FALSE(run.err.empty()) << joined;
  }
}

}  // namespace
}  // namespace dledger::admin
