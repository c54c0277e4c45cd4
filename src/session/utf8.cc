#include <cstddef>
#include <cstdint>

#include "session/wire.h"

namespace perimeter::session::internal {

// The table of RFC 3629 section 4 (UTF8-octets), byte by byte.
bool IsWellFormedUtf8(ByteView s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  auto cont = [&](std::size_t at, std::uint8_t lo, std::uint8_t hi) {
    return at < n && s[at] >= lo && s[at] <= hi;
  };
  while (i < n) {
    const std::uint8_t b = s[i];
    if (b < 0x80) {
      i += 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
      if (!cont(i + 1, 0x80, 0xBF)) return false;
      i += 2;
    } else if (b == 0xE0) {
      if (!cont(i + 1, 0xA0, 0xBF) || !cont(i + 2, 0x80, 0xBF)) return false;
      i += 3;
    } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
      if (!cont(i + 1, 0x80, 0xBF) || !cont(i + 2, 0x80, 0xBF)) return false;
      i += 3;
    } else if (b == 0xED) {  // excludes the surrogates
      if (!cont(i + 1, 0x80, 0x9F) || !cont(i + 2, 0x80, 0xBF)) return false;
      i += 3;
    } else if (b == 0xF0) {
      if (!cont(i + 1, 0x90, 0xBF) || !cont(i + 2, 0x80, 0xBF) || !cont(i + 3, 0x80, 0xBF)) return false;
      i += 4;
    } else if (b >= 0xF1 && b <= 0xF3) {
      if (!cont(i + 1, 0x80, 0xBF) || !cont(i + 2, 0x80, 0xBF) || !cont(i + 3, 0x80, 0xBF)) return false;
      i += 4;
    } else if (b == 0xF4) {  // up to U+10FFFF
      if (!cont(i + 1, 0x80, 0x8F) || !cont(i + 2, 0x80, 0xBF) || !cont(i + 3, 0x80, 0xBF)) return false;
      i += 4;
    } else {
      return false;  // 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF
    }
  }
  return true;
}

}  // namespace perimeter::session::internal
