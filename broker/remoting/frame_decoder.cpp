#include "broker/remoting/frame_decoder.h"

#include "broker/base/bytes.h"

namespace dledger::remoting {

FrameDecoder::FrameDecoder(std::size_t max_frame_bytes)
    : max_frame_bytes_(max_frame_bytes < 8 ? 8 : max_frame_bytes) {}

void FrameDecoder::feed(std::string_view bytes) {
  if (error_) return;
  // Drop consumed bytes before growing, so the buffer holds at most one partial frame plus `bytes`.
  if (read_pos_ > 0 && (read_pos_ == buffer_.size() || read_pos_ >= buffer_.size() / 2)) {
    buffer_.erase(0, read_pos_);
    read_pos_ = 0;
  }
  buffer_.append(bytes.data(), bytes.size());
}

Result<std::optional<RemotingCommand>> FrameDecoder::next() {
  if (error_) return *error_;
  std::string_view pending(buffer_.data() + read_pos_, buffer_.size() - read_pos_);
  if (pending.size() < 4) return std::optional<RemotingCommand>();
  ByteReader r(pending, Endian::kBig);
  int32_t length = r.i32();
  if (length < 4 || static_cast<std::size_t>(length) > max_frame_bytes_ - 4) {
    error_ = make_error(ErrorCode::kInvalidArgument,
                        "frame at stream offset " + std::to_string(stream_offset_) +
                            ": length prefix " + std::to_string(length) + " outside [4, " +
                            std::to_string(max_frame_bytes_ - 4) + "]");
    return *error_;
  }
  std::size_t frame_bytes = 4 + static_cast<std::size_t>(length);
  if (pending.size() < frame_bytes) return std::optional<RemotingCommand>();
  auto cmd = decode_frame_payload(pending.substr(4, static_cast<std::size_t>(length)));
  if (!cmd.ok()) {
    error_ =
        make_error(cmd.error().code, "frame at stream offset " + std::to_string(stream_offset_) +
                                         ": " + cmd.error().message);
    return *error_;
  }
  read_pos_ += frame_bytes;
  stream_offset_ += frame_bytes;
  return std::optional<RemotingCommand>(std::move(*cmd));
}

}  // namespace dledger::remoting
