// Golden files: each tests/operator/golden/<case>.input.yaml (a DLedgerGroup) is admitted,
// rendered, and compared byte for byte with <case>.golden.yaml (a multi-document manifest; the
// test also parses it back and checks it equals the rendered JSON). After an intended change,
// regenerate with
//   UPDATE_GOLDEN=1 build/<dir>/tests/operator/operator_render_test --gtest_filter='RenderGolden*'
// and review the diff of the .golden.json files like code.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "operator/api/validation.h"
#include "operator/render/manifest_yaml.h"
#include "operator/render/render.h"
#include "tests/operator/yaml_json.h"

namespace dledger::op::render {
namespace {

struct GoldenCase {
  const char* name;
  int membership_replicas;
  int bootstrap_replicas = 0;
};

void PrintTo(const GoldenCase& c, std::ostream* os) {
  *os << c.name;
}

class RenderGolden : public ::testing::TestWithParam<GoldenCase> {};

std::string first_difference(const std::string& want, const std::string& got) {
  std::size_t line = 1, i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) {
    if (want[i] == '\n') ++line;
    ++i;
  }
  auto line_at = [](const std::string& s, std::size_t pos) {
    const auto begin = s.rfind('\n', pos == 0 ? 0 : pos - 1);
    const auto start = begin == std::string::npos ? 0 : begin + 1;
    return s.substr(start, s.find('\n', start) - start);
  };
  return "first difference at line " + std::to_string(line) + ":\n  golden:   " + line_at(want, i) +
         "\n  rendered: " + line_at(got, i);
}

TEST_P(RenderGolden, MatchesGoldenFile) {
  const GoldenCase& c = GetParam();
  const std::string base = std::string(DLEDGER_GOLDEN_DIR) + "/" + c.name;
  const auto input = testing::load_yaml_file(base + ".input.yaml");
  const auto admitted = api::admit_dledger_group(input);
  ASSERT_TRUE(admitted.ok()) << api::to_string(admitted.errors);

  RenderOptions options;
  options.membership_replicas = c.membership_replicas;
  options.bootstrap_replicas = c.bootstrap_replicas;
  auto rendered = render_group(admitted.group, options);
  ASSERT_TRUE(rendered.ok()) << rendered.error().to_string();
  const std::string got = to_yaml_documents(rendered->all());

  // The YAML must read back as exactly the rendered objects.
  const auto documents = YAML::LoadAll(got);
  ASSERT_EQ(documents.size(), rendered->all().size());
  for (std::size_t i = 0; i < documents.size(); ++i) {
    EXPECT_EQ(testing::yaml_to_json(documents[i]), rendered->all()[i]) << "document " << i;
  }

  const std::string golden_path = base + ".golden.yaml";
  const char* update = std::getenv("UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(golden_path, std::ios::binary | std::ios::trunc) << got;
    std::cout << "rewrote " << golden_path << "\n";
  }
  std::string want;
  ASSERT_NO_THROW(want = testing::read_text_file(golden_path))
      << "missing " << golden_path << "; create it with UPDATE_GOLDEN=1";
  EXPECT_TRUE(want == got) << golden_path << " is out of date (" << first_difference(want, got)
                           << ")\nRegenerate with UPDATE_GOLDEN=1 if the change is intended.";
}

INSTANTIATE_TEST_SUITE_P(Cases, RenderGolden,
                         ::testing::Values(GoldenCase{"replicas-1", 1}, GoldenCase{"replicas-3", 3},
                                           GoldenCase{"replicas-5", 5}, GoldenCase{"overrides", 3},
                                           GoldenCase{"pod-and-monitoring", 3},
                                           GoldenCase{"scaling-3-to-5", 4, 3}),
                         [](const ::testing::TestParamInfo<GoldenCase>& param_info) {
                           std::string name = param_info.param.name;
                           for (auto& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace dledger::op::render
