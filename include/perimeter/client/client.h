// The Secure Perimeter client (DESIGN.md section 4; docs/wire-protocol.md):
// connect to a workload server, verify its attestation evidence against a
// trust configuration before sending anything further, then use the
// forward-secret session for the user's own records.
//
//   auto trust = std::make_shared<const TrustConfig>(LoadTrustConfig("trust.yaml").value());
//   ClientOptions o{.trust = trust, .identity = LoadOrCreateIdentity("me.key").value()};
//   ConnectResult c = Connect("127.0.0.1:7000", o);
//   if (c.verdict) std::cout << c.verdict->ToText();      // always, once evidence arrived
//   if (!c.status.ok()) return;                           // rejected or unreachable
//   c.session->Put("notes/a", AsBytes("hello"));
//
// Connect returns the verdict whenever the server's evidence arrived, and a
// Session only when the verdict accepted and the handshake completed. With a
// known-servers cache it offers IK to servers verified before under the same
// trust configuration (entries are bound to TrustConfigFingerprint: a key
// cached under another trust file is never offered, so the client's static
// key is not sent to a server this configuration has not accepted); a server
// that changed its key answers with XXfallback, whose evidence is verified
// again and whose key then replaces the cached one (known_servers.h).
//
// Session is synchronous: each call sends one request and blocks until its
// response (or the request timeout, which ends the session: the connection
// is then closed, since the request's outcome is unknown). Values over one
// transport message are chunked transparently (up to 1 MiB). A response with
// a non-OK status comes back as a Status with the server's code and reason
// (e.g. kNotFound "workload.not_found"); the session goes on. A CLOSE from
// the server ends the session: the call in progress returns the CLOSE's code
// and reason, later calls kFailedPrecondition "client.session_closed".
//
// Thread-safety: Connect() is thread-safe (the options' shared objects are
// thread-safe). A Session is thread-compatible: one thread at a time.
#ifndef PERIMETER_CLIENT_CLIENT_H_
#define PERIMETER_CLIENT_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "perimeter/attest/snp/verifier.h"
#include "perimeter/attest/verdict.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/client/frame_connection.h"
#include "perimeter/client/known_servers.h"
#include "perimeter/client/session_core.h"
#include "perimeter/client/trust_config.h"
#include "perimeter/crypto/xdh.h"
#include "perimeter/noise/pipes.h"

namespace perimeter::client {

struct ClientOptions {
  // What to trust. Required.
  std::shared_ptr<const TrustConfig> trust;
  // The client's static key (identity.h). Required.
  std::shared_ptr<const crypto::XdhPrivateKey> identity;
  // Optional: enables IK resumption and is updated after verified handshakes.
  std::shared_ptr<KnownServers> known_servers;
  // Optional: remembers verified certificate chains across connections.
  std::shared_ptr<attest::snp::ChainCache> chain_cache;
  // Resolving and connecting (and the WebSocket upgrade). Connect returns
  // within it even while a DNS lookup stalls (frame_connection.h: Dial).
  std::chrono::milliseconds connect_timeout{10000};
  // The whole handshake, after the connection is up (the protocol suggests 15 s).
  std::chrono::milliseconds handshake_timeout{15000};
  // Each Session call, from sending the request to its last response record.
  std::chrono::milliseconds request_timeout{60000};
  // Verification time, Unix seconds; 0 = now.
  std::int64_t at_unix_seconds = 0;
};

// One page of a list.
struct ListPage {
  std::vector<std::string> keys;
  Bytes next_page_token;  // empty: no more pages
};

class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The user_id the server derived from our static key (64 hex characters).
  Result<std::string> Whoami();
  // Creates or replaces `key` (1..1024 bytes UTF-8) with `value` (<= 1 MiB).
  Status Put(std::string_view key, ByteView value);
  // The value of `key`. Errors: kNotFound "workload.not_found", ...
  Result<Bytes> Get(std::string_view key);
  // Errors: kNotFound "workload.not_found" if there was no such key.
  Status Delete(std::string_view key);
  // Keys starting with `prefix`, ascending, at most `limit` (1..1000), after
  // `page_token` (empty: from the start).
  Result<ListPage> List(std::string_view prefix, ByteView page_token = {}, std::uint16_t limit = 100);

  // Closes the connection (idempotent). Later calls fail with
  // kFailedPrecondition "client.session_closed".
  void Close();
  bool closed() const { return ended_; }

  // What the handshake established.
  const attest::Verdict& verdict() const { return verdict_; }
  const attest::snp::Claims& claims() const { return claims_; }
  noise::PipesPattern pattern() const { return pattern_; }
  const Bytes& server_static_key() const { return server_static_; }
  // The handshake hash (channel binding), 32 bytes.
  const Bytes& handshake_hash() const { return handshake_hash_; }

 private:
  friend struct SessionFactory;
  Session(std::unique_ptr<FrameConnection> connection, SessionCore core, std::chrono::milliseconds request_timeout);
  Result<session::Response> Call(session::RequestBody body);
  Status End(Status why);

  std::unique_ptr<FrameConnection> connection_;
  SessionCore core_;
  std::chrono::milliseconds request_timeout_;
  bool ended_ = false;
  attest::Verdict verdict_;
  attest::snp::Claims claims_;
  noise::PipesPattern pattern_ = noise::PipesPattern::kXX;
  Bytes server_static_;
  Bytes handshake_hash_;
};

struct ConnectResult {
  // OK iff `session` is set. Otherwise: kUnauthenticated with the verdict's
  // first failure reason (rejected evidence), or a connection, framing or
  // handshake error (no verdict if the evidence never arrived).
  Status status;
  // The verdict on the server's evidence, whenever the evidence arrived.
  std::optional<attest::Verdict> verdict;
  std::unique_ptr<Session> session;
  // The pattern that completed (XX, IK or XXfallback), with a session.
  std::optional<noise::PipesPattern> pattern;
  // The outcome of updating the known-servers cache (OK if there was
  // nothing to do); a failure here does not fail the connection.
  Status cache_status;
};

// Parses `endpoint` (endpoint.h), connects and runs the handshake.
ConnectResult Connect(std::string_view endpoint, const ClientOptions& options);

// The same over a connection the caller opened; `cache_key` names the server
// in the known-servers cache (usually Endpoint::ToString()). A cache key that
// is not 1..1024 printable ASCII characters is never looked up nor stored:
// the connection goes on without IK and `cache_status` is kInvalidArgument
// "client.known_servers_bad_endpoint".
ConnectResult ConnectOver(std::unique_ptr<FrameConnection> connection, const std::string& cache_key,
                          const ClientOptions& options);

}  // namespace perimeter::client

#endif  // PERIMETER_CLIENT_CLIENT_H_
