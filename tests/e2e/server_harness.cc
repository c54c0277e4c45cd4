#include "tests/e2e/server_harness.h"

#include <signal.h>
#include <sys/stat.h>

#include <chrono>

#include <nlohmann/json.hpp>

#include "perimeter/attest/snp/simulated/platform.h"
#include "perimeter/base/bytes.h"
#include "perimeter/crypto/random.h"

namespace perimeter::e2e {

namespace sim = attest::snp::simulated;
using namespace std::chrono_literals;

Status MakePlatform(const std::string& dir) {
  sim::CreateOptions options;
  options.not_before = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count() -
                       86400;
  options.days = 30;
  PERIMETER_ASSIGN_OR_RETURN(sim::SimulatedPlatform platform, sim::SimulatedPlatform::Create(options));
  return platform.Save(dir);
}

Result<std::string> MeasurementOf(const std::string& binary) {
  const std::string bytes = testing::ReadFileOrEmpty(binary);
  if (bytes.empty()) return NotFoundError("e2e.no_binary", "e2e: cannot read " + binary);
  PERIMETER_ASSIGN_OR_RETURN(Bytes m, sim::SimulatedMeasurement(AsBytes(bytes), ByteView()));
  return HexEncode(m);
}

Result<std::shared_ptr<const client::TrustConfig>> MakeTrust(const std::string& platform_dir,
                                                             const std::vector<std::string>& measurements) {
  std::string yaml = "version: 1\nroots:\n  amd: true\n";
  if (!platform_dir.empty()) yaml += "  arks: [" + platform_dir + "/ark.pem]\n";
  yaml += "policy:\n  measurements: [";
  for (std::size_t i = 0; i < measurements.size(); ++i) yaml += (i ? ", " : "") + measurements[i];
  yaml += "]\n";
  PERIMETER_ASSIGN_OR_RETURN(client::TrustConfig trust, client::ParseTrustConfig(yaml, "/"));
  return std::make_shared<const client::TrustConfig>(std::move(trust));
}

ServerProcess::ServerProcess(std::string work_dir, std::string name, std::string platform_dir)
    : work_dir_(std::move(work_dir)), name_(std::move(name)), platform_dir_(std::move(platform_dir)) {}

ServerProcess::~ServerProcess() = default;

std::string ServerProcess::Log() const { return testing::ReadFileOrEmpty(work_dir_ + "/" + name_ + ".log"); }

Status ServerProcess::Start(const std::string& binary, const std::vector<std::string>& extra) {
  const std::string base = work_dir_ + "/" + name_;
  const std::string secret = base + "-master.key";
  struct stat st{};
  if (::stat(secret.c_str(), &st) != 0) {
    Bytes m(32);
    PERIMETER_RETURN_IF_ERROR(crypto::RandomFill(m));
    if (!testing::WriteFile(secret, HexEncode(m) + "\n") || ::chmod(secret.c_str(), 0600) != 0) {
      return UnavailableError("e2e.io", "e2e: cannot write " + secret);
    }
  }
  const std::string ready = base + "-ready-" + std::to_string(++starts_) + ".json";
  std::vector<std::string> argv = {binary,         "serve",       "--listen",     "127.0.0.1:0",
                                   "--http-listen", "127.0.0.1:0", "--provider",   "simulated",
                                   "--sim-platform", platform_dir_, "--data-dir",   base + "-data",
                                   "--master-secret", secret,       "--pod-id",     "e2e-pod-0",
                                   "--ready-file",  ready,         "--log-level",  "warn"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  PERIMETER_ASSIGN_OR_RETURN(testing::ChildProcess child, testing::ChildProcess::Start(argv, base + ".log"));
  process_.emplace(std::move(child));
  Result<std::string> text = cli::WaitForReadyFile(ready, *process_, 60s);
  if (!text.has_value()) {
    return UnavailableError("e2e.server_not_ready", "e2e: " + std::string(text.status().message()) + "; log:\n" + Log());
  }
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, false);
  if (!doc.is_object() || !doc.contains("tcp") || !doc.contains("http")) {
    return UnavailableError("e2e.server_not_ready", "e2e: unexpected ready file: " + *text);
  }
  tcp_ = doc["tcp"].get<std::string>();
  http_ = doc["http"].get<std::string>();
  return Status::Ok();
}

std::optional<int> ServerProcess::Stop() {
  if (!process_) return 0;
  process_->Signal(SIGTERM);
  std::optional<int> code = process_->Wait(60s);
  process_.reset();
  return code;
}

void ServerProcess::Kill() {
  if (!process_) return;
  process_->Signal(SIGKILL);
  (void)process_->Wait(30s);
  process_.reset();
}

}  // namespace perimeter::e2e
