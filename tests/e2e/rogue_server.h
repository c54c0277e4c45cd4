// The evidence-replay attacker of the end-to-end tests. A genuine server's
// evidence document is public (any client receives it in the handshake), so
// an impostor can capture it and present it as its own. What must stop it is
// the binding (docs/wire-protocol.md section 4.3): the captured report's
// REPORT_DATA names the genuine server's static key, and the impostor, who
// holds a different key, cannot make the handshake authenticate that one.
//
// For tests only: speaks Noise Pipes over TCP on 127.0.0.1 with
// noise::PipesServer, like `perimeter serve`, but with a key of its own and
// any evidence it is given.
#ifndef PERIMETER_TESTS_E2E_ROGUE_SERVER_H_
#define PERIMETER_TESTS_E2E_ROGUE_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/unique_fd.h"

namespace perimeter::e2e {

// Connects to host:port as a Noise XX client and returns the server's
// evidence document from message 2 (the handshake is then abandoned).
Result<Bytes> CaptureEvidence(const std::string& host, std::uint16_t port);

class RogueServer {
 public:
  // Listens on 127.0.0.1 (ephemeral port) and serves every connection, one
  // at a time, with a fresh static key of its own and `evidence`.
  static Result<std::unique_ptr<RogueServer>> Start(Bytes evidence);
  ~RogueServer();
  std::uint16_t port() const { return port_; }
  // Handshakes that reached the point where the client had to judge the
  // evidence (the rogue sent message 2).
  int evidence_sent() const { return evidence_sent_.load(); }
  // Handshakes the client completed (must stay 0).
  int completed() const { return completed_.load(); }

 private:
  RogueServer() = default;
  void Serve();
  void ServeOne(int fd);
  Bytes evidence_;
  UniqueFd listener_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> evidence_sent_{0};
  std::atomic<int> completed_{0};
  std::thread thread_;
};

}  // namespace perimeter::e2e

#endif  // PERIMETER_TESTS_E2E_ROGUE_SERVER_H_
