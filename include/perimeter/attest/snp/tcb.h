// SEV-SNP TCB_VERSION values and the product (CPU generation) that decides
// how they are laid out.
//
// A TCB_VERSION is a 64-bit little-endian value made of one-byte security
// patch levels (SPLs). Its byte layout depends on the product:
//
//   Milan, Genoa (AMD SEV-SNP ABI spec 56860, "TCB_VERSION Structure"):
//     byte 0 BOOT_LOADER, byte 1 TEE, bytes 2-5 reserved, byte 6 SNP,
//     byte 7 MICROCODE
//   Turin (same table, Turin layout; also VCEK spec 57230 fmcSPL):
//     byte 0 FMC, byte 1 BOOT_LOADER, byte 2 TEE, byte 3 SNP,
//     bytes 4-6 reserved, byte 7 MICROCODE
//
// The product of a report comes from its CPUID_FAM_ID/CPUID_MOD_ID fields
// (report version 3 and later); ProductFromCpuid() maps them following the
// VCEK/KDS interface spec 57230 ("Determining the Product Name") and the
// model ranges used by other verifiers (virtee/sev Generation::identify_cpu).
//
// All functions are pure and thread-safe. TcbVersion is intentionally
// copyable.
#ifndef PERIMETER_ATTEST_SNP_TCB_H_
#define PERIMETER_ATTEST_SNP_TCB_H_

#include <cstdint>
#include <string_view>

namespace perimeter::attest::snp {

enum class Product { kUnknown, kMilan, kGenoa, kTurin };

// "Milan", "Genoa", "Turin" (the AMD KDS product names) or "unknown".
std::string_view ProductName(Product product);

// Maps the CPUID family/model of a report (CPUID_FAM_ID, CPUID_MOD_ID: the
// combined extended+base values) to a product:
//   family 0x19, model 0x00-0x0F            -> kMilan
//   family 0x19, model 0x10-0x1F, 0xA0-0xAF -> kGenoa (Genoa, Bergamo,
//                                               Siena share Genoa's VCEK/ARK)
//   family 0x1A, model 0x00-0x11            -> kTurin (Turin, Turin dense)
//   anything else                           -> kUnknown (fail closed)
Product ProductFromCpuid(std::uint8_t family, std::uint8_t model);

// The decoded security patch levels of one TCB_VERSION. `fmc` exists on
// Turin only and is 0 for Milan/Genoa.
struct TcbVersion {
  std::uint8_t fmc = 0;
  std::uint8_t boot_loader = 0;
  std::uint8_t tee = 0;
  std::uint8_t snp = 0;
  std::uint8_t microcode = 0;

  friend bool operator==(const TcbVersion&, const TcbVersion&) = default;
};

// Decodes `raw` with the layout of `product`. Reserved bytes are ignored.
// For kUnknown no layout applies and every component is 0: callers that do
// not know the product must work with the raw value.
TcbVersion DecodeTcb(std::uint64_t raw, Product product);

// The inverse of DecodeTcb: reserved bytes are 0, and for Milan/Genoa `fmc`
// is not representable and is dropped. Returns 0 for kUnknown.
std::uint64_t EncodeTcb(const TcbVersion& tcb, Product product);

// True iff every component of `a` is >= the same component of `min`
// (fmc, boot_loader, tee, snp, microcode). This is the partial order AMD
// uses: a TCB is only "newer" if no component went backwards. Both values
// must have been decoded for the same product.
bool TcbAtLeast(const TcbVersion& a, const TcbVersion& min);

}  // namespace perimeter::attest::snp

#endif  // PERIMETER_ATTEST_SNP_TCB_H_
