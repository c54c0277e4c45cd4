// Building and signing X.509 v3 certificates and v2 CRLs (RFC 5280).
//
// This is the issuing side of x509.h: it produces exactly the encodings a
// caller describes (name attribute order and string types, extension order
// and criticality, explicit RSASSA-PSS parameters), so that it can reproduce
// a PKI profile byte for byte in structure -- in this project AMD's SEV-SNP
// profile (ARK/ASK/VCEK and the ARK's CRL) for the simulated platform.
//
// How it encodes: every component (names, times, serials, the subject key,
// extensions, AlgorithmIdentifiers) is encoded by OpenSSL's X.509/ASN.1
// objects; this file only frames them into TBSCertificate/TBSCertList and the
// outer SEQUENCE, because OpenSSL 3.0 signs with the AlgorithmIdentifier its
// provider chooses and cannot emit AMD's explicit RSASSA-PSS trailerField.
// The result is parsed back by Certificate::FromDer / Crl::FromDer (strict
// DER) and its signature is verified before it is returned, so a builder bug
// surfaces as an error, never as a bad certificate.
//
// Signature algorithms produced:
//   * RSASSA-PSS (id-RSASSA-PSS, 1.2.840.113549.1.1.10) with explicit
//     parameters: hash SHA-256/384/512 with NULL parameters, MGF1 with the
//     same hash, the given salt length, and trailerField 1 either written
//     out (AMD's ARK/ASK certificates) or omitted as the DER default (AMD's
//     VCEKs and CRLs);
//   * ECDSA with the issuer curve's hash (ecdsa-with-SHA256 for P-256,
//     ecdsa-with-SHA384 for P-384), no parameters (RFC 5758).
//
// Time is always an explicit argument (Unix seconds, UTC). Times before 2050
// are encoded as UTCTime, later ones as GeneralizedTime (RFC 5280 4.1.2.5).
//
// Thread-safety: the functions are thread-safe; the value types are
// intentionally copyable. A Signer refers to a key it does not own.
#ifndef PERIMETER_CRYPTO_X509_BUILDER_H_
#define PERIMETER_CRYPTO_X509_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/crypto/ecdsa.h"
#include "perimeter/crypto/hash.h"
#include "perimeter/crypto/rsa_pss.h"
#include "perimeter/crypto/x509.h"

namespace perimeter::crypto {

// Stable reasons returned by this header (kInvalidArgument unless noted).
inline constexpr std::string_view kX509BuildInvalid = "crypto.x509_build_invalid";
// kInternal: OpenSSL failed, or the built object did not parse/verify back.
inline constexpr std::string_view kX509BuildFailed = "crypto.x509_build_failed";

// Name attributes (X.520). The string type is fixed per attribute, as on
// AMD's and most CAs' certificates: countryName is a PrintableString of two
// letters, every other attribute a UTF8String.
enum class NameAttribute {
  kCommonName,              // 2.5.4.3  "CN"
  kCountry,                 // 2.5.4.6  "C"
  kLocality,                // 2.5.4.7  "L"
  kStateOrProvince,         // 2.5.4.8  "ST"
  kOrganization,            // 2.5.4.10 "O"
  kOrganizationalUnit,      // 2.5.4.11 "OU"
};

struct NameEntry {
  NameAttribute attribute;
  std::string value;  // non-empty, no NUL bytes
  friend bool operator==(const NameEntry&, const NameEntry&) = default;
};

// An X.501 RDNSequence with one attribute per RDN, in ENCODING order (the
// first entry is the first RDN in the DER). Certificate::Subject() prints
// RFC 2253 form, which lists the RDNs in reverse: the AMD name
// {OU=Engineering, C=US, L=Santa Clara, ST=CA, O=Advanced Micro Devices,
// CN=ARK-Milan} prints as "CN=ARK-Milan,O=Advanced Micro Devices,ST=CA,
// L=Santa Clara,C=US,OU=Engineering".
using DistinguishedName = std::vector<NameEntry>;

// keyUsage bits (RFC 5280 4.2.1.3), combinable with |.
enum KeyUsageBits : std::uint16_t {
  kKeyUsageDigitalSignature = 1u << 0,
  kKeyUsageNonRepudiation = 1u << 1,
  kKeyUsageKeyEncipherment = 1u << 2,
  kKeyUsageDataEncipherment = 1u << 3,
  kKeyUsageKeyAgreement = 1u << 4,
  kKeyUsageKeyCertSign = 1u << 5,
  kKeyUsageCrlSign = 1u << 6,
  kKeyUsageEncipherOnly = 1u << 7,
  kKeyUsageDecipherOnly = 1u << 8,
};

// One certificate extension, written in the order given. Make them with the
// factories; each OID may appear once per certificate.
struct ExtensionSpec {
  enum class Kind {
    kBasicConstraints,
    kKeyUsage,
    kSubjectKeyIdentifier,    // computed from the subject key
    kAuthorityKeyIdentifier,  // computed from the issuer's key
    kCustom,
  };
  Kind kind = Kind::kCustom;
  bool critical = false;
  // kBasicConstraints.
  bool ca = false;
  std::optional<std::uint32_t> path_len;
  // kKeyUsage.
  std::uint16_t key_usage = 0;
  // kCustom: dotted OID and the extnValue contents (the bytes inside the
  // OCTET STRING), written as given. They need not be DER (AMD's hwID is
  // raw bytes), but a value OpenSSL knows how to parse must be valid or the
  // certificate will not parse back.
  std::string oid;
  Bytes value;

  // basicConstraints {cA, pathLenConstraint}; pathLen only with ca = true.
  static ExtensionSpec BasicConstraints(bool ca, std::optional<std::uint32_t> path_len = std::nullopt,
                                        bool critical = true);
  // keyUsage with the given KeyUsageBits (at least one).
  static ExtensionSpec KeyUsage(std::uint16_t bits, bool critical = true);
  // subjectKeyIdentifier: SHA-1 of the subjectPublicKey BIT STRING contents
  // (RFC 5280 4.2.1.2, method 1), always non-critical.
  static ExtensionSpec SubjectKeyIdentifier();
  // authorityKeyIdentifier {keyIdentifier} with the issuer key's identifier
  // computed as for SubjectKeyIdentifier(), non-critical. (So an issuer
  // built here with SubjectKeyIdentifier() matches, as path building wants.)
  static ExtensionSpec AuthorityKeyIdentifier();
  static ExtensionSpec Custom(std::string dotted_oid, Bytes value, bool critical = false);
};

// RSASSA-PSS parameters as written into the AlgorithmIdentifier and used to
// sign. MGF1 always uses `hash`. Defaults: AMD's SHA-384 / MGF1-SHA-384 /
// salt 48.
struct RsaPssParams {
  HashAlg hash = HashAlg::kSha384;  // SHA-256/384/512 only
  std::size_t salt_length = 48;
  // Writes trailerField [3] INTEGER 1 although it is the DEFAULT. AMD's ARK
  // and ASK certificates do; AMD's VCEKs and CRLs do not.
  bool explicit_trailer_field = false;
};

// A signing key and algorithm. Refers to the key without owning it: the key
// must outlive every call that uses the Signer. Intentionally copyable.
class Signer {
 public:
  static Signer RsaPss(const RsaPrivateKey& key, RsaPssParams params = {});
  static Signer Ecdsa(const EcdsaPrivateKey& key);

  // The signer's public key as DER SubjectPublicKeyInfo.
  // Errors: kInternal (from the key's exporter).
  Result<Bytes> PublicKeySpki() const;
  // The DER AlgorithmIdentifier this signer writes (signature and
  // signatureAlgorithm fields). Errors: kInvalidArgument
  // "crypto.x509_build_invalid" (bad PSS hash), kInternal.
  Result<Bytes> AlgorithmIdentifierDer() const;
  // Signs `tbs` (the DER TBSCertificate / TBSCertList) and returns the raw
  // signature value (DER ECDSA-Sig-Value for ECDSA).
  Result<Bytes> Sign(ByteView tbs) const;

 private:
  Signer() = default;
  const RsaPrivateKey* rsa_ = nullptr;
  RsaPssParams pss_;
  const EcdsaPrivateKey* ecdsa_ = nullptr;
};

// What a certificate says. Every field is required unless it says otherwise.
struct CertificateTemplate {
  // Unsigned big-endian magnitude, at most 20 bytes (RFC 5280 4.1.2.2);
  // leading zero bytes are ignored; empty or all-zero means serial 0 (as on
  // AMD's VCEKs; RFC 5280 wants positive serials, so avoid it elsewhere).
  Bytes serial;
  DistinguishedName issuer;   // at least one entry
  DistinguishedName subject;  // at least one entry
  std::int64_t not_before = 0;  // Unix seconds, in [0, 253402300799]
  std::int64_t not_after = 0;   // Unix seconds, >= not_before
  // The certified key, DER SubjectPublicKeyInfo (e.g. from
  // RsaPublicKey::ToSpkiDer() or EcdsaPublicKey::ToSpkiDer()).
  Bytes subject_public_key_spki;
  // In this order. An empty list produces a certificate without the
  // extensions field (still X.509 v3).
  std::vector<ExtensionSpec> extensions;
};

// Builds, signs and re-parses a certificate. When `issuer_cert` is given,
// its subject must equal the template's issuer (compared as printed names)
// and its key must be the signer's; the built certificate is then checked
// with VerifySignedBy(*issuer_cert). For a self-signed certificate pass
// nullptr: the result is checked against itself.
// Errors: kInvalidArgument "crypto.x509_build_invalid" (a bad template:
// empty name, bad string, bad time, oversized serial, unparsable key, bad
// or duplicate OID, pathLen without cA, issuer mismatch); kInternal
// "crypto.x509_build_failed" (library failure or the result does not
// verify), or the signer's errors.
Result<Certificate> BuildCertificate(const CertificateTemplate& tmpl, const Signer& signer,
                                     const Certificate* issuer_cert);

struct RevokedEntry {
  Bytes serial;                      // as CertificateTemplate::serial
  std::int64_t revocation_date = 0;  // Unix seconds
};

// What a CRL says (RFC 5280 section 5, version 2).
struct CrlTemplate {
  DistinguishedName issuer;
  std::int64_t this_update = 0;
  std::int64_t next_update = 0;  // >= this_update; always written
  std::vector<RevokedEntry> revoked;  // in this order; may be empty
  // crlNumber extension (RFC 5280 5.2.3), non-critical, if set.
  std::optional<std::uint64_t> crl_number;
  // authorityKeyIdentifier {keyIdentifier} of the issuer's key (as AMD's
  // CRLs carry), non-critical.
  bool authority_key_identifier = true;
};

// Builds and signs a CRL and checks it with Crl::VerifySignedBy(issuer_cert)
// (issuer name, signature, cRLSign in the issuer's keyUsage).
// Errors: as BuildCertificate().
Result<Crl> BuildCrl(const CrlTemplate& tmpl, const Signer& signer, const Certificate& issuer_cert);

}  // namespace perimeter::crypto

#endif  // PERIMETER_CRYPTO_X509_BUILDER_H_
