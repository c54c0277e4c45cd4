// RSASSA-PSS over EVP_PKEY / EVP_DigestSign / EVP_DigestVerify, with the
// padding, MGF1 digest and exact salt length set on the EVP_PKEY_CTX.
#include "perimeter/crypto/rsa_pss.h"

#include <climits>
#include <string>

#include "crypto/openssl/ossl_error.h"
#include "crypto/openssl/ossl_ptr.h"

namespace perimeter::crypto {
namespace {

using internal::OsslPtr;

constexpr std::string_view kRsaFailed = "crypto.rsa_failed";

Status KeyError(std::string_view reason, std::string_view what) {
  internal::ClearOpenSslErrors();
  return InvalidArgumentError(reason, std::string("crypto: ") + std::string(what));
}

Result<std::size_t> CheckedBits(EVP_PKEY* pkey, std::string_view bad_reason) {
  if (EVP_PKEY_is_a(pkey, "RSA") != 1) return KeyError(bad_reason, "not an rsaEncryption key");
  const int bits = EVP_PKEY_get_bits(pkey);
  if (bits < static_cast<int>(kRsaMinModulusBits) || bits > static_cast<int>(kRsaMaxModulusBits)) {
    return KeyError("crypto.rsa_unsupported_key_size", "RSA modulus size not supported");
  }
  return static_cast<std::size_t>(bits);
}

bool IsSha2(HashAlg h) {
  return h == HashAlg::kSha256 || h == HashAlg::kSha384 || h == HashAlg::kSha512;
}

// Checks the parameters against RFC 8017 section 9.1.1 (emLen >= hLen +
// sLen + 2, emLen = ceil((modBits - 1) / 8)) and returns the digests.
Status CheckPssParams(std::size_t modulus_bits, HashAlg hash, HashAlg mgf1_hash, std::size_t salt) {
  if (!IsSha2(hash) || !IsSha2(mgf1_hash) || internal::CachedMd(hash) == nullptr ||
      internal::CachedMd(mgf1_hash) == nullptr) {
    return InvalidArgumentError("crypto.rsa_unsupported_hash", "crypto: RSASSA-PSS needs SHA-2 digests");
  }
  const std::size_t em_len = (modulus_bits - 1 + 7) / 8;
  if (salt > INT_MAX || em_len < DigestSize(hash) + 2 || salt > em_len - DigestSize(hash) - 2) {
    return InvalidArgumentError("crypto.rsa_bad_salt_length", "crypto: PSS salt too long for this key");
  }
  return Status::Ok();
}

// Sets PSS padding, MGF1 digest and salt length on a sign/verify context.
bool SetPss(EVP_PKEY_CTX* pctx, HashAlg mgf1_hash, std::size_t salt) {
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, internal::CachedMd(mgf1_hash)) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, static_cast<int>(salt)) == 1;
}

}  // namespace

// ---------------------------------------------------------------- public

struct RsaPublicKey::Impl {
  OsslPtr<EVP_PKEY> pkey;
};

RsaPublicKey::RsaPublicKey(std::shared_ptr<const Impl> impl, std::size_t bits)
    : impl_(std::move(impl)), modulus_bits_(bits) {}
RsaPublicKey::RsaPublicKey(const RsaPublicKey&) = default;
RsaPublicKey& RsaPublicKey::operator=(const RsaPublicKey&) = default;
RsaPublicKey::RsaPublicKey(RsaPublicKey&&) noexcept = default;
RsaPublicKey& RsaPublicKey::operator=(RsaPublicKey&&) noexcept = default;
RsaPublicKey::~RsaPublicKey() = default;

Result<RsaPublicKey> RsaPublicKey::FromSpkiDer(ByteView der) {
  const unsigned char* p = der.data();
  OsslPtr<EVP_PKEY> pkey(der.empty() ? nullptr : d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey || p != der.data() + der.size()) {
    return KeyError("crypto.rsa_bad_public_key", "unparsable SubjectPublicKeyInfo");
  }
  PERIMETER_ASSIGN_OR_RETURN(std::size_t bits, CheckedBits(pkey.get(), "crypto.rsa_bad_public_key"));
  auto impl = std::make_shared<Impl>();
  impl->pkey = std::move(pkey);
  return RsaPublicKey(std::move(impl), bits);
}

Result<RsaPublicKey> RsaPublicKey::FromPkcs1Der(ByteView der) {
  const unsigned char* p = der.data();
  OsslPtr<EVP_PKEY> pkey(
      der.empty() ? nullptr : d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der.size())));
  if (!pkey || p != der.data() + der.size()) {
    return KeyError("crypto.rsa_bad_public_key", "unparsable RSAPublicKey");
  }
  PERIMETER_ASSIGN_OR_RETURN(std::size_t bits, CheckedBits(pkey.get(), "crypto.rsa_bad_public_key"));
  auto impl = std::make_shared<Impl>();
  impl->pkey = std::move(pkey);
  return RsaPublicKey(std::move(impl), bits);
}

Result<Bytes> RsaPublicKey::ToSpkiDer() const {
  const int len = i2d_PUBKEY(impl_->pkey.get(), nullptr);
  if (len <= 0) return internal::OpenSslInternal(kRsaFailed, "i2d_PUBKEY failed");
  Bytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d_PUBKEY(impl_->pkey.get(), &p) != len) {
    return internal::OpenSslInternal(kRsaFailed, "i2d_PUBKEY failed");
  }
  return out;
}

Status RsaPublicKey::VerifyPss(HashAlg hash, HashAlg mgf1_hash, std::size_t salt_length,
                               ByteView message, ByteView signature) const {
  PERIMETER_RETURN_IF_ERROR(CheckPssParams(modulus_bits_, hash, mgf1_hash, salt_length));
  OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx ||
      EVP_DigestVerifyInit(ctx.get(), &pctx, internal::CachedMd(hash), nullptr, impl_->pkey.get()) != 1 ||
      !SetPss(pctx, mgf1_hash, salt_length)) {
    return internal::OpenSslInternal(kRsaFailed, "RSASSA-PSS verify init failed");
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                       message.size()) != 1) {
    internal::ClearOpenSslErrors();
    return UnauthenticatedError("crypto.signature_invalid", "crypto: RSASSA-PSS signature does not verify");
  }
  return Status::Ok();
}

// --------------------------------------------------------------- private

struct RsaPrivateKey::Impl {
  OsslPtr<EVP_PKEY> pkey;
};

RsaPrivateKey::RsaPrivateKey(std::unique_ptr<Impl> impl, RsaPublicKey pub)
    : impl_(std::move(impl)), public_key_(std::move(pub)) {}
RsaPrivateKey::RsaPrivateKey(RsaPrivateKey&&) noexcept = default;
RsaPrivateKey& RsaPrivateKey::operator=(RsaPrivateKey&&) noexcept = default;
RsaPrivateKey::~RsaPrivateKey() = default;  // EVP_PKEY_free clears the BIGNUMs.

namespace {

Result<RsaPublicKey> PublicOf(EVP_PKEY* pkey) {
  const int len = i2d_PUBKEY(pkey, nullptr);
  if (len <= 0) return internal::OpenSslInternal(kRsaFailed, "i2d_PUBKEY failed");
  Bytes spki(static_cast<std::size_t>(len));
  unsigned char* p = spki.data();
  if (i2d_PUBKEY(pkey, &p) != len) return internal::OpenSslInternal(kRsaFailed, "i2d_PUBKEY failed");
  return RsaPublicKey::FromSpkiDer(spki);
}

}  // namespace

Result<RsaPrivateKey> RsaPrivateKey::Generate(std::size_t bits) {
  if (bits < kRsaMinModulusBits || bits > 8192 || bits % 8 != 0) {
    return InvalidArgumentError("crypto.rsa_unsupported_key_size", "crypto: RSA key size not supported");
  }
  OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), static_cast<int>(bits)) != 1 ||
      EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    EVP_PKEY_free(raw);
    return internal::OpenSslInternal("crypto.keygen_failed", "RSA key generation failed");
  }
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(raw);
  PERIMETER_ASSIGN_OR_RETURN(RsaPublicKey pub, PublicOf(raw));
  return RsaPrivateKey(std::move(impl), std::move(pub));
}

Result<RsaPrivateKey> RsaPrivateKey::FromPkcs8Der(ByteView der) {
  const unsigned char* p = der.data();
  OsslPtr<PKCS8_PRIV_KEY_INFO> p8(
      der.empty() ? nullptr : d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size())));
  OsslPtr<EVP_PKEY> pkey(p8 ? EVP_PKCS82PKEY(p8.get()) : nullptr);
  if (!pkey || p != der.data() + der.size()) {
    return KeyError("crypto.rsa_bad_private_key", "unparsable PKCS#8 RSA key");
  }
  PERIMETER_RETURN_IF_ERROR(CheckedBits(pkey.get(), "crypto.rsa_bad_private_key"));
  PERIMETER_ASSIGN_OR_RETURN(RsaPublicKey pub, PublicOf(pkey.get()));
  auto impl = std::make_unique<Impl>();
  impl->pkey = std::move(pkey);
  return RsaPrivateKey(std::move(impl), std::move(pub));
}

Result<SecretBytes> RsaPrivateKey::ToPkcs8Der() const {
  OsslPtr<PKCS8_PRIV_KEY_INFO> p8(EVP_PKEY2PKCS8(impl_->pkey.get()));
  const int len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8.get(), nullptr) : 0;
  if (len <= 0) return internal::OpenSslInternal(kRsaFailed, "PKCS#8 encoding failed");
  SecretBytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &p) != len) {
    return internal::OpenSslInternal(kRsaFailed, "PKCS#8 encoding failed");
  }
  return out;
}

Result<Bytes> RsaPrivateKey::SignPss(HashAlg hash, HashAlg mgf1_hash, std::size_t salt_length,
                                     ByteView message) const {
  PERIMETER_RETURN_IF_ERROR(CheckPssParams(public_key_.modulus_bits(), hash, mgf1_hash, salt_length));
  OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  std::size_t len = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), &pctx, internal::CachedMd(hash), nullptr, impl_->pkey.get()) != 1 ||
      !SetPss(pctx, mgf1_hash, salt_length) ||
      EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
    return internal::OpenSslInternal("crypto.signing_failed", "RSASSA-PSS sign init failed");
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1) {
    return internal::OpenSslInternal("crypto.signing_failed", "RSASSA-PSS signing failed");
  }
  sig.resize(len);
  return sig;
}

}  // namespace perimeter::crypto
