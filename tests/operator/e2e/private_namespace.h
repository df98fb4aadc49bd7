// Private namespaces for process-level drills: a test binary calls enter_private_namespaces()
// first thing in main(), while it is still single-threaded. Afterwards the process and every
// child it starts (brokers, the operator, kubectl) run in
//   - a private mount namespace, with `hosts_path` (a fresh file holding only localhost lines)
//     bind-mounted over /etc/hosts, so the drill can add pod DNS names without touching the
//     machine's /etc/hosts;
//   - a private network namespace with only the loopback interface (brought up here), so the
//     pods can use the ports the operator renders (10911, 40911, 10980 ...) on 127.0.0.N without
//     colliding with anything else running on the machine.
// Needs root (CAP_SYS_ADMIN). Errors name the failing step and errno; the caller must stop then
// (never write /etc/hosts without the bind mount in place).
#pragma once

#include <string>

#include "broker/base/result.h"

namespace dledger::e2e {

Status enter_private_namespaces(const std::string& hosts_path);

// Replaces the content of `hosts_path` (in place: the bind mount follows the inode, a rename
// would not) with the localhost lines followed by `extra_lines`.
Status write_hosts_file(const std::string& hosts_path, const std::string& extra_lines);

}  // namespace dledger::e2e
