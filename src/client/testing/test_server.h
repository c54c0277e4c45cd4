// Test-only: a small Noise Pipes responder for the client's tests, until (and
// besides) the real `perimeter serve`. It listens on 127.0.0.1 (TCP with
// 2-byte framing, or WebSocket via Beast), answers XX, IK and XXfallback with
// noise::PipesServer, presents evidence from an INSECURE simulated SEV-SNP
// platform bound to its static key (or deliberately broken evidence), and
// serves the session protocol from an in-memory map per user_id.
//
// It records what each connection did (pattern, whether the handshake
// completed, how many frames the client sent after receiving the evidence)
// so tests can prove, for example, that a client that rejected the evidence
// sent nothing further.
//
// Never linked into the library. Thread-safe: one thread per connection,
// shared state behind a mutex.
#ifndef PERIMETER_CLIENT_TESTING_TEST_SERVER_H_
#define PERIMETER_CLIENT_TESTING_TEST_SERVER_H_

#include <atomic>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "perimeter/attest/snp/simulated/platform.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/crypto/x509.h"
#include "perimeter/crypto/xdh.h"
#include "perimeter/noise/pipes.h"
#include "tests/testing/temp_dir.h"

namespace perimeter::client::testing {

using ::perimeter::testing::TempDir;

// A fresh X25519 static key (a client identity or a server key).
std::shared_ptr<const crypto::XdhPrivateKey> NewStaticKey();

// Fixed dates: the platform's certificates and CRL start at kNotBefore;
// clients verify at kAt.
inline constexpr std::int64_t kNotBefore = 1735689600;  // 2025-01-01T00:00:00Z
inline constexpr std::int64_t kAt = 1767225600;         // 2026-01-01T00:00:00Z

// One Milan platform per process (RSA-4096 key generation takes seconds).
std::shared_ptr<const attest::snp::simulated::SimulatedPlatform> SharedPlatform();
// A second, unrelated platform (an untrusted "ARK-Milan").
std::shared_ptr<const attest::snp::simulated::SimulatedPlatform> OtherPlatform();

// The measurement the test server's reports carry by default.
Bytes TestMeasurement();

// How to build the evidence document.
struct EvidenceSpec {
  std::shared_ptr<const attest::snp::simulated::SimulatedPlatform> platform;  // default SharedPlatform()
  attest::snp::simulated::ReportRequest report;  // report_data is set by MakeEvidence
  std::optional<Bytes> bind_to;                  // bind REPORT_DATA to this key instead
  bool include_ask = true;
  bool include_ark = true;
  bool include_crl = true;
  std::optional<crypto::Crl> crl;  // instead of the platform's
  // Applied to the serialized document last (e.g. to corrupt a byte).
  std::function<void(std::string&)> mutate;
};
EvidenceSpec DefaultEvidence();
Result<Bytes> MakeEvidence(ByteView server_static, const EvidenceSpec& spec);

// Writes ark.pem and crl.der of `platform` and a trust.yaml into `dir`
// (which must exist), with `policy_yaml` as the policy section's body
// (indented by the caller) and `roots_yaml` as the roots section's body.
// Returns the trust file's path.
Result<std::string> WriteTrustFile(const std::string& dir,
                                   const attest::snp::simulated::SimulatedPlatform& platform,
                                   const std::string& policy_yaml, const std::string& roots_yaml = "",
                                   bool with_crl_file = false);
// The usual policy body: the test measurement, require_crl.
std::string DefaultPolicyYaml();

class TestServer {
 public:
  struct Options {
    bool websocket = false;
    // The subprotocol the WebSocket answer selects ("" = none).
    std::string ws_subprotocol = "secure-perimeter.v1";
    EvidenceSpec evidence = DefaultEvidence();
    // After this many requests on a connection, send CLOSE 9
    // "session.server_shutdown" instead of answering (-1 = never).
    int close_after_requests = -1;
  };

  struct ConnectionRecord {
    std::optional<noise::PipesPattern> pattern;  // what completed (or was attempted)
    bool handshake_complete = false;
    bool evidence_sent = false;
    int frames_after_evidence = 0;  // frames the client sent after the evidence message
    int requests = 0;
  };

  static Result<std::unique_ptr<TestServer>> Start(Options options);
  ~TestServer();

  std::string endpoint() const;
  // A new static key (and fresh evidence for it): a "restarted" server.
  Status RotateStaticKey();
  Status SetEvidence(EvidenceSpec spec);
  Bytes static_public_key() const;
  std::vector<ConnectionRecord> connections() const;
  // Waits (up to 5 s) until `n` connections have ended.
  bool WaitForConnections(std::size_t n) const;
  void Stop();

 private:
  struct Shared;
  explicit TestServer(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  std::shared_ptr<Shared> shared_;
};

}  // namespace perimeter::client::testing

#endif  // PERIMETER_CLIENT_TESTING_TEST_SERVER_H_
