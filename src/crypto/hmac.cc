// HMAC over EVP_MAC. The EVP_MAC is fetched once, and for each hash a
// template EVP_MAC_CTX with the digest already set is built once; a call only
// duplicates the template and sets the key, so no per-call fetch happens
// (setting the digest by name would fetch the EVP_MD every time).
#include "perimeter/crypto/hmac.h"

#include <string>

#include "crypto/openssl/ossl_error.h"
#include "crypto/openssl/ossl_ptr.h"
#include "perimeter/crypto/constant_time.h"

namespace perimeter::crypto {
namespace {

constexpr std::string_view kHmacFailed = "crypto.hmac_failed";
constexpr std::size_t kMinTruncatedTag = 10;

const EVP_MAC* HmacMac() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

// Built once per digest; never freed (see CachedMd). Read-only after
// construction, so concurrent EVP_MAC_CTX_dup calls are safe.
const EVP_MAC_CTX* MakeTemplate(HashAlg alg) {
  const EVP_MAC* mac = HmacMac();
  const EVP_MD* md = internal::CachedMd(alg);
  if (mac == nullptr || md == nullptr) {
    internal::ClearOpenSslErrors();
    return nullptr;
  }
  internal::OsslPtr<EVP_MAC_CTX> ctx(EVP_MAC_CTX_new(const_cast<EVP_MAC*>(mac)));
  if (!ctx) return nullptr;
  std::string name = EVP_MD_get0_name(md);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, name.data(), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(ctx.get(), params) != 1) {
    internal::ClearOpenSslErrors();
    return nullptr;
  }
  return ctx.release();
}

const EVP_MAC_CTX* Template(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha256: {
      static const EVP_MAC_CTX* const t = MakeTemplate(alg);
      return t;
    }
    case HashAlg::kSha384: {
      static const EVP_MAC_CTX* const t = MakeTemplate(alg);
      return t;
    }
    case HashAlg::kSha512: {
      static const EVP_MAC_CTX* const t = MakeTemplate(alg);
      return t;
    }
    case HashAlg::kBlake2s256: {
      static const EVP_MAC_CTX* const t = MakeTemplate(alg);
      return t;
    }
    case HashAlg::kBlake2b512: {
      static const EVP_MAC_CTX* const t = MakeTemplate(alg);
      return t;
    }
  }
  return nullptr;
}

}  // namespace

Result<SecretBytes> Hmac(HashAlg alg, ByteView key, std::initializer_list<ByteView> parts) {
  const EVP_MAC_CTX* tmpl = Template(alg);
  if (tmpl == nullptr) return InternalError(kHmacFailed, "crypto: HMAC unavailable");
  internal::OsslPtr<EVP_MAC_CTX> ctx(EVP_MAC_CTX_dup(tmpl));
  // A non-null key pointer is required even for an empty key: a null key
  // means "keep the previous key" to EVP_MAC_init.
  static const unsigned char kEmptyKey[1] = {0};
  const unsigned char* key_ptr = key.empty() ? kEmptyKey : key.data();
  if (!ctx || EVP_MAC_init(ctx.get(), key_ptr, key.size(), nullptr) != 1) {
    return internal::OpenSslInternal(kHmacFailed, "HMAC init failed");
  }
  for (ByteView p : parts) {
    if (p.empty()) continue;
    if (EVP_MAC_update(ctx.get(), p.data(), p.size()) != 1) {
      return internal::OpenSslInternal(kHmacFailed, "HMAC update failed");
    }
  }
  SecretBytes out(DigestSize(alg));
  std::size_t len = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size()) {
    return internal::OpenSslInternal(kHmacFailed, "HMAC final failed");
  }
  return out;
}

Result<SecretBytes> Hmac(HashAlg alg, ByteView key, ByteView data) {
  return Hmac(alg, key, {data});
}

Status HmacVerify(HashAlg alg, ByteView key, ByteView data, ByteView tag) {
  if (tag.size() < kMinTruncatedTag || tag.size() > DigestSize(alg)) {
    return InvalidArgumentError("crypto.hmac_bad_tag_length",
                                "crypto: HMAC tag length out of range");
  }
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes mac, Hmac(alg, key, data));
  if (!ConstantTimeEquals(mac.view().first(tag.size()), tag)) {
    return UnauthenticatedError("crypto.hmac_mismatch", "crypto: HMAC tag mismatch");
  }
  return Status::Ok();
}

}  // namespace perimeter::crypto
