#include "broker/programs/dledgerctl/remove_member_command.h"

#include <ostream>

namespace dledger::ctl {

int run_remove_member(const RemoveMemberOptions& options, std::ostream& out, std::ostream& err) {
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

}  // namespace dledger::ctl
