// Regular-expression matching for schema patterns (ECMAScript syntax, as in the CRD's
// `pattern` fields). The only place the operator uses <regex>: GCC 12 reports false
// -Wmaybe-uninitialized warnings inside <regex> at -O1 and above, which this one file silences.
#pragma once

#include <string_view>

namespace dledger::op::api {

// True if `pattern` matches `text` (search semantics, like the API server; the operator's
// patterns are anchored with ^...$). An invalid pattern matches nothing.
bool matches_pattern(std::string_view pattern, std::string_view text);

}  // namespace dledger::op::api
