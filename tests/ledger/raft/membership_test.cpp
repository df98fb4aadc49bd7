// Peers strings, member ids and the binary encoding of configurations.
#include <gtest/gtest.h>

#include "broker/ledger/raft/membership.h"
#include "tests/ledger/raft/raft_test_harness.h"

namespace dledger::raft::testing {
namespace {

TEST(Membership, ParseNodeIdAcceptsNDigits) {
  auto id = parse_node_id("n42");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 42u);
  EXPECT_EQ(*parse_node_id("n0"), 0u);
  EXPECT_EQ(*parse_node_id("n999999999"), 999999999u);
}

TEST(Membership, ParseNodeIdRejectsMalformed) {
  for (const char* bad : {"", "n", "3", "m3", "n-3", "n+3", "n 3", "n3 ", "n1234567890", "nx"}) {
    auto id = parse_node_id(bad);
    ASSERT_FALSE(id.ok()) << bad;
    EXPECT_EQ(id.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(Membership, PeersStringParsesSortedVoters) {
  auto m = membership_from_peers("n2-host-b:9002;n0-host-a.svc:9000;n1-10.0.0.1:9001;", "n1");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  ASSERT_EQ(m->members.size(), 3u);
  EXPECT_EQ(m->members[0], (Member{0, "host-a.svc:9000", true}));
  EXPECT_EQ(m->members[1], (Member{1, "10.0.0.1:9001", true}));
  EXPECT_EQ(m->members[2], (Member{2, "host-b:9002", true}));
  EXPECT_EQ(m->quorum(), 2u);
}

TEST(Membership, PeersStringRoundTrips) {
  auto m = membership_from_peers("n0-a:1;n1-b:2;n2-c:65535", "n0");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(membership_to_peers(*m), "n0-a:1;n1-b:2;n2-c:65535");
  auto again = membership_from_peers(membership_to_peers(*m), "n2");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *m);
}

void expect_rejected(const char* peers, const char* self, const char* mentions) {
  auto m = membership_from_peers(peers, self);
  ASSERT_FALSE(m.ok()) << peers;
  EXPECT_EQ(m.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(m.error().message.find(mentions), std::string::npos)
      << "message '" << m.error().message << "' should mention '" << mentions << "'";
}

TEST(Membership, PeersStringRejectsDuplicateId) {
  expect_rejected("n0-a:1;n1-b:2;n1-c:3", "n0", "duplicate id n1");
}

TEST(Membership, PeersStringRejectsDuplicateAddress) {
  expect_rejected("n0-a:1;n1-a:1", "n0", "duplicate address 'a:1'");
}

TEST(Membership, PeersStringRejectsMissingSelf) {
  expect_rejected("n0-a:1;n1-b:2", "n5", "'n5' is not in peers");
  expect_rejected("n0-a:1;n1-b:2", "five", "self id");
}

TEST(Membership, PeersStringRejectsBadPort) {
  expect_rejected("n0-a:0", "n0", "port '0'");
  expect_rejected("n0-a:65536", "n0", "port '65536'");
  expect_rejected("n0-a:http", "n0", "port 'http'");
  expect_rejected("n0-a:", "n0", "port ''");
  expect_rejected("n0-a:-1", "n0", "port '-1'");
}

TEST(Membership, PeersStringRejectsMalformed) {
  expect_rejected("", "n0", "empty");
  expect_rejected("n0-a:1;;n1-b:2", "n0", "empty item");
  expect_rejected(";", "n0", "empty item");
  expect_rejected("n0a:1", "n0", "no '-'");
  expect_rejected("x0-a:1", "n0", "'x0'");
  expect_rejected("n0-a", "n0", "not host:port");
  expect_rejected("n0-:1", "n0", "empty host");
}

TEST(Membership, MembershipEncodingRoundTrips) {
  Membership m = make_membership({1, 2, 7}, {9});
  std::string bytes = encode_membership(m);
  auto decoded = decode_membership(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(*decoded, m);
  EXPECT_FALSE(decoded->is_voter(9));
  EXPECT_TRUE(decoded->contains(9));
  auto empty = decode_membership(encode_membership(Membership{}));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->members.empty());
}

TEST(Membership, MembershipDecodingRejectsTruncatedBytes) {
  std::string bytes = encode_membership(make_membership({1, 2, 3}));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = decode_membership(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(decoded.ok()) << "prefix of " << n << " bytes";
    EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption);
  }
}

TEST(Membership, MembershipDecodingRejectsCorruptContent) {
  std::string bytes = encode_membership(make_membership({1, 2}));
  std::string bad_version = bytes;
  bad_version[0] = 9;
  EXPECT_FALSE(decode_membership(bad_version).ok());
  std::string trailing = bytes + "x";
  EXPECT_FALSE(decode_membership(trailing).ok());
  // Members out of order (ids 2 then 1).
  Membership unsorted;
  unsorted.members = {Member{2, "b:1", true}, Member{1, "a:1", true}};
  EXPECT_FALSE(decode_membership(encode_membership(unsorted)).ok());
  // Unknown flag bits: byte after the first id (version 1 + count 4 + id 4 = offset 9).
  std::string bad_flags = bytes;
  bad_flags[9] = 4;
  EXPECT_FALSE(decode_membership(bad_flags).ok());
  // A huge member count cannot make the decoder allocate or read out of bounds.
  std::string huge = bytes;
  huge[1] = huge[2] = huge[3] = huge[4] = static_cast<char>(0xff);
  EXPECT_FALSE(decode_membership(huge).ok());
}

TEST(Membership, HelpersCountVotersAndFindMembers) {
  Membership m = make_membership({1, 3, 5}, {4});
  EXPECT_EQ(m.voter_count(), 3u);
  EXPECT_EQ(m.quorum(), 2u);
  EXPECT_EQ(m.voters(), (std::vector<NodeId>{1, 3, 5}));
  ASSERT_NE(m.find(4), nullptr);
  EXPECT_FALSE(m.find(4)->voter);
  EXPECT_EQ(m.find(2), nullptr);
  EXPECT_EQ(node_name(3), "n3");
  EXPECT_EQ(node_name(kNoNode), "none");
  EXPECT_STREQ(message_type_name(MessageType::kTimeoutNow), "TimeoutNow");
}

}  // namespace
}  // namespace dledger::raft::testing
