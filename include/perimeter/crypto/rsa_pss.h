// RSASSA-PSS (RFC 8017 section 8.1) signatures with MGF1, over SHA-2.
//
// AMD uses RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt for the
// ARK/ASK/VCEK certificates (RSA-4096 ARK/ASK); the parameters are explicit
// arguments so the caller states what the certificate's AlgorithmIdentifier
// says. Verification requires the salt length to match exactly.
//
// Supported moduli: 2048 to 16384 bits (smaller keys are refused as too
// weak, larger ones as a denial-of-service risk). Hashes: SHA-256/384/512.
//
// Keys are immutable; RsaPublicKey is cheap to copy (shared immutable key).
// All const methods are thread-safe.
//
// Error reasons (stable):
//   "crypto.rsa_bad_public_key"       kInvalidArgument: unparsable / not RSA
//   "crypto.rsa_bad_private_key"      kInvalidArgument: unparsable / not RSA
//   "crypto.rsa_unsupported_key_size" kInvalidArgument: outside 2048..16384
//   "crypto.rsa_unsupported_hash"     kInvalidArgument: a non-SHA-2 HashAlg
//   "crypto.rsa_bad_salt_length"      kInvalidArgument: salt too long for the
//                                     modulus and hash
//   "crypto.signature_invalid"        kUnauthenticated: does not verify
//                                     (including a wrong-length signature)
//   "crypto.signing_failed", "crypto.keygen_failed", "crypto.rsa_failed"
//                                     kInternal: library failure
#ifndef PERIMETER_CRYPTO_RSA_PSS_H_
#define PERIMETER_CRYPTO_RSA_PSS_H_

#include <cstddef>
#include <memory>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/secret_bytes.h"
#include "perimeter/crypto/hash.h"

namespace perimeter::crypto {

inline constexpr std::size_t kRsaMinModulusBits = 2048;
inline constexpr std::size_t kRsaMaxModulusBits = 16384;

class RsaPublicKey {
 public:
  // From a DER SubjectPublicKeyInfo with the rsaEncryption OID. Trailing
  // bytes are rejected. Errors: kInvalidArgument ("crypto.rsa_bad_public_key",
  // "crypto.rsa_unsupported_key_size").
  static Result<RsaPublicKey> FromSpkiDer(ByteView der);
  // From a DER PKCS#1 RSAPublicKey (RFC 8017 appendix A.1.1). Errors: as
  // FromSpkiDer().
  static Result<RsaPublicKey> FromPkcs1Der(ByteView der);

  // Intentionally copyable (copies share the immutable key).
  RsaPublicKey(const RsaPublicKey&);
  RsaPublicKey& operator=(const RsaPublicKey&);
  RsaPublicKey(RsaPublicKey&&) noexcept;
  RsaPublicKey& operator=(RsaPublicKey&&) noexcept;
  ~RsaPublicKey();

  std::size_t modulus_bits() const { return modulus_bits_; }
  // DER SubjectPublicKeyInfo (rsaEncryption). Errors: kInternal
  // ("crypto.rsa_failed").
  Result<Bytes> ToSpkiDer() const;

  // Verifies an RSASSA-PSS signature over `message` hashed with `hash`, MGF1
  // with `mgf1_hash`, and exactly `salt_length` bytes of salt.
  // Errors: kInvalidArgument ("crypto.rsa_unsupported_hash",
  // "crypto.rsa_bad_salt_length"); kUnauthenticated
  // ("crypto.signature_invalid").
  Status VerifyPss(HashAlg hash, HashAlg mgf1_hash, std::size_t salt_length, ByteView message,
                   ByteView signature) const;

 private:
  friend class RsaPrivateKey;
  struct Impl;
  RsaPublicKey(std::shared_ptr<const Impl> impl, std::size_t bits);
  std::shared_ptr<const Impl> impl_;
  std::size_t modulus_bits_;
};

class RsaPrivateKey {
 public:
  // A fresh key with public exponent 65537. `bits` must be a multiple of 8
  // in [2048, 8192]. Slow (seconds for 4096 bits).
  // Errors: kInvalidArgument ("crypto.rsa_unsupported_key_size"); kInternal
  // ("crypto.keygen_failed").
  static Result<RsaPrivateKey> Generate(std::size_t bits);
  // From an unencrypted DER PKCS#8 PrivateKeyInfo holding an RSA key.
  // Errors: kInvalidArgument ("crypto.rsa_bad_private_key",
  // "crypto.rsa_unsupported_key_size").
  static Result<RsaPrivateKey> FromPkcs8Der(ByteView der);

  // Move-only.
  RsaPrivateKey(RsaPrivateKey&&) noexcept;
  RsaPrivateKey& operator=(RsaPrivateKey&&) noexcept;
  RsaPrivateKey(const RsaPrivateKey&) = delete;
  RsaPrivateKey& operator=(const RsaPrivateKey&) = delete;
  ~RsaPrivateKey();

  const RsaPublicKey& public_key() const { return public_key_; }
  // Unencrypted DER PKCS#8; handle as a secret. Errors: kInternal
  // ("crypto.rsa_failed").
  Result<SecretBytes> ToPkcs8Der() const;

  // Signs `message` with RSASSA-PSS (parameters as for VerifyPss()) using a
  // random salt. Errors: kInvalidArgument ("crypto.rsa_unsupported_hash",
  // "crypto.rsa_bad_salt_length"); kInternal ("crypto.signing_failed").
  Result<Bytes> SignPss(HashAlg hash, HashAlg mgf1_hash, std::size_t salt_length,
                        ByteView message) const;

 private:
  struct Impl;
  RsaPrivateKey(std::unique_ptr<Impl> impl, RsaPublicKey pub);
  std::unique_ptr<Impl> impl_;
  RsaPublicKey public_key_;
};

}  // namespace perimeter::crypto

#endif  // PERIMETER_CRYPTO_RSA_PSS_H_
