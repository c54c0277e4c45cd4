// Ed25519 signatures (RFC 8032 section 5.1, pure EdDSA, no context).
//
// Verification follows OpenSSL's rules: S must be canonical (S < L) and the
// public key must decode to a curve point. The key bytes are only decoded
// when verifying, so a 32-byte string that is not a point is accepted by
// FromRaw() and then fails every Verify() with "crypto.signature_invalid". Keys are immutable;
// Ed25519PublicKey is cheap to copy. All const methods are thread-safe.
//
// Error reasons (stable):
//   "crypto.ed25519_bad_public_key" kInvalidArgument: wrong size,
//                                   unparsable or non-Ed25519 SPKI
//   "crypto.ed25519_bad_seed"       kInvalidArgument: seed not 32 bytes
//   "crypto.signature_malformed"    kUnauthenticated: signature not 64 bytes
//   "crypto.signature_invalid"      kUnauthenticated: does not verify
//   "crypto.signing_failed", "crypto.keygen_failed", "crypto.ed25519_failed"
//                                   kInternal: library failure
#ifndef PERIMETER_CRYPTO_ED25519_H_
#define PERIMETER_CRYPTO_ED25519_H_

#include <cstddef>
#include <memory>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/secret_bytes.h"

namespace perimeter::crypto {

inline constexpr std::size_t kEd25519PublicKeySize = 32;
inline constexpr std::size_t kEd25519SeedSize = 32;
inline constexpr std::size_t kEd25519SignatureSize = 64;

class Ed25519PublicKey {
 public:
  // From the 32-byte encoded point (RFC 8032 section 5.1.5).
  // Errors: kInvalidArgument ("crypto.ed25519_bad_public_key").
  static Result<Ed25519PublicKey> FromRaw(ByteView raw);
  // From a DER SubjectPublicKeyInfo with the id-Ed25519 OID (RFC 8410).
  // Trailing bytes are rejected.
  // Errors: kInvalidArgument ("crypto.ed25519_bad_public_key").
  static Result<Ed25519PublicKey> FromSpkiDer(ByteView der);

  // Intentionally copyable (copies share the immutable key).
  Ed25519PublicKey(const Ed25519PublicKey&);
  Ed25519PublicKey& operator=(const Ed25519PublicKey&);
  Ed25519PublicKey(Ed25519PublicKey&&) noexcept;
  Ed25519PublicKey& operator=(Ed25519PublicKey&&) noexcept;
  ~Ed25519PublicKey();

  // The 32-byte encoded public key.
  ByteView raw() const { return raw_; }

  // Verifies a 64-byte signature over `message`.
  // Errors: kUnauthenticated ("crypto.signature_malformed",
  // "crypto.signature_invalid").
  Status Verify(ByteView message, ByteView signature) const;

 private:
  friend class Ed25519PrivateKey;
  struct Impl;
  Ed25519PublicKey(std::shared_ptr<const Impl> impl, Bytes raw);
  std::shared_ptr<const Impl> impl_;
  Bytes raw_;
};

class Ed25519PrivateKey {
 public:
  // A fresh key from the CSPRNG. Errors: kInternal ("crypto.keygen_failed").
  static Result<Ed25519PrivateKey> Generate();
  // From the 32-byte private seed (RFC 8032 section 5.1.5).
  // Errors: kInvalidArgument ("crypto.ed25519_bad_seed").
  static Result<Ed25519PrivateKey> FromSeed(ByteView seed);

  // Move-only.
  Ed25519PrivateKey(Ed25519PrivateKey&&) noexcept;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&&) noexcept;
  Ed25519PrivateKey(const Ed25519PrivateKey&) = delete;
  Ed25519PrivateKey& operator=(const Ed25519PrivateKey&) = delete;
  ~Ed25519PrivateKey();

  const Ed25519PublicKey& public_key() const { return public_key_; }
  // The 32-byte seed, for persisting the key. Handle as a secret.
  // Errors: kInternal ("crypto.ed25519_failed").
  Result<SecretBytes> ExportSeed() const;

  // The deterministic 64-byte signature of `message`.
  // Errors: kInternal ("crypto.signing_failed").
  Result<Bytes> Sign(ByteView message) const;

 private:
  struct Impl;
  Ed25519PrivateKey(std::unique_ptr<Impl> impl, Ed25519PublicKey pub);
  std::unique_ptr<Impl> impl_;
  Ed25519PublicKey public_key_;
};

}  // namespace perimeter::crypto

#endif  // PERIMETER_CRYPTO_ED25519_H_
