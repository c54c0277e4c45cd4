// HMAC (RFC 2104) over any HashAlg, including BLAKE2s/BLAKE2b as the Noise
// specification uses them (HMAC with the hash's block length, section 4.3).
// Thread-safe.
#ifndef PERIMETER_CRYPTO_HMAC_H_
#define PERIMETER_CRYPTO_HMAC_H_

#include <initializer_list>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/secret_bytes.h"
#include "perimeter/crypto/hash.h"

namespace perimeter::crypto {

// HMAC-`alg`(key, concatenation of `parts`); the output has DigestSize(alg)
// bytes and is returned as a secret (HMAC outputs are key material in HKDF
// and Noise). Any key length is allowed (RFC 2104 section 2).
// Errors: kInternal ("crypto.hmac_failed").
Result<SecretBytes> Hmac(HashAlg alg, ByteView key, std::initializer_list<ByteView> parts);
Result<SecretBytes> Hmac(HashAlg alg, ByteView key, ByteView data);

// Verifies `tag` against HMAC-`alg`(key, data) in constant time. A `tag`
// shorter than the full output is compared against the output's prefix (a
// truncated MAC, RFC 2104 section 5); it must be at least 10 bytes and at
// most DigestSize(alg).
// Errors: kUnauthenticated ("crypto.hmac_mismatch"); kInvalidArgument
// ("crypto.hmac_bad_tag_length") for a tag length outside that range.
Status HmacVerify(HashAlg alg, ByteView key, ByteView data, ByteView tag);

}  // namespace perimeter::crypto

#endif  // PERIMETER_CRYPTO_HMAC_H_
