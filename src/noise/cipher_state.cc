#include "perimeter/noise/cipher_state.h"

#include <cstring>

namespace perimeter::noise {

Status CipherState::InitializeKey(ByteView key) {
  if (key.size() != kNoiseKeySize) {
    return InvalidArgumentError("noise.bad_key_size", "noise: cipher key must be 32 bytes");
  }
  PERIMETER_ASSIGN_OR_RETURN(crypto::Aead aead, crypto::Aead::New(alg_, key));
  aead_.emplace(std::move(aead));
  key_ = SecretBytes(key);
  n_ = 0;
  return Status::Ok();
}

// Section 12.3 (ChaChaPoly): 32 bits of zeros then the little-endian nonce.
// Section 12.4 (AESGCM): 32 bits of zeros then the big-endian nonce.
void CipherState::EncodeNonce(std::uint64_t n, std::uint8_t out[crypto::kAeadNonceSize]) const {
  std::memset(out, 0, crypto::kAeadNonceSize);
  for (int i = 0; i < 8; ++i) {
    auto byte = static_cast<std::uint8_t>(n >> (8 * i));
    if (alg_ == crypto::AeadAlg::kChaCha20Poly1305) {
      out[4 + i] = byte;
    } else {
      out[11 - i] = byte;
    }
  }
}

Status CipherState::EncryptWithAd(ByteView ad, ByteView plaintext, MutableByteView out) {
  if (!HasKey()) {
    if (out.size() != plaintext.size()) {
      return InvalidArgumentError("noise.bad_output_size", "noise: output buffer size");
    }
    if (out.data() != plaintext.data() && !plaintext.empty()) {
      std::memmove(out.data(), plaintext.data(), plaintext.size());
    }
    return Status::Ok();
  }
  if (n_ == kMaxNonce) {
    return ResourceExhaustedError("noise.nonce_exhausted", "noise: nonce space exhausted; rekey");
  }
  std::uint8_t nonce[crypto::kAeadNonceSize];
  EncodeNonce(n_, nonce);
  PERIMETER_RETURN_IF_ERROR(aead_->Seal(ByteView(nonce, sizeof(nonce)), ad, plaintext, out));
  ++n_;
  return Status::Ok();
}

Result<Bytes> CipherState::EncryptWithAd(ByteView ad, ByteView plaintext) {
  Bytes out(plaintext.size() + (HasKey() ? kNoiseTagSize : 0));
  PERIMETER_RETURN_IF_ERROR(EncryptWithAd(ad, plaintext, out));
  return out;
}

Status CipherState::DecryptWithAd(ByteView ad, ByteView ciphertext, MutableByteView out) {
  if (!HasKey()) {
    if (out.size() != ciphertext.size()) {
      return InvalidArgumentError("noise.bad_output_size", "noise: output buffer size");
    }
    if (out.data() != ciphertext.data() && !ciphertext.empty()) {
      std::memmove(out.data(), ciphertext.data(), ciphertext.size());
    }
    return Status::Ok();
  }
  if (ciphertext.size() < kNoiseTagSize) {
    return InvalidArgumentError("noise.message_too_short", "noise: ciphertext shorter than a tag");
  }
  if (n_ == kMaxNonce) {
    return ResourceExhaustedError("noise.nonce_exhausted", "noise: nonce space exhausted; rekey");
  }
  std::uint8_t nonce[crypto::kAeadNonceSize];
  EncodeNonce(n_, nonce);
  Status s = aead_->Open(ByteView(nonce, sizeof(nonce)), ad, ciphertext, out);
  if (!s.ok()) {
    if (s.IsUnauthenticated()) {
      return UnauthenticatedError("noise.decrypt_failed", "noise: message authentication failed");
    }
    return s;
  }
  ++n_;
  return Status::Ok();
}

Result<Bytes> CipherState::DecryptWithAd(ByteView ad, ByteView ciphertext) {
  if (HasKey() && ciphertext.size() < kNoiseTagSize) {
    return InvalidArgumentError("noise.message_too_short", "noise: ciphertext shorter than a tag");
  }
  Bytes out(ciphertext.size() - (HasKey() ? kNoiseTagSize : 0));
  PERIMETER_RETURN_IF_ERROR(DecryptWithAd(ad, ciphertext, out));
  return out;
}

Status CipherState::Rekey() {
  if (!HasKey()) return FailedPreconditionError("noise.no_key", "noise: rekey without a key");
  std::uint8_t nonce[crypto::kAeadNonceSize];
  EncodeNonce(kMaxNonce, nonce);
  std::uint8_t zeros[kNoiseKeySize] = {};
  SecretBytes out(kNoiseKeySize + kNoiseTagSize);
  PERIMETER_RETURN_IF_ERROR(
      aead_->Seal(ByteView(nonce, sizeof(nonce)), {}, ByteView(zeros, sizeof(zeros)), out.mutable_view()));
  std::uint64_t n = n_;
  PERIMETER_RETURN_IF_ERROR(InitializeKey(out.view().first(kNoiseKeySize)));
  n_ = n;
  return Status::Ok();
}

}  // namespace perimeter::noise
