// Fuzzes HandshakeState::ReadMessage (Noise handshake reader) in the five
// positions Noise Pipes reads a handshake message. The first input byte picks
// the scenario (mod 5, see handshake_scenarios.h); the rest is the message.
//
// Invariants (abort() on violation, so libFuzzer reports them):
//   * ReadMessage never crashes (ASan/UBSan);
//   * a failed ReadMessage leaves the state kFailed, with no handshake hash,
//     and every later call fails with "noise.handshake_failed" (no partial
//     session can be obtained);
//   * a successful ReadMessage advances to the next step of the pattern, and
//     the next step (the reply, or Split) works; the reply may only fail with
//     "noise.low_order_point" (a low-order ephemeral in the message read).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "handshake_scenarios.h"

namespace {

using perimeter::ByteView;
using perimeter::noise::HandshakeState;
using Action = HandshakeState::Action;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool IsHandshakeFailed(const perimeter::Status& s) {
  return s.IsFailedPrecondition() && s.reason() == "noise.handshake_failed";
}

// After the message a scenario reads: what the reader should do next.
Action ExpectedNext(perimeter::fuzz::Scenario s) {
  using perimeter::fuzz::Scenario;
  switch (s) {
    case Scenario::kXXResponderMessage1:
    case Scenario::kXXInitiatorMessage2:
    case Scenario::kIKResponderMessage1:
      return Action::kWriteMessage;
    case Scenario::kXXResponderMessage3:
    case Scenario::kXXfallbackInitiatorReply:
      return Action::kSplit;
  }
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto scenario =
      static_cast<perimeter::fuzz::Scenario>(data[0] % perimeter::fuzz::kScenarioCount);
  const ByteView message(data + 1, size - 1);

  perimeter::fuzz::Prepared p = perimeter::fuzz::Prepare(scenario, /*with_peer=*/false);
  HandshakeState& hs = p.reader;
  Check(hs.action() == Action::kReadMessage);

  perimeter::Result<perimeter::Bytes> payload = hs.ReadMessage(message);
  if (!payload.has_value()) {
    // The failure must be terminal: no way to continue or split.
    Check(hs.action() == Action::kFailed);
    Check(hs.handshake_hash().empty());
    Check(!payload.error().IsFailedPrecondition() || IsHandshakeFailed(payload.error()));
    Check(IsHandshakeFailed(hs.ReadMessage(message).error()));
    Check(IsHandshakeFailed(hs.WriteMessage({}).error()));
    Check(!hs.Split().has_value());
    Check(hs.action() == Action::kFailed);
    return 0;
  }

  Check(hs.action() == ExpectedNext(scenario));
  Check(!hs.handshake_hash().empty());
  if (hs.action() == Action::kSplit) {
    perimeter::Result<perimeter::noise::Transport> t = hs.Split();
    Check(t.has_value());
    Check(hs.action() == Action::kFailed);  // spent
  } else {
    // The reply (e.g. message 2 carrying evidence) must be writable, unless
    // the peer sent a low-order ephemeral (only detectable at the DH of the
    // reply): then the write fails the handshake, terminally.
    perimeter::Result<perimeter::Bytes> reply =
        hs.WriteMessage(perimeter::ToBytes(perimeter::fuzz::kFuzzEvidence));
    if (!reply.has_value()) {
      Check(reply.error().reason() == "noise.low_order_point");
      Check(hs.action() == Action::kFailed);
      Check(hs.handshake_hash().empty());
      Check(IsHandshakeFailed(hs.WriteMessage({}).error()));
    }
  }
  return 0;
}
