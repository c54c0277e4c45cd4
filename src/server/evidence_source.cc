#include "perimeter/server/evidence_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "perimeter/attest/evidence.h"
#include "perimeter/attest/noise_binding.h"
#include "perimeter/attest/snp/cert_table.h"
#include "perimeter/attest/snp/configfs_tsm_provider.h"
#include "perimeter/attest/snp/sev_guest_provider.h"
#include "perimeter/attest/snp/simulated/simulated_provider.h"
#include "perimeter/base/unique_fd.h"
#include "perimeter/crypto/constant_time.h"
#include "perimeter/crypto/x509.h"

namespace perimeter::server {
namespace {

namespace snp = attest::snp;
namespace sim = attest::snp::simulated;

// REPORT_DATA sits at 0x50..0x8f of the ATTESTATION_REPORT (AMD SEV-SNP ABI,
// Table 23).
constexpr std::size_t kReportDataOffset = 0x50;

bool IsGuid(const snp::CertTableEntry& e, std::string_view text) {
  Result<snp::Guid> g = snp::GuidFromString(text);
  return g.has_value() && *g == e.guid;
}

}  // namespace

Result<Bytes> ReadWholeFile(const std::string& path, std::size_t max_size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return UnavailableError("server.io", "server: cannot open " + path + ": " + std::strerror(errno));
  }
  Bytes out;
  std::uint8_t buf[65536];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return UnavailableError("server.io", "server: cannot read " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_size) {
      return ResourceExhaustedError("server.file_too_large", "server: " + path + " is too large");
    }
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

Result<ProviderSetup> NewSimulatedProviderSetup(std::shared_ptr<const sim::SimulatedPlatform> platform,
                                                ByteView workload_binary, ByteView config, ByteView host_data) {
  if (platform == nullptr) return InvalidArgumentError("server.bad_provider", "server: no simulated platform");
  if (!host_data.empty() && host_data.size() != 32) {
    return InvalidArgumentError("server.bad_host_data", "server: HOST_DATA must be 32 bytes");
  }
  ProviderSetup setup;
  PERIMETER_ASSIGN_OR_RETURN(setup.measurement, sim::SimulatedMeasurement(workload_binary, config));
  sim::ReportRequest base;
  base.measurement = setup.measurement;
  base.host_data = host_data.empty() ? Bytes(32, 0) : ToBytes(host_data);
  setup.crl = platform->crl().ToDer();
  setup.provider = std::make_unique<sim::InsecureSimulatedProvider>(std::move(platform), std::move(base));
  return setup;
}

Result<ProviderSetup> NewProviderSetup(const std::string& name, const std::string& sim_platform_dir,
                                       const std::string& sim_workload_path, ByteView config,
                                       ByteView host_data) {
  if (name == "simulated") {
    if (sim_platform_dir.empty()) {
      return InvalidArgumentError("server.bad_provider", "server: the simulated provider needs a platform dir");
    }
    PERIMETER_ASSIGN_OR_RETURN(sim::SimulatedPlatform platform, sim::SimulatedPlatform::Load(sim_platform_dir));
    const std::string workload = sim_workload_path.empty() ? "/proc/self/exe" : sim_workload_path;
    PERIMETER_ASSIGN_OR_RETURN(Bytes binary, ReadWholeFile(workload, std::size_t{1} << 32));
    return NewSimulatedProviderSetup(std::make_shared<const sim::SimulatedPlatform>(std::move(platform)), binary,
                                     config, host_data);
  }
  if (!host_data.empty()) {
    return InvalidArgumentError("server.bad_host_data",
                                "server: HOST_DATA is fixed at launch on hardware; only the simulated "
                                "provider takes it");
  }
  ProviderSetup setup;
  if (name == "sev-guest") {
    setup.provider = std::make_unique<snp::SevGuestProvider>(snp::SevGuestProvider::Options{});
  } else if (name == "configfs-tsm") {
    setup.provider = std::make_unique<snp::ConfigfsTsmProvider>(snp::ConfigfsTsmProvider::Options{});
  } else {
    return InvalidArgumentError("server.bad_provider",
                                "server: provider must be simulated, sev-guest or configfs-tsm");
  }
  return setup;
}

namespace {

constexpr std::size_t kMaxEvidenceFileSize = 64 * 1024;

std::string_view AsText(const Bytes& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

bool LooksLikePem(const Bytes& b) { return AsText(b).find("-----BEGIN ") != std::string_view::npos; }

}  // namespace

Status AddEvidenceFiles(ProviderSetup& setup, const std::string& crl_file, const std::string& vek_file) {
  if (!crl_file.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(Bytes bytes, ReadWholeFile(crl_file, kMaxEvidenceFileSize));
    Result<crypto::Crl> crl = LooksLikePem(bytes) ? crypto::Crl::FromPem(AsText(bytes)) : crypto::Crl::FromDer(bytes);
    if (!crl.has_value()) {
      return InvalidArgumentError("server.bad_crl_file",
                                  "server: " + crl_file + " is not an X.509 CRL (DER or PEM): " +
                                      std::string(crl.error().message()));
    }
    setup.crl = crl->ToDer();
  }
  if (!vek_file.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(Bytes bytes, ReadWholeFile(vek_file, kMaxEvidenceFileSize));
    Result<crypto::Certificate> cert = LooksLikePem(bytes) ? crypto::Certificate::FromPem(AsText(bytes))
                                                           : crypto::Certificate::FromDer(bytes);
    if (!cert.has_value()) {
      return InvalidArgumentError("server.bad_vek_file",
                                  "server: " + vek_file + " is not an X.509 certificate (DER or PEM): " +
                                      std::string(cert.error().message()));
    }
    if (cert->KeyAlgorithm() != crypto::PublicKeyAlgorithm::kEcP384) {
      return InvalidArgumentError("server.bad_vek_file",
                                  "server: " + vek_file + " does not hold a P-384 key (a VCEK or VLEK does)");
    }
    setup.fallback_vek = cert->ToDer();
  }
  return Status::Ok();
}

EvidenceSource::EvidenceSource(std::shared_ptr<const crypto::XdhPrivateKey> key, ProviderSetup setup,
                               std::uint32_t vmpl)
    : static_key_(std::move(key)),
      provider_(std::move(setup.provider)),
      crl_(std::move(setup.crl)),
      fallback_vek_(std::move(setup.fallback_vek)),
      measurement_(std::move(setup.measurement)),
      vmpl_(vmpl) {}

Result<std::unique_ptr<EvidenceSource>> EvidenceSource::New(Options options) {
  if (options.setup.provider == nullptr) {
    return InvalidArgumentError("server.no_provider", "server: no evidence provider");
  }
  PERIMETER_ASSIGN_OR_RETURN(crypto::XdhPrivateKey key, crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519));
  std::unique_ptr<EvidenceSource> source(new EvidenceSource(
      std::make_shared<const crypto::XdhPrivateKey>(std::move(key)), std::move(options.setup), options.vmpl));
  PERIMETER_RETURN_IF_ERROR(source->Refresh());
  return source;
}

std::shared_ptr<const Bytes> EvidenceSource::evidence() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evidence_;
}

std::chrono::system_clock::time_point EvidenceSource::evidence_time() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evidence_time_;
}

Result<Bytes> EvidenceSource::Build() {
  PERIMETER_ASSIGN_OR_RETURN(Bytes report_data, attest::NoiseBindingReportData(static_key_->public_key()));
  PERIMETER_ASSIGN_OR_RETURN(snp::RawEvidence raw, provider_->GetEvidence(report_data, vmpl_));
  if (raw.report.size() < kReportDataOffset + report_data.size() ||
      !crypto::ConstantTimeEquals(ByteView(raw.report).subspan(kReportDataOffset, report_data.size()),
                                  report_data)) {
    return InternalError("server.evidence_binding_mismatch",
                         "server: the provider's report does not carry our REPORT_DATA");
  }
  attest::Evidence e;
  e.report = std::move(raw.report);
  for (snp::CertTableEntry& entry : raw.certs) {
    if (IsGuid(entry, snp::kGuidVcek) || IsGuid(entry, snp::kGuidVlek)) {
      e.vek = std::move(entry.data);
    } else if (IsGuid(entry, snp::kGuidAsk)) {
      e.ask = std::move(entry.data);
    } else if (IsGuid(entry, snp::kGuidArk)) {
      e.ark = std::move(entry.data);
    }
  }
  if (e.vek.empty() && fallback_vek_.has_value()) e.vek = *fallback_vek_;
  if (e.vek.empty()) {
    return FailedPreconditionError("server.evidence_no_vek",
                                   "server: the provider returned no VCEK/VLEK in its certificate table "
                                   "and no vek_file is configured");
  }
  e.crl = crl_;
  e.provider = raw.provider.empty() ? provider_->name() : raw.provider;
  PERIMETER_ASSIGN_OR_RETURN(std::string doc, attest::SerializeEvidence(e));
  return ToBytes(doc);
}

Status EvidenceSource::Refresh() {
  std::lock_guard<std::mutex> refresh_lock(refresh_mu_);
  PERIMETER_ASSIGN_OR_RETURN(Bytes doc, Build());
  auto fresh = std::make_shared<const Bytes>(std::move(doc));
  std::lock_guard<std::mutex> lock(mu_);
  evidence_ = std::move(fresh);
  evidence_time_ = std::chrono::system_clock::now();
  return Status::Ok();
}

}  // namespace perimeter::server
