#include "perimeter/keys/derived_key.h"

namespace perimeter::keys {

Result<crypto::Aead> DerivedKey::NewAead(crypto::AeadAlg alg) const {
  return crypto::Aead::New(alg, key_.view());
}

}  // namespace perimeter::keys
