// Private: bounds-checked big-endian reading and writing for the session
// codec. Every read checks the remaining length first and reports a short
// input as false; nothing here trusts a length it did not check.
#ifndef PERIMETER_SRC_SESSION_WIRE_H_
#define PERIMETER_SRC_SESSION_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "perimeter/base/bytes.h"

namespace perimeter::session::internal {

class WireReader {
 public:
  explicit WireReader(ByteView in) : in_(in) {}

  std::size_t remaining() const { return in_.size() - pos_; }
  bool done() const { return pos_ == in_.size(); }

  bool ReadU8(std::uint8_t& v) {
    if (remaining() < 1) return false;
    v = in_[pos_++];
    return true;
  }
  bool ReadU16(std::uint16_t& v) {
    if (remaining() < 2) return false;
    v = LoadBigEndian16(in_.data() + pos_);
    pos_ += 2;
    return true;
  }
  bool ReadU32(std::uint32_t& v) {
    if (remaining() < 4) return false;
    const std::uint8_t* p = in_.data() + pos_;
    v = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
        std::uint32_t{p[3]};
    pos_ += 4;
    return true;
  }
  // A view of the next `n` bytes, valid while the input is.
  bool ReadBytes(std::size_t n, ByteView& out) {
    if (remaining() < n) return false;
    out = in_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  ByteView in_;
  std::size_t pos_ = 0;
};

inline void PutU8(Bytes& out, std::uint8_t v) { out.push_back(v); }
inline void PutU16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
inline void PutU32(Bytes& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
inline std::uint32_t LoadU32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// True if `s` is well-formed UTF-8 (RFC 3629): no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
bool IsWellFormedUtf8(ByteView s);

}  // namespace perimeter::session::internal

#endif  // PERIMETER_SRC_SESSION_WIRE_H_
