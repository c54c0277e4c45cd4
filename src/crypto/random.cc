// Random bytes from OpenSSL's DRBGs: the public DRBG for RandomFill, the
// private DRBG (RAND_priv_bytes) for secrets.
#include "perimeter/crypto/random.h"

#include <algorithm>
#include <climits>

#include "crypto/openssl/ossl_error.h"
#include "crypto/openssl/ossl_ptr.h"

namespace perimeter::crypto {
namespace {

// RAND_*bytes take an int length, so large requests are split.
Status FillWith(int (*fill)(unsigned char*, int), MutableByteView out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const std::size_t chunk = std::min<std::size_t>(out.size() - done, INT_MAX);
    if (fill(out.data() + done, static_cast<int>(chunk)) != 1) {
      SecureWipe(out.data(), out.size());
      return internal::OpenSslInternal("crypto.rng_failed", "random generator failed");
    }
    done += chunk;
  }
  return Status::Ok();
}

}  // namespace

Status RandomFill(MutableByteView out) { return FillWith(RAND_bytes, out); }

Result<SecretBytes> RandomSecret(std::size_t n) {
  SecretBytes s(n);
  PERIMETER_RETURN_IF_ERROR(FillWith(RAND_priv_bytes, s.mutable_view()));
  return s;
}

}  // namespace perimeter::crypto
