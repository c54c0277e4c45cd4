// Byte-string vocabulary: Bytes (owning) and ByteView (non-owning), plus
// hex and big-endian helpers. For secrets use SecretBytes (secret_bytes.h).
#ifndef PERIMETER_BASE_BYTES_H_
#define PERIMETER_BASE_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "perimeter/base/result.h"

namespace perimeter {

using Bytes = std::vector<std::uint8_t>;
// A view of bytes owned elsewhere; the owner must outlive the view.
using ByteView = std::span<const std::uint8_t>;
using MutableByteView = std::span<std::uint8_t>;

// Views the characters of `s` as bytes (no copy).
inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}
inline Bytes ToBytes(std::string_view s) {
  ByteView v = AsBytes(s);
  return Bytes(v.begin(), v.end());
}
inline Bytes ToBytes(ByteView v) { return Bytes(v.begin(), v.end()); }

// Lower-case hex of `data`.
std::string HexEncode(ByteView data);
// Accepts upper or lower case. Errors: kInvalidArgument, reason
// "base.bad_hex", on odd length or a non-hex character.
Result<Bytes> HexDecode(std::string_view hex);

// Appends `b` to `out`.
inline void Append(Bytes& out, ByteView b) { out.insert(out.end(), b.begin(), b.end()); }

// Big-endian 16-bit load/store. REQUIRES: the span has at least 2 bytes.
inline std::uint16_t LoadBigEndian16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline void StoreBigEndian16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

}  // namespace perimeter

#endif  // PERIMETER_BASE_BYTES_H_
