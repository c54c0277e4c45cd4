// EvidenceSource: the server's Noise static key and the evidence document
// bound to it (DESIGN.md section 4; docs/evidence.md; docs/wire-protocol.md
// section 4.3).
//
// The static key pair is generated when the source is created (inside the
// TEE, on a real platform) and is only ever held in memory: there is no
// accessor for its private half other than the shared key object the Noise
// responder needs, and nothing here writes it anywhere. Restarting the
// server therefore changes its static key; clients holding the old key fall
// back (XXfallback) and verify the new evidence.
//
// The evidence document is attest::SerializeEvidence of:
//   report    a fresh report from the provider with
//             REPORT_DATA = attest::NoiseBindingReportData(static public key)
//             (checked in the returned report, whatever the provider);
//   vek       the VCEK (or VLEK) from the provider's certificate table, else
//             the configured one (ProviderSetup::fallback_vek, vek_file)
//             (required: without it a client cannot verify the report);
//   ask, ark  from the certificate table when present;
//   crl       the ARK's CRL when configured (the simulated platform has one;
//             crl_file supplies it for hardware providers);
//   provider  the provider's name (informational).
// Refresh() fetches a new report for the same key and swaps the document in
// atomically; readers holding the previous document keep a valid one.
//
// Errors (beyond the provider's): kFailedPrecondition "server.evidence_no_vek"
// (no VCEK/VLEK in the certificate table), kInternal
// "server.evidence_binding_mismatch" (the report does not carry our
// REPORT_DATA), kInvalidArgument "attest.evidence_too_large" and other
// SerializeEvidence errors.
//
// Thread-safe: every method may be called concurrently.
#ifndef PERIMETER_SERVER_EVIDENCE_SOURCE_H_
#define PERIMETER_SERVER_EVIDENCE_SOURCE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "perimeter/attest/snp/provider.h"
#include "perimeter/attest/snp/simulated/platform.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/status.h"
#include "perimeter/crypto/xdh.h"

namespace perimeter::server {

// A provider and what the server adds next to its reports.
struct ProviderSetup {
  std::unique_ptr<attest::snp::EvidenceProvider> provider;
  std::optional<Bytes> crl;  // DER of the ARK's CRL, if known
  // DER of a VCEK/VLEK for the evidence when the provider's certificate
  // table has none (hosts that do not supply one).
  std::optional<Bytes> fallback_vek;
  // The launch measurement the provider was told to report (simulated
  // platform only; empty for hardware, where the platform measures).
  Bytes measurement;
};

// The INSECURE simulated provider over `platform`: reports carry
// MEASUREMENT = SimulatedMeasurement(workload_binary, config) and HOST_DATA
// = `host_data` (32 bytes; empty means all zeros); the platform's CRL goes
// into the evidence.
// Errors: kInvalidArgument "server.bad_host_data"; the hash's errors.
Result<ProviderSetup> NewSimulatedProviderSetup(
    std::shared_ptr<const attest::snp::simulated::SimulatedPlatform> platform, ByteView workload_binary,
    ByteView config, ByteView host_data);

// The provider named `name`: "simulated" (loads the platform from
// `sim_platform_dir`, reads `sim_workload_path` whole), "sev-guest" or
// "configfs-tsm" (host_data is then set by the launch and must be empty).
// Errors: kInvalidArgument "server.bad_provider", "server.bad_host_data";
// kUnavailable "server.io" (the workload file); SimulatedPlatform::Load's
// errors.
Result<ProviderSetup> NewProviderSetup(const std::string& name, const std::string& sim_platform_dir,
                                       const std::string& sim_workload_path, ByteView config,
                                       ByteView host_data);

// Adds the operator's files to `setup` (an empty path is skipped):
// `crl_file`, the ARK's CRL (DER, or one PEM "X509 CRL" block), replaces
// setup.crl; `vek_file`, a VCEK or VLEK certificate (DER, or one PEM
// "CERTIFICATE" block, with a P-384 key), becomes setup.fallback_vek. Both
// are parsed here so that a bad file stops the server at start; both go into
// the evidence as DER.
// Errors: kUnavailable "server.io"; kInvalidArgument "server.bad_crl_file",
// "server.bad_vek_file".
Status AddEvidenceFiles(ProviderSetup& setup, const std::string& crl_file, const std::string& vek_file);

// Reads a whole file. Errors: kUnavailable "server.io", kResourceExhausted
// "server.file_too_large" (over max_size).
Result<Bytes> ReadWholeFile(const std::string& path, std::size_t max_size);

class EvidenceSource {
 public:
  struct Options {
    ProviderSetup setup;
    std::uint32_t vmpl = 0;
  };

  // Generates the static key and fetches the first evidence document.
  // Errors: kInvalidArgument "server.no_provider"; see the file comment.
  static Result<std::unique_ptr<EvidenceSource>> New(Options options);
  EvidenceSource(const EvidenceSource&) = delete;
  EvidenceSource& operator=(const EvidenceSource&) = delete;

  // The static key for the Noise responder (never null).
  std::shared_ptr<const crypto::XdhPrivateKey> static_key() const { return static_key_; }
  ByteView static_public_key() const { return static_key_->public_key(); }
  // The current evidence document (never null after New()).
  std::shared_ptr<const Bytes> evidence() const;
  // When the current document was built.
  std::chrono::system_clock::time_point evidence_time() const;
  std::string provider_name() const { return provider_->name(); }
  // The measurement the provider reports, when known (simulated only).
  const Bytes& measurement() const { return measurement_; }

  // Fetches a new report and swaps the document in; on error the previous
  // document stays current.
  Status Refresh();

 private:
  EvidenceSource(std::shared_ptr<const crypto::XdhPrivateKey> key, ProviderSetup setup, std::uint32_t vmpl);
  Result<Bytes> Build();

  const std::shared_ptr<const crypto::XdhPrivateKey> static_key_;
  const std::unique_ptr<attest::snp::EvidenceProvider> provider_;
  const std::optional<Bytes> crl_;
  const std::optional<Bytes> fallback_vek_;
  const Bytes measurement_;
  const std::uint32_t vmpl_;
  std::mutex refresh_mu_;  // serializes Refresh() (one provider request at a time)
  mutable std::mutex mu_;
  std::shared_ptr<const Bytes> evidence_;                   // GUARDED_BY(mu_)
  std::chrono::system_clock::time_point evidence_time_;     // GUARDED_BY(mu_)
};

}  // namespace perimeter::server

#endif  // PERIMETER_SERVER_EVIDENCE_SOURCE_H_
