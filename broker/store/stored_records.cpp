#include "broker/store/stored_records.h"

#include <optional>
#include <variant>

namespace dledger::store {

remoting::MessageRecord to_message_record(const StoredMessage& message, std::int64_t queue_offset,
                                          std::int64_t physical_offset,
                                          std::int64_t store_timestamp_ms) {
  remoting::MessageRecord r;
  r.queue_id = message.queue_id;
  r.flag = message.flag;
  r.queue_offset = queue_offset;
  r.physical_offset = physical_offset;
  r.sys_flag = message.sys_flag;
  r.born_timestamp_ms = message.born_timestamp_ms;
  r.born_host = message.born_host;
  r.store_timestamp_ms = store_timestamp_ms;
  r.store_host = message.store_host;
  r.reconsume_times = message.reconsume_times;
  r.prepared_transaction_offset = message.prepared_transaction_offset;
  r.body = message.body;
  r.topic = message.topic;
  r.properties = message.properties;
  return r;
}

const StoredMessage* message_at(const StoreCommand& command, std::uint32_t position) {
  if (const auto* put = std::get_if<PutMessageCommand>(&command)) {
    return position == 0 ? &put->message : nullptr;
  }
  if (const auto* batch = std::get_if<PutBatchCommand>(&command)) {
    return position < batch->messages.size() ? &batch->messages[position] : nullptr;
  }
  return nullptr;
}

Result<StoredRecords> build_stored_records(const ReadPlan& plan, const LedgerEntryReader& reader,
                                           std::uint64_t max_bytes, const MessageFilter& filter,
                                           std::uint32_t max_count) {
  StoredRecords out;
  out.next_begin_offset = plan.next_begin_offset;
  if (plan.entries.empty()) return out;
  out.next_begin_offset = plan.entries.front().first;
  std::optional<std::uint64_t> cached_index;
  std::optional<StoreCommand> cached;
  for (const auto& [queue_offset, entry] : plan.entries) {
    if (out.count >= max_count) break;
    // Errors end the read; they are returned only when nothing was read or skipped before.
    const bool nothing_read = out.count == 0 && out.skipped == 0;
    if (!cached_index || *cached_index != entry.ledger_index) {
      cached.reset();
      auto data = reader(entry.ledger_index);
      if (!data.ok()) {
        if (nothing_read) return data.error();
        break;
      }
      auto command = decode_command(*data);
      if (!command.ok()) {
        if (nothing_read) {
          return make_error(ErrorCode::kCorruption,
                            "ledger entry " + std::to_string(entry.ledger_index) +
                                " behind queue offset " + std::to_string(queue_offset) + ": " +
                                command.error().message);
        }
        break;
      }
      cached_index = entry.ledger_index;
      cached = std::move(command).value();
    }
    const StoredMessage* message = message_at(*cached, entry.batch_position);
    if (!message) {
      if (nothing_read) {
        return make_error(ErrorCode::kInternal, "ledger entry " +
                                                    std::to_string(entry.ledger_index) +
                                                    " has no message at batch position " +
                                                    std::to_string(entry.batch_position));
      }
      break;
    }
    if (filter && !filter(*message)) {
      ++out.skipped;
      out.next_begin_offset = queue_offset + 1;
      continue;
    }
    remoting::MessageRecord record = to_message_record(
        *message, queue_offset, physical_offset_of(entry.ledger_index, entry.batch_position),
        entry.store_timestamp_ms);
    if (out.count > 0 && out.records.size() + remoting::message_record_size(record) > max_bytes) {
      break;
    }
    Status appended = remoting::append_message_record(record, &out.records);
    if (!appended.ok()) {
      if (out.count == 0) return appended.error();
      break;
    }
    ++out.count;
    out.next_begin_offset = queue_offset + 1;
  }
  return out;
}

}  // namespace dledger::store
