// HKDF (RFC 5869) built directly on Hmac(): extract, then expand. Written
// over our HMAC (rather than EVP_KDF "HKDF") so that it reuses the cached
// HMAC templates, accepts every HashAlg including BLAKE2, and has no limit on
// the size of `info` (OpenSSL 3.0's HKDF caps it at 1024 bytes).
#include "perimeter/crypto/hkdf.h"

#include <algorithm>
#include <cstdint>

#include "perimeter/crypto/hmac.h"

namespace perimeter::crypto {

Result<SecretBytes> Hkdf(HashAlg alg, ByteView ikm, ByteView salt, ByteView info,
                         std::size_t length) {
  const std::size_t hash_len = DigestSize(alg);
  if (length == 0 || length > 255 * hash_len) {
    return InvalidArgumentError("crypto.hkdf_bad_length",
                                "crypto: HKDF output length out of range");
  }
  // RFC 5869 section 2.2: an absent salt is HashLen zero bytes.
  const Bytes zero_salt(hash_len, 0);
  ByteView effective_salt = salt.empty() ? ByteView(zero_salt) : salt;
  auto prk = Hmac(alg, effective_salt, ikm);
  if (!prk.has_value()) {
    return InternalError("crypto.hkdf_failed", "crypto: HKDF extract failed");
  }

  // Section 2.3: T(i) = HMAC(PRK, T(i-1) || info || i).
  SecretBytes okm(length);
  SecretBytes t;
  std::size_t done = 0;
  for (std::uint8_t i = 1; done < length; ++i) {
    const std::uint8_t counter[1] = {i};
    auto next = Hmac(alg, prk->view(), {t.view(), info, ByteView(counter)});
    if (!next.has_value()) {
      return InternalError("crypto.hkdf_failed", "crypto: HKDF expand failed");
    }
    t = std::move(next).value();
    const std::size_t n = std::min(hash_len, length - done);
    std::copy_n(t.data(), n, okm.data() + done);
    done += n;
  }
  return okm;
}

}  // namespace perimeter::crypto
