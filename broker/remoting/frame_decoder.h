// FrameDecoder: turns a byte stream (TCP reads of any size) into RemotingCommands.
//
//   FrameDecoder decoder;
//   decoder.feed(bytes_read);
//   while (true) {
//     auto next = decoder.next();
//     if (!next.ok()) { close the connection; break; }   // sticky: every later call fails too
//     if (!next->has_value()) break;                       // need more bytes
//     handle(std::move(**next));
//   }
//
// The length prefix is validated as soon as its 4 bytes arrive (negative, smaller than the 4-byte
// type/length word, or larger than the frame limit -> error), so a hostile peer can never make the
// decoder buffer more than one maximum-size frame.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "broker/base/result.h"
#include "broker/remoting/remoting_command.h"

namespace dledger::remoting {

class FrameDecoder {
 public:
  // max_frame_bytes: limit for a whole frame including its 4-byte length prefix (at least 8).
  explicit FrameDecoder(std::size_t max_frame_bytes = kMaxFrameBytes);

  // Appends bytes from the stream. Ignored once the decoder has failed.
  void feed(std::string_view bytes);

  // The next complete command, nullopt when more bytes are needed, or the Error that broke the
  // stream (sticky: the stream cannot be resynchronised, the caller must close the connection).
  Result<std::optional<RemotingCommand>> next();

  bool failed() const { return error_.has_value(); }
  // Bytes received but not yet returned as commands.
  std::size_t buffered_bytes() const { return buffer_.size() - read_pos_; }
  // Total bytes consumed by returned commands (stream offset of the next frame).
  std::size_t stream_offset() const { return stream_offset_; }

 private:
  std::size_t max_frame_bytes_;
  std::string buffer_;
  std::size_t read_pos_ = 0;
  std::size_t stream_offset_ = 0;
  std::optional<Error> error_;
};

}  // namespace dledger::remoting
