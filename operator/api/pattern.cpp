#include "operator/api/pattern.h"

#include <regex>
#include <string>

namespace dledger::op::api {

bool matches_pattern(std::string_view pattern, std::string_view text) {
  try {
    const std::regex re{std::string(pattern), std::regex::ECMAScript};
    return std::regex_search(text.begin(), text.end(), re);
  } catch (const std::regex_error&) {
    return false;
  }
}

}  // namespace dledger::op::api
