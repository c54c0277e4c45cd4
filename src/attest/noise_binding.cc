#include "perimeter/attest/noise_binding.h"

#include "perimeter/crypto/hash.h"

namespace perimeter::attest {

Result<Bytes> NoiseBindingReportData(ByteView server_static_public_key) {
  if (server_static_public_key.size() != 32) {
    return InvalidArgumentError("attest.binding_bad_key",
                                "attest: the Noise static public key must be 32 bytes");
  }
  return crypto::Hash(crypto::HashAlg::kSha512, {AsBytes(kNoiseBindingLabel), server_static_public_key});
}

}  // namespace perimeter::attest
