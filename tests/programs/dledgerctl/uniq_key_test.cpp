// uniq_key.h: client-generated msgIds carry the time they were made, read back against the
// month of "now" (this month, else the previous one), and anything else is not mistaken for one.
#include "broker/programs/dledgerctl/uniq_key.h"

#include <gtest/gtest.h>

#include <cctype>

namespace dledger::ctl {
namespace {

// 2026-11-28T11:00:00Z and month starts around it, in Unix ms.
constexpr std::int64_t kNov28 = 1795863600000;
constexpr std::int64_t kNov1 = 1793491200000;
constexpr std::int64_t kOct1 = 1790812800000;
constexpr std::int64_t kHour = 3600 * 1000;

TEST(UniqKey, AMadeIdIsThirtyTwoUpperCaseHexDigitsNamingLoopback) {
  std::mt19937_64 random(1);
  const std::string id = make_uniq_key(kNov28, 0xBEEF, random);
  ASSERT_EQ(id.size(), 32u);
  for (char c : id) EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c)) && !std::islower(c));
  EXPECT_EQ(id.substr(0, 8), "7F000001");
  EXPECT_EQ(id.substr(28), "BEEF");                      // the counter ends it
  EXPECT_NE(make_uniq_key(kNov28, 0xBEEF, random), id);  // another random hash
}

TEST(UniqKey, AMadeIdCarriesItsTimeBack) {
  std::mt19937_64 random(2);
  for (std::int64_t made : {kNov1, kNov1 + 1, kNov28 - kHour, kNov28}) {
    EXPECT_EQ(uniq_key_time_ms(make_uniq_key(made, 1, random), kNov28 + 5000), made) << made;
  }
  // Made late last month, read early this month: the previous month.
  const std::int64_t late_october = kNov1 - kHour;
  EXPECT_EQ(uniq_key_time_ms(make_uniq_key(late_october, 1, random), kNov1 + kHour), late_october);
  // The id holds the time within a month only: one from more than a month ago reads as this
  // month's (a query from there finds nothing older; RocketMQ's own reading does the same).
  EXPECT_EQ(uniq_key_time_ms(make_uniq_key(kOct1 + kHour, 1, random), kNov28), kNov1 + kHour);
}

TEST(UniqKey, IPv6IdsAndLowerCaseAreRead) {
  // 16-byte address, pid, hash, then 2 hours into the month and a counter.
  const std::string id = std::string(32, 'a') + "0001" + "00000000" + "006DDD00" + "0001";
  ASSERT_EQ(id.size(), 56u);
  EXPECT_EQ(uniq_key_time_ms(id, kNov28), kNov1 + 2 * kHour);
}

TEST(UniqKey, AnythingElseIsNotReadAsAnId) {
  EXPECT_EQ(uniq_key_time_ms("", kNov28), std::nullopt);
  EXPECT_EQ(uniq_key_time_ms("custom-id", kNov28), std::nullopt);
  EXPECT_EQ(uniq_key_time_ms(std::string(31, '0'), kNov28), std::nullopt);
  EXPECT_EQ(uniq_key_time_ms(std::string(30, '0') + "XY", kNov28), std::nullopt);
  // 49.7 days into a month is after "now" in this month and the previous one.
  EXPECT_EQ(uniq_key_time_ms(std::string(20, '0') + "FFFFFFFF" + "0000", kNov1 + kHour),
            std::nullopt);
}

}  // namespace
}  // namespace dledger::ctl
