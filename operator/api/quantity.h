// Kubernetes resource quantities ("10Gi", "500M", "1.5Ti", "2e9"), as used by spec.storage.size.
#pragma once

#include <cstdint>
#include <string_view>

#include "broker/base/result.h"

namespace dledger::op::api {

// Parses a quantity into bytes, rounding a fractional result up (as Kubernetes does for storage).
// Accepts binary suffixes Ki Mi Gi Ti Pi Ei, decimal suffixes m k M G T P E, and decimal
// exponents (e/E). Errors (kInvalidArgument) name the text: malformed syntax, negative values,
// values that do not fit in int64.
Result<std::int64_t> parse_quantity_bytes(std::string_view text);

}  // namespace dledger::op::api
