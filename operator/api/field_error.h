// FieldError: one validation failure on a custom resource, worded exactly as the Kubernetes API
// server words it (k8s.io/apimachinery/pkg/util/validation/field), so the operator, a webhook and
// `kubectl apply` all show the same text:
//
//   spec.replicas: Invalid value: 12: must be less than or equal to 9
//   spec.flushMode: Unsupported value: "fast": supported values: "sync", "async"
//   spec.image: Required value
//   spec.config[dLegerPeers]: Forbidden: owned by the operator (derived from spec.replicas)
//
// `field` is the JSON path of the offending field (`spec.ports.peer`, `spec.config[key]`).
// `bad_value` is the offending value already rendered as JSON (`12`, `"fast"`), empty for
// kRequired / kForbidden.
#pragma once

#include <string>
#include <vector>

namespace dledger::op::api {

struct FieldError {
  enum class Type {
    kInvalid,       // "Invalid value"
    kNotSupported,  // "Unsupported value" (enum)
    kRequired,      // "Required value"
    kForbidden,     // "Forbidden"
    kDuplicate,     // "Duplicate value"
    kTooLong,       // "Too long"
    kTypeInvalid,   // "Invalid value" for a JSON type mismatch
    kUnknownField,  // strict decoding: field not declared in the schema
  };

  Type type = Type::kInvalid;
  std::string field;
  std::string bad_value;  // JSON text of the value; empty when not applicable
  std::string detail;

  // "spec.replicas: Invalid value: 12: must be less than or equal to 9"
  std::string to_string() const;
  // The StatusCause reason the API server uses: FieldValueInvalid, FieldValueRequired, ...
  std::string cause_reason() const;

  bool operator==(const FieldError&) const = default;
};

using FieldErrorList = std::vector<FieldError>;

// All errors, one per line, in order.
std::string to_string(const FieldErrorList& errors);

}  // namespace dledger::op::api
