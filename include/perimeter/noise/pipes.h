// Noise Pipes for Secure Perimeter (DESIGN.md section 4; Noise revision 34,
// section 10): XX on first contact, IK with a cached server key, and
// XXfallback when the server cannot decrypt an IK attempt.
//
// These are transport-independent state machines over frame *bodies*: the
// caller moves bodies over TCP (with framing.h's 2-byte length prefix) or
// WebSocket (one binary message per body). The first body each side sends
// begins with a pattern byte (0 = XX, 1 = IK, 2 = XXfallback); no other body
// has one. The prologue is "secure-perimeter/1" for all three patterns.
//
// Payloads: the client's handshake payloads are always empty (the server
// rejects a non-empty one). The server's message that can first carry an
// encrypted payload (XX message 2, IK message 2, XXfallback message 1)
// carries the evidence document (at most 65,000 bytes); the client hands it,
// with the server's static key, to its verifier callback *before* it sends
// anything further, so a client never reveals its static key to a server
// whose evidence it rejected (in IK the static key was already encrypted to a
// key the client verified earlier).
//
// Failure: every error is terminal (no session, keys wiped); the caller must
// close the connection without answering, so the failure is not an oracle.
//
// Move-only. Thread-compatible.
#ifndef PERIMETER_NOISE_PIPES_H_
#define PERIMETER_NOISE_PIPES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/crypto/xdh.h"
#include "perimeter/noise/handshake_state.h"
#include "perimeter/noise/transport.h"

namespace perimeter::noise {

enum class PipesPattern : std::uint8_t { kXX = 0, kIK = 1, kXXfallback = 2 };

std::string_view PipesPatternName(PipesPattern p);

inline constexpr std::string_view kPipesPrologue = "secure-perimeter/1";
// Version 1 of the protocol fixes the suite.
inline constexpr std::string_view kPipesSuite = "25519_ChaChaPoly_SHA256";
inline constexpr std::size_t kMaxEvidenceSize = 65000;

// Checks the server's evidence (payload) against its static public key.
// Returning an error aborts the handshake with that error.
using ServerPayloadVerifier = std::function<Status(ByteView server_static, ByteView payload)>;

// The result of a completed handshake, for one party.
struct PipesSession {
  Transport transport;
  PipesPattern pattern;        // the pattern that completed (kXXfallback after a fallback)
  Bytes remote_static;         // the peer's static public key
  Bytes server_payload;        // the evidence (client: received; server: sent)
};

class PipesClient {
 public:
  struct Config {
    // The client's static key (its identity). Required.
    std::shared_ptr<const crypto::XdhPrivateKey> static_key;
    // A server static key verified earlier; when set the client tries IK.
    Bytes cached_server_static;
    // Called once with the server's static key and evidence. Required: a
    // client that does not verify the server is a programming error.
    ServerPayloadVerifier verify_server;
    // The DH/cipher/hash part of the protocol name (tests may vary it).
    std::string suite = std::string(kPipesSuite);
  };

  // Errors: kInvalidArgument "noise.missing_key", "noise.missing_verifier",
  // "noise.bad_key_size", protocol-name errors.
  static Result<PipesClient> New(Config config);
  PipesClient(PipesClient&&) noexcept;
  PipesClient& operator=(PipesClient&&) noexcept;
  ~PipesClient();

  // The pattern the client offers (kXX or kIK).
  PipesPattern offered() const;

  // The first frame body: pattern byte and message 1. Call exactly once,
  // first. Errors: kFailedPrecondition "noise.out_of_order"; handshake errors.
  Result<Bytes> Start();

  // Processes one frame body from the server. Returns the body to send in
  // reply, if any. After success, complete() tells whether the session is
  // ready. Errors (all terminal): kInvalidArgument "noise.bad_pattern_byte"
  // (a pattern byte that does not answer what we offered),
  // "noise.empty_frame", "noise.evidence_too_large"; kFailedPrecondition
  // "noise.out_of_order"; any error of the verifier; handshake errors.
  Result<std::optional<Bytes>> OnFrame(ByteView body);

  bool complete() const;
  bool failed() const;
  // REQUIRES: complete(). Hands over the session; the client is spent.
  // Errors: kFailedPrecondition "noise.out_of_order".
  Result<PipesSession> TakeSession();

 private:
  struct State;
  explicit PipesClient(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class PipesServer {
 public:
  struct Config {
    // The server's static key, generated inside the TEE. Required.
    std::shared_ptr<const crypto::XdhPrivateKey> static_key;
    // The evidence document bound to static_key (at most 65,000 bytes).
    Bytes evidence;
    std::string suite = std::string(kPipesSuite);
  };

  // Errors: kInvalidArgument "noise.missing_key", "noise.evidence_too_large",
  // protocol-name errors.
  static Result<PipesServer> New(Config config);
  PipesServer(PipesServer&&) noexcept;
  PipesServer& operator=(PipesServer&&) noexcept;
  ~PipesServer();

  // Processes one frame body from the client; returns the body to send, if
  // any. Errors (all terminal): kInvalidArgument "noise.bad_pattern_byte",
  // "noise.empty_frame", "noise.unexpected_payload" (a non-empty client
  // payload), "noise.bad_message_size" (an IK message 1 of any size but
  // e, enc(s) and an empty payload's tag); kFailedPrecondition
  // "noise.out_of_order"; handshake errors. An IK message of the right size
  // that fails to authenticate after its ephemeral key was read is answered
  // with XXfallback instead of an error.
  Result<std::optional<Bytes>> OnFrame(ByteView body);

  bool complete() const;
  bool failed() const;
  // The pattern the client chose, once known.
  std::optional<PipesPattern> pattern() const;
  Result<PipesSession> TakeSession();

 private:
  struct State;
  explicit PipesServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace perimeter::noise

#endif  // PERIMETER_NOISE_PIPES_H_
