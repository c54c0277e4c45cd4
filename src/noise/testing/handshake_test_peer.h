// Test-only access to HandshakeState: injects a fixed ephemeral key so that
// the published test vectors can be reproduced. Not part of the public API;
// linked only into tests, benchmarks and fuzzers.
#ifndef PERIMETER_NOISE_TESTING_HANDSHAKE_TEST_PEER_H_
#define PERIMETER_NOISE_TESTING_HANDSHAKE_TEST_PEER_H_

#include <memory>

#include "perimeter/noise/handshake_state.h"

namespace perimeter::noise::testing {

class HandshakeStateTestPeer {
 public:
  // The next `e` token this party writes uses `key` instead of a fresh key.
  static void SetFixedEphemeral(HandshakeState& hs, std::shared_ptr<const crypto::XdhPrivateKey> key) {
    hs.fixed_ephemeral_ = std::move(key);
  }
};

}  // namespace perimeter::noise::testing

#endif  // PERIMETER_NOISE_TESTING_HANDSHAKE_TEST_PEER_H_
