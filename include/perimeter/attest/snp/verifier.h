// Verifies an AMD SEV-SNP attestation report against its certificate chain
// and returns the claims it carries, with a verdict that lists every check.
// It does NOT decide whether the claims are acceptable (measurement, TCB,
// debug, ...): that is snp::Policy (policy.h).
//
// The checks, in order (docs/snp-verification.md has the same list, each
// with its reason code and its test):
//   1 snp.report_format        size and version (ParseReport)
//   2 snp.product              product identified; report, VEK and chain agree
//   3 snp.ark_trusted          the ARK is a trusted root and self-signed
//   4 snp.ask_signed           the ASK (VCEK) or ASVK (VLEK) is signed by the ARK
//   5 snp.vek_signed           the VCEK/VLEK is signed by the ASK/ASVK
//   6 snp.chain_valid          all certificates valid at the verification time
//   7 snp.crl                  the CRL (signed by the ARK, current) revokes neither
//   8 snp.report_signature     ECDSA P-384/SHA-384 over bytes 0x000-0x29F by the VEK
//   9 snp.signing_key          the report's SIGNING_KEY agrees with the certificate kind
//  10 snp.chip_id              CHIP_ID equals the VCEK's hwID (VCEK only)
//  11 snp.reported_tcb         REPORTED_TCB equals the VEK's TCB
// Verification stops at the first failed check: later checks are listed as
// "not checked".
//
// Trust: the trusted ARKs are AMD's (pinned, shipped in the library) unless
// the caller names others. A simulated platform's ARK verifies only when it
// is named explicitly; the verdict names the root that verified.
//
// Thread-safe: Verify() is a pure function of its inputs.
#ifndef PERIMETER_ATTEST_SNP_VERIFIER_H_
#define PERIMETER_ATTEST_SNP_VERIFIER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "perimeter/attest/snp/report.h"
#include "perimeter/attest/snp/tcb.h"
#include "perimeter/attest/snp/vek_certificate.h"
#include "perimeter/attest/verdict.h"
#include "perimeter/base/bytes.h"
#include "perimeter/crypto/x509.h"

namespace perimeter::attest::snp {

struct TrustedRoots {
  // ARK certificates trusted as roots. Empty means AMD's pinned ARKs.
  std::vector<crypto::Certificate> arks;
  // AMD's pinned ARKs (Milan, Genoa, Turin).
  static TrustedRoots Amd();
};

struct VerifyInput {
  ByteView report;  // the raw 1184-byte report
  // The VCEK or VLEK. Required ("snp.vek_missing" otherwise).
  std::optional<crypto::Certificate> vek;
  // The KDS cert_chain: ASK (or ASVK) and, optionally, the ARK. When the ARK
  // is absent the trusted root of the matching product is used.
  std::vector<crypto::Certificate> chain;
  std::optional<crypto::Crl> crl;
  std::int64_t at_unix_seconds = 0;
  // The product, needed for version-2 reports (no CPUID); ignored for v3+
  // except that it must agree.
  Product product_hint = Product::kUnknown;
};

// What a verified report establishes.
struct Claims {
  AttestationReport report;
  Product product = Product::kUnknown;
  VekKind vek_kind = VekKind::kVcek;
  TcbVersion reported_tcb;
  TcbVersion committed_tcb;
  TcbVersion launch_tcb;
  TcbVersion current_tcb;
  bool crl_checked = false;
};

struct VerifyResult {
  Verdict verdict;
  std::optional<Claims> claims;  // set iff verdict.accepted()
};

// Remembers chains (root, ASK/ASVK, VEK) and CRL signatures that verified,
// so that verifying many reports from the same platforms costs about one
// ECDSA verification each. An entry records the window in which all its
// certificates are valid; a verification time outside it re-runs the full
// checks. Only successes are cached. Thread-safe.
class ChainCache {
 public:
  ChainCache();
  ~ChainCache();
  ChainCache(const ChainCache&) = delete;
  ChainCache& operator=(const ChainCache&) = delete;

  struct Window {
    std::int64_t not_before;
    std::int64_t not_after;  // exclusive
  };
  std::optional<Window> FindChain(const Bytes& key) const;
  void AddChain(const Bytes& key, Window window);
  // Parsed VEK certificates (extensions and imported key), by DER digest.
  std::shared_ptr<const VekInfo> FindVek(const Bytes& key) const;
  void AddVek(const Bytes& key, std::shared_ptr<const VekInfo> vek);
  bool HasCrl(const Bytes& key) const;
  void AddCrl(const Bytes& key);
  std::size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs the checklist. With a cache, steps 3-6 (and the CRL's signature) are
// taken from it when this exact chain verified before and the time is in its
// window; the verdict says "(cached)" in those steps' details.
VerifyResult Verify(const VerifyInput& input, const TrustedRoots& roots, ChainCache* cache = nullptr);

}  // namespace perimeter::attest::snp

#endif  // PERIMETER_ATTEST_SNP_VERIFIER_H_
