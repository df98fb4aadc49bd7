#include "operator/api/field_error.h"

#include <gtest/gtest.h>

namespace dledger::op::api {
namespace {

TEST(FieldError, WordedAsTheApiServerWordsIt) {
  EXPECT_EQ((FieldError{FieldError::Type::kInvalid, "spec.replicas", "12",
                        "must be less than or equal to 9"})
                .to_string(),
            "spec.replicas: Invalid value: 12: must be less than or equal to 9");
  EXPECT_EQ((FieldError{FieldError::Type::kRequired, "spec.image", "", ""}).to_string(),
            "spec.image: Required value");
  EXPECT_EQ((FieldError{FieldError::Type::kForbidden, "spec.config[x]", "", "owned"}).to_string(),
            "spec.config[x]: Forbidden: owned");
  EXPECT_EQ((FieldError{FieldError::Type::kUnknownField, "spec.foo", "", ""}).to_string(),
            "unknown field \"spec.foo\"");
}

TEST(FieldError, CauseReasonsMatchStatusCauseReasons) {
  EXPECT_EQ((FieldError{FieldError::Type::kNotSupported, "f", "", ""}).cause_reason(),
            "FieldValueNotSupported");
  EXPECT_EQ((FieldError{FieldError::Type::kRequired, "f", "", ""}).cause_reason(),
            "FieldValueRequired");
  EXPECT_EQ((FieldError{FieldError::Type::kDuplicate, "f", "", ""}).cause_reason(),
            "FieldValueDuplicate");
}

}  // namespace
}  // namespace dledger::op::api
