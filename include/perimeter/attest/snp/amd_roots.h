// AMD's SEV-SNP root certificates, shipped inside the library and pinned.
//
// For every product (Milan, Genoa, Turin) AMD runs one PKI:
//   ARK  "ARK-<Product>"       self-signed root, RSA-4096
//   ASK  "SEV-<Product>"       signed by the ARK; issues VCEKs ("SEV-VCEK")
//   ASVK "SEV-VLEK-<Product>"  signed by the ARK; issues VLEKs ("SEV-VLEK")
// (all RSASSA-PSS/SHA-384, subject O=Advanced Micro Devices, OU=Engineering,
// L=Santa Clara, ST=CA, C=US). The PEM files are in src/attest/snp/roots/
// (see its PROVENANCE.md), compiled into the library at build time; nothing
// is fetched at run time.
//
// Pinning: each ARK's SubjectPublicKeyInfo has a SHA-384 written into
// amd_roots.cc as a constant. A certificate is accepted as an AMD ARK only if
// its key matches a pin, it is self-issued and self-signed, and its subject
// CN is "ARK-<Product>" for that pin's product; the subject name alone means
// nothing (anyone can make a self-signed "ARK-Milan"). The embedded roots
// are checked against the pins, the names and the signatures the first time
// they are used; a mismatch is a corrupt build and aborts the process.
//
// Thread-safety: every function is thread-safe. AmdRoots() parses the
// embedded data once (C++ magic statics) and returns references that live
// until the process exits.
#ifndef PERIMETER_ATTEST_SNP_AMD_ROOTS_H_
#define PERIMETER_ATTEST_SNP_AMD_ROOTS_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "perimeter/attest/snp/tcb.h"
#include "perimeter/base/result.h"
#include "perimeter/crypto/x509.h"

namespace perimeter::attest::snp {

inline constexpr std::string_view kArkNotPinned = "snp.ark_not_pinned";
inline constexpr std::string_view kChainMalformed = "snp.chain_malformed";

// Subject CNs of the leaf certificates (the same for every product).
inline constexpr std::string_view kVcekSubjectCn = "SEV-VCEK";
inline constexpr std::string_view kVlekSubjectCn = "SEV-VLEK";

// Subject CNs of the product's CA certificates: "ARK-Milan", "SEV-Milan",
// "SEV-VLEK-Milan", ... Empty for Product::kUnknown.
std::string ArkCommonName(Product product);
std::string AskCommonName(Product product);
std::string AsvkCommonName(Product product);

// The value of the single CN attribute of a certificate's subject / issuer,
// or nullopt if there is none, more than one, or it needs RFC 2253 escaping
// (AMD's names never do).
std::optional<std::string> SubjectCommonName(const crypto::Certificate& cert);
std::optional<std::string> IssuerCommonName(const crypto::Certificate& cert);

struct AmdRootSet {
  Product product;
  crypto::Certificate ark;
  crypto::Certificate ask;
  crypto::Certificate asvk;
};

// The embedded roots of `product`, checked as described at the top.
// REQUIRES: product != Product::kUnknown (a programming error: aborts).
const AmdRootSet& AmdRoots(Product product);

// The embedded root sets of all products (Milan, Genoa, Turin, in that
// order), and their ARKs alone, e.g. as trust anchors for
// crypto::VerifyChain (which reports which ARK verified a chain).
std::span<const AmdRootSet> AllAmdRoots();
std::span<const crypto::Certificate> AmdArks();

// One pin: the lowercase hex SHA-384 of an ARK's DER SubjectPublicKeyInfo.
struct ArkPin {
  Product product;
  std::string_view spki_sha384_hex;
};
// The compiled-in pins, one per product.
std::span<const ArkPin> AmdArkPins();

// True iff `cert` is one of AMD's ARKs: its SPKI hash equals a pin, it is
// self-issued with subject CN "ARK-<Product>" of that pin, and its own key
// verifies its signature. On true, sets *product_out (if non-null) to the
// product; on false, leaves it unchanged.
bool IsPinnedAmdArk(const crypto::Certificate& cert, Product* product_out);

// As IsPinnedAmdArk, as a Result.
// Errors: kUnauthenticated "snp.ark_not_pinned".
Result<Product> ProductFromArk(const crypto::Certificate& cert);

// A KDS cert_chain response (GET /vcek/v1/<Product>/cert_chain or
// /vlek/v1/<Product>/cert_chain): two PEM CERTIFICATE blocks, the ASK (or
// ASVK) first and the ARK second.
struct AmdChain {
  crypto::Certificate ask_or_asvk;
  crypto::Certificate ark;
  Product product;  // from the ARK's CN (not authenticated)
  bool is_asvk;     // true for a /vlek/ chain ("SEV-VLEK-<P>")
};

// Parses a KDS cert_chain bundle and checks its SHAPE only: exactly two
// certificates; the second is self-issued with CN "ARK-<P>" for a known
// product P; the first has CN "SEV-<P>" or "SEV-VLEK-<P>" for the same P and
// names the ARK as its issuer. Nothing is authenticated: callers must still
// require IsPinnedAmdArk(chain.ark) and verify signatures (crypto::
// VerifyChain); usually they ignore the bundle's ARK and use AmdRoots().
// Errors: kInvalidArgument "snp.chain_malformed" (unparsable PEM, wrong
// number of blocks, wrong order, names that do not fit).
Result<AmdChain> ParseKdsChain(std::string_view pem);

}  // namespace perimeter::attest::snp

#endif  // PERIMETER_ATTEST_SNP_AMD_ROOTS_H_
