// Thread names reach the kernel (what `top -H` and perf show) and are cut to Linux's limit.
#include "broker/base/thread_name.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace dledger {
namespace {

std::string kernel_thread_name() {
  std::ifstream comm("/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

TEST(ThreadName, NameIsWhatTheKernelShowsForThatThreadOnly) {
  const std::string main_name = kernel_thread_name();
  std::string seen;
  std::thread worker([&] {
    set_thread_name("dl-writer");
    seen = kernel_thread_name();
    EXPECT_EQ(thread_name(), "dl-writer");
  });
  worker.join();
  EXPECT_EQ(seen, "dl-writer");
  EXPECT_EQ(kernel_thread_name(), main_name);
}

TEST(ThreadName, NamedThreadIsNamedBeforeItsBodyRuns) {
  std::string seen;
  std::thread worker = named_thread("store-apply", [&seen] { seen = kernel_thread_name(); });
  worker.join();
  EXPECT_EQ(seen, "store-apply");
}

TEST(ThreadName, LongNamesAreCutToFifteenBytes) {
  std::string seen;
  std::thread worker([&] {
    set_thread_name("remoting-io-0123456789");
    seen = kernel_thread_name();
  });
  worker.join();
  EXPECT_EQ(seen, "remoting-io-012");
  EXPECT_EQ(seen.size(), kMaxThreadNameBytes);
}

}  // namespace
}  // namespace dledger
