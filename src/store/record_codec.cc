#include "store/record_codec.h"

#include "perimeter/base/base64.h"
#include "perimeter/store/record_store.h"

namespace perimeter::store::internal {
namespace {

constexpr std::uint8_t kPageTokenVersion = 1;

void PutBe32(Bytes& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void PutLp(Bytes& out, std::string_view s) {
  PutBe32(out, static_cast<std::uint32_t>(s.size()));  // sizes are bounded far below 2^32
  Append(out, AsBytes(s));
}

}  // namespace

void EncodeRecordAad(std::uint32_t format_version, std::string_view user_id,
                     std::string_view record_key, std::uint32_t key_generation, Bytes& out) {
  out.clear();
  out.reserve(4 + kAadContext.size() + 4 + 4 + user_id.size() + 4 + record_key.size() + 4);
  PutLp(out, kAadContext);
  PutBe32(out, format_version);
  PutLp(out, user_id);
  PutLp(out, record_key);
  PutBe32(out, key_generation);
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
