// Base64 (RFC 4648 section 4, standard alphabet, with padding).
#ifndef PERIMETER_BASE_BASE64_H_
#define PERIMETER_BASE_BASE64_H_

#include <string>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter {

std::string Base64Encode(ByteView data);

// Strict decoding: only the standard alphabet, padding required and
// canonical (the unused bits of the last symbol must be zero), no
// whitespace. Errors: kInvalidArgument "base.bad_base64".
Result<Bytes> Base64Decode(std::string_view text);

}  // namespace perimeter

#endif  // PERIMETER_BASE_BASE64_H_
