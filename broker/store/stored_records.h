// Turns consume-queue entries into RocketMQ stored message records (the PULL_MESSAGE body format,
// see broker/remoting/message_codec.h): reads each entry's ledger entry, decodes the store command
// and fills in the queue offset, physical offset and the store timestamp the applier assigned.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "broker/base/result.h"
#include "broker/remoting/message_codec.h"
#include "broker/store/store_command.h"
#include "broker/store/store_state.h"

namespace dledger::store {

// Returns the data of the committed ledger entry at `ledger_index`.
using LedgerEntryReader = std::function<Result<std::string>(std::uint64_t ledger_index)>;

// The message at `position` of a decoded command (a put: 0; a batch: its index), or nullptr.
const StoredMessage* message_at(const StoreCommand& command, std::uint32_t position);

// The record a consumer receives for `message`.
remoting::MessageRecord to_message_record(const StoredMessage& message, std::int64_t queue_offset,
                                          std::int64_t physical_offset,
                                          std::int64_t store_timestamp_ms);

struct StoredRecords {
  std::string records;  // encoded records back to back
  std::uint32_t count = 0;
  std::int64_t next_begin_offset = 0;  // queue offset after the last record returned or skipped
  std::uint32_t skipped = 0;           // entries the filter rejected
};

// Selects the messages a reader receives (e.g. a consumer's tag subscription). Empty = all.
using MessageFilter = std::function<bool(const StoredMessage& message)>;

// Materializes plan.entries in order, stopping before the record that would push the total above
// max_bytes (at least one record is returned when the first one can be read). A ledger entry that
// cannot be read (retention removed it meanwhile) or decoded ends the result early; the error is
// returned only when not even the first record could be built.
// With a `filter`, messages it rejects are skipped (not counted, not returned) but still advance
// next_begin_offset, so a reader continuing there does not see them again; at most `max_count`
// records are returned (the plan may hold more entries, to look past skipped ones).
Result<StoredRecords> build_stored_records(const ReadPlan& plan, const LedgerEntryReader& reader,
                                           std::uint64_t max_bytes,
                                           const MessageFilter& filter = {},
                                           std::uint32_t max_count = UINT32_MAX);

}  // namespace dledger::store
