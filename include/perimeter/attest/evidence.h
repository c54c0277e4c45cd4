// The evidence document a workload presents (DESIGN.md section 4): a
// versioned JSON object carrying its SEV-SNP report and the certificates a
// client needs to verify it. Specified in docs/evidence.md.
//
//   {"version": 1,
//    "tee": "sev-snp",
//    "report": "<base64 of the 1184-byte report>",
//    "vek": "<base64 DER of the VCEK or VLEK>",
//    "ask": "<base64 DER>",                        (optional)
//    "ark": "<base64 DER>",                        (optional)
//    "crl": "<base64 DER of the ARK's CRL>",       (optional)
//    "provider": "configfs-tsm" | "sev-guest" | "insecure-simulated",  (optional, informational)
//    "endorsement": { ... }}                       (optional, DESIGN.md section 6)
//
// Parsing is strict and fails closed: unknown members, wrong types, bad
// base64, a report of the wrong size, a document over 65,000 bytes are all
// rejected. Nothing in the document is trusted: "provider" is informational
// (trust comes only from the roots a verifier is configured with), and the
// report and certificates must still be verified.
//
// Intentionally copyable. Thread-compatible.
#ifndef PERIMETER_ATTEST_EVIDENCE_H_
#define PERIMETER_ATTEST_EVIDENCE_H_

#include <optional>
#include <string>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::attest {

inline constexpr int kEvidenceVersion = 1;
inline constexpr std::size_t kMaxEvidenceDocumentSize = 65000;

struct Evidence {
  std::string tee = "sev-snp";
  Bytes report;               // exactly 1184 bytes
  Bytes vek;                  // DER
  std::optional<Bytes> ask;   // DER
  std::optional<Bytes> ark;   // DER
  // The CRL of the chain's ARK (DER), as AMD's KDS serves it. Signed by the
  // ARK, so carrying it in untrusted evidence is safe; a verifier still
  // checks its signature and its thisUpdate/nextUpdate window.
  std::optional<Bytes> crl;
  std::string provider;       // informational; may be empty
  // The endorsement (section 6) as its JSON text, or empty. Its format is
  // verified by the transparency module, not here.
  std::string endorsement_json;
};

// Errors: kInvalidArgument with reason "attest.evidence_too_large",
// "attest.evidence_bad_json", "attest.evidence_unsupported_version",
// "attest.evidence_unsupported_tee", "attest.evidence_missing_field",
// "attest.evidence_bad_field", "attest.evidence_unknown_field".
Result<Evidence> ParseEvidence(std::string_view json);

// The canonical serialization (members in a fixed order, no whitespace).
// Errors: kInvalidArgument "attest.evidence_too_large" if the result would
// exceed 65,000 bytes; "attest.evidence_bad_field" for a report that is not
// 1184 bytes or an empty VEK.
Result<std::string> SerializeEvidence(const Evidence& evidence);

}  // namespace perimeter::attest

#endif  // PERIMETER_ATTEST_EVIDENCE_H_
