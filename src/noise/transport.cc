#include "perimeter/noise/transport.h"

namespace perimeter::noise {

Status Transport::Encrypt(ByteView plaintext, MutableByteView out) {
  if (!send_) return FailedPreconditionError("noise.no_send_cipher", "noise: this party cannot send");
  if (plaintext.size() > kMaxPlaintextSize) {
    return InvalidArgumentError("noise.message_too_large",
                                "noise: transport plaintext over 65519 bytes");
  }
  return send_->EncryptWithAd({}, plaintext, out);
}

Result<Bytes> Transport::Encrypt(ByteView plaintext) {
  Bytes out(plaintext.size() + kNoiseTagSize);
  PERIMETER_RETURN_IF_ERROR(Encrypt(plaintext, out));
  return out;
}

Status Transport::Decrypt(ByteView ciphertext, MutableByteView out) {
  if (!recv_) return FailedPreconditionError("noise.no_recv_cipher", "noise: this party cannot receive");
  if (ciphertext.size() > kMaxMessageSize) {
    return InvalidArgumentError("noise.message_too_large", "noise: transport message over 65535 bytes");
  }
  return recv_->DecryptWithAd({}, ciphertext, out);
}

Result<Bytes> Transport::Decrypt(ByteView ciphertext) {
  if (ciphertext.size() < kNoiseTagSize) {
    return InvalidArgumentError("noise.message_too_short", "noise: ciphertext shorter than a tag");
  }
  Bytes out(ciphertext.size() - kNoiseTagSize);
  PERIMETER_RETURN_IF_ERROR(Decrypt(ciphertext, out));
  return out;
}

Status Transport::RekeySend() {
  if (!send_) return FailedPreconditionError("noise.no_send_cipher", "noise: this party cannot send");
  return send_->Rekey();
}

Status Transport::RekeyRecv() {
  if (!recv_) return FailedPreconditionError("noise.no_recv_cipher", "noise: this party cannot receive");
  return recv_->Rekey();
}

}  // namespace perimeter::noise
