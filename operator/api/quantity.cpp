#include "operator/api/quantity.h"

#include <cctype>
#include <cmath>
#include <string>

#include "operator/api/dledgergroup_types.h"
#include "operator/api/pattern.h"

namespace dledger::op::api {

namespace {

Error bad(std::string_view text, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument,
                    "quantity '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

Result<std::int64_t> parse_quantity_bytes(std::string_view text) {
  const std::string s(text);
  if (s.empty() || !matches_pattern(kQuantityPattern, s)) {
    return bad(text, "expected a Kubernetes quantity such as 10Gi, 500M or 1e9");
  }
  std::size_t pos = 0;
  bool negative = false;
  if (s[pos] == '+' || s[pos] == '-') negative = s[pos++] == '-';
  const std::size_t number_begin = pos;
  while (pos < s.size() && (std::isdigit(static_cast<unsigned char>(s[pos])) || s[pos] == '.')) {
    ++pos;
  }
  const long double mantissa = std::stold(s.substr(number_begin, pos - number_begin));
  const std::string suffix = s.substr(pos);
  long double multiplier = 1;
  if (suffix.empty()) {
    multiplier = 1;
  } else if (suffix.size() == 2 && suffix[1] == 'i') {
    const std::string order = "KMGTPE";
    multiplier = std::pow(1024.0L, static_cast<long double>(order.find(suffix[0]) + 1));
  } else if ((suffix[0] == 'e' || suffix[0] == 'E') && suffix.size() > 1) {
    multiplier = std::pow(10.0L, std::stold(suffix.substr(1)));
  } else {
    const std::string order = "kMGTPE";
    multiplier =
        suffix == "m" ? 1e-3L : std::pow(1000.0L, static_cast<long double>(order.find(suffix) + 1));
  }
  if (negative && mantissa != 0) return bad(text, "must not be negative");
  const long double bytes = std::ceil(mantissa * multiplier);
  if (!(bytes < 9.2e18L)) return bad(text, "too large");
  return static_cast<std::int64_t>(bytes);
}

}  // namespace dledger::op::api
