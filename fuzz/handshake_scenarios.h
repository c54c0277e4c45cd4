// Handshake states ready to read the next message, one per scenario of
// noise_handshake_fuzz.cc. All keys (static and ephemeral) are fixed (see
// fuzz_keys.h), so the message a genuine peer would send next is the same on
// every run and can be stored as a seed.
//
// Fuzzing only. Any setup failure is a harness bug and aborts.
#ifndef PERIMETER_FUZZ_HANDSHAKE_SCENARIOS_H_
#define PERIMETER_FUZZ_HANDSHAKE_SCENARIOS_H_

#include <cstdlib>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "fuzz_keys.h"
#include "noise/testing/handshake_test_peer.h"
#include "perimeter/noise/handshake_state.h"
#include "perimeter/noise/pipes.h"
#include "perimeter/noise/protocol_name.h"

namespace perimeter::fuzz {

enum class Scenario : std::uint8_t {
  kXXResponderMessage1 = 0,   // XX responder reads "-> e"
  kXXInitiatorMessage2 = 1,   // XX initiator (after writing message 1) reads "<- e, ee, s, es"
  kIKResponderMessage1 = 2,   // IK responder reads "-> e, es, s, ss"
  kXXResponderMessage3 = 3,   // XX responder (after a genuine 1-2 exchange) reads "-> s, se"
  kXXfallbackInitiatorReply = 4,  // XXfallback initiator (server) reads the client's "-> s, se"
};
inline constexpr int kScenarioCount = 5;

struct FixedKeys {
  std::shared_ptr<const crypto::XdhPrivateKey> server_static = FixedKey(kServerStaticLabel);
  std::shared_ptr<const crypto::XdhPrivateKey> client_static = FixedKey(kClientStaticLabel);
  std::shared_ptr<const crypto::XdhPrivateKey> server_ephemeral = FixedKey(kServerEphemeralLabel);
  std::shared_ptr<const crypto::XdhPrivateKey> client_ephemeral = FixedKey(kClientEphemeralLabel);
};

inline const FixedKeys& Keys() {
  static const FixedKeys* keys = new FixedKeys();
  return *keys;
}

template <typename T>
T Must(Result<T> r) {
  if (!r.has_value()) std::abort();
  return std::move(r).value();
}

inline noise::HandshakeState NewState(std::string_view pattern, noise::Role role,
                                      std::shared_ptr<const crypto::XdhPrivateKey> s,
                                      std::shared_ptr<const crypto::XdhPrivateKey> fixed_e,
                                      Bytes rs = {},
                                      std::shared_ptr<const crypto::XdhPrivateKey> pre_e = nullptr,
                                      Bytes re = {}) {
  noise::HandshakeConfig config;
  config.protocol = Must(noise::ParseProtocolName("Noise_" + std::string(pattern) + "_" +
                                                  std::string(noise::kPipesSuite)));
  config.role = role;
  config.prologue = ToBytes(noise::kPipesPrologue);
  config.local_static = std::move(s);
  config.remote_static = std::move(rs);
  config.local_ephemeral = std::move(pre_e);
  config.remote_ephemeral = std::move(re);
  noise::HandshakeState hs = Must(noise::HandshakeState::New(std::move(config)));
  if (fixed_e) noise::testing::HandshakeStateTestPeer::SetFixedEphemeral(hs, std::move(fixed_e));
  return hs;
}

// `reader` is about to read; `peer`, when built, is the genuine counterpart
// about to write the message `reader` expects.
struct Prepared {
  noise::HandshakeState reader;
  std::optional<noise::HandshakeState> peer;
};

// Builds the scenario. `with_peer` also builds the counterpart where the
// scenario does not need it anyway (the fuzzer skips it for speed).
inline Prepared Prepare(Scenario scenario, bool with_peer) {
  using noise::Role;
  const FixedKeys& k = Keys();
  const Bytes evidence = ToBytes(kFuzzEvidence);
  switch (scenario) {
    case Scenario::kXXResponderMessage1: {
      Prepared p{NewState("XX", Role::kResponder, k.server_static, k.server_ephemeral), std::nullopt};
      if (with_peer) p.peer.emplace(NewState("XX", Role::kInitiator, k.client_static, k.client_ephemeral));
      return p;
    }
    case Scenario::kXXInitiatorMessage2: {
      noise::HandshakeState init = NewState("XX", Role::kInitiator, k.client_static, k.client_ephemeral);
      Bytes m1 = Must(init.WriteMessage({}));
      Prepared p{std::move(init), std::nullopt};
      if (with_peer) {
        noise::HandshakeState resp = NewState("XX", Role::kResponder, k.server_static, k.server_ephemeral);
        (void)Must(resp.ReadMessage(m1));
        p.peer.emplace(std::move(resp));
      }
      return p;
    }
    case Scenario::kIKResponderMessage1: {
      Prepared p{NewState("IK", Role::kResponder, k.server_static, k.server_ephemeral), std::nullopt};
      if (with_peer) {
        p.peer.emplace(NewState("IK", Role::kInitiator, k.client_static, k.client_ephemeral,
                                ToBytes(k.server_static->public_key())));
      }
      return p;
    }
    case Scenario::kXXResponderMessage3: {
      noise::HandshakeState init = NewState("XX", Role::kInitiator, k.client_static, k.client_ephemeral);
      noise::HandshakeState resp = NewState("XX", Role::kResponder, k.server_static, k.server_ephemeral);
      Bytes m1 = Must(init.WriteMessage({}));
      (void)Must(resp.ReadMessage(m1));
      Bytes m2 = Must(resp.WriteMessage(evidence));
      (void)Must(init.ReadMessage(m2));
      return Prepared{std::move(resp), std::move(init)};
    }
    case Scenario::kXXfallbackInitiatorReply: {
      // The server could not decrypt the client's IK message: it answers as
      // XXfallback initiator with the client's IK ephemeral as pre-message.
      noise::HandshakeState server =
          NewState("XXfallback", Role::kInitiator, k.server_static, k.server_ephemeral, {}, nullptr,
                   ToBytes(k.client_ephemeral->public_key()));
      Bytes f1 = Must(server.WriteMessage(evidence));
      Prepared p{std::move(server), std::nullopt};
      if (with_peer) {
        noise::HandshakeState client = NewState("XXfallback", Role::kResponder, k.client_static,
                                                nullptr, {}, k.client_ephemeral, {});
        (void)Must(client.ReadMessage(f1));
        p.peer.emplace(std::move(client));
      }
      return p;
    }
  }
  std::abort();
}

}  // namespace perimeter::fuzz

#endif  // PERIMETER_FUZZ_HANDSHAKE_SCENARIOS_H_
