// SymmetricState (Noise revision 34, section 5.2): the chaining key ck, the
// handshake hash h and a CipherState, with the HKDF of section 4.3.
//
// Move-only; ck and the cipher key are wiped on destruction.
// Thread-compatible.
#ifndef PERIMETER_NOISE_SYMMETRIC_STATE_H_
#define PERIMETER_NOISE_SYMMETRIC_STATE_H_

#include <utility>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/secret_bytes.h"
#include "perimeter/crypto/hash.h"
#include "perimeter/noise/cipher_state.h"

namespace perimeter::noise {

class SymmetricState {
 public:
  // InitializeSymmetric(protocol_name): h = name padded to HASHLEN, or
  // HASH(name) if longer; ck = h; empty cipher.
  // Errors: kInternal from crypto.
  static Result<SymmetricState> New(std::string_view protocol_name, crypto::HashAlg hash,
                                    crypto::AeadAlg cipher);

  SymmetricState(SymmetricState&&) noexcept = default;
  SymmetricState& operator=(SymmetricState&&) noexcept = default;

  Status MixKey(ByteView input_key_material);
  Status MixHash(ByteView data);
  Status MixKeyAndHash(ByteView input_key_material);
  // Revision 30's MixPsk(psk), for "NoisePSK_" names only:
  // ck, temp = HKDF(ck, psk); MixHash(temp).
  Status MixPskRev30(ByteView psk);
  ByteView GetHandshakeHash() const { return h_; }
  bool HasKey() const { return cipher_.HasKey(); }

  // EncryptAndHash / DecryptAndHash (section 5.2). Decryption failure:
  // kUnauthenticated "noise.decrypt_failed", h unchanged.
  Result<Bytes> EncryptAndHash(ByteView plaintext);
  Result<Bytes> DecryptAndHash(ByteView ciphertext);

  // Split(): two CipherStates from ck; the first is the initiator's sending
  // cipher. Wipes ck. Errors: kInternal from crypto.
  Result<std::pair<CipherState, CipherState>> Split();

 private:
  SymmetricState(crypto::HashAlg hash, CipherState cipher)
      : hash_(hash), cipher_(std::move(cipher)) {}

  // HKDF of section 4.3 with 2 or 3 outputs of HASHLEN bytes.
  Status Hkdf(ByteView ikm, SecretBytes* out1, SecretBytes* out2, SecretBytes* out3);
  // A cipher key from an HKDF output: its first 32 bytes (section 5.2).
  static ByteView CipherKey(const SecretBytes& k) { return k.view().first(kNoiseKeySize); }

  crypto::HashAlg hash_;
  CipherState cipher_;
  SecretBytes ck_;
  Bytes h_;
};

}  // namespace perimeter::noise

#endif  // PERIMETER_NOISE_SYMMETRIC_STATE_H_
