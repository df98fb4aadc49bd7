#include "broker/programs/dledgerctl/uniq_key.h"

#include <unistd.h>
#include <chrono>

namespace dledger::ctl {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::int64_t utc_month_start_ms(std::int64_t unix_ms, int months_back) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(unix_ms)));
  const year_month_day ymd(day);
  const year_month first = ymd.year() / ymd.month() - months(months_back);
  return duration_cast<milliseconds>(sys_days(first / 1).time_since_epoch()).count();
}

void append_hex(std::string& out, std::uint64_t value, int bytes) {
  static const char* digits = "0123456789ABCDEF";
  for (int shift = bytes * 8 - 4; shift >= 0; shift -= 4)
    out.push_back(digits[(value >> shift) & 0xF]);
}

}  // namespace

std::string make_uniq_key(std::int64_t now_ms, std::uint16_t counter, std::mt19937_64& random) {
  std::string id;
  append_hex(id, 0x7F000001, 4);                              // address
  append_hex(id, static_cast<std::uint64_t>(::getpid()), 2);  // pid
  append_hex(id, random(), 4);                                // class-loader hash
  append_hex(id, static_cast<std::uint64_t>(now_ms - utc_month_start_ms(now_ms, 0)), 4);
  append_hex(id, counter, 2);
  return id;
}

std::optional<std::int64_t> uniq_key_time_ms(const std::string& id, std::int64_t now_ms) {
  if (id.size() != 32 && id.size() != 56) return std::nullopt;
  for (char c : id) {
    if (hex_value(c) < 0) return std::nullopt;
  }
  const std::size_t time_at = id.size() - 12;  // the last 6 bytes: time (4) and counter (2)
  std::int64_t span_ms = 0;
  for (std::size_t i = time_at; i < time_at + 8; ++i) span_ms = span_ms * 16 + hex_value(id[i]);
  for (int months_back : {0, 1}) {
    const std::int64_t made = utc_month_start_ms(now_ms, months_back) + span_ms;
    if (made < now_ms) return made;
  }
  return std::nullopt;
}

}  // namespace dledger::ctl
