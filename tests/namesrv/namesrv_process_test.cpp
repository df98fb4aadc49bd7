// dledger-namesrv as a real process: configuration errors, route queries over a socket, clean
// stop on SIGTERM.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "broker/frontend/remoting_client.h"
#include "broker/remoting/codes.h"
#include "broker/remoting/register_broker.h"
#include "broker/remoting/route_data.h"

namespace dledger::namesrv {
namespace {

using namespace std::chrono_literals;
using remoting::RemotingCommand;

// A child process with stdout+stderr captured through one pipe.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_ = fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a test killed by its timeout leaves no server
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      std::string binary = DLEDGER_NAMESRV_BINARY;
      argv.push_back(binary.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
  }

  // Reads output until it contains `prefix` followed by digits; returns the digits, or empty when
  // the output ends or the attempts run out first.
  std::string wait_for_number_after(const std::string& prefix) {
    for (int attempt = 0; attempt < 600; ++attempt) {
      auto at = output_.find(prefix);
      if (at != std::string::npos) {
        std::size_t begin = at + prefix.size();
        std::size_t end = begin;
        while (end < output_.size() && std::isdigit(static_cast<unsigned char>(output_[end]))) {
          ++end;
        }
        if (end > begin && end < output_.size()) return output_.substr(begin, end - begin);
      }
      if (eof_) return {};
      read_some(100);
    }
    return {};
  }

  // Waits for exit and returns the exit status (-1 on a signal), draining output.
  int wait_exit() {
    while (!eof_) read_some(100);
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  void signal(int sig) { kill(pid_, sig); }
  const std::string& output() const { return output_; }

 private:
  bool read_some(int timeout_ms) {
    pollfd pfd{out_fd_, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    output_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  bool eof_ = false;
  bool reaped_ = false;
  std::string output_;
};

RemotingCommand register_request(const std::string& name, const std::string& addr,
                                 std::int64_t id) {
  RemotingCommand cmd = remoting::make_request(remoting::request_code::kRegisterBroker, 0);
  remoting::RegisterBrokerRequest header;
  header.cluster_name = "c1";
  header.broker_name = name;
  header.broker_addr = addr;
  header.broker_id = id;
  remoting::write_register_broker_request(header, &cmd);
  remoting::RegisterBrokerBody body;
  remoting::TopicConfig config;
  config.topic_name = "T";
  body.topic_config_table["T"] = config;
  cmd.body = remoting::write_register_broker_body(body);
  return cmd;
}

TEST(NamesrvProcessTest, ServesRoutesAndStopsCleanlyOnSigterm) {
  Child child({"-p", "listenPort=0", "-p", "brokerExpireSeconds=60", "-p", "colour=blue"});
  std::string port = child.wait_for_number_after("serving on port ");
  ASSERT_FALSE(port.empty()) << child.output();
  EXPECT_NE(child.output().find("unknown key 'colour'"), std::string::npos) << child.output();

  auto client = frontend::RemotingClient::connect("127.0.0.1:" + port);
  ASSERT_TRUE(client.ok()) << client.error().message;
  for (auto request :
       {register_request("g1", "127.0.0.1:10911", 0), register_request("g1", "127.0.0.1:10912", 1),
        register_request("g2", "127.0.0.1:10921", 0),
        register_request("g1", "127.0.0.1:10912", 0)}) {
    auto reply = (*client)->invoke_sync(request, 10s);
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    EXPECT_EQ(reply->code, remoting::response_code::kSuccess);
  }
  RemotingCommand route = remoting::make_request(remoting::request_code::kGetRouteinfoByTopic, 0);
  route.ext_fields["topic"] = "T";
  auto reply = (*client)->invoke_sync(route, 10s);
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->code, remoting::response_code::kSuccess);
  auto data = remoting::parse_topic_route_data(reply->body);
  ASSERT_TRUE(data.ok());
  ASSERT_EQ(data->broker_datas.size(), 2u);
  EXPECT_EQ(data->broker_datas[0].broker_addrs,
            (std::map<std::int64_t, std::string>{{0, "127.0.0.1:10912"}}));
  EXPECT_EQ(data->broker_datas[1].broker_addrs,
            (std::map<std::int64_t, std::string>{{0, "127.0.0.1:10921"}}));
  (*client)->close();

  child.signal(SIGTERM);
  EXPECT_EQ(child.wait_exit(), 0) << child.output();
  EXPECT_NE(child.output().find("stopped"), std::string::npos);
}

TEST(NamesrvProcessTest, InvalidValueExitsTwoNamingKeyAndValue) {
  Child child({"-p", "listenPort=0", "-p", "brokerExpireSeconds=forever"});
  EXPECT_EQ(child.wait_exit(), 2);
  EXPECT_NE(child.output().find("brokerExpireSeconds"), std::string::npos) << child.output();
  EXPECT_NE(child.output().find("forever"), std::string::npos) << child.output();
}

TEST(NamesrvProcessTest, ConfigFileIsReadAndBadLineIsNamed) {
  char path[] = "/tmp/namesrv-conf-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "serverWorkerThreads = 0\n";
  }
  Child child({"-c", path, "-p", "listenPort=0"});
  EXPECT_EQ(child.wait_exit(), 2);
  EXPECT_NE(child.output().find("serverWorkerThreads"), std::string::npos) << child.output();
  Child missing({"-c", "/nonexistent/namesrv.conf"});
  EXPECT_EQ(missing.wait_exit(), 2);
  std::remove(path);
}

}  // namespace
}  // namespace dledger::namesrv
