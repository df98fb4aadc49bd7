// The kube-test-apiserver program: port file, kubeconfig, serving kubectl, clean SIGTERM exit.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/kube/http_test_client.h"

extern char** environ;

namespace dledger::kube {
namespace {

TEST(KubeTestApiserverProgram, WritesPortFileAndKubeconfigAndStopsOnSigterm) {
  char pattern[] = "/tmp/dledger-kube-program-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  const std::string port_file = dir + "/port";
  const std::string kubeconfig = dir + "/kubeconfig";
  std::vector<std::string> args = {
      KUBE_TEST_APISERVER_PATH, "--port",  "0", "--crd", DLEDGER_CRD_PATH, "--port-file", port_file,
      "--kubeconfig-out",       kubeconfig};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);

  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!std::filesystem::exists(port_file) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int port = 0;
  std::ifstream(port_file) >> port;
  EXPECT_GT(port, 0);
  if (port > 0) {
    auto version = testing::http_request(static_cast<uint16_t>(port), "GET", "/version");
    EXPECT_EQ(version.status, 200);
    auto groups =
        testing::http_request(static_cast<uint16_t>(port), "GET", "/apis/dledger.io/v1alpha1");
    EXPECT_EQ(groups.status, 200);
    std::ifstream config(kubeconfig);
    std::string text((std::istreambuf_iterator<char>(config)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("server: http://127.0.0.1:" + std::to_string(port)), std::string::npos)
        << text;
  }
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

TEST(KubeTestApiserverProgram, UnreadableCrdFailsNamingTheFile) {
  const std::string command =
      std::string(KUBE_TEST_APISERVER_PATH) + " --port 0 --crd /nonexistent/crd.yaml 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[1024];
  size_t bytes;
  while ((bytes = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, bytes);
  const int status = pclose(pipe);
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(output.find("/nonexistent/crd.yaml"), std::string::npos) << output;
}

}  // namespace
}  // namespace dledger::kube
