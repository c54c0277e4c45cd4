// ClientHandshake: the client side of the attested Noise Pipes handshake
// (DESIGN.md section 4; docs/wire-protocol.md sections 3 and 4), over frame
// bodies and without I/O, so it can be driven by any transport, a test or a
// fuzzer.
//
// It wraps noise::PipesClient and verifies the server's evidence inside the
// handshake's verifier callback (VerifyServerEvidence against the trust
// configuration and the static key the handshake authenticated), so a
// rejected server gets nothing further: in XX the client's static key is
// never sent to it. XX when no server key is cached; IK with a cached key;
// when the server answers IK with XXfallback the new evidence is verified the
// same way.
//
// Every failure is terminal (the caller closes the connection without
// answering). A rejected verdict fails with kUnauthenticated and the reason
// of the verdict's first failed check (e.g. "snp.ark_untrusted",
// "channel.binding_mismatch", "snp.policy_measurement"); the verdict itself
// stays available through verdict().
//
// Move-only. Thread-compatible.
#ifndef PERIMETER_CLIENT_HANDSHAKE_H_
#define PERIMETER_CLIENT_HANDSHAKE_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "perimeter/attest/snp/verifier.h"
#include "perimeter/attest/verdict.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/client/trust_config.h"
#include "perimeter/crypto/xdh.h"
#include "perimeter/noise/pipes.h"

namespace perimeter::client {

struct HandshakeOptions {
  // The client's static key (its identity). Required.
  std::shared_ptr<const crypto::XdhPrivateKey> identity;
  // What to trust. Required.
  std::shared_ptr<const TrustConfig> trust;
  // A server static key verified before (32 bytes): the client offers IK.
  // Empty: XX.
  Bytes cached_server_static;
  // The verification time, Unix seconds; 0 = the clock when the evidence
  // arrives.
  std::int64_t at_unix_seconds = 0;
  // Optional, shared across handshakes (thread-safe).
  std::shared_ptr<attest::snp::ChainCache> chain_cache;
};

// What a completed handshake yields.
struct HandshakeOutcome {
  noise::PipesSession session;  // transport, pattern, server static key, evidence
  attest::Verdict verdict;      // accepted
  attest::snp::Claims claims;
};

class ClientHandshake {
 public:
  // Errors: kInvalidArgument "client.missing_identity", "client.missing_trust",
  // "noise.bad_key_size" (a cached key that is not 32 bytes).
  static Result<ClientHandshake> New(HandshakeOptions options);
  ClientHandshake(ClientHandshake&&) noexcept;
  ClientHandshake& operator=(ClientHandshake&&) noexcept;
  ~ClientHandshake();

  noise::PipesPattern offered() const;

  // The first frame body. Call exactly once, first.
  Result<Bytes> Start();

  // One frame body from the server; returns the body to send in reply, if
  // any. Errors: those of noise::PipesClient::OnFrame; kUnauthenticated with
  // the verdict's first failure reason when the evidence is rejected.
  Result<std::optional<Bytes>> OnFrame(ByteView body);

  bool complete() const;

  // The verdict on the server's evidence, once it arrived (whether accepted
  // or not); nullopt before.
  const std::optional<attest::Verdict>& verdict() const;

  // REQUIRES: complete(). Hands over the session. Errors:
  // kFailedPrecondition "noise.out_of_order".
  Result<HandshakeOutcome> Finish();

 private:
  struct State;
  explicit ClientHandshake(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace perimeter::client

#endif  // PERIMETER_CLIENT_HANDSHAKE_H_
