// The AMD SEV-SNP attestation report (ATTESTATION_REPORT) ABI.
//
// Layout: AMD "SEV Secure Nested Paging Firmware ABI Specification",
// publication 56860, section 7.3 "Attestation", Table 22 "ATTESTATION_REPORT
// Structure" in revision 1.55 (the table number moves between revisions; the
// offsets do not). Report version 3 (CPUID_FAM_ID/MOD_ID/STEP at 0x188) and
// version 5 (LAUNCH_MIT_VECTOR/CURRENT_MIT_VECTOR at 0x1F8/0x200, rev 1.58)
// extend version 2 in place; the size is always 1184 (0x4A0) bytes and every
// multi-byte integer is little-endian.
//
// This header only parses and serializes. It does not verify the signature,
// the VCEK/VLEK chain or any policy (see the verifier, which uses
// SignedRegion() and AmdSignature()).
//
// Parsing is strict (fail closed). ParseReport() errors, all
// kInvalidArgument, with these stable reasons:
//   "snp.report_bad_size"            input is not exactly 1184 bytes
//   "snp.report_unsupported_version" VERSION is not 2, 3 or 5
//   "snp.report_bad_signature_algo"  SIGNATURE_ALGO is not 1 (ECDSA P-384
//                                    with SHA-384)
//   "snp.report_bad_policy"          POLICY bit 17 (reserved, must be one)
//                                    is clear
//   "snp.report_reserved_nonzero"    a must-be-zero field is not zero (see
//                                    "Must-be-zero fields" below)
//   "snp.report_bad_signing_key"     SIGNING_KEY (0x48 bits 4:2) is one of
//                                    the reserved values 2-6
//
// Must-be-zero fields enforced by ParseReport():
//   POLICY bits 63:26         reserved, MBZ (GUEST_POLICY table)
//   0x048 bits 31:5           reserved, MBZ
//   0x04C-0x04F               reserved
//   0x188-0x19F (version 2)   reserved (CPUID fields do not exist in v2)
//   0x18B-0x19F (version 3+)  reserved
//   0x1EB, 0x1EF              reserved
//   0x1F8-0x29F (version 2,3) reserved (mitigation vectors exist from v5)
//   0x208-0x29F (version 5)   reserved
//   0x330-0x49F               SIGNATURE reserved bytes (outside the signed
//                             region: a nonzero byte there would let
//                             unauthenticated data ride along with a valid
//                             signature)
// Not enforced (informational, new bits appear with new firmware):
// PLATFORM_INFO bits 6 and 8-63. VMPL and the contents of R/S are checked by
// the verifier and policy, not here.
//
// Thread-safe: all functions are pure. AttestationReport is intentionally
// copyable.
#ifndef PERIMETER_ATTEST_SNP_REPORT_H_
#define PERIMETER_ATTEST_SNP_REPORT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "perimeter/attest/snp/tcb.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::attest::snp {

inline constexpr std::size_t kReportSize = 0x4A0;        // 1184
inline constexpr std::size_t kSignedRegionSize = 0x2A0;  // bytes 0x000..0x29F
inline constexpr std::size_t kSignatureComponentSize = 72;
inline constexpr std::uint32_t kSignatureAlgoEcdsaP384Sha384 = 1;

// GUEST_POLICY (ABI spec, "Guest Policy Structure"), decoded from POLICY.
struct GuestPolicy {
  std::uint8_t abi_minor = 0;      // bits 7:0
  std::uint8_t abi_major = 0;      // bits 15:8
  bool smt = false;                // bit 16: SMT allowed
  bool reserved_must_be_one = false;  // bit 17
  bool migrate_ma = false;         // bit 18: migration agent allowed
  bool debug = false;              // bit 19: debugging allowed
  bool single_socket = false;      // bit 20
  bool cxl_allow = false;          // bit 21
  bool mem_aes_256_xts = false;    // bit 22: AES-256-XTS required
  bool rapl_dis = false;           // bit 23: RAPL must be disabled
  bool ciphertext_hiding = false;  // bit 24: ciphertext hiding required
  bool page_swap_disable = false;  // bit 25 (ABI 1.58)

  friend bool operator==(const GuestPolicy&, const GuestPolicy&) = default;
};
GuestPolicy DecodeGuestPolicy(std::uint64_t raw);
// Bits 63:26 are zero.
std::uint64_t EncodeGuestPolicy(const GuestPolicy& policy);

// PLATFORM_INFO (ABI spec, "PLATFORM_INFO Field"), decoded.
struct PlatformInfo {
  bool smt_en = false;                // bit 0
  bool tsme_en = false;               // bit 1
  bool ecc_en = false;                // bit 2
  bool rapl_dis = false;              // bit 3
  bool ciphertext_hiding_en = false;  // bit 4
  bool alias_check_complete = false;  // bit 5 (report version 3+)
  bool tio_en = false;                // bit 7 (report version 5)

  friend bool operator==(const PlatformInfo&, const PlatformInfo&) = default;
};
PlatformInfo DecodePlatformInfo(std::uint64_t raw);

// SIGNING_KEY (0x48 bits 4:2): which key signed the report.
enum class SigningKey : std::uint8_t { kVcek = 0, kVlek = 1, kNone = 7 };
// "VCEK", "VLEK", "none".
std::string_view SigningKeyName(SigningKey key);

// Every field of ATTESTATION_REPORT, at the offsets of the ABI table. Fields
// that a version does not define are zero (CPUID fields in version 2, the
// mitigation vectors before version 5). TCB values stay raw here; decode them
// with DecodeTcb(raw, ReportProduct(report) or a known product).
struct AttestationReport {
  std::uint32_t version = 0;                    // 0x000 VERSION
  std::uint32_t guest_svn = 0;                  // 0x004 GUEST_SVN
  std::uint64_t policy = 0;                     // 0x008 POLICY
  std::array<std::uint8_t, 16> family_id{};     // 0x010 FAMILY_ID
  std::array<std::uint8_t, 16> image_id{};      // 0x020 IMAGE_ID
  std::uint32_t vmpl = 0;                       // 0x030 VMPL
  std::uint32_t signature_algo = 0;             // 0x034 SIGNATURE_ALGO
  std::uint64_t current_tcb = 0;                // 0x038 CURRENT_TCB
  std::uint64_t platform_info = 0;              // 0x040 PLATFORM_INFO
  std::uint32_t key_info = 0;                   // 0x048 AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY
  std::array<std::uint8_t, 64> report_data{};   // 0x050 REPORT_DATA
  std::array<std::uint8_t, 48> measurement{};   // 0x090 MEASUREMENT
  std::array<std::uint8_t, 32> host_data{};     // 0x0C0 HOST_DATA
  std::array<std::uint8_t, 48> id_key_digest{};      // 0x0E0 ID_KEY_DIGEST
  std::array<std::uint8_t, 48> author_key_digest{};  // 0x110 AUTHOR_KEY_DIGEST
  std::array<std::uint8_t, 32> report_id{};     // 0x140 REPORT_ID
  std::array<std::uint8_t, 32> report_id_ma{};  // 0x160 REPORT_ID_MA
  std::uint64_t reported_tcb = 0;               // 0x180 REPORTED_TCB
  std::uint8_t cpuid_fam_id = 0;                // 0x188 CPUID_FAM_ID (v3+)
  std::uint8_t cpuid_mod_id = 0;                // 0x189 CPUID_MOD_ID (v3+)
  std::uint8_t cpuid_step = 0;                  // 0x18A CPUID_STEP (v3+)
  std::array<std::uint8_t, 64> chip_id{};       // 0x1A0 CHIP_ID
  std::uint64_t committed_tcb = 0;              // 0x1E0 COMMITTED_TCB
  std::uint8_t current_build = 0;               // 0x1E8 CURRENT_BUILD
  std::uint8_t current_minor = 0;               // 0x1E9 CURRENT_MINOR
  std::uint8_t current_major = 0;               // 0x1EA CURRENT_MAJOR
  std::uint8_t committed_build = 0;             // 0x1EC COMMITTED_BUILD
  std::uint8_t committed_minor = 0;             // 0x1ED COMMITTED_MINOR
  std::uint8_t committed_major = 0;             // 0x1EE COMMITTED_MAJOR
  std::uint64_t launch_tcb = 0;                 // 0x1F0 LAUNCH_TCB
  std::uint64_t launch_mit_vector = 0;          // 0x1F8 LAUNCH_MIT_VECTOR (v5)
  std::uint64_t current_mit_vector = 0;         // 0x200 CURRENT_MIT_VECTOR (v5)
  // 0x2A0 SIGNATURE ("ECDSA P-384 with SHA-384" format): R at +0x00, S at
  // +0x48, each a 72-byte little-endian integer zero-extended above 48
  // bytes; +0x90..+0x1FF reserved (must be zero, so not stored).
  std::array<std::uint8_t, kSignatureComponentSize> signature_r{};
  std::array<std::uint8_t, kSignatureComponentSize> signature_s{};

  // The exact bytes ParseReport() accepted (kReportSize of them). Empty for
  // a report built in code; use SerializeReport() to produce bytes.
  Bytes raw;

  // Bytes 0x000..0x29F of `raw`, the region the signature covers. Empty if
  // `raw` is empty. Valid while this object is alive and `raw` unchanged.
  ByteView SignedRegion() const;
  // R || S (144 bytes), the input EcdsaSignatureFormat::kAmdLittleEndian
  // expects.
  Bytes AmdSignature() const;

  GuestPolicy DecodedPolicy() const { return DecodeGuestPolicy(policy); }
  PlatformInfo DecodedPlatformInfo() const { return DecodePlatformInfo(platform_info); }
  bool author_key_en() const { return (key_info & 0x1u) != 0; }   // bit 0
  bool mask_chip_key() const { return (key_info & 0x2u) != 0; }   // bit 1
  // REQUIRES: a report accepted by ParseReport() (bits 4:2 are 0, 1 or 7).
  SigningKey signing_key() const { return static_cast<SigningKey>((key_info >> 2) & 0x7u); }
  bool HasCpuid() const { return version >= 3; }
  bool HasMitigationVectors() const { return version >= 5; }
};

// Parses and checks `bytes` (see the error list at the top of this file).
// The result owns a copy of the bytes in `raw`.
Result<AttestationReport> ParseReport(ByteView bytes);

// The exact 1184-byte ABI encoding of `report`, built from its fields (not
// from `raw`): reserved bytes are zero, fields the version does not define
// are not written. For every report ParseReport() accepts,
// SerializeReport(*ParseReport(b)) == b.
Bytes SerializeReport(const AttestationReport& report);

// The product named by the report's CPUID fields (version 3+), else
// kUnknown. Version 2 reports carry no product: take it from the VCEK.
Product ReportProduct(const AttestationReport& report);

}  // namespace perimeter::attest::snp

#endif  // PERIMETER_ATTEST_SNP_REPORT_H_
