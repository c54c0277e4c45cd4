// AES-256-GCM and ChaCha20-Poly1305 over EVP_CIPHER. The EVP_CIPHER objects
// are fetched once per process; each Aead keeps one encryption and one
// decryption context with the key schedule already set, so a Seal/Open only
// sets the nonce, feeds AAD and data, and handles the tag.
#include "perimeter/crypto/aead.h"

#include <algorithm>
#include <array>
#include <climits>

#include "crypto/openssl/ossl_error.h"
#include "crypto/openssl/ossl_ptr.h"
#include "perimeter/base/secret_bytes.h"

namespace perimeter::crypto {
namespace {

constexpr std::string_view kAeadFailed = "crypto.aead_failed";
// Inputs are fed to EVP_*Update in pieces of at most 16 KiB. The updates
// take an int length, and, more to the point, OpenSSL 3.0's ChaCha20-Poly1305
// runs the cipher and then Poly1305 over each piece: on a 64 KiB record
// (a Noise transport message) one pass each over the whole record leaves L1
// in between, while 16 KiB pieces stay in it (measured by
// benchmarks/channel_bench.cc: about 17% less time per 64 KiB record). The
// result is the same for any piece size (the tests run every vector).
constexpr std::size_t kMaxChunk = std::size_t{16} * 1024;

const EVP_CIPHER* CachedCipher(AeadAlg alg) {
  switch (alg) {
    case AeadAlg::kAes256Gcm: {
      static EVP_CIPHER* const c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
      return c;
    }
    case AeadAlg::kChaCha20Poly1305: {
      static EVP_CIPHER* const c = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
      return c;
    }
  }
  return nullptr;
}

// Feeds `in` to the cipher; `out` null means AAD. Returns false on failure.
bool Feed(EVP_CIPHER_CTX* ctx, bool encrypt, ByteView in, std::uint8_t* out) {
  std::size_t done = 0;
  while (done < in.size()) {
    const std::size_t n = std::min(in.size() - done, kMaxChunk);
    int outl = 0;
    const int inl = static_cast<int>(n);
    const int rc = encrypt
                       ? EVP_EncryptUpdate(ctx, out ? out + done : nullptr, &outl, in.data() + done, inl)
                       : EVP_DecryptUpdate(ctx, out ? out + done : nullptr, &outl, in.data() + done, inl);
    if (rc != 1 || outl != inl) return false;
    done += n;
  }
  return true;
}

}  // namespace

std::string_view AeadName(AeadAlg alg) {
  switch (alg) {
    case AeadAlg::kAes256Gcm: return "AESGCM";
    case AeadAlg::kChaCha20Poly1305: return "ChaChaPoly";
  }
  return "";
}

struct Aead::Impl {
  internal::OsslPtr<EVP_CIPHER_CTX> enc;
  internal::OsslPtr<EVP_CIPHER_CTX> dec;
};

Aead::Aead(AeadAlg alg, std::unique_ptr<Impl> impl) : alg_(alg), impl_(std::move(impl)) {}
Aead::Aead(Aead&&) noexcept = default;
Aead& Aead::operator=(Aead&&) noexcept = default;
Aead::~Aead() = default;  // EVP_CIPHER_CTX_free wipes the key schedules.

Result<Aead> Aead::New(AeadAlg alg, ByteView key) {
  if (key.size() != kAeadKeySize) {
    return InvalidArgumentError("crypto.aead_bad_key_size", "crypto: AEAD key must be 32 bytes");
  }
  const EVP_CIPHER* cipher = CachedCipher(alg);
  if (cipher == nullptr) return InternalError(kAeadFailed, "crypto: cipher unavailable");
  auto impl = std::make_unique<Impl>();
  impl->enc.reset(EVP_CIPHER_CTX_new());
  impl->dec.reset(EVP_CIPHER_CTX_new());
  // Both algorithms default to a 12-byte IV, which is the only size we offer.
  if (!impl->enc || !impl->dec ||
      EVP_EncryptInit_ex(impl->enc.get(), cipher, nullptr, key.data(), nullptr) != 1 ||
      EVP_DecryptInit_ex(impl->dec.get(), cipher, nullptr, key.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_get_iv_length(impl->enc.get()) != static_cast<int>(kAeadNonceSize)) {
    return internal::OpenSslInternal(kAeadFailed, "cipher init failed");
  }
  return Aead(alg, std::move(impl));
}

Status Aead::Seal(ByteView nonce, ByteView aad, ByteView plaintext, MutableByteView out) {
  if (nonce.size() != kAeadNonceSize) {
    return InvalidArgumentError("crypto.aead_bad_nonce_size", "crypto: nonce must be 12 bytes");
  }
  if (out.size() != plaintext.size() + kAeadTagSize) {
    return InvalidArgumentError("crypto.aead_bad_output_size",
                                "crypto: output must be plaintext size + 16");
  }
  EVP_CIPHER_CTX* ctx = impl_->enc.get();
  int final_len = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
      !Feed(ctx, true, aad, nullptr) || !Feed(ctx, true, plaintext, out.data()) ||
      EVP_EncryptFinal_ex(ctx, out.data() + plaintext.size(), &final_len) != 1 || final_len != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kAeadTagSize),
                          out.data() + plaintext.size()) != 1) {
    SecureWipe(out.data(), out.size());
    return internal::OpenSslInternal(kAeadFailed, "AEAD seal failed");
  }
  return Status::Ok();
}

Result<Bytes> Aead::Seal(ByteView nonce, ByteView aad, ByteView plaintext) {
  Bytes out(plaintext.size() + kAeadTagSize);
  PERIMETER_RETURN_IF_ERROR(Seal(nonce, aad, plaintext, out));
  return out;
}

Status Aead::Open(ByteView nonce, ByteView aad, ByteView ciphertext, MutableByteView out) {
  Status status;
  if (nonce.size() != kAeadNonceSize) {
    status = InvalidArgumentError("crypto.aead_bad_nonce_size", "crypto: nonce must be 12 bytes");
  } else if (ciphertext.size() < kAeadTagSize) {
    status = InvalidArgumentError("crypto.aead_too_short", "crypto: ciphertext shorter than tag");
  } else if (out.size() != ciphertext.size() - kAeadTagSize) {
    status = InvalidArgumentError("crypto.aead_bad_output_size",
                                  "crypto: output must be ciphertext size - 16");
  } else {
    const std::size_t body = ciphertext.size() - kAeadTagSize;
    // Copied first: `out` may alias the ciphertext, and OpenSSL wants a
    // mutable pointer.
    std::array<std::uint8_t, kAeadTagSize> tag{};
    std::copy_n(ciphertext.data() + body, kAeadTagSize, tag.begin());
    EVP_CIPHER_CTX* ctx = impl_->dec.get();
    int final_len = 0;
    if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kAeadTagSize),
                            tag.data()) != 1 ||
        !Feed(ctx, false, aad, nullptr) || !Feed(ctx, false, ciphertext.first(body), out.data())) {
      status = internal::OpenSslInternal(kAeadFailed, "AEAD open failed");
    } else if (EVP_DecryptFinal_ex(ctx, out.data() + body, &final_len) != 1 || final_len != 0) {
      internal::ClearOpenSslErrors();
      status = UnauthenticatedError("crypto.aead_bad_tag", "crypto: AEAD tag mismatch");
    }
  }
  if (!status.ok()) SecureWipe(out.data(), out.size());
  return status;
}

Result<Bytes> Aead::Open(ByteView nonce, ByteView aad, ByteView ciphertext) {
  if (ciphertext.size() < kAeadTagSize) {
    return InvalidArgumentError("crypto.aead_too_short", "crypto: ciphertext shorter than tag");
  }
  Bytes out(ciphertext.size() - kAeadTagSize);
  PERIMETER_RETURN_IF_ERROR(Open(nonce, aad, ciphertext, out));
  return out;
}

}  // namespace perimeter::crypto
