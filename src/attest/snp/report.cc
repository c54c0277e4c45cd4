// ATTESTATION_REPORT parsing and serialization. Offsets follow the ABI table
// cited in report.h; every load is an explicit little-endian read from the
// input buffer (no struct overlay).
#include "perimeter/attest/snp/report.h"

#include <algorithm>
#include <string>

namespace perimeter::attest::snp {
namespace {

// Offsets (AMD SEV-SNP ABI spec 56860, ATTESTATION_REPORT Structure).
constexpr std::size_t kOffVersion = 0x000;          // 0x000 VERSION
constexpr std::size_t kOffGuestSvn = 0x004;         // 0x004 GUEST_SVN
constexpr std::size_t kOffPolicy = 0x008;           // 0x008 POLICY
constexpr std::size_t kOffFamilyId = 0x010;         // 0x010 FAMILY_ID
constexpr std::size_t kOffImageId = 0x020;          // 0x020 IMAGE_ID
constexpr std::size_t kOffVmpl = 0x030;             // 0x030 VMPL
constexpr std::size_t kOffSignatureAlgo = 0x034;    // 0x034 SIGNATURE_ALGO
constexpr std::size_t kOffCurrentTcb = 0x038;       // 0x038 CURRENT_TCB
constexpr std::size_t kOffPlatformInfo = 0x040;     // 0x040 PLATFORM_INFO
constexpr std::size_t kOffKeyInfo = 0x048;          // 0x048 AUTHOR_KEY_EN/MASK_CHIP_KEY/SIGNING_KEY
constexpr std::size_t kOffReserved0 = 0x04C;        // 0x04C..0x04F reserved
constexpr std::size_t kOffReportData = 0x050;       // 0x050 REPORT_DATA
constexpr std::size_t kOffMeasurement = 0x090;      // 0x090 MEASUREMENT
constexpr std::size_t kOffHostData = 0x0C0;         // 0x0C0 HOST_DATA
constexpr std::size_t kOffIdKeyDigest = 0x0E0;      // 0x0E0 ID_KEY_DIGEST
constexpr std::size_t kOffAuthorKeyDigest = 0x110;  // 0x110 AUTHOR_KEY_DIGEST
constexpr std::size_t kOffReportId = 0x140;         // 0x140 REPORT_ID
constexpr std::size_t kOffReportIdMa = 0x160;       // 0x160 REPORT_ID_MA
constexpr std::size_t kOffReportedTcb = 0x180;      // 0x180 REPORTED_TCB
constexpr std::size_t kOffCpuidFamId = 0x188;       // 0x188 CPUID_FAM_ID (v3+)
constexpr std::size_t kOffCpuidModId = 0x189;       // 0x189 CPUID_MOD_ID (v3+)
constexpr std::size_t kOffCpuidStep = 0x18A;        // 0x18A CPUID_STEP (v3+)
constexpr std::size_t kOffReserved1V3 = 0x18B;      // 0x18B..0x19F reserved (v3+)
constexpr std::size_t kOffChipId = 0x1A0;           // 0x1A0 CHIP_ID
constexpr std::size_t kOffCommittedTcb = 0x1E0;     // 0x1E0 COMMITTED_TCB
constexpr std::size_t kOffCurrentBuild = 0x1E8;     // 0x1E8 CURRENT_BUILD
constexpr std::size_t kOffCurrentMinor = 0x1E9;     // 0x1E9 CURRENT_MINOR
constexpr std::size_t kOffCurrentMajor = 0x1EA;     // 0x1EA CURRENT_MAJOR
constexpr std::size_t kOffReserved2 = 0x1EB;        // 0x1EB reserved
constexpr std::size_t kOffCommittedBuild = 0x1EC;   // 0x1EC COMMITTED_BUILD
constexpr std::size_t kOffCommittedMinor = 0x1ED;   // 0x1ED COMMITTED_MINOR
constexpr std::size_t kOffCommittedMajor = 0x1EE;   // 0x1EE COMMITTED_MAJOR
constexpr std::size_t kOffReserved3 = 0x1EF;        // 0x1EF reserved
constexpr std::size_t kOffLaunchTcb = 0x1F0;        // 0x1F0 LAUNCH_TCB
constexpr std::size_t kOffLaunchMitVector = 0x1F8;  // 0x1F8 LAUNCH_MIT_VECTOR (v5)
constexpr std::size_t kOffCurrentMitVector = 0x200; // 0x200 CURRENT_MIT_VECTOR (v5)
constexpr std::size_t kOffReserved4V5 = 0x208;      // 0x208..0x29F reserved (v5)
constexpr std::size_t kOffSignature = 0x2A0;        // 0x2A0 SIGNATURE
constexpr std::size_t kOffSignatureR = 0x2A0;       //   +0x00 R (72 bytes)
constexpr std::size_t kOffSignatureS = 0x2E8;       //   +0x48 S (72 bytes)
constexpr std::size_t kOffSignatureReserved = 0x330;  // +0x90..+0x1FF reserved

static_assert(kOffSignature == kSignedRegionSize);
static_assert(kOffSignatureS == kOffSignatureR + kSignatureComponentSize);
static_assert(kOffSignatureReserved == kOffSignatureS + kSignatureComponentSize);
static_assert(kOffSignature + 0x200 == kReportSize);

constexpr std::uint64_t kPolicyReservedMustBeOne = std::uint64_t{1} << 17;
constexpr std::uint64_t kPolicyReservedMask = ~((std::uint64_t{1} << 26) - 1);  // bits 63:26
constexpr std::uint32_t kKeyInfoReservedMask = ~std::uint32_t{0x1F};          // bits 31:5

std::uint32_t Load32(ByteView b, std::size_t off) {
  return static_cast<std::uint32_t>(b[off]) | (static_cast<std::uint32_t>(b[off + 1]) << 8) |
         (static_cast<std::uint32_t>(b[off + 2]) << 16) | (static_cast<std::uint32_t>(b[off + 3]) << 24);
}
std::uint64_t Load64(ByteView b, std::size_t off) {
  return static_cast<std::uint64_t>(Load32(b, off)) | (static_cast<std::uint64_t>(Load32(b, off + 4)) << 32);
}
template <std::size_t N>
void LoadArray(ByteView b, std::size_t off, std::array<std::uint8_t, N>& out) {
  std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(off), N, out.begin());
}

void Store32(Bytes& b, std::size_t off, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void Store64(Bytes& b, std::size_t off, std::uint64_t v) {
  for (std::size_t i = 0; i < 8; ++i) b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
template <std::size_t N>
void StoreArray(Bytes& b, std::size_t off, const std::array<std::uint8_t, N>& in) {
  std::copy(in.begin(), in.end(), b.begin() + static_cast<std::ptrdiff_t>(off));
}

std::string Hex(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), kDigits[v & 0xF]);
    v >>= 4;
  } while (v != 0);
  return "0x" + s;
}

// Checks that bytes [lo, hi) are zero.
Status CheckZero(ByteView b, std::size_t lo, std::size_t hi) {
  for (std::size_t i = lo; i < hi; ++i) {
    if (b[i] != 0) {
      return InvalidArgumentError("snp.report_reserved_nonzero",
                                  "SEV-SNP: reserved report byte at " + Hex(i) + " (range " + Hex(lo) +
                                      ".." + Hex(hi - 1) + ") is not zero");
    }
  }
  return Status::Ok();
}

Status CheckReserved(ByteView b, std::uint32_t version) {
  PERIMETER_RETURN_IF_ERROR(CheckZero(b, kOffReserved0, kOffReportData));
  PERIMETER_RETURN_IF_ERROR(CheckZero(b, version >= 3 ? kOffReserved1V3 : kOffCpuidFamId, kOffChipId));
  PERIMETER_RETURN_IF_ERROR(CheckZero(b, kOffReserved2, kOffCommittedBuild));
  PERIMETER_RETURN_IF_ERROR(CheckZero(b, kOffReserved3, kOffLaunchTcb));
  PERIMETER_RETURN_IF_ERROR(CheckZero(b, version >= 5 ? kOffReserved4V5 : kOffLaunchMitVector, kOffSignature));
  PERIMETER_RETURN_IF_ERROR(CheckZero(b, kOffSignatureReserved, kReportSize));
  return Status::Ok();
}

}  // namespace

GuestPolicy DecodeGuestPolicy(std::uint64_t raw) {
  auto bit = [raw](int n) { return ((raw >> n) & 1u) != 0; };
  GuestPolicy p;
  p.abi_minor = static_cast<std::uint8_t>(raw);
  p.abi_major = static_cast<std::uint8_t>(raw >> 8);
  p.smt = bit(16);
  p.reserved_must_be_one = bit(17);
  p.migrate_ma = bit(18);
  p.debug = bit(19);
  p.single_socket = bit(20);
  p.cxl_allow = bit(21);
  p.mem_aes_256_xts = bit(22);
  p.rapl_dis = bit(23);
  p.ciphertext_hiding = bit(24);
  p.page_swap_disable = bit(25);
  return p;
}

std::uint64_t EncodeGuestPolicy(const GuestPolicy& p) {
  auto bit = [](bool set, int n) { return set ? std::uint64_t{1} << n : std::uint64_t{0}; };
  return std::uint64_t{p.abi_minor} | (std::uint64_t{p.abi_major} << 8) | bit(p.smt, 16) |
         bit(p.reserved_must_be_one, 17) | bit(p.migrate_ma, 18) | bit(p.debug, 19) |
         bit(p.single_socket, 20) | bit(p.cxl_allow, 21) | bit(p.mem_aes_256_xts, 22) |
         bit(p.rapl_dis, 23) | bit(p.ciphertext_hiding, 24) | bit(p.page_swap_disable, 25);
}

PlatformInfo DecodePlatformInfo(std::uint64_t raw) {
  auto bit = [raw](int n) { return ((raw >> n) & 1u) != 0; };
  PlatformInfo p;
  p.smt_en = bit(0);
  p.tsme_en = bit(1);
  p.ecc_en = bit(2);
  p.rapl_dis = bit(3);
  p.ciphertext_hiding_en = bit(4);
  p.alias_check_complete = bit(5);
  p.tio_en = bit(7);
  return p;
}

std::string_view SigningKeyName(SigningKey key) {
  switch (key) {
    case SigningKey::kVcek:
      return "VCEK";
    case SigningKey::kVlek:
      return "VLEK";
    case SigningKey::kNone:
      return "none";
  }
  return "reserved";
}

ByteView AttestationReport::SignedRegion() const {
  if (raw.size() < kSignedRegionSize) return {};
  return ByteView(raw.data(), kSignedRegionSize);
}

Bytes AttestationReport::AmdSignature() const {
  Bytes out(signature_r.begin(), signature_r.end());
  out.insert(out.end(), signature_s.begin(), signature_s.end());
  return out;
}

Result<AttestationReport> ParseReport(ByteView b) {
  if (b.size() != kReportSize) {
    return InvalidArgumentError("snp.report_bad_size", "SEV-SNP: report is " + std::to_string(b.size()) +
                                                           " bytes, expected " + std::to_string(kReportSize));
  }
  AttestationReport r;
  r.version = Load32(b, kOffVersion);
  if (r.version != 2 && r.version != 3 && r.version != 5) {
    return InvalidArgumentError("snp.report_unsupported_version",
                                "SEV-SNP: report version " + std::to_string(r.version) +
                                    " is not supported (2, 3 or 5)");
  }
  r.signature_algo = Load32(b, kOffSignatureAlgo);
  if (r.signature_algo != kSignatureAlgoEcdsaP384Sha384) {
    return InvalidArgumentError("snp.report_bad_signature_algo",
                                "SEV-SNP: signature algorithm " + std::to_string(r.signature_algo) +
                                    " is not 1 (ECDSA P-384 with SHA-384)");
  }
  r.policy = Load64(b, kOffPolicy);
  if ((r.policy & kPolicyReservedMustBeOne) == 0) {
    return InvalidArgumentError("snp.report_bad_policy",
                                "SEV-SNP: guest policy bit 17 (reserved, must be one) is clear in " +
                                    Hex(r.policy));
  }
  if ((r.policy & kPolicyReservedMask) != 0) {
    return InvalidArgumentError("snp.report_reserved_nonzero",
                                "SEV-SNP: guest policy reserved bits 63:26 are not zero in " + Hex(r.policy));
  }
  r.key_info = Load32(b, kOffKeyInfo);
  if ((r.key_info & kKeyInfoReservedMask) != 0) {
    return InvalidArgumentError("snp.report_reserved_nonzero",
                                "SEV-SNP: reserved bits 31:5 at 0x48 are not zero in " + Hex(r.key_info));
  }
  std::uint32_t signing_key = (r.key_info >> 2) & 0x7u;
  if (signing_key != 0 && signing_key != 1 && signing_key != 7) {
    return InvalidArgumentError("snp.report_bad_signing_key",
                                "SEV-SNP: SIGNING_KEY " + std::to_string(signing_key) + " is reserved");
  }
  PERIMETER_RETURN_IF_ERROR(CheckReserved(b, r.version));

  r.guest_svn = Load32(b, kOffGuestSvn);
  LoadArray(b, kOffFamilyId, r.family_id);
  LoadArray(b, kOffImageId, r.image_id);
  r.vmpl = Load32(b, kOffVmpl);
  r.current_tcb = Load64(b, kOffCurrentTcb);
  r.platform_info = Load64(b, kOffPlatformInfo);
  LoadArray(b, kOffReportData, r.report_data);
  LoadArray(b, kOffMeasurement, r.measurement);
  LoadArray(b, kOffHostData, r.host_data);
  LoadArray(b, kOffIdKeyDigest, r.id_key_digest);
  LoadArray(b, kOffAuthorKeyDigest, r.author_key_digest);
  LoadArray(b, kOffReportId, r.report_id);
  LoadArray(b, kOffReportIdMa, r.report_id_ma);
  r.reported_tcb = Load64(b, kOffReportedTcb);
  if (r.HasCpuid()) {
    r.cpuid_fam_id = b[kOffCpuidFamId];
    r.cpuid_mod_id = b[kOffCpuidModId];
    r.cpuid_step = b[kOffCpuidStep];
  }
  LoadArray(b, kOffChipId, r.chip_id);
  r.committed_tcb = Load64(b, kOffCommittedTcb);
  r.current_build = b[kOffCurrentBuild];
  r.current_minor = b[kOffCurrentMinor];
  r.current_major = b[kOffCurrentMajor];
  r.committed_build = b[kOffCommittedBuild];
  r.committed_minor = b[kOffCommittedMinor];
  r.committed_major = b[kOffCommittedMajor];
  r.launch_tcb = Load64(b, kOffLaunchTcb);
  if (r.HasMitigationVectors()) {
    r.launch_mit_vector = Load64(b, kOffLaunchMitVector);
    r.current_mit_vector = Load64(b, kOffCurrentMitVector);
  }
  LoadArray(b, kOffSignatureR, r.signature_r);
  LoadArray(b, kOffSignatureS, r.signature_s);
  r.raw.assign(b.begin(), b.end());
  return r;
}

Bytes SerializeReport(const AttestationReport& r) {
  Bytes b(kReportSize, 0);
  Store32(b, kOffVersion, r.version);
  Store32(b, kOffGuestSvn, r.guest_svn);
  Store64(b, kOffPolicy, r.policy);
  StoreArray(b, kOffFamilyId, r.family_id);
  StoreArray(b, kOffImageId, r.image_id);
  Store32(b, kOffVmpl, r.vmpl);
  Store32(b, kOffSignatureAlgo, r.signature_algo);
  Store64(b, kOffCurrentTcb, r.current_tcb);
  Store64(b, kOffPlatformInfo, r.platform_info);
  Store32(b, kOffKeyInfo, r.key_info);
  StoreArray(b, kOffReportData, r.report_data);
  StoreArray(b, kOffMeasurement, r.measurement);
  StoreArray(b, kOffHostData, r.host_data);
  StoreArray(b, kOffIdKeyDigest, r.id_key_digest);
  StoreArray(b, kOffAuthorKeyDigest, r.author_key_digest);
  StoreArray(b, kOffReportId, r.report_id);
  StoreArray(b, kOffReportIdMa, r.report_id_ma);
  Store64(b, kOffReportedTcb, r.reported_tcb);
  if (r.HasCpuid()) {
    b[kOffCpuidFamId] = r.cpuid_fam_id;
    b[kOffCpuidModId] = r.cpuid_mod_id;
    b[kOffCpuidStep] = r.cpuid_step;
  }
  StoreArray(b, kOffChipId, r.chip_id);
  Store64(b, kOffCommittedTcb, r.committed_tcb);
  b[kOffCurrentBuild] = r.current_build;
  b[kOffCurrentMinor] = r.current_minor;
  b[kOffCurrentMajor] = r.current_major;
  b[kOffCommittedBuild] = r.committed_build;
  b[kOffCommittedMinor] = r.committed_minor;
  b[kOffCommittedMajor] = r.committed_major;
  Store64(b, kOffLaunchTcb, r.launch_tcb);
  if (r.HasMitigationVectors()) {
    Store64(b, kOffLaunchMitVector, r.launch_mit_vector);
    Store64(b, kOffCurrentMitVector, r.current_mit_vector);
  }
  StoreArray(b, kOffSignatureR, r.signature_r);
  StoreArray(b, kOffSignatureS, r.signature_s);
  return b;
}

Product ReportProduct(const AttestationReport& report) {
  if (!report.HasCpuid()) return Product::kUnknown;
  return ProductFromCpuid(report.cpuid_fam_id, report.cpuid_mod_id);
}

}  // namespace perimeter::attest::snp
