// Verifies a server's evidence document (docs/evidence.md) for the attested
// channel (DESIGN.md section 4; docs/wire-protocol.md section 4.2): is this
// genuine SEV-SNP evidence, chained to a trusted root, bound to the Noise
// static key the handshake authenticated, and acceptable under the policy?
//
// The checks, in order; every one is listed in the verdict with its result
// and, on failure, a stable reason. Checking stops at the first failure, and
// the checks after it are listed as "not checked":
//   evidence.format      the document parses (attest::ParseEvidence: version,
//                        tee, members, base64; reasons attest.evidence_*),
//                        and its certificates and CRL are DER
//                        (crypto.x509_parse_failed, crypto.crl_parse_failed)
//   snp.*                snp::Verify: chain to a trusted ARK, CRL, report
//                        signature, signing key, chip id, reported TCB
//                        (docs/snp-verification.md). The CRL is the trust
//                        file's CRL of the root, if it has one, else the
//                        evidence's own `crl` member.
//   channel.binding      REPORT_DATA equals attest::NoiseBindingReportData
//                        of the server static key, compared in constant time
//                        (reason "channel.binding_mismatch")
//   policy.*             snp::Evaluate with the trust configuration's policy
//                        (measurement, HOST_DATA, debug, TCB, CRL, ...)
// The verdict names the root that verified the report.
//
// Thread-safe: a pure function of its inputs (the optional ChainCache is
// itself thread-safe).
#ifndef PERIMETER_CLIENT_EVIDENCE_VERIFIER_H_
#define PERIMETER_CLIENT_EVIDENCE_VERIFIER_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "perimeter/attest/snp/verifier.h"
#include "perimeter/attest/verdict.h"
#include "perimeter/base/bytes.h"
#include "perimeter/client/trust_config.h"

namespace perimeter::client {

inline constexpr std::string_view kCheckEvidenceFormat = "evidence.format";
inline constexpr std::string_view kCheckChannelBinding = "channel.binding";
inline constexpr std::string_view kChannelBindingMismatch = "channel.binding_mismatch";

struct EvidenceVerification {
  attest::Verdict verdict;
  // The verified claims; set iff verdict.accepted().
  std::optional<attest::snp::Claims> claims;
};

// `evidence` is the document exactly as the server sent it;
// `server_static_public_key` the 32-byte X25519 key the handshake
// authenticated; `at_unix_seconds` the verification time (certificate and CRL
// windows). Never fails as a call: every problem is a failed check.
EvidenceVerification VerifyServerEvidence(ByteView evidence, ByteView server_static_public_key,
                                          const TrustConfig& trust, std::int64_t at_unix_seconds,
                                          attest::snp::ChainCache* cache = nullptr);

}  // namespace perimeter::client

#endif  // PERIMETER_CLIENT_EVIDENCE_VERIFIER_H_
