// The client's trust configuration (DESIGN.md section 3): which ARKs are
// trusted roots, which CRLs to apply, and the policy a server's claims must
// satisfy. Read from a YAML file, version 1:
//
//   version: 1
//   roots:
//     amd: true                 # AMD's pinned ARKs (Milan, Genoa, Turin); default true
//     arks:                     # explicitly trusted ARKs (PEM or DER files),
//       - sim/ark.pem           #   e.g. the simulated platform's
//   crls: [sim/crl.der]         # optional; otherwise the evidence's own CRL is used
//   policy:
//     measurements: [<96 hex>]  # allowed launch measurements; at least one is
//     allow_any_measurement: false   #   required unless this is true
//     host_data: [<64 hex>]     # allowed HOST_DATA values; omitted = any (an
//                               #   empty list is an error, not "any")
//     min_tcb: {Milan: {bl: 3, tee: 0, snp: 8, ucode: 115}}   # fmc: Turin only
//     allow_debug: false
//     allow_migration_agent: false
//     allow_smt: true
//     max_vmpl: 0
//     require_crl: true
//
// Relative paths are relative to the directory of the trust file. Parsing is
// strict and fails closed: an unknown or repeated key, a value of the wrong
// type, bad hex, a wrong length, a missing or unreadable file, a certificate
// that is not a self-signed CA, or a configuration that trusts no root is an
// error. So is an empty policy.host_data list: only omitting the key allows
// any HOST_DATA (a template that renders an empty list must not fail open).
// The simulated platform's ARK is trusted only when it is named under
// roots.arks: nothing else ever trusts it.
//
// Intentionally copyable (certificates and CRLs share immutable state).
// Thread-safe once built (const).
#ifndef PERIMETER_CLIENT_TRUST_CONFIG_H_
#define PERIMETER_CLIENT_TRUST_CONFIG_H_

#include <string>
#include <string_view>
#include <vector>

#include "perimeter/attest/snp/policy.h"
#include "perimeter/attest/snp/verifier.h"
#include "perimeter/base/result.h"
#include "perimeter/crypto/x509.h"

namespace perimeter::client {

inline constexpr int kTrustConfigVersion = 1;

// Stable reasons of trust configuration errors.
inline constexpr std::string_view kTrustFileMissing = "trust.file_missing";          // kNotFound
inline constexpr std::string_view kTrustBadYaml = "trust.bad_yaml";                  // kInvalidArgument
inline constexpr std::string_view kTrustUnsupportedVersion = "trust.unsupported_version";
inline constexpr std::string_view kTrustUnknownKey = "trust.unknown_key";
inline constexpr std::string_view kTrustDuplicateKey = "trust.duplicate_key";
inline constexpr std::string_view kTrustMissingField = "trust.missing_field";
inline constexpr std::string_view kTrustBadType = "trust.bad_type";
inline constexpr std::string_view kTrustBadHex = "trust.bad_hex";
inline constexpr std::string_view kTrustBadLength = "trust.bad_length";
inline constexpr std::string_view kTrustBadValue = "trust.bad_value";
inline constexpr std::string_view kTrustBadCertificate = "trust.bad_certificate";
inline constexpr std::string_view kTrustBadCrl = "trust.bad_crl";
inline constexpr std::string_view kTrustNoRoots = "trust.no_roots";
inline constexpr std::string_view kTrustNoMeasurements = "trust.no_measurements";

struct TrustConfig {
  // The trusted ARKs: AMD's pinned ones (if roots.amd) followed by the
  // explicitly named ones. Never empty (an empty TrustedRoots would mean
  // "AMD's" to snp::Verify; a configuration that trusts nothing is refused).
  attest::snp::TrustedRoots roots;
  // CRLs from the file, each verified to be signed by one of `roots.arks`
  // when the evidence is checked (an unrelated CRL is simply not used).
  std::vector<crypto::Crl> crls;
  // The policy. report_data is never set here: the client checks the Noise
  // binding itself (evidence_verifier.h).
  attest::snp::Policy policy;
  // Human description of the roots, e.g. "AMD (pinned) + 1 explicit ARK".
  std::string roots_summary;
};

// Parses a trust file's text. `base_dir` resolves relative paths ("" = the
// current directory). Errors: kInvalidArgument with the trust.* reasons above;
// kNotFound "trust.file_missing" for a referenced file that cannot be read.
Result<TrustConfig> ParseTrustConfig(std::string_view yaml, const std::string& base_dir);

// Reads and parses the trust file at `path` (at most 1 MiB).
// Errors: kNotFound "trust.file_missing"; those of ParseTrustConfig.
Result<TrustConfig> LoadTrustConfig(const std::string& path);

// The configuration's fingerprint: SHA-256 over a canonical serialization of
// everything that decides what it accepts (the trusted ARKs, the CRLs and
// every field of the policy; not roots_summary). Lists with set semantics
// (ARKs, CRLs, measurements, HOST_DATA values) are sorted and deduplicated
// first, so reordering a trust file keeps the fingerprint; any other change
// gives another one. The known-servers cache binds each key to it
// (known_servers.h), so a key verified under one configuration is never used
// under another. 32 bytes. Errors: kInternal "crypto.hash_failed".
Result<Bytes> TrustConfigFingerprint(const TrustConfig& trust);

}  // namespace perimeter::client

#endif  // PERIMETER_CLIENT_TRUST_CONFIG_H_
