// JSON forms of the admin API: round trips, and validation errors that name the field.
#include "broker/admin/admin_json.h"

#include <gtest/gtest.h>

#include "tests/admin/fake_backend.h"

namespace dledger::admin {
namespace {

using nlohmann::json;

TEST(AdminJson, StatusRoundTrips) {
  ReplicaStatus status = testing::follower_status("h:1");
  status.log_open = false;
  status.leader_alive = false;
  status.transfer_target = "n2";
  auto parsed = status_from_json(status_to_json(status));
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(*parsed, status);
}

TEST(AdminJson, StatusErrorsNameTheField) {
  const json good = status_to_json(testing::leader_status());
  struct Case {
    std::function<void(json&)> damage;
    std::string expected;
  };
  const Case cases[] = {
      {[](json& j) { j.erase("term"); }, "term: missing"},
      {[](json& j) { j["term"] = -1; }, "term: expected unsigned integer"},
      {[](json& j) { j["role"] = "king"; }, "role: expected one of"},
      {[](json& j) { j["members"] = "x"; }, "members: expected array"},
      {[](json& j) { j["members"][1]["lag"] = "1"; }, "members[1].lag: expected unsigned"},
      {[](json& j) { j["members"][2].erase("id"); }, "members[2].id: missing"},
      {[](json& j) { j["members"][0] = 5; }, "members[0]: expected object"},
      {[](json& j) { j["transfer_target"] = 3; }, "transfer_target: expected string or null"},
      {[](json& j) { j = json::array(); }, "expected JSON object"},
  };
  for (const Case& c : cases) {
    json damaged = good;
    c.damage(damaged);
    auto parsed = status_from_json(damaged);
    ASSERT_FALSE(parsed.ok()) << c.expected;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find(c.expected), std::string::npos)
        << parsed.error().message << " vs " << c.expected;
  }
  EXPECT_FALSE(status_from_text("{not json").ok());
}

TEST(AdminJson, ErrorNamesRoundTripThroughHttpMapping) {
  for (ErrorCode code :
       {ErrorCode::kNotLeader, ErrorCode::kBusy, ErrorCode::kTransferring, ErrorCode::kTimeout,
        ErrorCode::kUnavailable, ErrorCode::kStopped, ErrorCode::kInvalidArgument}) {
    EXPECT_EQ(error_code_from_name(error_code_name(code)), code);
  }
  EXPECT_EQ(http_status_for(ErrorCode::kNotLeader), 409);
  EXPECT_EQ(http_status_for(ErrorCode::kBusy), 409);
  EXPECT_EQ(http_status_for(ErrorCode::kTransferring), 409);
  EXPECT_EQ(http_status_for(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(http_status_for(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(http_status_for(ErrorCode::kStopped), 503);
  EXPECT_EQ(http_status_for(ErrorCode::kTimeout), 504);
  EXPECT_EQ(error_code_from_name("Bogus"), ErrorCode::kInternal);
}

TEST(AdminJson, HostPortValidation) {
  for (const char* good : {"h:1", "127.0.0.1:10980", "[::1]:80", "broker-0.svc.local:65535"}) {
    EXPECT_TRUE(validate_host_port(good, "x").ok()) << good;
  }
  for (const char* bad :
       {"", ":1", "h", "h:", "h:0", "h:65536", "h:1x", "::1:80", "[::1:80", "a/b:1"}) {
    Status status = validate_host_port(bad, "address");
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.error().message.rfind("address: ", 0), 0u) << status.error().message;
  }
}

TEST(AdminJson, MemberIdValidation) {
  EXPECT_TRUE(validate_member_id("n3", "id").ok());
  EXPECT_FALSE(validate_member_id("", "id").ok());
  EXPECT_FALSE(validate_member_id("n/3", "id").ok());
  EXPECT_FALSE(validate_member_id(std::string(65, 'n'), "id").ok());
}

}  // namespace
}  // namespace dledger::admin
