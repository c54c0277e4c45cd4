// Human- and machine-readable renderings of an SEV-SNP attestation report,
// for `perimeter attest show`, logs and debugging. Field names are the ABI
// spec's names in snake_case (report.h); byte fields are lower-case hex;
// 64-bit fields are "0x"-prefixed hex. TCB values are shown raw and, when
// `product` is known, decoded with that product's layout (tcb.h); with
// Product::kUnknown only the raw value is given.
//
// Rendering never fails and reveals nothing beyond the report itself (which
// holds no secrets). Thread-safe.
#ifndef PERIMETER_ATTEST_SNP_REPORT_FORMAT_H_
#define PERIMETER_ATTEST_SNP_REPORT_FORMAT_H_

#include <string>

#include "perimeter/attest/snp/report.h"
#include "perimeter/attest/snp/tcb.h"

namespace perimeter::attest::snp {

// One field per line, "name: value", in ABI order; decoded sub-fields as
// "policy.debug: false", "current_tcb.snp: 23". Ends with a newline.
std::string ReportToText(const AttestationReport& report, Product product);

// A JSON object (pretty-printed, two-space indent, trailing newline) with
// the same fields: "version", "guest_svn", "policy" + "policy_decoded",
// "platform_info" + "platform_info_decoded", "key_info" + "author_key_en",
// "mask_chip_key", "signing_key", each TCB raw + "<name>_decoded" (omitted
// when the product is unknown), "current_version"/"committed_version" as
// "major.minor.build", "cpuid_*" (null in version 2), "*_mit_vector" (null
// before version 5), "signature_r"/"signature_s" (72-byte little-endian
// hex as in the report) and "product".
std::string ReportToJson(const AttestationReport& report, Product product);

}  // namespace perimeter::attest::snp

#endif  // PERIMETER_ATTEST_SNP_REPORT_FORMAT_H_
