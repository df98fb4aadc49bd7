// pick_loopback_port: ports below the kernel's ephemeral range (where no outgoing connection
// takes its local port), each one bindable when returned; a port something holds is never
// reported as bindable.
#include "broker/base/loopback_port.h"

#include <gtest/gtest.h>

namespace dledger {
namespace {

TEST(LoopbackPort, PicksBindablePortsBelowTheEphemeralRange) {
  const std::uint32_t low = ephemeral_port_low();
  for (int i = 0; i < 50; ++i) {
    const std::uint16_t port = pick_loopback_port();
    ASSERT_NE(port, 0);
    if (low >= 11000) {
      EXPECT_GE(port, 10000);
      EXPECT_LT(port, low) << "inside the ephemeral range " << low << "+";
    }
    EXPECT_TRUE(try_bind_loopback(port, nullptr)) << port;
  }
}

TEST(LoopbackPort, APortHeldByAListenerIsNotBindable) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::uint16_t held = ntohs(addr.sin_port);
  EXPECT_FALSE(try_bind_loopback(held, nullptr));
  ::close(fd);
  std::uint16_t any = 0;
  EXPECT_TRUE(try_bind_loopback(0, &any));
  EXPECT_NE(any, 0);
}

}  // namespace
}  // namespace dledger
