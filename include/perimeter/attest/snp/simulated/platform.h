// INSECURE simulated SEV-SNP platform, for development and tests only.
//
// It plays AMD's part with its own keys, in AMD's real formats (DESIGN.md
// section 3): an ARK "ARK-<Product>" (RSA-4096, self-signed), an ASK
// "SEV-<Product>" (RSA-4096, signed by the ARK), a VCEK "SEV-VCEK" (ECDSA
// P-384, signed by the ASK) with AMD's VCEK extensions exactly as real VCEKs
// of the product carry them, and a CRL signed by the ARK; and it signs
// ATTESTATION_REPORTs (ABI versions 3 and 5) with the VCEK key in AMD's
// little-endian r/s format. snp::Verify accepts its reports only when its
// ARK is named explicitly in TrustedRoots: nothing trusts it by default, and
// the verdict's root says "explicitly trusted root ...".
//
// Certificate profile (mirrors AMD's certificates in tests/testdata/snp):
//   names      OU=Engineering, C=US, L=Santa Clara, ST=CA,
//              O=Advanced Micro Devices, CN=<cn>  (this RDN order; UTF8String,
//              C as PrintableString)
//   signature  RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt 48; trailerField
//              written on ARK and ASK, omitted on the VCEK and the CRL
//   ARK        serial 0x010000; keyUsage (critical) keyCertSign+cRLSign,
//              subjectKeyIdentifier, basicConstraints (critical) cA
//   ASK        serial 0x010001; subjectKeyIdentifier, authorityKeyIdentifier,
//              basicConstraints (critical) cA pathLen 0, keyUsage (critical)
//              keyCertSign (in AMD's bytes 03 02 01 04)
//   VCEK       serial 0; no X.509v3 standard extensions; AMD's extensions in
//              AMD's order:
//                Milan/Genoa: .1.1 structVersion 0, .1.2 productName
//                  ("Milan-B0" / "Genoa"), .3.1 bl, .3.2 tee, .3.4-.3.7 (0),
//                  .3.3 snp, .3.8 ucode, .1.4 hwID = the 64-byte CHIP_ID raw
//                Turin: .1.1 structVersion 1, .1.2 "Turin", .3.9 fmc, .3.1 bl,
//                  .3.2 tee, .3.3 snp, .3.5-.3.7 (0), .3.8 ucode, .1.4 hwID =
//                  the first 8 bytes of CHIP_ID raw
//   CRL        v2, issuer the ARK, authorityKeyIdentifier, crlNumber 1
// AMD's CRL distribution point extension is not reproduced (it would name
// AMD's KDS, which does not serve this platform).
// All certificates and the CRL share the window [not_before, not_before +
// days * 86400].
//
// Files (Save/Load; platform.json is the marker of a platform directory):
//   ark.pem, ask.pem        PEM certificates
//   cert_chain.pem          ASK then ARK (the KDS cert_chain order)
//   vcek.der, vcek.pem      the VCEK
//   crl.der                 the ARK's CRL
//   ark.key, ask.key, vcek.key   unencrypted PKCS#8 "PRIVATE KEY" PEM, mode 0600
//   platform.json           {"format": "perimeter-snp-simulated-platform",
//                            "version": 1, "product": "Milan", "chip_id": hex,
//                            "vcek_tcb": {"fmc","bl","tee","snp","ucode"},
//                            "not_before": unix seconds, "days": N}
//
// Thread-safety: a SimulatedPlatform is immutable after Create()/Load(); its
// const methods (SignReport included) may run concurrently. Move-only (it
// owns private keys).
#ifndef PERIMETER_ATTEST_SNP_SIMULATED_PLATFORM_H_
#define PERIMETER_ATTEST_SNP_SIMULATED_PLATFORM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "perimeter/attest/snp/report.h"
#include "perimeter/attest/snp/tcb.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/crypto/ecdsa.h"
#include "perimeter/crypto/x509.h"

namespace perimeter::attest::snp::simulated {

// Stable reasons.
inline constexpr std::string_view kSimBadOptions = "snp.sim_bad_options";       // kInvalidArgument
inline constexpr std::string_view kSimBadRequest = "snp.sim_bad_request";       // kInvalidArgument
inline constexpr std::string_view kSimPlatformExists = "snp.sim_platform_exists";  // kAlreadyExists
inline constexpr std::string_view kSimPlatformMissing = "snp.sim_platform_missing";  // kNotFound
inline constexpr std::string_view kSimPlatformCorrupt = "snp.sim_platform_corrupt";  // kDataLoss
inline constexpr std::string_view kSimIoError = "snp.sim_io_error";             // kUnavailable

// "Milan-B0", "Genoa", "Turin": the productName the platform's VCEK carries
// (the names on AMD's real VCEKs). Empty for kUnknown.
std::string_view SimulatedProductName(Product product);

// The SEV-SNP launch measurement the simulated platform reports for a
// workload: SHA-384 over a domain-separated, length-prefixed encoding, so
// that changing any byte of the binary or of its configuration changes the
// measurement, and no (binary, config) split of the same bytes collides:
//
//   SHA-384( "perimeter/snp-simulated-measurement/v1" || 0x00
//            || u64be(len(workload_binary)) || workload_binary
//            || u64be(len(config))          || config )
//
// (48 bytes.) Real hardware measures the initial guest memory instead; see
// measure/ for the SNP launch digest.
// Errors: kInternal from the hash.
Result<Bytes> SimulatedMeasurement(ByteView workload_binary, ByteView config);

struct CreateOptions {
  Product product = Product::kMilan;  // Milan, Genoa or Turin
  // Start of every certificate's and the CRL's validity, Unix seconds (UTC).
  // Required: there is no "now" default (reproducible tests).
  std::int64_t not_before = 0;
  // Length of the validity window in days, 1..36500.
  std::uint32_t days = 7 * 365;
  // The TCB the VCEK is certified for (fmc only on Turin; must be 0 on
  // Milan/Genoa). Defaults to DefaultTcb(product) when unset.
  std::optional<TcbVersion> vcek_tcb;
  // The chip's CHIP_ID (64 bytes; on Turin only the first 8 may be
  // non-zero). Random when unset: 64 random bytes, or 8 + 56 zero bytes on
  // Turin.
  std::optional<Bytes> chip_id;
  // Serials the platform's CRL lists (Certificate::SerialNumber() form),
  // e.g. to revoke the ASK in tests. Empty: revokes nothing.
  std::vector<Bytes> revoked_serials;
};

// A plausible TCB for the product (values seen on real reports).
TcbVersion DefaultTcb(Product product);

// What to put into a report. Unset optionals take the platform's values.
struct ReportRequest {
  std::uint32_t version = 3;  // 3 or 5
  // REPORT_DATA; at most 64 bytes, zero-padded on the right.
  Bytes report_data;
  std::optional<Bytes> measurement;  // exactly 48 bytes; default all zero
  std::optional<Bytes> host_data;    // exactly 32 bytes; default all zero
  // GUEST_POLICY; bit 17 must be set and bits 63:26 clear. Default: ABI
  // 0.0, SMT allowed, no debug, no migration agent.
  std::uint64_t policy = 0x30000;
  std::uint32_t vmpl = 0;  // 0..3
  std::uint32_t guest_svn = 0;
  std::optional<Bytes> family_id;  // 16 bytes; default zero
  std::optional<Bytes> image_id;   // 16 bytes; default zero
  // Raw TCB_VERSION values; each defaults to the VCEK's TCB.
  std::optional<std::uint64_t> reported_tcb;
  std::optional<std::uint64_t> current_tcb;
  std::optional<std::uint64_t> committed_tcb;
  std::optional<std::uint64_t> launch_tcb;
  // CHIP_ID; 64 bytes; default the platform's.
  std::optional<Bytes> chip_id;
  // The SIGNING_KEY field. The platform has no VLEK: the report is always
  // signed with the VCEK, so kVlek/kNone only produce reports the verifier
  // must reject (snp.signing_key_mismatch), for tests.
  SigningKey signing_key = SigningKey::kVcek;
  // MASK_CHIP_KEY: as firmware does, CHIP_ID is then reported as zeros.
  bool mask_chip_key = false;
  std::uint64_t platform_info = 0x1;  // SMT_EN
  // Version 5 only.
  std::uint64_t launch_mit_vector = 0;
  std::uint64_t current_mit_vector = 0;
};

class SimulatedPlatform {
 public:
  // Generates a new platform (two RSA-4096 keys: takes seconds).
  // Errors: kInvalidArgument "snp.sim_bad_options" (unknown product, no or
  // out-of-range not_before/days, bad chip_id, fmc on Milan/Genoa), kInternal.
  static Result<SimulatedPlatform> Create(const CreateOptions& options);

  // Reads a platform written by Save(). Everything is checked: the
  // certificates chain ARK -> ASK -> VCEK, each private key matches its
  // certificate, the VCEK's extensions parse (ParseVekCertificate) and agree
  // with platform.json, the CRL is signed by the ARK.
  // Errors: kNotFound "snp.sim_platform_missing" (no platform.json);
  // kDataLoss "snp.sim_platform_corrupt" (anything unreadable or
  // inconsistent).
  static Result<SimulatedPlatform> Load(const std::string& dir);

  // Writes the files listed at the top into `dir` (created with mode 0700
  // if missing; its parent must exist). Key files get mode 0600. Never
  // overwrites: if any of the files exists nothing is written.
  // Errors: kAlreadyExists "snp.sim_platform_exists"; kUnavailable
  // "snp.sim_io_error".
  Status Save(const std::string& dir) const;

  // Builds, serializes and signs a report.
  // Errors: kInvalidArgument "snp.sim_bad_request" (wrong version, field
  // sizes, policy, vmpl), kInternal.
  Result<Bytes> SignReport(const ReportRequest& request) const;

  // A new CRL from this platform's ARK, revoking `serials`.
  // Errors: kInvalidArgument, kInternal (crypto::BuildCrl).
  Result<crypto::Crl> MakeCrl(const std::vector<Bytes>& serials, std::int64_t this_update,
                              std::int64_t next_update) const;

  Product product() const;
  const Bytes& chip_id() const;  // 64 bytes
  TcbVersion vcek_tcb() const;
  // The VCEK's TCB as the raw REPORTED_TCB value of the product's layout.
  std::uint64_t vcek_tcb_raw() const;
  std::int64_t not_before() const;
  std::uint32_t days() const;
  const crypto::Certificate& ark() const;
  const crypto::Certificate& ask() const;
  const crypto::Certificate& vcek() const;
  const crypto::Crl& crl() const;
  // {ASK, ARK}: the KDS cert_chain order, as snp::VerifyInput::chain wants.
  std::vector<crypto::Certificate> CertChain() const;
  // The VCEK's public key.
  const crypto::EcdsaPublicKey& vcek_public_key() const;

  SimulatedPlatform(SimulatedPlatform&&) noexcept;
  SimulatedPlatform& operator=(SimulatedPlatform&&) noexcept;
  SimulatedPlatform(const SimulatedPlatform&) = delete;
  SimulatedPlatform& operator=(const SimulatedPlatform&) = delete;
  ~SimulatedPlatform();

 private:
  struct Impl;
  explicit SimulatedPlatform(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace perimeter::attest::snp::simulated

#endif  // PERIMETER_ATTEST_SNP_SIMULATED_PLATFORM_H_
