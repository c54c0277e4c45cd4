// INSECURE evidence provider backed by a SimulatedPlatform (platform.h):
// returns reports signed by the simulated VCEK, with the VCEK, ASK and ARK in
// the certificate table under AMD's GUIDs (provider.h), as a host would
// supply them through SNP_GET_EXT_REPORT. Its name and RawEvidence::provider
// are "insecure-simulated"; verifiers accept its reports only when the
// simulated ARK is an explicitly trusted root.
//
// Thread-safe: GetEvidence() only reads the (immutable) platform.
#ifndef PERIMETER_ATTEST_SNP_SIMULATED_SIMULATED_PROVIDER_H_
#define PERIMETER_ATTEST_SNP_SIMULATED_SIMULATED_PROVIDER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "perimeter/attest/snp/provider.h"
#include "perimeter/attest/snp/simulated/platform.h"
#include "perimeter/base/result.h"

namespace perimeter::attest::snp::simulated {

inline constexpr std::string_view kInsecureSimulatedProviderName = "insecure-simulated";

// The 16 bytes of a GUID given as text ("63da758d-e664-4564-adc5-f4b93be8accd"),
// in the order the text spells them (RFC 4122 / network byte order), which is
// how the GUIDs of provider.h are stored in the certificate table by
// go-sev-guest and virtee/sev. Errors: kInvalidArgument "snp.bad_guid".
Result<std::array<std::uint8_t, 16>> GuidBytes(std::string_view text);

class InsecureSimulatedProvider : public EvidenceProvider {
 public:
  // `base` supplies every report field except REPORT_DATA and VMPL, which
  // come from each GetEvidence() call. REQUIRES: platform != nullptr.
  explicit InsecureSimulatedProvider(std::shared_ptr<const SimulatedPlatform> platform,
                                     ReportRequest base = {});

  // Errors: kInvalidArgument "snp.provider_bad_report_data" (not 64 bytes),
  // the platform's SignReport() errors (e.g. a vmpl above 3).
  Result<RawEvidence> GetEvidence(ByteView report_data, std::uint32_t vmpl = 0) override;
  std::string name() const override { return std::string(kInsecureSimulatedProviderName); }

 private:
  std::shared_ptr<const SimulatedPlatform> platform_;
  ReportRequest base_;
};

}  // namespace perimeter::attest::snp::simulated

#endif  // PERIMETER_ATTEST_SNP_SIMULATED_SIMULATED_PROVIDER_H_
