#include "operator/api/field_error.h"

namespace dledger::op::api {

std::string FieldError::to_string() const {
  std::string out = field + ": ";
  switch (type) {
    case Type::kInvalid:
    case Type::kTypeInvalid:
      out += "Invalid value: " + bad_value;
      break;
    case Type::kNotSupported:
      out += "Unsupported value: " + bad_value;
      break;
    case Type::kRequired:
      out += "Required value";
      break;
    case Type::kForbidden:
      out += "Forbidden";
      break;
    case Type::kDuplicate:
      out += "Duplicate value: " + bad_value;
      break;
    case Type::kTooLong:
      out += "Too long";
      break;
    case Type::kUnknownField:
      return "unknown field \"" + field + "\"";
  }
  if (!detail.empty()) out += ": " + detail;
  return out;
}

std::string FieldError::cause_reason() const {
  switch (type) {
    case Type::kInvalid:
    case Type::kTypeInvalid:
      return "FieldValueInvalid";
    case Type::kNotSupported:
      return "FieldValueNotSupported";
    case Type::kRequired:
      return "FieldValueRequired";
    case Type::kForbidden:
      return "FieldValueForbidden";
    case Type::kDuplicate:
      return "FieldValueDuplicate";
    case Type::kTooLong:
      return "FieldValueTooLong";
    case Type::kUnknownField:
      return "FieldValueInvalid";
  }
  return "FieldValueInvalid";
}

std::string to_string(const FieldErrorList& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "\n";
    out += e.to_string();
  }
  return out;
}

}  // namespace dledger::op::api
