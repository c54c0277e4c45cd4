// Hash functions: SHA-256/384/512 (FIPS 180-4), BLAKE2s-256 and BLAKE2b-512
// (RFC 7693), one-shot and incremental.
//
// Thread-safe for the free functions; a Hasher object is thread-compatible.
#ifndef PERIMETER_CRYPTO_HASH_H_
#define PERIMETER_CRYPTO_HASH_H_

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::crypto {

enum class HashAlg {
  kSha256,
  kSha384,
  kSha512,
  kBlake2s256,  // BLAKE2s with a 32-byte digest, unkeyed
  kBlake2b512,  // BLAKE2b with a 64-byte digest, unkeyed
};

// Output length in bytes: 32, 48, 64, 32, 64.
std::size_t DigestSize(HashAlg alg);
// Internal block length in bytes (used by HMAC): 64, 128, 128, 64, 128.
std::size_t BlockSize(HashAlg alg);
// "SHA256", "SHA384", "SHA512", "BLAKE2s", "BLAKE2b" (Noise spelling).
std::string_view HashName(HashAlg alg);

// One-shot digest of the concatenation of `parts`.
// Errors: kInternal ("crypto.hash_failed") on a library failure.
Result<Bytes> Hash(HashAlg alg, ByteView data);
Result<Bytes> Hash(HashAlg alg, std::initializer_list<ByteView> parts);

// Incremental hashing. Move-only.
class Hasher {
 public:
  // Errors: kInternal ("crypto.hash_failed").
  static Result<Hasher> New(HashAlg alg);
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  ~Hasher();

  Status Update(ByteView data);
  // Returns the digest and resets the hasher to its initial state.
  Result<Bytes> Finish();
  HashAlg alg() const { return alg_; }

 private:
  struct Impl;
  Hasher(HashAlg alg, std::unique_ptr<Impl> impl);
  HashAlg alg_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace perimeter::crypto

#endif  // PERIMETER_CRYPTO_HASH_H_
