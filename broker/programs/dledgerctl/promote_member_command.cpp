#include "broker/programs/dledgerctl/promote_member_command.h"

#include <ostream>

namespace dledger::ctl {

int run_promote_member(const PromoteMemberOptions& options, std::ostream& out, std::ostream& err) {
  auto addresses = options.common.addresses();
  if (!addresses.ok()) {
    err << "dledgerctl promoteMember: " << addresses.error().message << "\n";
    return kExitUsage;
  }
  if (!valid_id_flag("promoteMember", "--id", options.id, err)) return kExitUsage;
  admin::AdminClient client(options.common.client_options(kMutationTimeoutMs));
  auto result = first_answer<admin::ChangeResult>(
      *addresses, [&](const std::string& admin) { return client.promote(admin, options.id); });
  return finish_change(options.common, result, "promoted " + options.id, out, err);
}

}  // namespace dledger::ctl
