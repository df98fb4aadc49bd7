// main() of the drill tests: enters a private mount + network namespace (private_namespace.h)
// before GoogleTest starts any thread, so every child (brokers, name server, operator, kubectl)
// shares a loopback-only network and an /etc/hosts the pod runner owns. Listing the tests
// (ctest discovery) needs no namespace.
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "tests/operator/e2e/private_namespace.h"

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--gtest_list_tests") == 0) listing = true;
  }
  if (!listing) {
    const std::string hosts = "/tmp/dledger-drill-hosts-" + std::to_string(::getpid());
    auto entered = dledger::e2e::enter_private_namespaces(hosts);
    ::unlink(hosts.c_str());  // the bind mount keeps the file alive for this namespace only
    if (!entered.ok()) {
      std::cerr << "operator drills: cannot set up the private namespaces: "
                << entered.error().to_string() << "\n";
      return 1;
    }
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
