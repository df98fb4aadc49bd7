#include "broker/base/properties.h"

#include <gtest/gtest.h>

namespace dledger {
namespace {

Properties parse_ok(std::string_view text) {
  auto p = Properties::parse(text, "broker.conf");
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().to_string());
  return std::move(p).value();
}

TEST(Properties, ParsesTheSeedBrokerConfFormat) {
  auto p = parse_ok(
      "# comment\n"
      "brokerClusterName = RaftCluster\n"
      "brokerName=RaftNode00\n"
      "  listenPort = 30911  \n"
      "dLegerPeers=n0-127.0.0.1:40911;n1-127.0.0.1:40912\n"
      "\n");
  EXPECT_EQ(*p.get_string("brokerClusterName", std::nullopt), "RaftCluster");
  EXPECT_EQ(*p.get_string("brokerName", std::nullopt), "RaftNode00");
  EXPECT_EQ(*p.get_int("listenPort", 10911, 1, 65535), 30911);
  EXPECT_EQ(*p.get_string("dLegerPeers", std::nullopt), "n0-127.0.0.1:40911;n1-127.0.0.1:40912");
}

TEST(Properties, LineWithoutEqualsIsRejectedNamingFileAndLine) {
  auto p = Properties::parse("a=1\nnot a setting\n", "broker.conf");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("broker.conf:2"), std::string::npos) << p.error().message;
}

TEST(Properties, InvalidIntegerErrorNamesKeyValueAndOrigin) {
  auto p = parse_ok("listenPort = abc\n");
  auto v = p.get_int("listenPort", 10911, 1, 65535);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("listenPort = 'abc' (broker.conf:1)"), std::string::npos)
      << v.error().message;
  auto q = parse_ok("listenPort = 70000\n");
  EXPECT_FALSE(q.get_int("listenPort", 10911, 1, 65535).ok());
}

TEST(Properties, DefaultsApplyWhenKeyAbsent) {
  auto p = parse_ok("");
  EXPECT_EQ(*p.get_int("listenPort", 10911, 1, 65535), 10911);
  EXPECT_EQ(*p.get_bool("enableDLegerCommitLog", true), true);
  EXPECT_FALSE(p.require_string("dLegerPeers").ok());
}

TEST(Properties, BoolAndEnumValidation) {
  auto p = parse_ok("a = TRUE\nb = yes\nmode = sync\nbad = fast\n");
  EXPECT_TRUE(*p.get_bool("a", false));
  EXPECT_FALSE(p.get_bool("b", false).ok());
  EXPECT_EQ(*p.get_enum("mode", "sync", {"sync", "async"}), "sync");
  auto e = p.get_enum("bad", "sync", {"sync", "async"});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("one of sync, async"), std::string::npos);
}

TEST(Properties, CommandLineOverridesWinAndUnusedKeysAreListed) {
  auto p = parse_ok("listenPort = 1\nmysteryKey = 2\n");
  ASSERT_TRUE(p.set_from_assignment("listenPort=2").ok());
  EXPECT_FALSE(p.set_from_assignment("novalue").ok());
  EXPECT_EQ(*p.get_int("listenPort", 0, 0, 10), 2);
  EXPECT_EQ(p.origin("listenPort"), "command line");
  EXPECT_EQ(p.unused_keys(), std::vector<std::string>{"mysteryKey"});
}

TEST(Properties, DuplicateKeyWarnsAndLastWins) {
  auto p = parse_ok("k = 1\nk = 2\n");
  EXPECT_EQ(*p.get_string("k", std::nullopt), "2");
  ASSERT_EQ(p.warnings().size(), 1u);
}

TEST(Properties, MissingFileIsAnErrorNamingThePath) {
  auto p = Properties::load_file("/nonexistent/broker.conf");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("/nonexistent/broker.conf"), std::string::npos);
}

}  // namespace
}  // namespace dledger
