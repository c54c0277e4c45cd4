// X.509 certificates and CRLs, chain verification at a chosen time, and the
// strict DER decoders needed to read AMD's SEV-SNP certificate extensions.
//
// This is the certificate layer under attest::sevsnp: it knows how to parse,
// inspect and verify certificates, and nothing about SNP reports. Every parser
// here treats its input as hostile: DER must be exact (no trailing bytes), PEM
// must contain only the expected blocks, and every failure is a Status.
//
// Time is always an explicit argument (Unix seconds, UTC); nothing here reads
// the wall clock, so verdicts are reproducible.
//
// Signature algorithms accepted everywhere (certificates, CRLs, chains):
//   * RSASSA-PSS with SHA-256/384/512, MGF1 with the same hash, trailer 1
//     (AMD: SHA-384 / MGF1-SHA-384 / salt 48 on every ARK, ASK, ASVK, VCEK,
//     VLEK and CRL);
//   * RSA PKCS#1 v1.5 with SHA-256/384/512;
//   * ECDSA with SHA-256/384/512 (P-256 and P-384 keys);
//   * Ed25519.
// Anything else (MD5, SHA-1, PSS with mismatched MGF1 hash, ...) is rejected
// with reason "crypto.signature_algorithm_rejected".
//
// Thread-safety: Certificate and Crl are immutable after construction; all
// their methods are const and may run concurrently, also on copies that share
// the same underlying object. The free functions are thread-safe.
#ifndef PERIMETER_CRYPTO_X509_H_
#define PERIMETER_CRYPTO_X509_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/status.h"

namespace perimeter::crypto {

namespace internal {
struct X509Access;  // x509.cc: reaches the OpenSSL objects behind the classes.
}  // namespace internal

// Stable reason strings returned by this header (the message text may vary).
inline constexpr std::string_view kX509ParseFailed = "crypto.x509_parse_failed";
inline constexpr std::string_view kCrlParseFailed = "crypto.crl_parse_failed";
inline constexpr std::string_view kDerInvalid = "crypto.der_invalid";
inline constexpr std::string_view kSignatureInvalid = "crypto.signature_invalid";
inline constexpr std::string_view kSignatureAlgorithmRejected =
    "crypto.signature_algorithm_rejected";
inline constexpr std::string_view kCertExpired = "crypto.cert_expired";
inline constexpr std::string_view kCertNotYetValid = "crypto.cert_not_yet_valid";
inline constexpr std::string_view kChainUntrusted = "crypto.chain_untrusted";
inline constexpr std::string_view kChainInvalid = "crypto.chain_invalid";
inline constexpr std::string_view kCertRevoked = "crypto.cert_revoked";
inline constexpr std::string_view kCrlBadSignature = "crypto.crl_bad_signature";
inline constexpr std::string_view kCrlExpired = "crypto.crl_expired";
inline constexpr std::string_view kCrlNotYetValid = "crypto.crl_not_yet_valid";
inline constexpr std::string_view kCrlMissing = "crypto.crl_missing";
inline constexpr std::string_view kCrlUnsupported = "crypto.crl_unsupported";

// The subject public key's algorithm (and curve, for EC keys).
enum class PublicKeyAlgorithm {
  kRsa,      // rsaEncryption or id-RSASSA-PSS keys, any size
  kEcP256,   // id-ecPublicKey on prime256v1
  kEcP384,   // id-ecPublicKey on secp384r1 (AMD VCEK/VLEK)
  kEd25519,
  kOther,    // anything else, including EC keys on other curves
};

// One X.509 v1/v3 certificate. Intentionally copyable: copies share one
// immutable parsed object, so copying is cheap (a reference count).
class Certificate {
 public:
  // Parses exactly one DER certificate; `der` must hold nothing else.
  // Also rejected: encodings OpenSSL can parse but that are not DER (the
  // re-encoding differs), negative serial numbers, unreadable validity
  // times. A zero serial is accepted (every AMD VCEK/VLEK has serial 0).
  // Errors: kInvalidArgument, reason "crypto.x509_parse_failed".
  static Result<Certificate> FromDer(ByteView der);
  // Parses text that holds exactly one "CERTIFICATE" PEM block, optionally
  // surrounded by whitespace. Errors: kInvalidArgument,
  // "crypto.x509_parse_failed" (no block, several blocks, another block type,
  // text outside the block, bad base64, or a bad certificate inside).
  static Result<Certificate> FromPem(std::string_view pem);
  // Parses one or more "CERTIFICATE" PEM blocks, in order (AMD KDS bundles
  // list the ASK/ASVK first, then the ARK). Only whitespace may appear
  // between and around blocks. Errors: kInvalidArgument,
  // "crypto.x509_parse_failed", also for empty or all-whitespace text.
  static Result<std::vector<Certificate>> ParsePemBundle(std::string_view pem);

  // The exact DER bytes the certificate was parsed from.
  const Bytes& ToDer() const;
  // Names in RFC 2253 form, most specific first, e.g.
  // "CN=SEV-Milan,O=Advanced Micro Devices,ST=CA,L=Santa Clara,C=US,OU=Engineering".
  std::string Subject() const;
  std::string Issuer() const;
  // The serial number as an unsigned big-endian magnitude without leading
  // zero bytes; {0x00} for a zero serial.
  Bytes SerialNumber() const;
  // Validity window bounds, Unix seconds (UTC), as encoded. (VerifyChain
  // accepts notBefore <= at < notAfter; see ChainVerifyOptions.)
  std::int64_t NotBefore() const;
  std::int64_t NotAfter() const;
  // The DER SubjectPublicKeyInfo (suitable for a public-key importer).
  Bytes SubjectPublicKeyInfoDer() const;
  // The outer signatureAlgorithm OID in dotted form, e.g.
  // "1.2.840.113549.1.1.10" (id-RSASSA-PSS) for every AMD certificate.
  std::string SignatureAlgorithmOid() const;
  PublicKeyAlgorithm KeyAlgorithm() const;
  // The raw extnValue contents (the bytes inside the OCTET STRING) of the
  // extension whose OID is `dotted_oid`, e.g. "1.3.6.1.4.1.3704.1.4".
  // nullopt if the certificate lacks the extension or if `dotted_oid` is not
  // a well-formed dotted OID. (Any repeated extension OID, known to OpenSSL
  // or not, is rejected at parse time, so the answer is unambiguous.)
  std::optional<Bytes> ExtensionValue(std::string_view dotted_oid) const;
  // True iff the certificate has basicConstraints with cA = TRUE.
  bool IsCa() const;

  // Checks only that `issuer`'s public key verifies this certificate's
  // signature (names, validity and extensions are NOT checked; use
  // VerifyChain for that). The signature algorithm must be one of those
  // listed at the top of this file, and the inner and outer algorithm
  // identifiers must match.
  // Errors: kUnauthenticated "crypto.signature_invalid";
  //         kUnauthenticated "crypto.signature_algorithm_rejected".
  Status VerifySignedBy(const Certificate& issuer) const;

  // Same DER bytes.
  friend bool operator==(const Certificate& a, const Certificate& b);

 private:
  struct Impl;
  friend struct internal::X509Access;
  explicit Certificate(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// One X.509 v1/v2 certificate revocation list. Intentionally copyable (shared
// immutable state, like Certificate).
class Crl {
 public:
  // Exactly one DER CRL, no trailing bytes; also rejects non-DER encodings,
  // unreadable times and negative serials in entries.
  // Errors: kInvalidArgument "crypto.crl_parse_failed".
  static Result<Crl> FromDer(ByteView der);
  // Exactly one "X509 CRL" PEM block (whitespace around it is allowed).
  // Errors: kInvalidArgument "crypto.crl_parse_failed".
  static Result<Crl> FromPem(std::string_view pem);

  const Bytes& ToDer() const;
  // RFC 2253 form, as Certificate::Subject().
  std::string Issuer() const;
  // thisUpdate, Unix seconds.
  std::int64_t ThisUpdate() const;
  // nextUpdate, Unix seconds, if present (RFC 5280 requires it; VerifyChain
  // treats a CRL without it as expired).
  std::optional<std::int64_t> NextUpdate() const;

  // Checks that `issuer`'s key verifies the CRL signature, that the CRL's
  // issuer name equals `issuer`'s subject, and that `issuer` may sign CRLs
  // (if it has a keyUsage extension, cRLSign is set). Does not check time.
  // Errors: kUnauthenticated "crypto.crl_bad_signature";
  //         kUnauthenticated "crypto.signature_algorithm_rejected".
  Status VerifySignedBy(const Certificate& issuer) const;

  // True iff `serial` (big-endian; leading zero bytes are ignored, so both
  // Certificate::SerialNumber() and DER INTEGER contents work) is listed.
  bool IsRevoked(ByteView serial) const;
  // The listed serials, in CRL order, in Certificate::SerialNumber() form.
  std::vector<Bytes> RevokedSerials() const;

 private:
  struct Impl;
  friend struct internal::X509Access;
  explicit Crl(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

struct ChainVerifyOptions {
  // The verification time, Unix seconds (UTC). Every certificate in the path
  // must satisfy notBefore <= at < notAfter (OpenSSL already counts the
  // notAfter second itself as expired: one second stricter than RFC 5280),
  // and every CRL used must satisfy thisUpdate <= at <= nextUpdate.
  std::int64_t at_unix_seconds = 0;
  // CRLs to apply. A CRL whose issuer name matches a certificate in the
  // built path is used: it must be signed by that certificate and be current,
  // and it must not list the serial of any path certificate issued by that
  // certificate. CRLs whose issuer is not in the path are ignored, so a
  // caller may pass the CRLs of every product at once. The span (and the
  // Crl objects) need only live for the duration of the call.
  std::span<const Crl> crls;
  // When true, every CA certificate in the path other than the trust anchor
  // (for AMD: the ASK or ASVK) must be covered by a CRL from its issuer (for
  // AMD: the ARK's CRL); otherwise "crypto.crl_missing". The leaf, if it is
  // not a CA, needs no CRL (AMD publishes no ASK CRL for VCEKs).
  bool require_crl_for_each_ca = false;
};

// Builds a path leaf -> intermediates... -> one of `trust_anchors` and verifies
// it at `options.at_unix_seconds`: signatures (including the anchor's
// self-signature), validity windows, basicConstraints/pathLen and key usage
// of CAs, the signature-algorithm allowlist on every certificate, then the
// CRLs in `options` as documented there. Trust anchors must be self-signed
// roots (partial chains are not accepted). Intermediates may be given in any
// order and unused ones are ignored. OpenSSL's X509_V_FLAG_X509_STRICT is NOT
// used: AMD VCEKs carry no authorityKeyIdentifier, which strict mode rejects.
//
// Returns the trust anchor (one of the elements of `trust_anchors`) at the
// top of the verified path, so the verdict can name the root.
// Errors (all kUnauthenticated unless noted):
//   "crypto.cert_expired", "crypto.cert_not_yet_valid"    time outside a window
//   "crypto.chain_untrusted"      no path to an anchor (unknown issuer,
//                                 wrong product, self-signed leaf, ...)
//   "crypto.signature_invalid"    a certificate signature does not verify
//   "crypto.signature_algorithm_rejected"
//   "crypto.chain_invalid"        other path-validation failures (not a CA,
//                                 path length, bad extensions, ...)
//   "crypto.cert_revoked"         a path certificate is listed in a CRL
//   "crypto.crl_bad_signature"    a CRL's issuer in the path did not sign it
//   kFailedPrecondition "crypto.crl_expired" / "crypto.crl_not_yet_valid"
//   kFailedPrecondition "crypto.crl_missing" (require_crl_for_each_ca)
//   kUnimplemented "crypto.crl_unsupported" (a critical CRL or entry
//                                 extension we do not process, e.g. delta)
//   kInvalidArgument "crypto.chain_invalid" if `trust_anchors` is empty
//   kInternal on library failures.
Result<Certificate> VerifyChain(const Certificate& leaf,
                                std::span<const Certificate> intermediates,
                                std::span<const Certificate> trust_anchors,
                                const ChainVerifyOptions& options);

// Strict DER decoders for single values (as found inside AMD extension
// values). Each requires exactly one TLV with a low tag number, a definite
// minimal length and no trailing bytes. Errors: kInvalidArgument,
// reason "crypto.der_invalid".
//
// INTEGER (tag 0x02): minimal two's-complement encoding, non-negative, and
// at most 2^64-1 (a 9-byte encoding is allowed only with a leading 0x00).
// AMD SPL extensions 1.3.6.1.4.1.3704.1.3.x hold one.
Result<std::uint64_t> DecodeDerInteger(ByteView der);
// IA5String (tag 0x16), 7-bit ASCII only. AMD productName (.1.2) and
// cspID (.1.5) hold one.
Result<std::string> DecodeDerIA5String(ByteView der);
// OCTET STRING (tag 0x04, primitive). Note: on real AMD VCEKs the hwID
// extension (.1.4) is NOT wrapped: its extnValue contents are the raw 64
// (Milan/Genoa) or 8 (Turin) bytes; use ExtensionValue() directly.
Result<Bytes> DecodeDerOctetString(ByteView der);

// Well-known OIDs of AMD's VCEK/VLEK extensions (AMD "VCEK certificate and
// KDS interface specification" 57230, table "VCEK certificate extensions").
namespace amd_oid {
inline constexpr std::string_view kStructVersion = "1.3.6.1.4.1.3704.1.1";
inline constexpr std::string_view kProductName = "1.3.6.1.4.1.3704.1.2";
inline constexpr std::string_view kBlSpl = "1.3.6.1.4.1.3704.1.3.1";
inline constexpr std::string_view kTeeSpl = "1.3.6.1.4.1.3704.1.3.2";
inline constexpr std::string_view kSnpSpl = "1.3.6.1.4.1.3704.1.3.3";
inline constexpr std::string_view kSpl4 = "1.3.6.1.4.1.3704.1.3.4";
inline constexpr std::string_view kSpl5 = "1.3.6.1.4.1.3704.1.3.5";
inline constexpr std::string_view kSpl6 = "1.3.6.1.4.1.3704.1.3.6";
inline constexpr std::string_view kSpl7 = "1.3.6.1.4.1.3704.1.3.7";
inline constexpr std::string_view kUcodeSpl = "1.3.6.1.4.1.3704.1.3.8";
inline constexpr std::string_view kFmcSpl = "1.3.6.1.4.1.3704.1.3.9";  // Turin
inline constexpr std::string_view kHwId = "1.3.6.1.4.1.3704.1.4";
inline constexpr std::string_view kCspId = "1.3.6.1.4.1.3704.1.5";  // VLEK only
}  // namespace amd_oid

}  // namespace perimeter::crypto

#endif  // PERIMETER_CRYPTO_X509_H_
