// X25519 / X448 over EVP_PKEY (raw-key import, EVP_PKEY_derive).
#include "perimeter/crypto/xdh.h"

#include "crypto/openssl/ossl_error.h"
#include "crypto/openssl/ossl_ptr.h"
#include "perimeter/crypto/constant_time.h"

namespace perimeter::crypto {
namespace {

constexpr std::string_view kXdhFailed = "crypto.xdh_failed";

const char* KeyType(XdhAlg alg) { return alg == XdhAlg::kX25519 ? "X25519" : "X448"; }

Status BadKeySize() {
  return InvalidArgumentError("crypto.xdh_bad_key_size", "crypto: wrong XDH key size");
}

Status LowOrder() {
  return InvalidArgumentError("crypto.xdh_low_order",
                              "crypto: XDH shared secret is all zeros (low-order peer point)");
}

}  // namespace

std::size_t XdhKeySize(XdhAlg alg) { return alg == XdhAlg::kX25519 ? 32 : 56; }

std::string_view XdhName(XdhAlg alg) { return alg == XdhAlg::kX25519 ? "25519" : "448"; }

struct XdhPrivateKey::Impl {
  internal::OsslPtr<EVP_PKEY> pkey;
};

XdhPrivateKey::XdhPrivateKey(XdhAlg alg, std::unique_ptr<Impl> impl, Bytes pub)
    : alg_(alg), impl_(std::move(impl)), public_key_(std::move(pub)) {}
XdhPrivateKey::XdhPrivateKey(XdhPrivateKey&&) noexcept = default;
XdhPrivateKey& XdhPrivateKey::operator=(XdhPrivateKey&&) noexcept = default;
XdhPrivateKey::~XdhPrivateKey() = default;  // EVP_PKEY_free wipes the scalar.

namespace {

Result<Bytes> ReadPublic(XdhAlg alg, EVP_PKEY* pkey) {
  Bytes pub(XdhKeySize(alg));
  std::size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(pkey, pub.data(), &len) != 1 || len != pub.size()) {
    return internal::OpenSslInternal(kXdhFailed, "cannot read XDH public key");
  }
  return pub;
}

}  // namespace

Result<XdhPrivateKey> XdhPrivateKey::Generate(XdhAlg alg) {
  internal::OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, KeyType(alg), nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    EVP_PKEY_free(raw);
    return internal::OpenSslInternal(kXdhFailed, "XDH key generation failed");
  }
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(raw);
  PERIMETER_ASSIGN_OR_RETURN(Bytes pub, ReadPublic(alg, raw));
  return XdhPrivateKey(alg, std::move(impl), std::move(pub));
}

Result<XdhPrivateKey> XdhPrivateKey::FromBytes(XdhAlg alg, ByteView private_key) {
  if (private_key.size() != XdhKeySize(alg)) return BadKeySize();
  internal::OsslPtr<EVP_PKEY> pkey(EVP_PKEY_new_raw_private_key_ex(
      nullptr, KeyType(alg), nullptr, private_key.data(), private_key.size()));
  if (!pkey) return internal::OpenSslInternal(kXdhFailed, "XDH private key import failed");
  PERIMETER_ASSIGN_OR_RETURN(Bytes pub, ReadPublic(alg, pkey.get()));
  auto impl = std::make_unique<Impl>();
  impl->pkey = std::move(pkey);
  return XdhPrivateKey(alg, std::move(impl), std::move(pub));
}

Result<SecretBytes> XdhPrivateKey::Dh(ByteView peer_public) const {
  const std::size_t n = XdhKeySize(alg_);
  if (peer_public.size() != n) return BadKeySize();
  internal::OsslPtr<EVP_PKEY> peer(EVP_PKEY_new_raw_public_key_ex(
      nullptr, KeyType(alg_), nullptr, peer_public.data(), peer_public.size()));
  internal::OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, impl_->pkey.get(), nullptr));
  // validate_peer = 0: XDH has no public-key validation beyond the length
  // (checked above); low-order points are caught on the result below.
  if (!peer || !ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 0) != 1) {
    return internal::OpenSslInternal(kXdhFailed, "XDH setup failed");
  }
  SecretBytes out(n);
  std::size_t len = n;
  // OpenSSL 3 itself fails the derivation when the result is all zeros; with
  // valid-length inputs that is the only input-dependent failure, so it is
  // reported as a low-order point. The explicit zero check below keeps the
  // guarantee independent of the OpenSSL version.
  if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1) {
    internal::ClearOpenSslErrors();
    return LowOrder();
  }
  if (len != n) return InternalError(kXdhFailed, "crypto: XDH output has the wrong size");
  if (ConstantTimeIsZero(out.view())) return LowOrder();
  return out;
}

Result<SecretBytes> XdhPrivateKey::ExportPrivate() const {
  SecretBytes out(XdhKeySize(alg_));
  std::size_t len = out.size();
  if (EVP_PKEY_get_raw_private_key(impl_->pkey.get(), out.data(), &len) != 1 || len != out.size()) {
    return internal::OpenSslInternal(kXdhFailed, "cannot export XDH private key");
  }
  return out;
}

}  // namespace perimeter::crypto
