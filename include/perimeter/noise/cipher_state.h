// CipherState (Noise revision 34, section 5.1): a key k (possibly empty) and
// a 64-bit nonce n, encrypting with the protocol's AEAD.
//
// Nonce n = 2^64-1 is reserved (section 5.1): an attempt to encrypt or
// decrypt with it fails with kResourceExhausted "noise.nonce_exhausted" and
// the caller must rekey (transport) or close. A failed decryption does not
// advance n.
//
// Move-only (it owns a key, wiped on destruction). Thread-compatible.
#ifndef PERIMETER_NOISE_CIPHER_STATE_H_
#define PERIMETER_NOISE_CIPHER_STATE_H_

#include <cstdint>
#include <optional>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/secret_bytes.h"
#include "perimeter/crypto/aead.h"

namespace perimeter::noise {

inline constexpr std::size_t kNoiseKeySize = 32;
inline constexpr std::size_t kNoiseTagSize = 16;
// Section 3: every Noise message is at most 65535 bytes.
inline constexpr std::size_t kMaxMessageSize = 65535;
inline constexpr std::uint64_t kMaxNonce = ~std::uint64_t{0};

class CipherState {
 public:
  // An empty CipherState for `alg` (HasKey() is false).
  explicit CipherState(crypto::AeadAlg alg) : alg_(alg) {}
  CipherState(CipherState&&) noexcept = default;
  CipherState& operator=(CipherState&&) noexcept = default;
  CipherState(const CipherState&) = delete;
  CipherState& operator=(const CipherState&) = delete;

  // Sets k = key (32 bytes) and n = 0.
  // Errors: kInvalidArgument "noise.bad_key_size"; kInternal from crypto.
  Status InitializeKey(ByteView key);
  bool HasKey() const { return aead_.has_value(); }
  crypto::AeadAlg alg() const { return alg_; }

  void SetNonce(std::uint64_t n) { n_ = n; }
  std::uint64_t nonce() const { return n_; }

  // With a key: AEAD-encrypts and appends the 16-byte tag, then n += 1.
  // Without a key: returns the plaintext unchanged.
  // Errors: kResourceExhausted "noise.nonce_exhausted".
  Result<Bytes> EncryptWithAd(ByteView ad, ByteView plaintext);
  // In-place friendly form: `out` must have plaintext.size() (+16 with a
  // key) bytes; it may alias `plaintext` exactly.
  Status EncryptWithAd(ByteView ad, ByteView plaintext, MutableByteView out);

  // With a key: verifies and decrypts, then n += 1. Without: returns the
  // input. Errors: kUnauthenticated "noise.decrypt_failed" (n unchanged);
  // kInvalidArgument "noise.message_too_short"; kResourceExhausted
  // "noise.nonce_exhausted".
  Result<Bytes> DecryptWithAd(ByteView ad, ByteView ciphertext);
  Status DecryptWithAd(ByteView ad, ByteView ciphertext, MutableByteView out);

  // Section 4.2 REKEY: k = first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32
  // zero bytes). n is unchanged. REQUIRES: HasKey().
  // Errors: kFailedPrecondition "noise.no_key".
  Status Rekey();

 private:
  void EncodeNonce(std::uint64_t n, std::uint8_t out[crypto::kAeadNonceSize]) const;

  crypto::AeadAlg alg_;
  std::optional<crypto::Aead> aead_;
  SecretBytes key_;
  std::uint64_t n_ = 0;
};

}  // namespace perimeter::noise

#endif  // PERIMETER_NOISE_CIPHER_STATE_H_
