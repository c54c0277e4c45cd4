// Ed25519 over EVP_PKEY with one-shot EVP_DigestSign / EVP_DigestVerify.
#include "perimeter/crypto/ed25519.h"

#include <string>

#include "crypto/openssl/ossl_error.h"
#include "crypto/openssl/ossl_ptr.h"

namespace perimeter::crypto {
namespace {

using internal::OsslPtr;

Status BadPublicKey(std::string_view what) {
  internal::ClearOpenSslErrors();
  return InvalidArgumentError("crypto.ed25519_bad_public_key", std::string("crypto: ") + std::string(what));
}

Result<Bytes> RawPublic(EVP_PKEY* pkey) {
  Bytes raw(kEd25519PublicKeySize);
  std::size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey, raw.data(), &len) != 1 || len != raw.size()) {
    return internal::OpenSslInternal("crypto.ed25519_failed", "cannot read Ed25519 public key");
  }
  return raw;
}

}  // namespace

struct Ed25519PublicKey::Impl {
  OsslPtr<EVP_PKEY> pkey;
};

Ed25519PublicKey::Ed25519PublicKey(std::shared_ptr<const Impl> impl, Bytes raw)
    : impl_(std::move(impl)), raw_(std::move(raw)) {}
Ed25519PublicKey::Ed25519PublicKey(const Ed25519PublicKey&) = default;
Ed25519PublicKey& Ed25519PublicKey::operator=(const Ed25519PublicKey&) = default;
Ed25519PublicKey::Ed25519PublicKey(Ed25519PublicKey&&) noexcept = default;
Ed25519PublicKey& Ed25519PublicKey::operator=(Ed25519PublicKey&&) noexcept = default;
Ed25519PublicKey::~Ed25519PublicKey() = default;

Result<Ed25519PublicKey> Ed25519PublicKey::FromRaw(ByteView raw) {
  if (raw.size() != kEd25519PublicKeySize) return BadPublicKey("Ed25519 public key must be 32 bytes");
  OsslPtr<EVP_PKEY> pkey(
      EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, raw.data(), raw.size()));
  if (!pkey) return BadPublicKey("Ed25519 public key import failed");
  auto impl = std::make_shared<Impl>();
  impl->pkey = std::move(pkey);
  return Ed25519PublicKey(std::move(impl), ToBytes(raw));
}

Result<Ed25519PublicKey> Ed25519PublicKey::FromSpkiDer(ByteView der) {
  const unsigned char* p = der.data();
  OsslPtr<EVP_PKEY> pkey(der.empty() ? nullptr : d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey || p != der.data() + der.size() || EVP_PKEY_is_a(pkey.get(), "ED25519") != 1) {
    return BadPublicKey("not an Ed25519 SubjectPublicKeyInfo");
  }
  PERIMETER_ASSIGN_OR_RETURN(Bytes raw, RawPublic(pkey.get()));
  auto impl = std::make_shared<Impl>();
  impl->pkey = std::move(pkey);
  return Ed25519PublicKey(std::move(impl), std::move(raw));
}

Status Ed25519PublicKey::Verify(ByteView message, ByteView signature) const {
  if (signature.size() != kEd25519SignatureSize) {
    return UnauthenticatedError("crypto.signature_malformed", "crypto: Ed25519 signature must be 64 bytes");
  }
  OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                                      impl_->pkey.get(), nullptr) != 1) {
    return internal::OpenSslInternal("crypto.ed25519_failed", "Ed25519 verify init failed");
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                       message.size()) != 1) {
    internal::ClearOpenSslErrors();
    return UnauthenticatedError("crypto.signature_invalid", "crypto: Ed25519 signature does not verify");
  }
  return Status::Ok();
}

struct Ed25519PrivateKey::Impl {
  OsslPtr<EVP_PKEY> pkey;
};

Ed25519PrivateKey::Ed25519PrivateKey(std::unique_ptr<Impl> impl, Ed25519PublicKey pub)
    : impl_(std::move(impl)), public_key_(std::move(pub)) {}
Ed25519PrivateKey::Ed25519PrivateKey(Ed25519PrivateKey&&) noexcept = default;
Ed25519PrivateKey& Ed25519PrivateKey::operator=(Ed25519PrivateKey&&) noexcept = default;
Ed25519PrivateKey::~Ed25519PrivateKey() = default;  // EVP_PKEY_free wipes the seed.

namespace {

Result<Ed25519PublicKey> PublicOf(EVP_PKEY* pkey) {
  PERIMETER_ASSIGN_OR_RETURN(Bytes raw, RawPublic(pkey));
  return Ed25519PublicKey::FromRaw(raw);
}

}  // namespace

Result<Ed25519PrivateKey> Ed25519PrivateKey::Generate() {
  OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "ED25519", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    EVP_PKEY_free(raw);
    return internal::OpenSslInternal("crypto.keygen_failed", "Ed25519 key generation failed");
  }
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(raw);
  PERIMETER_ASSIGN_OR_RETURN(Ed25519PublicKey pub, PublicOf(raw));
  return Ed25519PrivateKey(std::move(impl), std::move(pub));
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(ByteView seed) {
  if (seed.size() != kEd25519SeedSize) {
    return InvalidArgumentError("crypto.ed25519_bad_seed", "crypto: Ed25519 seed must be 32 bytes");
  }
  OsslPtr<EVP_PKEY> pkey(
      EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, seed.data(), seed.size()));
  if (!pkey) return internal::OpenSslInternal("crypto.ed25519_failed", "Ed25519 seed import failed");
  PERIMETER_ASSIGN_OR_RETURN(Ed25519PublicKey pub, PublicOf(pkey.get()));
  auto impl = std::make_unique<Impl>();
  impl->pkey = std::move(pkey);
  return Ed25519PrivateKey(std::move(impl), std::move(pub));
}

Result<SecretBytes> Ed25519PrivateKey::ExportSeed() const {
  SecretBytes seed(kEd25519SeedSize);
  std::size_t len = seed.size();
  if (EVP_PKEY_get_raw_private_key(impl_->pkey.get(), seed.data(), &len) != 1 || len != seed.size()) {
    return internal::OpenSslInternal("crypto.ed25519_failed", "cannot export Ed25519 seed");
  }
  return seed;
}

Result<Bytes> Ed25519PrivateKey::Sign(ByteView message) const {
  OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  Bytes sig(kEd25519SignatureSize);
  std::size_t len = sig.size();
  if (!ctx ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, impl_->pkey.get(), nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1 ||
      len != sig.size()) {
    return internal::OpenSslInternal("crypto.signing_failed", "Ed25519 signing failed");
  }
  return sig;
}

}  // namespace perimeter::crypto
