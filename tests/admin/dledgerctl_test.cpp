// dledgerctl run as a subprocess against admin endpoints served in this process by fake
// backends: table and JSON output, preStop's --if-leader, membership commands, exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "broker/admin/admin_http_server.h"
#include "tests/admin/fake_backend.h"

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

}  // namespace
}  // namespace dledger::admin
