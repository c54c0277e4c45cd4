// Authenticated encryption with associated data: AES-256-GCM (NIST SP
// 800-38D) and ChaCha20-Poly1305 (RFC 8439), 32-byte keys, 12-byte nonces and
// 16-byte tags appended to the ciphertext.
//
// An Aead object holds one key (wiped on destruction) and a prepared cipher
// context, so that per-message cost is only the cipher itself. The caller
// owns nonce uniqueness: never seal two messages with one (key, nonce).
// Secure against adaptive chosen-ciphertext attacks as long as nonces are
// unique. Thread-compatible: one object must not be used from two threads at
// once (it keeps a context); create one per thread.
#ifndef PERIMETER_CRYPTO_AEAD_H_
#define PERIMETER_CRYPTO_AEAD_H_

#include <cstddef>
#include <memory>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::crypto {

enum class AeadAlg { kAes256Gcm, kChaCha20Poly1305 };

inline constexpr std::size_t kAeadKeySize = 32;
inline constexpr std::size_t kAeadNonceSize = 12;
inline constexpr std::size_t kAeadTagSize = 16;

// "AESGCM" or "ChaChaPoly" (Noise spelling).
std::string_view AeadName(AeadAlg alg);

class Aead {
 public:
  // Errors: kInvalidArgument ("crypto.aead_bad_key_size") unless key is 32
  // bytes; kInternal ("crypto.aead_failed").
  static Result<Aead> New(AeadAlg alg, ByteView key);
  Aead(Aead&&) noexcept;
  Aead& operator=(Aead&&) noexcept;
  ~Aead();

  AeadAlg alg() const { return alg_; }

  // Encrypts `plaintext` and writes ciphertext || tag to `out`, which must
  // have exactly plaintext.size() + 16 bytes. `out` may alias `plaintext`
  // exactly (in-place) but must not otherwise overlap it.
  // Errors: kInvalidArgument ("crypto.aead_bad_nonce_size",
  // "crypto.aead_bad_output_size"); kInternal ("crypto.aead_failed").
  Status Seal(ByteView nonce, ByteView aad, ByteView plaintext, MutableByteView out);
  // Allocating convenience form.
  Result<Bytes> Seal(ByteView nonce, ByteView aad, ByteView plaintext);

  // Verifies and decrypts `ciphertext` (ciphertext || tag) into `out`, which
  // must have exactly ciphertext.size() - 16 bytes (aliasing as for Seal). On
  // any failure `out` is zeroed: no unauthenticated plaintext is released.
  // Errors: kUnauthenticated ("crypto.aead_bad_tag") when the tag does not
  // verify; kInvalidArgument ("crypto.aead_bad_nonce_size",
  // "crypto.aead_too_short" for fewer than 16 bytes,
  // "crypto.aead_bad_output_size").
  Status Open(ByteView nonce, ByteView aad, ByteView ciphertext, MutableByteView out);
  Result<Bytes> Open(ByteView nonce, ByteView aad, ByteView ciphertext);

 private:
  struct Impl;
  Aead(AeadAlg alg, std::unique_ptr<Impl> impl);
  AeadAlg alg_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace perimeter::crypto

#endif  // PERIMETER_CRYPTO_AEAD_H_
