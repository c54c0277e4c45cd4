// X25519 and X448 Diffie-Hellman (RFC 7748 sections 5 and 6).
#ifndef PERIMETER_CRYPTO_XDH_H_
#define PERIMETER_CRYPTO_XDH_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/secret_bytes.h"

namespace perimeter::crypto {

enum class XdhAlg { kX25519, kX448 };

// Key and shared-secret length: 32 for X25519, 56 for X448.
std::size_t XdhKeySize(XdhAlg alg);
// "25519" or "448" (Noise spelling).
std::string_view XdhName(XdhAlg alg);

// An X25519/X448 private key with its public key. The private scalar lives
// inside OpenSSL (wiped when freed). Move-only. Const methods are thread-safe.
class XdhPrivateKey {
 public:
  // A fresh key pair from the CSPRNG. Errors: kInternal ("crypto.xdh_failed").
  static Result<XdhPrivateKey> Generate(XdhAlg alg);
  // From a raw private scalar of XdhKeySize(alg) bytes (clamped as RFC 7748
  // says). Errors: kInvalidArgument ("crypto.xdh_bad_key_size").
  static Result<XdhPrivateKey> FromBytes(XdhAlg alg, ByteView private_key);

  XdhPrivateKey(XdhPrivateKey&&) noexcept;
  XdhPrivateKey& operator=(XdhPrivateKey&&) noexcept;
  ~XdhPrivateKey();

  XdhAlg alg() const { return alg_; }
  // The public key, XdhKeySize(alg) bytes.
  ByteView public_key() const { return public_key_; }

  // The shared secret X(private, peer_public), XdhKeySize(alg) bytes.
  // Errors: kInvalidArgument ("crypto.xdh_bad_key_size") unless the peer key
  // has XdhKeySize(alg) bytes; kInvalidArgument ("crypto.xdh_low_order")
  // when the result is all zeros (a low-order peer point, RFC 7748 section
  // 6: we always reject it); kInternal ("crypto.xdh_failed").
  Result<SecretBytes> Dh(ByteView peer_public) const;

  // The raw private scalar, for persisting a key. Handle as a secret.
  Result<SecretBytes> ExportPrivate() const;

 private:
  struct Impl;
  XdhPrivateKey(XdhAlg alg, std::unique_ptr<Impl> impl, Bytes pub);
  XdhAlg alg_;
  std::unique_ptr<Impl> impl_;
  Bytes public_key_;
};

}  // namespace perimeter::crypto

#endif  // PERIMETER_CRYPTO_XDH_H_
