#include "broker/programs/dledgerctl/remove_member_command.h"

#include <memory>
#include <ostream>

namespace dledger::ctl {
namespace {

constexpr int kMutationTimeoutMs = 15000;

struct Options {
  CommonOptions common;
  std::string id;
};

int run(const Options& options, std::ostream& out, std::ostream& err) {
  auto addresses = options.common.addresses();
  if (!addresses.ok()) {
    err << "dledgerctl removeMember: " << addresses.error().message << "\n";
    return kExitUsage;
  }
  if (!valid_id_flag("removeMember", "--id", options.id, err)) return kExitUsage;
  admin::AdminClient client(options.common.client_options(kMutationTimeoutMs));
  auto result = first_answer<admin::ChangeResult>(*addresses, [&](const std::string& admin) {
    return client.remove_member(admin, options.id);
  });
  return finish_change(options.common, result, "removed " + options.id, out, err);
}

}  // namespace

void add_remove_member_command(CLI::App& app, CommandAction& action) {
  auto options = std::make_shared<Options>();
  CLI::App* command =
      app.add_subcommand("removeMember", "Remove a voter or learner from the group");
  add_common_options(*command, options->common);
  command->add_option("--id", options->id, "Member id, e.g. n3")->required();
  command->callback([options, &action] {
    action = [options](std::ostream& out, std::ostream& err) { return run(*options, out, err); };
  });
}

}  // namespace dledger::ctl
