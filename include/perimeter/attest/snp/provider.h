// Guest-side evidence providers: where a workload gets its SEV-SNP report.
// One interface, three implementations chosen at start-up:
//   * configfs-tsm (Linux 6.7+: /sys/kernel/config/tsm/report), with the
//     certificate table from `auxblob` (configfs_tsm_provider.h);
//   * /dev/sev-guest (SNP_GET_REPORT / SNP_GET_EXT_REPORT ioctls)
//     (sev_guest_provider.h);
//   * the simulated platform (simulated/), which signs reports in the real
//     ABI with its own ARK/ASK/VCEK and is never trusted by default.
//
// Implementations are thread-safe unless they say otherwise.
#ifndef PERIMETER_ATTEST_SNP_PROVIDER_H_
#define PERIMETER_ATTEST_SNP_PROVIDER_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::attest::snp {

inline constexpr std::size_t kReportDataSize = 64;

// One entry of the SEV-SNP certificate table (AMD SEV-SNP firmware ABI,
// "SNP_GET_EXT_REPORT": a table of {GUID, offset, length} entries ended by
// an all-zero entry, followed by the certificates).
struct CertTableEntry {
  std::array<std::uint8_t, 16> guid{};  // in the table's byte order
  Bytes data;                           // the certificate (DER)
};

// Well-known GUIDs (as text, lower case).
inline constexpr std::string_view kGuidVcek = "63da758d-e664-4564-adc5-f4b93be8accd";
inline constexpr std::string_view kGuidVlek = "a8074bc2-a25a-483e-aae6-39c045a0b8a1";
inline constexpr std::string_view kGuidAsk = "4ab7b379-bbac-4fe4-a02f-05aef327c782";
inline constexpr std::string_view kGuidArk = "c0b406a4-a803-4952-9743-3fb6014cd0ae";

struct RawEvidence {
  Bytes report;                        // the 1184-byte ATTESTATION_REPORT
  std::vector<CertTableEntry> certs;   // may be empty (the verifier then needs the VEK from KDS)
  std::string provider;                // "configfs-tsm", "sev-guest" or "insecure-simulated"
};

class EvidenceProvider {
 public:
  virtual ~EvidenceProvider() = default;
  // A fresh report whose REPORT_DATA is `report_data` (exactly 64 bytes),
  // at VMPL `vmpl` where the provider supports choosing it.
  // Errors: kInvalidArgument "snp.provider_bad_report_data"; kUnavailable
  // "snp.provider_unavailable" (device or interface missing), and
  // provider-specific failures with their own reasons.
  virtual Result<RawEvidence> GetEvidence(ByteView report_data, std::uint32_t vmpl = 0) = 0;
  // "configfs-tsm", "sev-guest" or "insecure-simulated".
  virtual std::string name() const = 0;
};

}  // namespace perimeter::attest::snp

#endif  // PERIMETER_ATTEST_SNP_PROVIDER_H_
