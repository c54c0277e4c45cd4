// The versioned endorsement key (VEK) certificate of an SEV-SNP report: a
// VCEK (chip-unique, issued by the ASK "SEV-<Product>") or a VLEK (issued to a
// cloud provider, by the ASVK "SEV-VLEK-<Product>"), and AMD's X.509
// extensions on it (AMD "VCEK Certificate and KDS Interface Specification"
// 57230, table "VCEK certificate extensions"; the VLEK profile is the same
// arc with cspID instead of hwID).
//
// ParseVekCertificate() only READS the certificate: it does not verify its
// signature, its chain or its validity window (use crypto::VerifyChain with
// AmdRoots(), amd_roots.h), and it does not compare anything with a report.
// What it guarantees is that a returned VekInfo holds exactly one well-formed
// value for every extension the certificate's kind and product require, and
// an ECDSA P-384 public key.
//
// Facts established on the real certificates in tests/testdata/snp (11 VCEKs
// of Milan, Genoa and Turin, one AWS VLEK of Milan), and how they are used:
//  * Kind: a VCEK carries hwID (1.3.6.1.4.1.3704.1.4) and no cspID; a VLEK
//    carries cspID (1.3.6.1.4.1.3704.1.5) and no hwID. Both or neither is
//    rejected ("snp.vek_unknown_kind"). The subject CN must agree with the
//    kind: "SEV-VCEK" for a VCEK, "SEV-VLEK" for a VLEK (the issuer CN is
//    "SEV-<Product>" resp. "SEV-VLEK-<Product>"; the chain check binds it).
//  * productName (.1.2) is a DER IA5String: "Milan-B0" and "Genoa" on VCEKs,
//    "Turin" on the Turin VCEK, "Milan" (no stepping) on the VLEK. The
//    product is the part before the first '-'; Milan, Genoa and Turin are
//    known, anything else is rejected ("snp.vek_bad_extension").
//  * structVersion (.1.1): 0 on Milan/Genoa, 1 on Turin.
//  * SPLs (.1.3.x) are DER INTEGERs in 0..255. Milan/Genoa certificates carry
//    .3.1 bl, .3.2 tee, .3.3 snp, .3.4-.3.7 reserved, .3.8 ucode and no
//    .3.9. Turin carries .3.9 fmc, .3.1-.3.3, .3.5-.3.7, .3.8 and NO .3.4.
//    Exactly these sets are required; an SPL outside the product's set is
//    rejected.
//  * hwID (.1.4) is NOT DER-wrapped on AMD's certificates: the extnValue
//    holds the raw CHIP_ID bytes, 64 on Milan/Genoa and 8 on Turin (the
//    first 8 bytes of the report's 64-byte CHIP_ID field). A DER OCTET STRING
//    wrapping exactly that many bytes is also accepted, as other verifiers
//    do in case the KDS adds the tag (trustee's "invalid-new" fixture uses
//    that form); any other length is rejected.
//  * cspID (.1.5) is a DER IA5String, e.g. "CN=cc-us-east-2.amazonaws.com"
//    (the "CN=" is part of the value).
//  * Every extension OID must appear once. crypto::Certificate only rejects
//    duplicates of extensions OpenSSL knows, not of AMD's private ones (and
//    ExtensionValue() would return the first copy), so this function walks
//    the certificate's extension list itself ("snp.vek_bad_extension").
//
// Errors (all kInvalidArgument; stable reasons):
//   "snp.vek_unknown_kind"       neither or both of hwID/cspID, or a subject
//                                CN that contradicts them
//   "snp.vek_missing_extension"  a required AMD extension is absent
//   "snp.vek_bad_extension"      an AMD extension is malformed, out of range,
//                                not allowed for the kind/product, names an
//                                unknown product, or any extension is
//                                duplicated
//   "snp.vek_bad_key"            the subject key is not ECDSA P-384
//
// Thread-safety: the functions are thread-safe; VekInfo is a value type
// (intentionally copyable; its Certificate shares immutable state).
#ifndef PERIMETER_ATTEST_SNP_VEK_CERTIFICATE_H_
#define PERIMETER_ATTEST_SNP_VEK_CERTIFICATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "perimeter/attest/snp/tcb.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/crypto/ecdsa.h"
#include "perimeter/crypto/x509.h"

namespace perimeter::attest::snp {

inline constexpr std::string_view kVekUnknownKind = "snp.vek_unknown_kind";
inline constexpr std::string_view kVekMissingExtension = "snp.vek_missing_extension";
inline constexpr std::string_view kVekBadExtension = "snp.vek_bad_extension";
inline constexpr std::string_view kVekBadKey = "snp.vek_bad_key";

// Which endorsement key signed the report (the report's SIGNING_KEY field:
// 0 = VCEK, 1 = VLEK).
enum class VekKind { kVcek, kVlek };

// "VCEK" or "VLEK".
std::string_view VekKindName(VekKind kind);

// Size of the hwID extension: 64 bytes on Milan and Genoa, 8 on Turin.
inline constexpr std::size_t kHwIdSizeMilanGenoa = 64;
inline constexpr std::size_t kHwIdSizeTurin = 8;

// The security patch levels the VEK was derived for, from its SPL
// extensions (see the file comment for which are present per product).
struct VekSpl {
  std::uint8_t bl = 0;     // .3.1 blSPL
  std::uint8_t tee = 0;    // .3.2 teeSPL
  std::uint8_t snp = 0;    // .3.3 snpSPL
  std::uint8_t ucode = 0;  // .3.8 ucodeSPL
  // Reserved SPLs: spl4 (.3.4) on Milan/Genoa only; spl5..7 on all.
  std::optional<std::uint8_t> spl4;
  std::uint8_t spl5 = 0;
  std::uint8_t spl6 = 0;
  std::uint8_t spl7 = 0;
  std::optional<std::uint8_t> fmc;  // .3.9 fmcSPL, Turin only

  friend bool operator==(const VekSpl&, const VekSpl&) = default;
};

// What a VEK certificate says, decoded and checked (but not authenticated).
struct VekInfo {
  VekKind kind;
  // From productName: Milan, Genoa or Turin (never kUnknown).
  Product product;
  // productName exactly as in the certificate, e.g. "Milan-B0", "Genoa",
  // "Turin", or "Milan" on a VLEK.
  std::string product_name;
  std::uint8_t struct_version;  // .1.1 structVersion
  // VCEK only: the chip's hwID (64 bytes on Milan/Genoa, 8 on Turin), to be
  // compared with the report's CHIP_ID (its first 8 bytes on Turin).
  std::optional<Bytes> hw_id;
  // VLEK only: the cloud provider's cspID, e.g. "CN=cc-us-east-2.amazonaws.com".
  std::optional<std::string> csp_id;
  VekSpl spl;
  // `spl` packed as the product's TCB_VERSION (the u64 the report's
  // REPORTED_TCB field holds, little-endian in the report), so that it can
  // be compared with the report exactly:
  //   Milan/Genoa: byte0 bl, 1 tee, 2..5 spl4..spl7, 6 snp, 7 ucode;
  //   Turin:       byte0 fmc, 1 bl, 2 tee, 3 snp, 4..6 spl5..spl7, 7 ucode.
  std::uint64_t reported_tcb_raw;
  // The certificate itself (shares the caller's parsed object).
  crypto::Certificate cert;
  // Its ECDSA P-384 key, imported and validated once (VekPublicKey()).
  crypto::EcdsaPublicKey public_key;
};

// Decodes and checks AMD's extensions and the key of `cert` as described in
// the file comment. Does not verify any signature or time.
// Errors: kInvalidArgument with "snp.vek_unknown_kind",
// "snp.vek_missing_extension", "snp.vek_bad_extension", "snp.vek_bad_key".
Result<VekInfo> ParseVekCertificate(const crypto::Certificate& cert);

// The VEK's ECDSA P-384 public key, for verifying the report signature
// (crypto::EcdsaSignatureFormat::kAmdLittleEndian).
// Errors: kInvalidArgument "snp.vek_bad_key" (only if `info` was not made by
// ParseVekCertificate).
Result<crypto::EcdsaPublicKey> VekPublicKey(const VekInfo& info);

}  // namespace perimeter::attest::snp

#endif  // PERIMETER_ATTEST_SNP_VEK_CERTIFICATE_H_
