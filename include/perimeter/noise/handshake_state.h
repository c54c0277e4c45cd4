// HandshakeState (Noise revision 34, section 5.3): runs one handshake of any
// supported pattern as initiator or responder.
//
// State machine: after New() the state is kWriteMessage or kReadMessage;
// each successful WriteMessage/ReadMessage moves to the next message; after
// the last message it is kSplit and Split() yields the Transport. Any error
// in WriteMessage/ReadMessage moves to the terminal state kFailed: the
// symmetric state is wiped, and every later call fails with
// kFailedPrecondition "noise.handshake_failed". No partial session can be
// obtained from a failed handshake.
//
// Move-only. Thread-compatible.
#ifndef PERIMETER_NOISE_HANDSHAKE_STATE_H_
#define PERIMETER_NOISE_HANDSHAKE_STATE_H_

#include <memory>
#include <optional>
#include <vector>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/secret_bytes.h"
#include "perimeter/crypto/xdh.h"
#include "perimeter/noise/protocol_name.h"
#include "perimeter/noise/symmetric_state.h"
#include "perimeter/noise/transport.h"

namespace perimeter::noise {

namespace testing {
class HandshakeStateTestPeer;
}  // namespace testing

enum class Role { kInitiator, kResponder };

struct HandshakeConfig {
  ProtocolName protocol;
  Role role = Role::kInitiator;
  Bytes prologue;
  // Our static key pair, required when the pattern sends or pre-shares it.
  // Shared: a server uses one static key for many handshakes.
  std::shared_ptr<const crypto::XdhPrivateKey> local_static;
  // The peer's static public key, required exactly when the pattern has it
  // as a pre-message (e.g. the initiator of IK).
  Bytes remote_static;
  // Ephemeral pre-messages, used only by fallback patterns (section 10.2):
  // the party whose first message became a pre-message keeps its ephemeral
  // key pair (local_ephemeral); the other party has its public key
  // (remote_ephemeral). Rejected for patterns without an ephemeral
  // pre-message, so an ephemeral key is never reused by accident.
  std::shared_ptr<const crypto::XdhPrivateKey> local_ephemeral;
  Bytes remote_ephemeral;
  // One 32-byte PSK per psk token, in the order the tokens appear.
  std::vector<SecretBytes> psks;
};

class HandshakeState {
 public:
  enum class Action { kWriteMessage, kReadMessage, kSplit, kFailed };

  // Validates the configuration and runs Initialize() (section 5.3): the
  // symmetric state from the protocol name, MixHash(prologue), then the
  // pre-message public keys (initiator's first).
  // Errors: kInvalidArgument "noise.missing_key" (a required key is absent),
  // "noise.unexpected_key" (a key the pattern does not pre-share was given),
  // "noise.bad_key_size", "noise.bad_psk" (wrong number or size of PSKs).
  static Result<HandshakeState> New(HandshakeConfig config);

  HandshakeState(HandshakeState&&) noexcept;
  HandshakeState& operator=(HandshakeState&&) noexcept;
  ~HandshakeState();

  Action action() const { return action_; }
  Role role() const { return role_; }
  const ProtocolName& protocol() const { return protocol_; }

  // Writes the next handshake message carrying `payload` (encrypted when a
  // key is established). REQUIRES: action() == kWriteMessage.
  // Errors: kFailedPrecondition "noise.out_of_order" (state unchanged) or
  // "noise.handshake_failed"; kInvalidArgument "noise.message_too_large"
  // when the message would exceed 65535 bytes (state unchanged);
  // kInvalidArgument "noise.low_order_point" for an all-zero DH result and
  // internal crypto errors (both fail the handshake).
  Result<Bytes> WriteMessage(ByteView payload);

  // Reads the next handshake message and returns its payload.
  // REQUIRES: action() == kReadMessage.
  // Errors (all but out_of_order fail the handshake):
  // kFailedPrecondition "noise.out_of_order" / "noise.handshake_failed";
  // kInvalidArgument "noise.message_too_short" (truncated),
  // "noise.message_too_large" (over 65535 bytes), "noise.low_order_point";
  // kUnauthenticated "noise.decrypt_failed".
  Result<Bytes> ReadMessage(ByteView message);

  // Yields the transport ciphers, oriented for this party.
  // REQUIRES: action() == kSplit. Errors: kFailedPrecondition
  // "noise.out_of_order". After Split() the state is spent (kFailed).
  Result<Transport> Split();

  // h so far (after the last message, the handshake hash for channel
  // binding). Empty once failed.
  ByteView handshake_hash() const;
  // The peer's static public key, once known (pre-message or received).
  ByteView remote_static() const { return rs_; }
  // The peer's ephemeral public key, once received. Kept after a failure so
  // that a responder can fall back (Noise Pipes).
  ByteView remote_ephemeral() const { return re_; }
  // Our ephemeral key pair, once generated; kept after a failure so that an
  // initiator can fall back.
  std::shared_ptr<const crypto::XdhPrivateKey> local_ephemeral() const { return e_; }

 private:
  friend class testing::HandshakeStateTestPeer;
  HandshakeState() = default;

  bool IsInitiator() const { return role_ == Role::kInitiator; }
  bool OurTurnToWrite() const;
  Status Fail(Status status);
  Result<SecretBytes> Dh(Token token);
  Status MixDhOrPsk(Token token);
  Status ProcessPremessages();
  Status CheckSize(ByteView key, std::string_view what) const;
  void Advance();

  ProtocolName protocol_;
  Role role_ = Role::kInitiator;
  Action action_ = Action::kFailed;
  std::optional<SymmetricState> symmetric_;
  std::shared_ptr<const crypto::XdhPrivateKey> s_;
  std::shared_ptr<const crypto::XdhPrivateKey> e_;
  Bytes rs_;
  Bytes re_;
  std::vector<SecretBytes> psks_;
  std::size_t psk_index_ = 0;
  std::size_t message_index_ = 0;
  bool has_psk_ = false;
  std::shared_ptr<const crypto::XdhPrivateKey> fixed_ephemeral_;  // tests only
};

}  // namespace perimeter::noise

#endif  // PERIMETER_NOISE_HANDSHAKE_STATE_H_
