// Transport: the pair of CipherStates a completed handshake yields (Noise
// revision 34, section 5.3 Split), oriented for one party: `send` encrypts
// what this party sends, `recv` decrypts what it receives. For one-way
// patterns the initiator has no receiving cipher and the responder no sending
// one.
//
// Every transport message is at most 65535 bytes, so a plaintext is at most
// 65519 bytes. Transport messages use empty associated data.
//
// Move-only; keys are wiped on destruction. Thread-compatible: one thread may
// send while another receives only with external synchronisation.
#ifndef PERIMETER_NOISE_TRANSPORT_H_
#define PERIMETER_NOISE_TRANSPORT_H_

#include <optional>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/noise/cipher_state.h"

namespace perimeter::noise {

inline constexpr std::size_t kMaxPlaintextSize = kMaxMessageSize - kNoiseTagSize;  // 65519

class Transport {
 public:
  Transport(std::optional<CipherState> send, std::optional<CipherState> recv, Bytes handshake_hash)
      : send_(std::move(send)), recv_(std::move(recv)), handshake_hash_(std::move(handshake_hash)) {}
  Transport(Transport&&) noexcept = default;
  Transport& operator=(Transport&&) noexcept = default;

  // Encrypts one message. Errors: kInvalidArgument "noise.message_too_large"
  // (plaintext over 65519 bytes); kFailedPrecondition "noise.no_send_cipher";
  // kResourceExhausted "noise.nonce_exhausted".
  Result<Bytes> Encrypt(ByteView plaintext);
  // `out` must have plaintext.size() + 16 bytes; may alias `plaintext`'s start.
  Status Encrypt(ByteView plaintext, MutableByteView out);

  // Decrypts one message. Errors: kUnauthenticated "noise.decrypt_failed"
  // (nothing is released and the receive nonce is unchanged);
  // kInvalidArgument "noise.message_too_short" / "noise.message_too_large";
  // kFailedPrecondition "noise.no_recv_cipher"; kResourceExhausted
  // "noise.nonce_exhausted".
  Result<Bytes> Decrypt(ByteView ciphertext);
  Status Decrypt(ByteView ciphertext, MutableByteView out);

  // Section 11.3 rekey of one direction; both parties must agree when.
  Status RekeySend();
  Status RekeyRecv();

  // The handshake hash h after the last handshake message (channel binding).
  ByteView handshake_hash() const { return handshake_hash_; }
  std::uint64_t send_nonce() const { return send_ ? send_->nonce() : 0; }
  std::uint64_t recv_nonce() const { return recv_ ? recv_->nonce() : 0; }

  // Test and benchmark hook: sets the nonces (e.g. to exercise exhaustion).
  void SetNoncesForTesting(std::uint64_t send, std::uint64_t recv) {
    if (send_) send_->SetNonce(send);
    if (recv_) recv_->SetNonce(recv);
  }

 private:
  std::optional<CipherState> send_;
  std::optional<CipherState> recv_;
  Bytes handshake_hash_;
};

}  // namespace perimeter::noise

#endif  // PERIMETER_NOISE_TRANSPORT_H_
