#include "perimeter/attest/snp/simulated/simulated_provider.h"

#include <utility>

namespace perimeter::attest::snp::simulated {

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::array<std::uint8_t, 16>> GuidBytes(std::string_view text) {
  // 8-4-4-4-12 hex digits.
  std::array<std::uint8_t, 16> out{};
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-') {
    return InvalidArgumentError("snp.bad_guid", "SEV-SNP: malformed GUID '" + std::string(text) + "'");
  }
  std::size_t o = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '-') {
      ++i;
      continue;
    }
    const int hi = HexDigit(text[i]);
    const int lo = i + 1 < text.size() ? HexDigit(text[i + 1]) : -1;
    if (hi < 0 || lo < 0 || o >= out.size()) {
      return InvalidArgumentError("snp.bad_guid", "SEV-SNP: malformed GUID '" + std::string(text) + "'");
    }
    out[o++] = static_cast<std::uint8_t>((hi << 4) | lo);
    i += 2;
  }
  return out;
}

InsecureSimulatedProvider::InsecureSimulatedProvider(std::shared_ptr<const SimulatedPlatform> platform,
                                                     ReportRequest base)
    : platform_(std::move(platform)), base_(std::move(base)) {}

Result<RawEvidence> InsecureSimulatedProvider::GetEvidence(ByteView report_data, std::uint32_t vmpl) {
  if (report_data.size() != kReportDataSize) {
    return InvalidArgumentError("snp.provider_bad_report_data",
                                "SEV-SNP: report_data must be exactly 64 bytes, got " +
                                    std::to_string(report_data.size()));
  }
  ReportRequest request = base_;
  request.report_data = ToBytes(report_data);
  request.vmpl = vmpl;
  RawEvidence out;
  PERIMETER_ASSIGN_OR_RETURN(out.report, platform_->SignReport(request));
  const std::pair<std::string_view, const crypto::Certificate*> certs[] = {
      {kGuidVcek, &platform_->vcek()}, {kGuidAsk, &platform_->ask()}, {kGuidArk, &platform_->ark()}};
  for (const auto& [guid, cert] : certs) {
    CertTableEntry e;
    PERIMETER_ASSIGN_OR_RETURN(e.guid, GuidBytes(guid));
    e.data = cert->ToDer();
    out.certs.push_back(std::move(e));
  }
  out.provider = std::string(kInsecureSimulatedProviderName);
  return out;
}

}  // namespace perimeter::attest::snp::simulated
