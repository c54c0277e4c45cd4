// ECDSA (FIPS 186-5) over NIST P-256 and P-384: verification and signing.
//
// Keys are immutable after construction. EcdsaPublicKey is cheap to copy (it
// shares one immutable OpenSSL key); all const methods of both classes are
// thread-safe and may run concurrently on one object.
//
// Signature encodings (EcdsaSignatureFormat):
//   * kDer: the ASN.1 SEQUENCE { INTEGER r, INTEGER s } of RFC 3279 / X.509,
//     in strict DER: BER forms (long-form lengths that could be short,
//     leading zero bytes, negative integers, indefinite lengths) and trailing
//     bytes are rejected.
//   * kP1363: r || s, each big-endian and zero-padded to the scalar size
//     (32 bytes for P-256, 48 for P-384). IEEE P1363 / WebCrypto.
//   * kAmdLittleEndian: the AMD SEV-SNP signature layout (SEV-SNP ABI
//     specification, "ECDSA P-384 with SHA-384" signature format): r then s,
//     each a 72-byte little-endian integer zero-padded above the scalar size,
//     144 bytes in total. Defined by AMD for P-384; accepted for P-256 with
//     the same 72-byte fields.
// For every format r and s must lie in [1, n-1] (n the group order);
// otherwise the signature is rejected before any curve arithmetic.
//
// Error reasons (stable):
//   "crypto.ec_bad_public_key"     kInvalidArgument: unparsable key, point not
//                                  on the curve, compressed or infinity point
//   "crypto.ec_bad_private_key"    kInvalidArgument: unparsable PKCS#8 / not EC
//   "crypto.ec_unsupported_curve"  kInvalidArgument: a curve other than
//                                  P-256/P-384, or explicit curve parameters
//   "crypto.ecdsa_bad_digest_size" kInvalidArgument: digest not 32/48/64 bytes
//   "crypto.ecdsa_unsupported_hash" kInvalidArgument: a non-SHA-2 HashAlg
//   "crypto.signature_malformed"   kUnauthenticated: signature bytes not in
//                                  the expected format, or r/s out of range
//   "crypto.signature_invalid"     kUnauthenticated: well-formed but does not
//                                  verify
//   "crypto.signing_failed", "crypto.keygen_failed", "crypto.ec_failed"
//                                  kInternal: library failure
#ifndef PERIMETER_CRYPTO_ECDSA_H_
#define PERIMETER_CRYPTO_ECDSA_H_

#include <cstddef>
#include <memory>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/secret_bytes.h"
#include "perimeter/crypto/hash.h"

namespace perimeter::crypto {

enum class EcCurve { kP256, kP384 };

enum class EcdsaSignatureFormat { kDer, kP1363, kAmdLittleEndian };

// Size in bytes of a scalar / field element: 32 for P-256, 48 for P-384.
std::size_t EcScalarSize(EcCurve curve);
// "P-256" or "P-384".
std::string_view EcCurveName(EcCurve curve);
// The hash Verify()/Sign() use by default: SHA-256 for P-256, SHA-384 for
// P-384.
HashAlg EcdsaDefaultHash(EcCurve curve);
// Size of one AMD little-endian field (72) and of the whole signature (144).
inline constexpr std::size_t kAmdEcdsaFieldSize = 72;
inline constexpr std::size_t kAmdEcdsaSignatureSize = 2 * kAmdEcdsaFieldSize;

// Re-encodes a signature from one format to another. The input is checked
// exactly as Verify() checks it (strict DER, exact lengths, r and s in
// [1, n-1]). Errors: kUnauthenticated ("crypto.signature_malformed");
// kInternal ("crypto.ec_failed").
Result<Bytes> EcdsaConvertSignature(EcCurve curve, ByteView signature,
                                    EcdsaSignatureFormat from, EcdsaSignatureFormat to);

class EcdsaPublicKey {
 public:
  // From a DER SubjectPublicKeyInfo (id-ecPublicKey with a named curve).
  // Trailing bytes are rejected.
  // Errors: kInvalidArgument ("crypto.ec_bad_public_key",
  // "crypto.ec_unsupported_curve").
  static Result<EcdsaPublicKey> FromSpkiDer(ByteView der);
  // From an uncompressed SEC 1 point 0x04 || X || Y (1 + 2 * EcScalarSize
  // bytes), e.g. the VCEK key of an SEV-SNP report chain.
  // Errors: kInvalidArgument ("crypto.ec_bad_public_key").
  static Result<EcdsaPublicKey> FromUncompressedPoint(EcCurve curve, ByteView point);

  // Intentionally copyable (copies share the immutable key).
  EcdsaPublicKey(const EcdsaPublicKey&);
  EcdsaPublicKey& operator=(const EcdsaPublicKey&);
  EcdsaPublicKey(EcdsaPublicKey&&) noexcept;
  EcdsaPublicKey& operator=(EcdsaPublicKey&&) noexcept;
  ~EcdsaPublicKey();

  EcCurve curve() const { return curve_; }
  // DER SubjectPublicKeyInfo with an uncompressed point.
  // Errors: kInternal ("crypto.ec_failed").
  Result<Bytes> ToSpkiDer() const;
  // 0x04 || X || Y. Errors: kInternal ("crypto.ec_failed").
  Result<Bytes> ToUncompressedPoint() const;

  // Verifies `signature` over `message` hashed with EcdsaDefaultHash(curve).
  // Errors: kUnauthenticated ("crypto.signature_malformed",
  // "crypto.signature_invalid").
  Status Verify(ByteView message, ByteView signature, EcdsaSignatureFormat format) const;
  // As Verify() but hashing `message` with `hash` (SHA-256/384/512 only),
  // e.g. for certificates whose signature algorithm names another hash.
  // Errors: as Verify(), plus kInvalidArgument
  // ("crypto.ecdsa_unsupported_hash").
  Status VerifyWithHash(HashAlg hash, ByteView message, ByteView signature,
                        EcdsaSignatureFormat format) const;
  // Verifies over a precomputed digest of 32, 48 or 64 bytes.
  // Errors: as Verify(), plus kInvalidArgument
  // ("crypto.ecdsa_bad_digest_size").
  Status VerifyDigest(ByteView digest, ByteView signature, EcdsaSignatureFormat format) const;

 private:
  friend class EcdsaPrivateKey;
  struct Impl;
  EcdsaPublicKey(EcCurve curve, std::shared_ptr<const Impl> impl);
  EcCurve curve_;
  std::shared_ptr<const Impl> impl_;
};

class EcdsaPrivateKey {
 public:
  // A fresh key from the CSPRNG. Errors: kInternal ("crypto.keygen_failed").
  static Result<EcdsaPrivateKey> Generate(EcCurve curve);
  // From an unencrypted DER PKCS#8 PrivateKeyInfo holding a P-256/P-384
  // key. Errors: kInvalidArgument ("crypto.ec_bad_private_key",
  // "crypto.ec_unsupported_curve").
  static Result<EcdsaPrivateKey> FromPkcs8Der(ByteView der);

  // Move-only: a private key is never silently duplicated.
  EcdsaPrivateKey(EcdsaPrivateKey&&) noexcept;
  EcdsaPrivateKey& operator=(EcdsaPrivateKey&&) noexcept;
  EcdsaPrivateKey(const EcdsaPrivateKey&) = delete;
  EcdsaPrivateKey& operator=(const EcdsaPrivateKey&) = delete;
  ~EcdsaPrivateKey();

  EcCurve curve() const { return public_key_.curve(); }
  const EcdsaPublicKey& public_key() const { return public_key_; }
  // Unencrypted DER PKCS#8; handle as a secret.
  // Errors: kInternal ("crypto.ec_failed").
  Result<SecretBytes> ToPkcs8Der() const;

  // Signs SHA-256 (P-256) / SHA-384 (P-384) of `message` with a random
  // nonce. Errors: kInternal ("crypto.signing_failed").
  Result<Bytes> Sign(ByteView message, EcdsaSignatureFormat format) const;
  // Signs a precomputed digest of 32, 48 or 64 bytes.
  // Errors: kInvalidArgument ("crypto.ecdsa_bad_digest_size"); kInternal
  // ("crypto.signing_failed").
  Result<Bytes> SignDigest(ByteView digest, EcdsaSignatureFormat format) const;

 private:
  struct Impl;
  EcdsaPrivateKey(std::unique_ptr<Impl> impl, EcdsaPublicKey pub);
  std::unique_ptr<Impl> impl_;
  EcdsaPublicKey public_key_;
};

}  // namespace perimeter::crypto

#endif  // PERIMETER_CRYPTO_ECDSA_H_
