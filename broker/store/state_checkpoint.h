// Consume-queue checkpoint file: the whole StoreState (StoreState::save_snapshot(0) bytes, which
// end in a CRC32C) written to <dir>/store-state.ckpt for fast restarts. Written as
// store-state.ckpt.tmp, fsync, rename, directory fsync, so a crash leaves the old or the new file.
// The ledger stays the source of truth: a missing or damaged checkpoint only means the consume
// queues are rebuilt from the ledger's first entry.
#pragma once

#include <string>

#include "broker/base/result.h"
#include "broker/store/store_state.h"

namespace dledger::store {

inline constexpr const char* kCheckpointFileName = "store-state.ckpt";

// Writes `state_bytes` (StoreState::save_snapshot(0)) durably. kIo / kDiskFull errors name the
// file and the failing call.
Status write_state_checkpoint(const std::string& dir, const std::string& state_bytes);

// kNotFound when there is no checkpoint; kCorruption (naming the file) when it is damaged.
Result<StoreState> read_state_checkpoint(const std::string& dir);

}  // namespace dledger::store
