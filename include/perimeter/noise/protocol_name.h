// Noise protocol names (Noise revision 34, section 8):
// "Noise_<pattern>_<dh>_<cipher>_<hash>", e.g. "Noise_IK_25519_ChaChaPoly_SHA256".
// Thread-safe (immutable values).
#ifndef PERIMETER_NOISE_PROTOCOL_NAME_H_
#define PERIMETER_NOISE_PROTOCOL_NAME_H_

#include <string>
#include <string_view>

#include "perimeter/base/result.h"
#include "perimeter/crypto/aead.h"
#include "perimeter/crypto/hash.h"
#include "perimeter/crypto/xdh.h"
#include "perimeter/noise/pattern.h"

namespace perimeter::noise {

struct ProtocolName {
  std::string name;  // the full name as given; hashed into h at start
  HandshakePattern pattern;
  crypto::XdhAlg dh = crypto::XdhAlg::kX25519;
  crypto::AeadAlg cipher = crypto::AeadAlg::kChaCha20Poly1305;
  crypto::HashAlg hash = crypto::HashAlg::kSha256;
  // "NoisePSK_..." names: the obsolete PSK mode of Noise revision 30 (one
  // PSK mixed in right after the prologue), kept only so that the noise-c
  // test vectors run. Never used by Noise Pipes.
  bool legacy_psk = false;
};

// Parses a full protocol name ("Noise_..." or the revision-30 "NoisePSK_..."). DH: "25519", "448"; cipher: "ChaChaPoly",
// "AESGCM"; hash: "SHA256", "SHA512", "BLAKE2s", "BLAKE2b". Names are case
// sensitive, as in the spec. At most 255 bytes (section 8).
// Errors: kInvalidArgument "noise.bad_protocol_name" (shape, prefix or
// length), "noise.unknown_pattern", "noise.bad_modifier";
// kUnimplemented "noise.unsupported_dh", "noise.unsupported_cipher",
// "noise.unsupported_hash" for a well-formed name with a primitive we do not
// offer.
Result<ProtocolName> ParseProtocolName(std::string_view name);

}  // namespace perimeter::noise

#endif  // PERIMETER_NOISE_PROTOCOL_NAME_H_
