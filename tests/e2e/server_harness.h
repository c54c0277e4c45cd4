// What the end-to-end tests, the abuse tests and the load tool share: a
// simulated platform on disk, a `perimeter serve` child process on
// 127.0.0.1 with ephemeral ports (reported through --ready-file, so nothing
// sleeps for a fixed time), the measurement the simulated platform reports
// for a binary, and trust configurations.
//
// For tests only. Thread-compatible.
#ifndef PERIMETER_TESTS_E2E_SERVER_HARNESS_H_
#define PERIMETER_TESTS_E2E_SERVER_HARNESS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "perimeter/base/result.h"
#include "perimeter/client/trust_config.h"
#include "tests/testing/child_process.h"

namespace perimeter::e2e {

// Creates a simulated platform (valid from a day ago, for 30 days) in `dir`.
Status MakePlatform(const std::string& dir);

// Hex of the simulated launch measurement of `binary` run without a
// configuration file: SHA-384 over the binary (DESIGN.md section 3).
Result<std::string> MeasurementOf(const std::string& binary);

// A trust configuration that trusts AMD's roots, plus the simulated ARK in
// `platform_dir` when it is non-empty, and allows `measurements` (hex).
Result<std::shared_ptr<const client::TrustConfig>> MakeTrust(const std::string& platform_dir,
                                                             const std::vector<std::string>& measurements);

// A `perimeter serve` process. Files live in `work_dir` under `name`: the
// master secret (created on the first start), the data directory, the log.
class ServerProcess {
 public:
  ServerProcess(std::string work_dir, std::string name, std::string platform_dir);
  ~ServerProcess();

  // (Re)starts the server with the same data and master secret and a new
  // static key. `extra` flags are appended. Errors: kUnavailable
  // "e2e.server_not_ready" (the log is in the message).
  Status Start(const std::string& binary, const std::vector<std::string>& extra = {});
  // SIGTERM (drain) and waits; the exit code, nullopt on timeout.
  std::optional<int> Stop();
  // SIGKILL and waits.
  void Kill();

  const std::string& tcp() const { return tcp_; }    // "127.0.0.1:PORT"
  const std::string& http() const { return http_; }  // "127.0.0.1:PORT"
  std::string ws() const { return "ws://" + http_ + "/v1/noise"; }
  std::string Log() const;
  testing::ChildProcess* process() { return process_ ? &*process_ : nullptr; }

 private:
  std::string work_dir_;
  std::string name_;
  std::string platform_dir_;
  int starts_ = 0;
  std::optional<testing::ChildProcess> process_;
  std::string tcp_;
  std::string http_;
};

}  // namespace perimeter::e2e

#endif  // PERIMETER_TESTS_E2E_SERVER_HARNESS_H_
