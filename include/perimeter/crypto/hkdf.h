// HKDF (RFC 5869): extract-then-expand key derivation. Thread-safe.
#ifndef PERIMETER_CRYPTO_HKDF_H_
#define PERIMETER_CRYPTO_HKDF_H_

#include <cstddef>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/secret_bytes.h"
#include "perimeter/crypto/hash.h"

namespace perimeter::crypto {

// HKDF-`alg`(ikm, salt, info) with `length` bytes of output. An empty salt
// means HashLen zero bytes (RFC 5869 section 2.2).
// Errors: kInvalidArgument ("crypto.hkdf_bad_length") if length is 0 or
// greater than 255 * DigestSize(alg); kInternal ("crypto.hkdf_failed").
Result<SecretBytes> Hkdf(HashAlg alg, ByteView ikm, ByteView salt, ByteView info,
                         std::size_t length);

}  // namespace perimeter::crypto

#endif  // PERIMETER_CRYPTO_HKDF_H_
