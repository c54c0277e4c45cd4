// Fuzzes the Noise Pipes server state machine (PipesServer::OnFrame) behind
// the stream framing: the input is a byte stream from the client, split into
// frame bodies by FrameDecoder (2-byte big-endian length prefix), each body
// handed to OnFrame in turn. A trailing partial frame is ignored (as a server
// would before the connection closes).
//
// The server's static key is fixed (fuzz_keys.h), so a recorded IK message 1
// authenticates on every run; its ephemeral keys are fresh (PipesServer has
// no hook), so XX message 3 / the XXfallback reply cannot be replayed.
//
// Invariants (abort() on violation):
//   * no crash (ASan/UBSan);
//   * once an OnFrame fails: failed() is true, complete() is false,
//     TakeSession() fails, and every later OnFrame fails;
//   * when complete(), TakeSession() succeeds exactly once and yields a
//     session for the pattern the server reports.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "fuzz_keys.h"
#include "perimeter/noise/framing.h"
#include "perimeter/noise/pipes.h"

namespace {

using perimeter::Bytes;
using perimeter::ByteView;
using perimeter::noise::PipesServer;

void Check(bool ok) {
  if (!ok) std::abort();
}

const std::shared_ptr<const perimeter::crypto::XdhPrivateKey>& ServerKey() {
  static const auto* key = new std::shared_ptr<const perimeter::crypto::XdhPrivateKey>(
      perimeter::fuzz::FixedKey(perimeter::fuzz::kServerStaticLabel));
  return *key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  PipesServer::Config config;
  config.static_key = ServerKey();
  config.evidence = perimeter::ToBytes(perimeter::fuzz::kFuzzEvidence);
  perimeter::Result<PipesServer> created = PipesServer::New(std::move(config));
  Check(created.has_value());
  PipesServer server = std::move(created).value();

  perimeter::noise::FrameDecoder decoder;
  decoder.Feed(ByteView(data, size));

  bool failed = false;
  bool taken = false;
  int frames = 0;
  while (std::optional<Bytes> body = decoder.Next()) {
    // Bound the work per input: a real handshake is at most 2 client frames.
    if (++frames > 8) break;
    perimeter::Result<std::optional<Bytes>> reply = server.OnFrame(*body);
    if (!reply.has_value()) failed = true;
    if (failed) {
      Check(!reply.has_value());
      Check(server.failed());
      Check(!server.complete());
      Check(!server.TakeSession().has_value());
      continue;
    }
    Check(!server.failed());
    if (reply->has_value()) {
      // The server's first body starts with a pattern byte.
      Check(!(*reply)->empty());
      Check((*reply)->size() <= perimeter::noise::kMaxFrameBodySize);
    }
    if (server.complete() && !taken) {
      Check(server.pattern().has_value());
      perimeter::Result<perimeter::noise::PipesSession> session = server.TakeSession();
      Check(session.has_value());
      Check(session->pattern == *server.pattern());
      Check(session->remote_static.size() == 32);
      Check(!server.complete());
      Check(!server.TakeSession().has_value());
      taken = true;
    }
  }
  return 0;
}
