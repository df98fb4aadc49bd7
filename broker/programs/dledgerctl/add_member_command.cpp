#include "broker/programs/dledgerctl/add_member_command.h"

#include <ostream>

#include "broker/admin/admin_json.h"

namespace dledger::ctl {

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

}  // namespace dledger::ctl
