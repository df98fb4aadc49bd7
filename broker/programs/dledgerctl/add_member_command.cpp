#include "broker/programs/dledgerctl/add_member_command.h"

#include <memory>
#include <ostream>

#include "broker/admin/admin_json.h"

namespace dledger::ctl {
namespace {

constexpr int kMutationTimeoutMs = 15000;

struct AddMemberOptions {
  CommonOptions common;
  std::string id;
  std::string address;
};

int run_add_member(const AddMemberOptions& options, std::ostream& out, std::ostream& err) {
  auto addresses = options.common.addresses();
  if (!addresses.ok()) {
    err << "dledgerctl addMember: " << addresses.error().message << "\n";
    return kExitUsage;
  }
  if (!valid_id_flag("addMember", "--id", options.id, err)) return kExitUsage;
  if (Status valid = admin::validate_host_port(options.address, "--address"); !valid.ok()) {
    err << "dledgerctl addMember: " << valid.error().message << "\n";
    return kExitUsage;
  }
  admin::AdminClient client(options.common.client_options(kMutationTimeoutMs));
  auto result = first_answer<admin::ChangeResult>(*addresses, [&](const std::string& admin) {
    return client.add_learner(admin, options.id, options.address);
  });
  return finish_change(options.common, result,
                       "added " + options.id + " (" + options.address + ") as a learner", out, err);
}

}  // namespace

void add_add_member_command(CLI::App& app, CommandAction& action) {
  auto options = std::make_shared<AddMemberOptions>();
  CLI::App* command = app.add_subcommand("addMember", "Add a replica to the group as a learner");
  add_common_options(*command, options->common);
  command->add_option("--id", options->id, "Member id, e.g. n3")->required();
  command->add_option("--address", options->address, "Its ledger peer endpoint host:port")
      ->required();
  command->callback([options, &action] {
    action = [options](std::ostream& out, std::ostream& err) {
      return run_add_member(*options, out, err);
    };
  });
}

}  // namespace dledger::ctl
