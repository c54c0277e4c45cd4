// SHA-2 and BLAKE2 over EVP_MD. Each EVP_MD is fetched once per process.
#include "perimeter/crypto/hash.h"

#include "crypto/openssl/ossl_error.h"
#include "crypto/openssl/ossl_ptr.h"

namespace perimeter::crypto {
namespace internal {
namespace {

// Fetches `name` once; the object is intentionally leaked at exit (it is
// owned by the default library context, which outlives every user).
const EVP_MD* FetchOnce(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) ClearOpenSslErrors();
  return md;
}

}  // namespace

const EVP_MD* CachedMd(HashAlg alg) {
  // Function-local statics: initialisation is thread-safe (C++11 magic
  // statics) and happens at most once per algorithm.
  switch (alg) {
    case HashAlg::kSha256: {
      static const EVP_MD* const md = FetchOnce("SHA256");
      return md;
    }
    case HashAlg::kSha384: {
      static const EVP_MD* const md = FetchOnce("SHA384");
      return md;
    }
    case HashAlg::kSha512: {
      static const EVP_MD* const md = FetchOnce("SHA512");
      return md;
    }
    case HashAlg::kBlake2s256: {
      static const EVP_MD* const md = FetchOnce("BLAKE2S-256");
      return md;
    }
    case HashAlg::kBlake2b512: {
      static const EVP_MD* const md = FetchOnce("BLAKE2B-512");
      return md;
    }
  }
  return nullptr;
}

}  // namespace internal

namespace {

constexpr std::string_view kHashFailed = "crypto.hash_failed";

Result<const EVP_MD*> GetMd(HashAlg alg) {
  const EVP_MD* md = internal::CachedMd(alg);
  if (md == nullptr) return InternalError(kHashFailed, "crypto: digest unavailable");
  return md;
}

Status UpdateAll(EVP_MD_CTX* ctx, std::initializer_list<ByteView> parts) {
  for (ByteView p : parts) {
    if (p.empty()) continue;
    if (EVP_DigestUpdate(ctx, p.data(), p.size()) != 1) {
      return internal::OpenSslInternal(kHashFailed, "digest update failed");
    }
  }
  return Status::Ok();
}

Result<Bytes> FinishInto(EVP_MD_CTX* ctx, HashAlg alg) {
  Bytes out(DigestSize(alg));
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != out.size()) {
    return internal::OpenSslInternal(kHashFailed, "digest final failed");
  }
  return out;
}

}  // namespace

std::size_t DigestSize(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha256: return 32;
    case HashAlg::kSha384: return 48;
    case HashAlg::kSha512: return 64;
    case HashAlg::kBlake2s256: return 32;
    case HashAlg::kBlake2b512: return 64;
  }
  return 0;
}

std::size_t BlockSize(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha256: return 64;
    case HashAlg::kSha384: return 128;
    case HashAlg::kSha512: return 128;
    case HashAlg::kBlake2s256: return 64;
    case HashAlg::kBlake2b512: return 128;
  }
  return 0;
}

std::string_view HashName(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha256: return "SHA256";
    case HashAlg::kSha384: return "SHA384";
    case HashAlg::kSha512: return "SHA512";
    case HashAlg::kBlake2s256: return "BLAKE2s";
    case HashAlg::kBlake2b512: return "BLAKE2b";
  }
  return "";
}

Result<Bytes> Hash(HashAlg alg, ByteView data) { return Hash(alg, {data}); }

Result<Bytes> Hash(HashAlg alg, std::initializer_list<ByteView> parts) {
  PERIMETER_ASSIGN_OR_RETURN(const EVP_MD* md, GetMd(alg));
  internal::OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    return internal::OpenSslInternal(kHashFailed, "digest init failed");
  }
  PERIMETER_RETURN_IF_ERROR(UpdateAll(ctx.get(), parts));
  return FinishInto(ctx.get(), alg);
}

struct Hasher::Impl {
  internal::OsslPtr<EVP_MD_CTX> ctx;
  const EVP_MD* md = nullptr;
};

Hasher::Hasher(HashAlg alg, std::unique_ptr<Impl> impl) : alg_(alg), impl_(std::move(impl)) {}
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;
Hasher::~Hasher() = default;

Result<Hasher> Hasher::New(HashAlg alg) {
  PERIMETER_ASSIGN_OR_RETURN(const EVP_MD* md, GetMd(alg));
  auto impl = std::make_unique<Impl>();
  impl->md = md;
  impl->ctx.reset(EVP_MD_CTX_new());
  if (!impl->ctx || EVP_DigestInit_ex(impl->ctx.get(), md, nullptr) != 1) {
    return internal::OpenSslInternal(kHashFailed, "digest init failed");
  }
  return Hasher(alg, std::move(impl));
}

Status Hasher::Update(ByteView data) { return UpdateAll(impl_->ctx.get(), {data}); }

Result<Bytes> Hasher::Finish() {
  PERIMETER_ASSIGN_OR_RETURN(Bytes out, FinishInto(impl_->ctx.get(), alg_));
  if (EVP_DigestInit_ex(impl_->ctx.get(), impl_->md, nullptr) != 1) {
    return internal::OpenSslInternal(kHashFailed, "digest reset failed");
  }
  return out;
}

}  // namespace perimeter::crypto
