// DerivedKey: a 32-byte key derived from a pod root (user_key_g or a
// session scratch key, DESIGN.md section 5), tagged with the generation of
// the master secret it descends from.
//
// The bytes stay inside: use NewAead() to encrypt with it. Raw bytes only via
// ExportRaw(RawKeyAccess). Wiped on destruction. No operator==, no operator<<.
//
// Intentionally copyable. Thread-compatible.
#ifndef PERIMETER_KEYS_DERIVED_KEY_H_
#define PERIMETER_KEYS_DERIVED_KEY_H_

#include <cstddef>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/secret_bytes.h"
#include "perimeter/crypto/aead.h"
#include "perimeter/keys/master_secret.h"
#include "perimeter/keys/raw_key_access.h"

namespace perimeter::keys {

inline constexpr std::size_t kDerivedKeySize = 32;

class DerivedKey {
 public:
  Generation generation() const { return generation_; }

  // An AEAD keyed with this key. Errors: from crypto::Aead::New.
  Result<crypto::Aead> NewAead(crypto::AeadAlg alg) const;

  ByteView ExportRaw(RawKeyAccess) const { return key_.view(); }

 private:
  friend class PodKeys;
  DerivedKey(Generation generation, ByteView key) : generation_(generation), key_(key) {}
  Generation generation_;
  SecretArray<kDerivedKeySize> key_;
};

}  // namespace perimeter::keys

#endif  // PERIMETER_KEYS_DERIVED_KEY_H_
