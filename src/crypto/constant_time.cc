// Constant-time comparisons over CRYPTO_memcmp.
#include "perimeter/crypto/constant_time.h"

#include <cstdint>

#include "crypto/openssl/ossl_ptr.h"

namespace perimeter::crypto {

bool ConstantTimeEquals(ByteView a, ByteView b) {
  // The lengths are public; only the contents are protected.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool ConstantTimeIsZero(ByteView a) {
  // OR-accumulate every byte; no early exit, no data-dependent branch.
  std::uint8_t acc = 0;
  for (std::uint8_t b : a) acc = static_cast<std::uint8_t>(acc | b);
  // Map acc to 0/1 without a branch on its value: (acc - 1) >> 8 is all ones
  // (in the low bit) only when acc == 0.
  const unsigned v = (static_cast<unsigned>(acc) - 1U) >> 8U;
  return (v & 1U) == 1U;
}

}  // namespace perimeter::crypto
