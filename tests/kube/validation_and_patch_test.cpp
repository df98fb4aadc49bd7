// Schema defaulting / validation against the real DLedgerGroup CRD, patches, selectors, ages.
#include <map>

#include <gtest/gtest.h>

#include "tests/kube/apiserver/patch.h"
#include "tests/kube/apiserver/resource_registry.h"
#include "tests/kube/apiserver/schema_validation.h"
#include "tests/kube/apiserver/selectors.h"
#include "tests/kube/apiserver/table.h"

namespace dledger::kube {
namespace {

using nlohmann::json;

const ResourceInfo& dledger_groups() {
  static ResourceRegistry registry = [] {
    ResourceRegistry loaded;
    Status status = loaded.add_crd_file(DLEDGER_CRD_PATH);
    EXPECT_TRUE(status.ok()) << (status.ok() ? "" : status.error().to_string());
    return loaded;
  }();
  const ResourceInfo* info = registry.find("dledger.io", "v1alpha1", "dledgergroups");
  EXPECT_NE(info, nullptr);
  return *info;
}

json group(json spec) {
  return {{"apiVersion", "dledger.io/v1alpha1"},
          {"kind", "DLedgerGroup"},
          {"metadata", {{"name", "g1"}}},
          {"spec", std::move(spec)}};
}

TEST(CrdLoading, ReadsNamesSubresourcesAndPrinterColumns) {
  const ResourceInfo& info = dledger_groups();
  EXPECT_EQ(info.kind, "DLedgerGroup");
  EXPECT_EQ(info.short_names, std::vector<std::string>{"dlg"});
  EXPECT_TRUE(info.has_status);
  ASSERT_TRUE(info.scale.has_value());
  EXPECT_EQ(info.scale->spec_replicas_path, ".spec.replicas");
  EXPECT_EQ(info.scale->label_selector_path, ".status.selector");
  ASSERT_EQ(info.printer_columns.size(), 5u);
  EXPECT_EQ(info.printer_columns[1].json_path, ".status.readyReplicas");
}

TEST(CrdLoading, MissingFileIsAnErrorNamingTheFile) {
  ResourceRegistry registry;
  Status status = registry.add_crd_file("/nonexistent/crd.yaml");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("/nonexistent/crd.yaml"), std::string::npos);
}

TEST(SchemaDefaults, FillNestedDefaultsOfDefaultedObjects) {
  json object = group({{"image", "dledger:1"}});
  apply_defaults(dledger_groups().schema, object);
  EXPECT_EQ(object["spec"]["replicas"], 3);
  EXPECT_EQ(object["spec"]["flushMode"], "sync");
  EXPECT_EQ(object["spec"]["storage"]["size"], "10Gi");
  EXPECT_EQ(object["spec"]["storage"]["retentionPolicy"]["whenDeleted"], "Retain");
  EXPECT_EQ(object["spec"]["ports"]["peer"], 40911);
  EXPECT_EQ(object["spec"]["monitoring"]["serviceMonitor"]["interval"], "30s");
  EXPECT_FALSE(object["metadata"].contains("replicas"));
  EXPECT_TRUE(validate_against_schema(dledger_groups().schema, object).empty());
}

TEST(SchemaDefaults, KeepValuesTheUserSet) {
  json object = group({{"image", "dledger:1"}, {"replicas", 5}, {"storage", {{"size", "1Gi"}}}});
  apply_defaults(dledger_groups().schema, object);
  EXPECT_EQ(object["spec"]["replicas"], 5);
  EXPECT_EQ(object["spec"]["storage"]["size"], "1Gi");
}

TEST(SchemaValidation, MaximumViolationHasTheRealServersMessage) {
  json object = group({{"image", "dledger:1"}, {"replicas", 12}});
  auto causes = validate_against_schema(dledger_groups().schema, object);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, "spec.replicas");
  EXPECT_EQ(causes[0].reason, "FieldValueInvalid");
  EXPECT_EQ(causes[0].message,
            "Invalid value: 12: spec.replicas in body should be less than or equal to 9");
  ApiError error = invalid("dledger.io", "DLedgerGroup", "g1", causes);
  EXPECT_EQ(error.code, 422);
  EXPECT_EQ(error.message,
            "DLedgerGroup.dledger.io \"g1\" is invalid: spec.replicas: Invalid value: 12: "
            "spec.replicas in body should be less than or equal to 9");
}

TEST(SchemaValidation, ReportsTypeEnumPatternRequiredAndMinimum) {
  json object = group({{"replicas", "three"},
                       {"flushMode", "sometimes"},
                       {"brokerName", "Bad_Name"},
                       {"heartbeatIntervalMs", 1}});
  auto causes = validate_against_schema(dledger_groups().schema, object);
  std::map<std::string, std::string> by_field;
  for (const auto& cause : causes) by_field[cause.field] = cause.message;
  EXPECT_EQ(by_field["spec.replicas"],
            "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"");
  EXPECT_EQ(by_field["spec.flushMode"],
            "Unsupported value: \"sometimes\": supported values: \"sync\", \"async\"");
  EXPECT_EQ(by_field["spec.brokerName"],
            "Invalid value: \"Bad_Name\": spec.brokerName in body should match "
            "'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'");
  EXPECT_EQ(by_field["spec.image"], "Required value");
  EXPECT_EQ(by_field["spec.heartbeatIntervalMs"],
            "Invalid value: 1: spec.heartbeatIntervalMs in body should be greater than or equal "
            "to 10");
}

TEST(SchemaValidation, RequiredSpecAtTheRoot) {
  json object = {{"apiVersion", "dledger.io/v1alpha1"},
                 {"kind", "DLedgerGroup"},
                 {"metadata", {{"name", "g1"}}}};
  auto causes = validate_against_schema(dledger_groups().schema, object);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, "spec");
}

TEST(SchemaPruning, ReportsUnknownFieldsButKeepsPreservedOnes) {
  json object = group({{"image", "dledger:1"},
                       {"bogus", 1},
                       {"resources", {{"limits", {{"cpu", "1"}}}}},
                       {"config", {{"anyKey", "v"}}},
                       {"pod", {{"tolerations", {{{"key", "k"}, {"operator", "Exists"}}}}}}});
  object["extra"] = true;
  auto unknown = prune_unknown_fields(dledger_groups().schema, object);
  EXPECT_EQ(unknown, (std::vector<std::string>{"extra", "spec.bogus"}));
  EXPECT_FALSE(object["spec"].contains("bogus"));
  EXPECT_EQ(object["spec"]["resources"]["limits"]["cpu"], "1");
  EXPECT_EQ(object["spec"]["config"]["anyKey"], "v");
  EXPECT_EQ(object["spec"]["pod"]["tolerations"][0]["operator"], "Exists");
  EXPECT_EQ(object["metadata"]["name"], "g1");
}

TEST(MergePatch, MergesObjectsReplacesListsAndDeletesNulls) {
  json target = {{"a", {{"b", 1}, {"c", 2}}}, {"list", {1, 2, 3}}, {"gone", "x"}};
  merge_patch(target, {{"a", {{"c", 3}}}, {"list", {9}}, {"gone", nullptr}});
  EXPECT_EQ(target, (json{{"a", {{"b", 1}, {"c", 3}}}, {"list", {9}}}));
}

TEST(StrategicMergePatch, DirectivesAreDroppedBeforeMerging) {
  json target = {{"spec", {{"containers", {{{"name", "a"}, {"image", "1"}}}}}}};
  json patch = {{"spec",
                 {{"$setElementOrder/containers", {{{"name", "a"}}}},
                  {"containers", {{{"name", "a"}, {"image", "2"}}}}}}};
  PatchOutcome outcome = apply_patch(target, patch, PatchType::kStrategicMerge);
  ASSERT_FALSE(outcome.error.has_value());
  EXPECT_EQ(outcome.object, (json{{"spec", {{"containers", {{{"name", "a"}, {"image", "2"}}}}}}}));
}

TEST(PatchTypes, ContentTypesMapAndUnknownOnesAreRejected) {
  EXPECT_EQ(patch_type_from_content_type("application/merge-patch+json"), PatchType::kMerge);
  EXPECT_EQ(patch_type_from_content_type("application/apply-patch+yaml; charset=utf-8"),
            PatchType::kApply);
  EXPECT_FALSE(patch_type_from_content_type("text/plain").has_value());
}

TEST(Selectors, LabelEqualityInequalitySetsAndExistence) {
  json object = {{"metadata", {{"labels", {{"app", "dledger"}, {"tier", "broker"}}}}}};
  EXPECT_TRUE(Selector::parse_labels("app=dledger")->matches_labels(object));
  EXPECT_TRUE(Selector::parse_labels("app==dledger,tier!=db")->matches_labels(object));
  EXPECT_TRUE(Selector::parse_labels("tier in (broker, db)")->matches_labels(object));
  EXPECT_FALSE(Selector::parse_labels("tier notin (broker)")->matches_labels(object));
  EXPECT_TRUE(Selector::parse_labels("app,!missing")->matches_labels(object));
  EXPECT_FALSE(Selector::parse_labels("missing")->matches_labels(object));
  EXPECT_FALSE(Selector::parse_labels("app=other")->matches_labels(object));
  EXPECT_FALSE(Selector::parse_labels("a=b,,c").has_value());
}

TEST(Selectors, FieldSelectorsOnNameAndInvolvedObject) {
  json event = {{"metadata", {{"name", "e1"}, {"namespace", "default"}}},
                {"involvedObject", {{"kind", "DLedgerGroup"}, {"uid", "u-1"}, {"name", "g1"}}}};
  EXPECT_TRUE(
      Selector::parse_fields("metadata.name=e1,metadata.namespace=default")->matches_fields(event));
  EXPECT_TRUE(Selector::parse_fields("involvedObject.kind=DLedgerGroup,involvedObject.uid=u-1")
                  ->matches_fields(event));
  EXPECT_FALSE(Selector::parse_fields("involvedObject.name=g2")->matches_fields(event));
  EXPECT_FALSE(Selector::parse_fields("metadata.name").has_value());
}

TEST(TableAges, PrintLikeKubectl) {
  EXPECT_EQ(human_age(10), "10s");
  EXPECT_EQ(human_age(300), "5m");
  EXPECT_EQ(human_age(330), "5m30s");
  EXPECT_EQ(human_age(3600), "60m");
  EXPECT_EQ(human_age(5 * 3600 + 60), "5h1m");
  EXPECT_EQ(human_age(30 * 3600), "30h");
  EXPECT_EQ(human_age(10 * 86400), "10d");
}

}  // namespace
}  // namespace dledger::kube
