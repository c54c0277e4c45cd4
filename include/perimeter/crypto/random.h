// Cryptographically secure random bytes from OpenSSL's DRBG (seeded from the
// OS). Thread-safe.
#ifndef PERIMETER_CRYPTO_RANDOM_H_
#define PERIMETER_CRYPTO_RANDOM_H_

#include <cstddef>

#include "perimeter/base/bytes.h"
#include "perimeter/base/secret_bytes.h"
#include "perimeter/base/status.h"

namespace perimeter::crypto {

// Fills `out` with random bytes. Errors: kInternal ("crypto.rng_failed") if
// the DRBG fails; `out` is then wiped.
Status RandomFill(MutableByteView out);

// Returns `n` random bytes as a secret.
Result<SecretBytes> RandomSecret(std::size_t n);

}  // namespace perimeter::crypto

#endif  // PERIMETER_CRYPTO_RANDOM_H_
