// Bounds-checked byte encoding for wire and disk formats.
//
// ByteWriter appends fixed-width integers (little- or big-endian) and raw bytes to a std::string.
// ByteReader consumes them; every read checks the remaining length and, on underflow, sets a sticky
// failure flag and returns zero/empty instead of reading out of bounds. Decoders read everything,
// then check ok() once: a truncated or hostile input can never cause an out-of-bounds access.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace dledger {

enum class Endian { kLittle, kBig };

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out, Endian endian = Endian::kLittle)
      : out_(out), endian_(endian) {}

  void u8(std::uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void i16(std::int16_t v) { put(static_cast<std::uint16_t>(v), 2); }
  void i32(std::int32_t v) { put(static_cast<std::uint32_t>(v), 4); }
  void i64(std::int64_t v) { put(static_cast<std::uint64_t>(v), 8); }
  void bytes(std::string_view b) { out_->append(b.data(), b.size()); }
  // u16 length prefix followed by the bytes. Precondition: b.size() <= 65535 (the callers'
  // validation bounds every such field far below that).
  void blob16(std::string_view b) {
    u16(static_cast<std::uint16_t>(b.size()));
    bytes(b);
  }
  // u32 length prefix followed by the bytes.
  void blob32(std::string_view b) {
    u32(static_cast<std::uint32_t>(b.size()));
    bytes(b);
  }
  std::size_t size() const { return out_->size(); }
  // Overwrite a previously written u32 at `offset` (for length fields patched after the fact).
  void patch_u32(std::size_t offset, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      int shift = endian_ == Endian::kLittle ? 8 * i : 8 * (3 - i);
      (*out_)[offset + i] = static_cast<char>((v >> shift) & 0xff);
    }
  }

 private:
  // One append per field: a push_back per byte re-checks capacity and rewrites the terminator
  // each time, which showed in the encoders' profiles.
  void put(std::uint64_t v, int width) {
    char buf[8];
    for (int i = 0; i < width; ++i) {
      int shift = endian_ == Endian::kLittle ? 8 * i : 8 * (width - 1 - i);
      buf[i] = static_cast<char>((v >> shift) & 0xff);
    }
    out_->append(buf, static_cast<std::size_t>(width));
  }

  std::string* out_;
  Endian endian_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in, Endian endian = Endian::kLittle)
      : in_(in), endian_(endian) {}

  std::uint8_t u8() { return static_cast<std::uint8_t>(get(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(get(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
  std::uint64_t u64() { return get(8); }
  std::int16_t i16() { return static_cast<std::int16_t>(u16()); }
  std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  std::string_view bytes(std::size_t n) {
    if (!ok_ || n > remaining()) {
      ok_ = false;
      return {};
    }
    std::string_view v = in_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  // u16 length prefix followed by the bytes; fails if the length exceeds the input.
  std::string_view blob16() { return bytes(u16()); }
  // u32 length prefix followed by the bytes; fails if the length exceeds `max_len` or the input.
  std::string_view blob32(std::size_t max_len = SIZE_MAX) {
    std::uint32_t n = u32();
    if (n > max_len) {
      ok_ = false;
      return {};
    }
    return bytes(n);
  }
  void fail() { ok_ = false; }
  bool ok() const { return ok_; }
  std::size_t remaining() const { return in_.size() - pos_; }
  std::size_t position() const { return pos_; }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  std::uint64_t get(int width) {
    if (!ok_ || remaining() < static_cast<std::size_t>(width)) {
      ok_ = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < width; ++i) {
      std::uint64_t b = static_cast<std::uint8_t>(in_[pos_ + i]);
      int shift = endian_ == Endian::kLittle ? 8 * i : 8 * (width - 1 - i);
      v |= b << shift;
    }
    pos_ += width;
    return v;
  }

  std::string_view in_;
  Endian endian_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace dledger
