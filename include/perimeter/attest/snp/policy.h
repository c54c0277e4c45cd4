// Policy for SEV-SNP claims: what a relying party accepts. Verification
// (verifier.h) yields claims; Evaluate() judges them and appends one check
// per rule to the verdict, so a rejection always says which rule and why.
//
// Defaults are strict: debug and migration agents forbidden, VMPL 0 only,
// revocation must have been checked. Unset optional rules (measurement set,
// HOST_DATA, REPORT_DATA, minimum TCB, family/image id, author key) are
// listed as "n/a".
//
// Intentionally copyable. Thread-safe (const).
#ifndef PERIMETER_ATTEST_SNP_POLICY_H_
#define PERIMETER_ATTEST_SNP_POLICY_H_

#include <map>
#include <optional>
#include <vector>

#include "perimeter/attest/snp/verifier.h"
#include "perimeter/attest/verdict.h"
#include "perimeter/base/bytes.h"

namespace perimeter::attest::snp {

struct Policy {
  // Allowed launch measurements (48 bytes each). Empty: any (n/a).
  std::vector<Bytes> measurements;
  // Allowed HOST_DATA values (32 bytes each). Empty: any (n/a). Compared
  // in constant time.
  std::vector<Bytes> host_data;
  // Required REPORT_DATA (64 bytes), if set: e.g. the binding of a Noise
  // static key. Compared in constant time.
  std::optional<Bytes> report_data;
  // Minimum REPORTED_TCB per product, component-wise.
  std::map<Product, TcbVersion> min_tcb;
  bool allow_debug = false;
  bool allow_migration_agent = false;
  // When false, the platform must run with SMT disabled (PLATFORM_INFO.SMT_EN = 0).
  bool allow_smt = true;
  std::uint32_t max_vmpl = 0;
  std::optional<Bytes> family_id;  // 16 bytes
  std::optional<Bytes> image_id;   // 16 bytes
  // If set, AUTHOR_KEY_EN must be 1 and AUTHOR_KEY_DIGEST must equal it (48 bytes).
  std::optional<Bytes> author_key_digest;
  // When true, claims whose certificates were not checked against a CRL
  // are rejected.
  bool require_crl = true;
};

// Appends one check per rule to `verdict` (ids "policy.*").
void Evaluate(const Claims& claims, const Policy& policy, Verdict& verdict);

}  // namespace perimeter::attest::snp

#endif  // PERIMETER_ATTEST_SNP_POLICY_H_
