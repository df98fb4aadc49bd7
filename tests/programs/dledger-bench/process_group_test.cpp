#include "broker/programs/dledger-bench/process_group.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace dledger::bench {
namespace {

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "-" + std::to_string(::getpid());
}

TEST(ExitedMessage, NamesTheLogAndQuotesItsLastLines) {
  const std::string path = temp_path("exited-message.log");
  {
    std::ofstream out(path);
    for (int i = 1; i <= 30; ++i) out << "line " << i << "\n";
  }
  const std::string message = exited_message("n0", path, 20);
  EXPECT_EQ(message.rfind("n0 exited; see " + path + "; its last lines:", 0), 0u) << message;
  EXPECT_NE(message.find("\n  line 11\n"), std::string::npos) << message;
  EXPECT_NE(message.find("\n  line 30"), std::string::npos) << message;
  EXPECT_EQ(message.find("line 10\n"), std::string::npos) << message;
  ::unlink(path.c_str());
}

TEST(ExitedMessage, SaysSoWhenTheLogIsMissing) {
  EXPECT_EQ(exited_message("broker n2", temp_path("no-such.log"), 20),
            "broker n2 exited; see " + temp_path("no-such.log") + " (empty or unreadable)");
}

}  // namespace
}  // namespace dledger::bench
