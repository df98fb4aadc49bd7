// TcpForwarder (broker/programs/dledger-bench/tcp_forwarder.h), the stand-in for a Kubernetes
// Service in `dledger-bench group-failover`: each client connection goes to one backend that
// accepts, in round-robin order, skipping backends that refuse; bytes pass unchanged both ways;
// a backend closing its side closes the client's. Plain sockets on 127.0.0.1, bounded waits.
#include "broker/programs/dledger-bench/tcp_forwarder.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "broker/frontend/remoting_client.h"
#include "tests/common/test_net.h"

namespace dledger::bench {
namespace {

// A listening socket on 127.0.0.1:0 standing for one replica.
class Backend {
 public:
  Backend() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    address_ = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  }
  ~Backend() { ::close(fd_); }
  const std::string& address() const { return address_; }
  // The next forwarded connection, or -1 when none arrives within 10 s.
  int accept_one() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) return -1;
    return ::accept(fd_, nullptr, nullptr);
  }

 private:
  int fd_ = -1;
  std::string address_;
};

int connect_to(const std::string& address) {
  auto split = frontend::split_host_port(address);
  if (!split.ok()) return -1;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(split->second);
  ::inet_pton(AF_INET, split->first.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads exactly `bytes` (bounded by 10 s); what arrived, shorter on EOF or timeout.
std::string read_some(int fd, std::size_t bytes) {
  std::string out;
  while (out.size() < bytes) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) break;
    char buffer[4096];
    ssize_t n = ::read(fd, buffer, std::min(sizeof(buffer), bytes - out.size()));
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

// True when the peer closed `fd` (read returns 0 or an error) within 10 s.
bool closed_by_peer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 10000) != 1) return false;
  char byte;
  return ::read(fd, &byte, 1) <= 0;
}

TEST(TcpForwarder, ConnectionsRotateOverBackendsAndSkipOnesThatRefuse) {
  Backend a;
  Backend c;
  const std::string refusing = "127.0.0.1:" + std::to_string(testing::free_port());
  TcpForwarder::Options options;
  options.backends = [&] { return std::vector<std::string>{a.address(), refusing, c.address()}; };
  auto forwarder = TcpForwarder::start(options);
  ASSERT_TRUE(forwarder.ok()) << forwarder.error().message;

  // First connection: backend a. Second: the refusing one is skipped, c takes it. Third: a.
  std::vector<int> clients;
  std::vector<int> accepted;
  for (Backend* expected : {&a, &c, &a}) {
    clients.push_back(connect_to((*forwarder)->address()));
    ASSERT_GE(clients.back(), 0);
    accepted.push_back(expected->accept_one());
    ASSERT_GE(accepted.back(), 0);
    // The forwarder has seen its connect complete (and moved on) before the next client comes.
    const std::uint64_t paired = clients.size();
    ASSERT_TRUE(testing::eventually([&] { return (*forwarder)->stats().paired == paired; }));
  }
  auto stats = (*forwarder)->stats();
  EXPECT_EQ(stats.accepted, 3u);
  EXPECT_EQ(stats.backend_connect_failures, 1u);
  for (int fd : clients) ::close(fd);
  for (int fd : accepted) ::close(fd);
}

TEST(TcpForwarder, BytesPassBothWaysAndABackendCloseClosesTheClient) {
  Backend backend;
  TcpForwarder::Options options;
  options.backends = [&] { return std::vector<std::string>{backend.address()}; };
  auto forwarder = TcpForwarder::start(options);
  ASSERT_TRUE(forwarder.ok()) << forwarder.error().message;
  int client = connect_to((*forwarder)->address());
  ASSERT_GE(client, 0);
  int server = backend.accept_one();
  ASSERT_GE(server, 0);

  const std::string request(100000, 'q');  // larger than one forwarding buffer
  ASSERT_EQ(::write(client, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  EXPECT_EQ(read_some(server, request.size()), request);
  const std::string reply = "reply bytes";
  ASSERT_EQ(::write(server, reply.data(), reply.size()), static_cast<ssize_t>(reply.size()));
  EXPECT_EQ(read_some(client, reply.size()), reply);

  ::close(server);  // the replica dies
  EXPECT_TRUE(closed_by_peer(client));
  ::close(client);
}

TEST(TcpForwarder, ClientIsClosedWhenNoBackendAccepts) {
  const std::string refusing = "127.0.0.1:" + std::to_string(testing::free_port());
  TcpForwarder::Options options;
  options.backends = [&] { return std::vector<std::string>{refusing, "not-an-address"}; };
  auto forwarder = TcpForwarder::start(options);
  ASSERT_TRUE(forwarder.ok()) << forwarder.error().message;
  int client = connect_to((*forwarder)->address());
  ASSERT_GE(client, 0);
  EXPECT_TRUE(closed_by_peer(client));
  ::close(client);
  auto stats = (*forwarder)->stats();
  EXPECT_EQ(stats.closed_without_backend, 1u);
  EXPECT_EQ(stats.backend_connect_failures, 2u);
  EXPECT_EQ(stats.paired, 0u);
}

TEST(TcpForwarder, StartWithoutBackendsFunctionIsRefused) {
  auto forwarder = TcpForwarder::start(TcpForwarder::Options{});
  ASSERT_FALSE(forwarder.ok());
  EXPECT_EQ(forwarder.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace dledger::bench
