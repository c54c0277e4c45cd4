// A forward reader over a fuzzer's input, for the op-stream fuzzers
// (server_connection_fuzz, client_session_fuzz). Unlike FuzzedDataProvider it
// reads front to back, so seeds can be written by hand (or by a short script)
// in the order they are executed. Reading past the end yields zeros / empty
// views; nothing ever fails.
//
// Fuzzing only.
#ifndef PERIMETER_FUZZ_FUZZ_INPUT_H_
#define PERIMETER_FUZZ_FUZZ_INPUT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "perimeter/base/bytes.h"

namespace perimeter::fuzz {

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  std::size_t remaining() const { return size_ - pos_; }

  std::uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  // Big-endian.
  std::uint16_t U16() {
    const std::uint16_t hi = Byte();
    return static_cast<std::uint16_t>((hi << 8) | Byte());
  }
  std::uint32_t U32() {
    const std::uint32_t hi = U16();
    return (hi << 16) | U16();
  }
  // Up to `n` bytes (fewer at the end of the input).
  ByteView Take(std::size_t n) {
    n = std::min(n, remaining());
    ByteView v(data_ + pos_, n);
    pos_ += n;
    return v;
  }
  // A 2-byte big-endian length, then that many bytes (a short tail is what
  // is left).
  ByteView Sized() { return Take(U16()); }
  // A 1-byte length, then that many bytes.
  ByteView Small() { return Take(Byte()); }
  std::string SmallString() {
    const ByteView v = Small();
    return std::string(v.begin(), v.end());
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace perimeter::fuzz

#endif  // PERIMETER_FUZZ_FUZZ_INPUT_H_
