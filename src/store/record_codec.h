// Byte encodings of the record store that are not SQL: the AAD of a record
// and the List page token. Both are specified in docs/storage-format.md.
#ifndef PERIMETER_STORE_RECORD_CODEC_H_
#define PERIMETER_STORE_RECORD_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::store::internal {

// The context label that starts every record AAD.
inline constexpr std::string_view kAadContext = "secure-perimeter/store/record";

// AAD = LP(context) || BE32(format_version) || LP(user_id) || LP(record_key)
//       || BE32(key_generation), where LP(x) = BE32(len(x)) || x.
// Appends to `out` (cleared first).
void EncodeRecordAad(std::uint32_t format_version, std::string_view user_id,
                     std::string_view record_key, std::uint32_t key_generation, Bytes& out);

// Token = base64(0x01 || last_key). Decoding fails closed on anything else.
std::string EncodePageToken(std::string_view last_key);
// Errors: kInvalidArgument "store.bad_page_token".
Result<std::string> DecodePageToken(std::string_view token);

// The smallest byte string greater than every string with prefix `prefix`,
// or "" if there is none (prefix empty or all 0xff).
std::string PrefixUpperBound(std::string_view prefix);

}  // namespace perimeter::store::internal

#endif  // PERIMETER_STORE_RECORD_CODEC_H_
