#include "store/record_codec.h"

#include <cstring>

#include "perimeter/base/base64.h"
#include "perimeter/store/record_store.h"

namespace perimeter::store::internal {
namespace {

constexpr std::uint8_t kPageTokenVersion = 1;

// Writes BE32(v) at p; returns the position after it.
std::uint8_t* PutBe32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
  return p + 4;
}

// Writes LP(s) at p; returns the position after it. Sizes are bounded far
// below 2^32 (record keys by kMaxKeySize, user ids by their format).
std::uint8_t* PutLp(std::uint8_t* p, std::string_view s) {
  p = PutBe32(p, static_cast<std::uint32_t>(s.size()));
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

}  // namespace

void EncodeRecordAad(std::uint32_t format_version, std::string_view user_id,
                     std::string_view record_key, std::uint32_t key_generation, Bytes& out) {
  // Sized once and written in place: this runs on every Get and Put.
  out.resize(4 + kAadContext.size() + 4 + 4 + user_id.size() + 4 + record_key.size() + 4);
  std::uint8_t* p = out.data();
  p = PutLp(p, kAadContext);
  p = PutBe32(p, format_version);
  p = PutLp(p, user_id);
  p = PutLp(p, record_key);
  PutBe32(p, key_generation);
}

std::string EncodePageToken(std::string_view last_key) {
  Bytes raw;
  raw.reserve(1 + last_key.size());
  raw.push_back(kPageTokenVersion);
  Append(raw, AsBytes(last_key));
  return Base64Encode(raw);
}

Result<std::string> DecodePageToken(std::string_view token) {
  auto bad = [] {
    return InvalidArgumentError("store.bad_page_token", "store: malformed page token");
  };
  // base64 of 1 + kMaxKeySize bytes.
  if (token.size() > 4 * ((1 + kMaxKeySize + 2) / 3)) return bad();
  auto raw = Base64Decode(token);
  if (!raw.has_value()) return bad();
  if (raw->size() < 2 || raw->size() > 1 + kMaxKeySize || (*raw)[0] != kPageTokenVersion) {
    return bad();
  }
  return std::string(raw->begin() + 1, raw->end());
}

std::string PrefixUpperBound(std::string_view prefix) {
  std::string bound(prefix);
  while (!bound.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(bound.back());
    if (last != 0xff) {
      ++last;
      return bound;
    }
    bound.pop_back();
  }
  return bound;
}

}  // namespace perimeter::store::internal
