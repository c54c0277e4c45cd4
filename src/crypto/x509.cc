// X.509 certificates, CRLs and chain verification over OpenSSL 3.
//
// Facts about AMD's SEV-SNP PKI established with the test data in
// tests/testdata/snp (ARK/ASK/ASVK for Milan, Genoa, Turin; 11 real VCEKs,
// one VLEK; the Milan CRL), all exercised by x509_test.cc:
//  * Every AMD certificate and the CRL are signed with id-RSASSA-PSS
//    (1.2.840.113549.1.1.10) with EXPLICIT parameters: hash SHA-384,
//    MGF1 with SHA-384, salt length 48, trailer field 1. X509_verify() and
//    X509_CRL_verify() handle these parameters; CheckSignatureAlgorithm()
//    below additionally pins the PSS hash to SHA-2 and requires the MGF1
//    hash to equal it.
//  * ARK, ASK and ASVK are RSA-4096; VCEK/VLEK keys are ECDSA P-384.
//  * VCEK/VLEK serial numbers are 0 (accepted here; RFC 5280 wants > 0).
//  * VCEKs/VLEKs have no authorityKeyIdentifier, so OpenSSL's
//    X509_V_FLAG_X509_STRICT rejects every VCEK chain with
//    X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER (error 85). Strict mode is
//    therefore NOT enabled; the non-strict checks (signatures, validity,
//    basicConstraints, keyUsage, pathLen) are. The ARK is verified
//    against its own key too (X509_V_FLAG_CHECK_SS_SIGNATURE).
//  * ARK has keyUsage keyCertSign + cRLSign, basicConstraints CA:TRUE; ASK/
//    ASVK have keyCertSign and CA:TRUE, pathlen:0.
//  * AMD extensions (arc 1.3.6.1.4.1.3704.1): productName (.2) is a DER
//    IA5String inside extnValue ("Milan-B0", "Genoa", "Turin", "Milan" on the
//    VLEK); SPLs (.3.1-.3.9) are DER INTEGERs; hwID (.4) is NOT DER-wrapped:
//    extnValue holds the raw 64 bytes (8 on Turin). The trustee fixture
//    NEG-vcek-invalid-new.der wraps it as OCTET STRING (04 40 ..) instead;
//    both NEG fixtures fail the ASK signature.
//  * The Milan CRL (issuer ARK-Milan, cRLNumber 9) lists no serials, has no
//    critical extensions, thisUpdate 2026-06-22T05:53:52Z, nextUpdate
//    2026-08-08T00:00:00Z.
//  * OpenSSL's own CRL machinery (X509_V_FLAG_CRL_CHECK_ALL) would demand a
//    CRL for every issuer, including the ASK for which AMD publishes none,
//    so VerifyChain applies CRLs itself after OpenSSL has built the path.

#include "perimeter/crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <climits>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <utility>

#include "crypto/openssl/ossl_error.h"
#include "crypto/openssl/ossl_ptr.h"

namespace perimeter::crypto {

using internal::OsslPtr;

namespace {

// Inputs larger than this are refused before reaching OpenSSL (and keep every
// length within int/long range).
constexpr std::size_t kMaxInputSize = 1u << 20;

Status CertParseError(std::string_view what) {
  return internal::OpenSslError(StatusCode::kInvalidArgument, kX509ParseFailed, what);
}
Status CrlParseError(std::string_view what) {
  return internal::OpenSslError(StatusCode::kInvalidArgument, kCrlParseFailed, what);
}
Status DerError(std::string_view what) {
  return InvalidArgumentError(kDerInvalid, std::string("crypto: ") + std::string(what));
}

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12), the
// classic era-based civil-date computation.
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);               // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<std::int64_t> AsnTimeToUnix(const ASN1_TIME* t) {
  if (t == nullptr) return std::nullopt;
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31) {
    return std::nullopt;
  }
  const std::int64_t days =
      DaysFromCivil(static_cast<std::int64_t>(tm.tm_year) + 1900,
                    static_cast<unsigned>(tm.tm_mon + 1), static_cast<unsigned>(tm.tm_mday));
  return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

std::optional<std::string> NameToString(const X509_NAME* name) {
  OsslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio) return std::nullopt;
  if (X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return std::nullopt;
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);  // NOLINT(runtime/int)
  if (len < 0 || (len > 0 && data == nullptr)) return std::nullopt;
  return std::string(data, static_cast<std::size_t>(len));
}

// Unsigned magnitude without leading zeros ({0} for zero); nullopt if negative.
std::optional<Bytes> SerialMagnitude(const ASN1_INTEGER* serial) {
  if (serial == nullptr || ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) return std::nullopt;
  const unsigned char* p = ASN1_STRING_get0_data(serial);
  const int len = ASN1_STRING_length(serial);
  if (len < 0 || (len > 0 && p == nullptr)) return std::nullopt;
  ByteView v(p, static_cast<std::size_t>(len));
  while (!v.empty() && v.front() == 0) v = v.subspan(1);
  if (v.empty()) return Bytes{0};
  return ToBytes(v);
}

Bytes NormalizeSerial(ByteView serial) {
  while (!serial.empty() && serial.front() == 0) serial = serial.subspan(1);
  if (serial.empty()) return Bytes{0};
  return ToBytes(serial);
}

Status AlgorithmRejected(std::string_view what) {
  internal::ClearOpenSslErrors();
  return UnauthenticatedError(kSignatureAlgorithmRejected,
                              std::string("crypto: signature algorithm rejected: ") +
                                  std::string(what));
}

bool IsSha2Nid(int nid) { return nid == NID_sha256 || nid == NID_sha384 || nid == NID_sha512; }

// RSASSA-PSS-params (RFC 4055 section 3.1) must name SHA-256/384/512, MGF1
// with the same hash, and trailer field 1. Absent fields mean SHA-1 defaults,
// which are refused.
Status CheckPssParams(int ptype, const void* pval) {
  if (ptype != V_ASN1_SEQUENCE || pval == nullptr) {
    return AlgorithmRejected("RSASSA-PSS without explicit parameters");
  }
  const auto* seq = static_cast<const ASN1_STRING*>(pval);
  const unsigned char* p = ASN1_STRING_get0_data(seq);
  const int len = ASN1_STRING_length(seq);
  if (p == nullptr || len <= 0) return AlgorithmRejected("empty RSASSA-PSS parameters");
  const unsigned char* const end = p + len;
  OsslPtr<RSA_PSS_PARAMS> params(d2i_RSA_PSS_PARAMS(nullptr, &p, len));
  if (!params || p != end) return AlgorithmRejected("malformed RSASSA-PSS parameters");
  if (params->hashAlgorithm == nullptr) return AlgorithmRejected("RSASSA-PSS with SHA-1");
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, params->hashAlgorithm);
  const int hash_nid = OBJ_obj2nid(obj);
  if (!IsSha2Nid(hash_nid)) return AlgorithmRejected("RSASSA-PSS hash is not SHA-2");
  if (params->maskGenAlgorithm == nullptr) {
    return AlgorithmRejected("RSASSA-PSS with default MGF1-SHA-1");
  }
  // maskGenAlgorithm = { id-mgf1, AlgorithmIdentifier of the MGF1 hash }.
  int mgf_ptype = 0;
  const void* mgf_pval = nullptr;
  X509_ALGOR_get0(&obj, &mgf_ptype, &mgf_pval, params->maskGenAlgorithm);
  if (OBJ_obj2nid(obj) != NID_mgf1) return AlgorithmRejected("RSASSA-PSS mask is not MGF1");
  if (mgf_ptype != V_ASN1_SEQUENCE || mgf_pval == nullptr) {
    return AlgorithmRejected("RSASSA-PSS MGF1 without a hash");
  }
  const auto* mgf_seq = static_cast<const ASN1_STRING*>(mgf_pval);
  const unsigned char* mp = ASN1_STRING_get0_data(mgf_seq);
  const int mlen = ASN1_STRING_length(mgf_seq);
  if (mp == nullptr || mlen <= 0) return AlgorithmRejected("RSASSA-PSS MGF1 without a hash");
  const unsigned char* const mend = mp + mlen;
  OsslPtr<X509_ALGOR> mgf_hash(d2i_X509_ALGOR(nullptr, &mp, mlen));
  if (!mgf_hash || mp != mend) return AlgorithmRejected("malformed RSASSA-PSS MGF1 hash");
  X509_ALGOR_get0(&obj, nullptr, nullptr, mgf_hash.get());
  if (OBJ_obj2nid(obj) != hash_nid) return AlgorithmRejected("RSASSA-PSS MGF1 hash differs");
  if (params->trailerField != nullptr) {
    std::int64_t trailer = 0;
    if (ASN1_INTEGER_get_int64(&trailer, params->trailerField) != 1 || trailer != 1) {
      return AlgorithmRejected("RSASSA-PSS trailer field is not 1");
    }
  }
  if (params->saltLength != nullptr) {
    std::int64_t salt = 0;
    if (ASN1_INTEGER_get_int64(&salt, params->saltLength) != 1 || salt < 0) {
      return AlgorithmRejected("RSASSA-PSS salt length invalid");
    }
  }
  return Status::Ok();
}

Status CheckSignatureAlgorithm(const X509_ALGOR* alg) {
  if (alg == nullptr) return AlgorithmRejected("missing");
  const ASN1_OBJECT* obj = nullptr;
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(&obj, &ptype, &pval, alg);
  switch (OBJ_obj2nid(obj)) {
    case NID_sha256WithRSAEncryption:
    case NID_sha384WithRSAEncryption:
    case NID_sha512WithRSAEncryption:
    case NID_ecdsa_with_SHA256:
    case NID_ecdsa_with_SHA384:
    case NID_ecdsa_with_SHA512:
    case NID_ED25519:
      return Status::Ok();
    case NID_rsassaPss:
      return CheckPssParams(ptype, pval);
    default: {
      char buf[80];
      const int n = OBJ_obj2txt(buf, sizeof(buf), obj, 1);
      return AlgorithmRejected(n > 0 ? std::string_view(buf) : std::string_view("unknown OID"));
    }
  }
}

Status CheckInputSize(ByteView der, Status (*err)(std::string_view)) {
  if (der.empty()) return err("empty input");
  if (der.size() > kMaxInputSize) return err("input too large");
  return Status::Ok();
}

// ---- PEM ----------------------------------------------------------------

bool IsPemSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Splits `text` into "-----BEGIN <label>-----" ... "-----END <label>-----"
// blocks and base64-decodes each (via OpenSSL's PEM reader). Only whitespace
// may appear outside blocks; any other label is an error.
Result<std::vector<Bytes>> DecodePemBlocks(std::string_view text, std::string_view label,
                                           Status (*err)(std::string_view)) {
  if (text.size() > kMaxInputSize) return err("PEM input too large");
  const std::string begin = "-----BEGIN " + std::string(label) + "-----";
  const std::string end = "-----END " + std::string(label) + "-----";
  std::vector<Bytes> out;
  std::size_t pos = 0;
  while (true) {
    while (pos < text.size() && IsPemSpace(text[pos])) ++pos;
    if (pos == text.size()) break;
    if (text.compare(pos, begin.size(), begin) != 0) {
      return err("unexpected text outside a PEM block (or wrong PEM label)");
    }
    const std::size_t end_pos = text.find(end, pos + begin.size());
    if (end_pos == std::string_view::npos) return err("unterminated PEM block");
    const std::size_t block_end = end_pos + end.size();
    const std::string_view block = text.substr(pos, block_end - pos);
    pos = block_end;

    internal::ClearOpenSslErrors();
    OsslPtr<BIO> bio(BIO_new_mem_buf(block.data(), static_cast<int>(block.size())));
    if (!bio) return internal::OpenSslInternal("crypto.internal", "BIO_new_mem_buf failed");
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;  // NOLINT(runtime/int): OpenSSL's type
    const int rc = PEM_read_bio(bio.get(), &name, &header, &data, &len);
    const bool ok = rc == 1 && name != nullptr && label == name && header != nullptr &&
                    header[0] == '\0' && data != nullptr && len > 0;
    Bytes decoded;
    if (ok) decoded.assign(data, data + len);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (!ok) return err("malformed PEM block");
    out.push_back(std::move(decoded));
  }
  if (out.empty()) return err("no PEM block found");
  return out;
}

}  // namespace

// ---- Impl structs and accessor --------------------------------------------

struct Certificate::Impl {
  OsslPtr<X509> x509;
  Bytes der;
  std::string subject;
  std::string issuer;
  Bytes serial;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
};

struct Crl::Impl {
  OsslPtr<X509_CRL> crl;
  Bytes der;
  std::string issuer;
  std::int64_t this_update = 0;
  std::optional<std::int64_t> next_update;
  std::vector<Bytes> revoked;  // SerialNumber() form
  bool has_unsupported_critical_extension = false;
};

namespace internal {
struct X509Access {
  static X509* Get(const Certificate& c) { return c.impl_->x509.get(); }
  static X509_CRL* Get(const Crl& c) { return c.impl_->crl.get(); }
  static const Crl::Impl& ImplOf(const Crl& c) { return *c.impl_; }
};
}  // namespace internal

using internal::X509Access;

// ---- Certificate ----------------------------------------------------------

Certificate::Certificate(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<Certificate> Certificate::FromDer(ByteView der) {
  PERIMETER_RETURN_IF_ERROR(CheckInputSize(der, CertParseError));
  internal::ClearOpenSslErrors();
  const unsigned char* p = der.data();
  auto impl = std::make_shared<Impl>();
  impl->x509.reset(d2i_X509(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (!impl->x509) return CertParseError("not a DER certificate");
  if (p != der.data() + der.size()) return CertParseError("trailing bytes after certificate");
  X509* x = impl->x509.get();

  // OpenSSL's decoder tolerates some BER; require that re-encoding is exact.
  const int enc_len = i2d_X509(x, nullptr);
  if (enc_len <= 0 || static_cast<std::size_t>(enc_len) != der.size()) {
    return CertParseError("certificate is not DER encoded");
  }
  Bytes reenc(der.size());
  unsigned char* q = reenc.data();
  if (i2d_X509(x, &q) != enc_len || std::memcmp(reenc.data(), der.data(), der.size()) != 0) {
    return CertParseError("certificate is not DER encoded");
  }
  // Computes OpenSSL's extension cache; flags duplicates and bad encodings.
  if ((X509_get_extension_flags(x) & EXFLAG_INVALID) != 0) {
    return CertParseError("invalid or duplicate certificate extensions");
  }
  // OpenSSL flags duplicates only among the extensions it knows; RFC 5280
  // section 4.2 forbids any repeated extension, including private ones such
  // as AMD's, so ExtensionValue() can never pick one of two values.
  const int ext_count = X509_get_ext_count(x);
  for (int i = 0; i < ext_count; ++i) {
    const ASN1_OBJECT* a = X509_EXTENSION_get_object(X509_get_ext(x, i));
    for (int j = i + 1; j < ext_count; ++j) {
      if (OBJ_cmp(a, X509_EXTENSION_get_object(X509_get_ext(x, j))) == 0) {
        return CertParseError("duplicate certificate extension");
      }
    }
  }
  auto subject = NameToString(X509_get_subject_name(x));
  auto issuer = NameToString(X509_get_issuer_name(x));
  if (!subject || !issuer) return CertParseError("unprintable name");
  auto serial = SerialMagnitude(X509_get0_serialNumber(x));
  if (!serial) return CertParseError("negative serial number");
  auto not_before = AsnTimeToUnix(X509_get0_notBefore(x));
  auto not_after = AsnTimeToUnix(X509_get0_notAfter(x));
  if (!not_before || !not_after) return CertParseError("unreadable validity time");

  impl->der = ToBytes(der);
  impl->subject = std::move(*subject);
  impl->issuer = std::move(*issuer);
  impl->serial = std::move(*serial);
  impl->not_before = *not_before;
  impl->not_after = *not_after;
  internal::ClearOpenSslErrors();
  return Certificate(std::move(impl));
}

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  PERIMETER_ASSIGN_OR_RETURN(auto blocks, DecodePemBlocks(pem, "CERTIFICATE", CertParseError));
  if (blocks.size() != 1) return CertParseError("expected exactly one PEM certificate");
  return FromDer(blocks.front());
}

Result<std::vector<Certificate>> Certificate::ParsePemBundle(std::string_view pem) {
  PERIMETER_ASSIGN_OR_RETURN(auto blocks, DecodePemBlocks(pem, "CERTIFICATE", CertParseError));
  std::vector<Certificate> out;
  out.reserve(blocks.size());
  for (const Bytes& der : blocks) {
    PERIMETER_ASSIGN_OR_RETURN(auto cert, FromDer(der));
    out.push_back(std::move(cert));
  }
  return out;
}

const Bytes& Certificate::ToDer() const { return impl_->der; }
std::string Certificate::Subject() const { return impl_->subject; }
std::string Certificate::Issuer() const { return impl_->issuer; }
Bytes Certificate::SerialNumber() const { return impl_->serial; }
std::int64_t Certificate::NotBefore() const { return impl_->not_before; }
std::int64_t Certificate::NotAfter() const { return impl_->not_after; }

Bytes Certificate::SubjectPublicKeyInfoDer() const {
  const X509_PUBKEY* spki = X509_get_X509_PUBKEY(impl_->x509.get());
  unsigned char* buf = nullptr;
  const int len = i2d_X509_PUBKEY(spki, &buf);
  Bytes out;
  if (len > 0 && buf != nullptr) out.assign(buf, buf + len);
  OPENSSL_free(buf);
  internal::ClearOpenSslErrors();
  return out;  // The SPKI came from a parsed certificate; re-encoding cannot fail.
}

std::string Certificate::SignatureAlgorithmOid() const {
  const ASN1_BIT_STRING* sig = nullptr;
  const X509_ALGOR* alg = nullptr;
  X509_get0_signature(&sig, &alg, impl_->x509.get());
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, alg);
  char buf[128];
  const int n = OBJ_obj2txt(buf, sizeof(buf), obj, 1);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof(buf)) return std::string();
  return std::string(buf, static_cast<std::size_t>(n));
}

PublicKeyAlgorithm Certificate::KeyAlgorithm() const {
  EVP_PKEY* key = X509_get0_pubkey(impl_->x509.get());
  internal::ClearOpenSslErrors();
  if (key == nullptr) return PublicKeyAlgorithm::kOther;
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      return PublicKeyAlgorithm::kRsa;
    case EVP_PKEY_ED25519:
      return PublicKeyAlgorithm::kEd25519;
    case EVP_PKEY_EC: {
      char group[64];
      std::size_t len = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1) {
        internal::ClearOpenSslErrors();
        return PublicKeyAlgorithm::kOther;
      }
      const std::string_view name(group, len);
      if (name == SN_X9_62_prime256v1) return PublicKeyAlgorithm::kEcP256;
      if (name == SN_secp384r1) return PublicKeyAlgorithm::kEcP384;
      return PublicKeyAlgorithm::kOther;
    }
    default:
      return PublicKeyAlgorithm::kOther;
  }
}

std::optional<Bytes> Certificate::ExtensionValue(std::string_view dotted_oid) const {
  if (dotted_oid.empty() || dotted_oid.size() > 200) return std::nullopt;
  for (char c : dotted_oid) {
    if (c != '.' && (c < '0' || c > '9')) return std::nullopt;
  }
  const std::string oid(dotted_oid);
  OsslPtr<ASN1_OBJECT> obj(OBJ_txt2obj(oid.c_str(), /*no_name=*/1));
  if (!obj) {
    internal::ClearOpenSslErrors();
    return std::nullopt;
  }
  const X509* x = impl_->x509.get();
  const int idx = X509_get_ext_by_OBJ(x, obj.get(), -1);
  if (idx < 0) return std::nullopt;
  X509_EXTENSION* ext = X509_get_ext(x, idx);
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
  if (value == nullptr) return std::nullopt;
  const unsigned char* p = ASN1_STRING_get0_data(value);
  const int len = ASN1_STRING_length(value);
  if (len <= 0 || p == nullptr) return Bytes{};
  return Bytes(p, p + len);
}

bool Certificate::IsCa() const {
  return (X509_get_extension_flags(impl_->x509.get()) & EXFLAG_CA) != 0;
}

Status Certificate::VerifySignedBy(const Certificate& issuer) const {
  internal::ClearOpenSslErrors();
  X509* x = impl_->x509.get();
  const ASN1_BIT_STRING* sig = nullptr;
  const X509_ALGOR* alg = nullptr;
  X509_get0_signature(&sig, &alg, x);
  PERIMETER_RETURN_IF_ERROR(CheckSignatureAlgorithm(alg));
  EVP_PKEY* key = X509_get0_pubkey(X509Access::Get(issuer));
  if (key == nullptr) {
    return internal::OpenSslError(StatusCode::kUnauthenticated, kSignatureInvalid,
                                  "issuer public key unusable");
  }
  if (X509_verify(x, key) != 1) {
    return internal::OpenSslError(StatusCode::kUnauthenticated, kSignatureInvalid,
                                  "certificate signature does not verify");
  }
  internal::ClearOpenSslErrors();
  return Status::Ok();
}

bool operator==(const Certificate& a, const Certificate& b) {
  return a.impl_ == b.impl_ || a.impl_->der == b.impl_->der;
}

// ---- Crl ------------------------------------------------------------------

Crl::Crl(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<Crl> Crl::FromDer(ByteView der) {
  PERIMETER_RETURN_IF_ERROR(CheckInputSize(der, CrlParseError));
  internal::ClearOpenSslErrors();
  const unsigned char* p = der.data();
  auto impl = std::make_shared<Impl>();
  impl->crl.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (!impl->crl) return CrlParseError("not a DER CRL");
  if (p != der.data() + der.size()) return CrlParseError("trailing bytes after CRL");
  X509_CRL* crl = impl->crl.get();

  const int enc_len = i2d_X509_CRL(crl, nullptr);
  if (enc_len <= 0 || static_cast<std::size_t>(enc_len) != der.size()) {
    return CrlParseError("CRL is not DER encoded");
  }
  Bytes reenc(der.size());
  unsigned char* q = reenc.data();
  if (i2d_X509_CRL(crl, &q) != enc_len ||
      std::memcmp(reenc.data(), der.data(), der.size()) != 0) {
    return CrlParseError("CRL is not DER encoded");
  }
  auto issuer = NameToString(X509_CRL_get_issuer(crl));
  if (!issuer) return CrlParseError("unprintable issuer");
  auto this_update = AsnTimeToUnix(X509_CRL_get0_lastUpdate(crl));
  if (!this_update) return CrlParseError("unreadable thisUpdate");
  if (X509_CRL_get0_nextUpdate(crl) != nullptr) {
    impl->next_update = AsnTimeToUnix(X509_CRL_get0_nextUpdate(crl));
    if (!impl->next_update) return CrlParseError("unreadable nextUpdate");
  }
  for (int i = 0; i < X509_CRL_get_ext_count(crl); ++i) {
    if (X509_EXTENSION_get_critical(X509_CRL_get_ext(crl, i)) != 0) {
      impl->has_unsupported_critical_extension = true;
    }
  }
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    const X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, i);
    auto serial = SerialMagnitude(X509_REVOKED_get0_serialNumber(entry));
    if (!serial) return CrlParseError("negative serial number in CRL entry");
    impl->revoked.push_back(std::move(*serial));
    for (int j = 0; j < X509_REVOKED_get_ext_count(entry); ++j) {
      if (X509_EXTENSION_get_critical(X509_REVOKED_get_ext(entry, j)) != 0) {
        impl->has_unsupported_critical_extension = true;
      }
    }
  }
  impl->der = ToBytes(der);
  impl->issuer = std::move(*issuer);
  impl->this_update = *this_update;
  internal::ClearOpenSslErrors();
  return Crl(std::move(impl));
}

Result<Crl> Crl::FromPem(std::string_view pem) {
  PERIMETER_ASSIGN_OR_RETURN(auto blocks, DecodePemBlocks(pem, "X509 CRL", CrlParseError));
  if (blocks.size() != 1) return CrlParseError("expected exactly one PEM CRL");
  return FromDer(blocks.front());
}

const Bytes& Crl::ToDer() const { return impl_->der; }
std::string Crl::Issuer() const { return impl_->issuer; }
std::int64_t Crl::ThisUpdate() const { return impl_->this_update; }
std::optional<std::int64_t> Crl::NextUpdate() const { return impl_->next_update; }

namespace {

// Signature, name and keyUsage checks of `crl` against `issuer`; see
// Crl::VerifySignedBy.
Status VerifyCrlSignature(X509_CRL* crl, X509* issuer) {
  internal::ClearOpenSslErrors();
  const ASN1_BIT_STRING* sig = nullptr;
  const X509_ALGOR* alg = nullptr;
  X509_CRL_get0_signature(crl, &sig, &alg);
  PERIMETER_RETURN_IF_ERROR(CheckSignatureAlgorithm(alg));
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
    internal::ClearOpenSslErrors();
    return UnauthenticatedError(kCrlBadSignature,
                                "crypto: CRL issuer name differs from the certificate subject");
  }
  if ((X509_get_key_usage(issuer) & KU_CRL_SIGN) == 0) {
    internal::ClearOpenSslErrors();
    return UnauthenticatedError(kCrlBadSignature,
                                "crypto: CRL issuer's keyUsage does not allow cRLSign");
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr) {
    return internal::OpenSslError(StatusCode::kUnauthenticated, kCrlBadSignature,
                                  "issuer public key unusable");
  }
  if (X509_CRL_verify(crl, key) != 1) {
    return internal::OpenSslError(StatusCode::kUnauthenticated, kCrlBadSignature,
                                  "CRL signature does not verify");
  }
  internal::ClearOpenSslErrors();
  return Status::Ok();
}

}  // namespace

Status Crl::VerifySignedBy(const Certificate& issuer) const {
  return VerifyCrlSignature(impl_->crl.get(), X509Access::Get(issuer));
}

bool Crl::IsRevoked(ByteView serial) const {
  const Bytes wanted = NormalizeSerial(serial);
  for (const Bytes& s : impl_->revoked) {
    if (s == wanted) return true;
  }
  return false;
}

std::vector<Bytes> Crl::RevokedSerials() const { return impl_->revoked; }

// ---- VerifyChain ----------------------------------------------------------

namespace {

Status MapVerifyError(int err, int depth, X509* cert) {
  std::string message = "crypto: chain verification failed at depth " + std::to_string(depth);
  if (cert != nullptr) {
    if (auto name = NameToString(X509_get_subject_name(cert))) message += " (" + *name + ")";
  }
  message += ": ";
  message += X509_verify_cert_error_string(err);
  std::string detail = internal::DrainOpenSslErrors();
  if (!detail.empty()) message += " [" + detail + "]";

  auto unauth = [&](std::string_view reason) { return UnauthenticatedError(reason, message); };
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return unauth(kCertExpired);
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return unauth(kCertNotYetValid);
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
      return unauth(kChainUntrusted);
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
      return unauth(kSignatureInvalid);
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
      return unauth(kSignatureAlgorithmRejected);
    case X509_V_ERR_CERT_REVOKED:
      return unauth(kCertRevoked);
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
      return unauth(kCrlBadSignature);
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return FailedPreconditionError(kCrlExpired, message);
    case X509_V_ERR_CRL_NOT_YET_VALID:
      return FailedPreconditionError(kCrlNotYetValid, message);
    case X509_V_ERR_OUT_OF_MEM:
      return InternalError("crypto.internal", message);
    default:
      return unauth(kChainInvalid);
  }
}

Status ChainInternal(std::string_view what) {
  return internal::OpenSslInternal("crypto.internal", what);
}

}  // namespace

Result<Certificate> VerifyChain(const Certificate& leaf,
                                std::span<const Certificate> intermediates,
                                std::span<const Certificate> trust_anchors,
                                const ChainVerifyOptions& options) {
  if (trust_anchors.empty()) {
    return InvalidArgumentError(kChainInvalid, "crypto: no trust anchors given");
  }
  internal::ClearOpenSslErrors();

  OsslPtr<X509_STORE> store(X509_STORE_new());
  if (!store) return ChainInternal("X509_STORE_new failed");
  for (const Certificate& anchor : trust_anchors) {
    if (X509_STORE_add_cert(store.get(), X509Access::Get(anchor)) != 1) {
      return ChainInternal("X509_STORE_add_cert failed");
    }
  }
  OsslPtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  if (!untrusted) return ChainInternal("sk_X509_new_null failed");
  for (const Certificate& c : intermediates) {
    X509* x = X509Access::Get(c);
    if (X509_up_ref(x) != 1) return ChainInternal("X509_up_ref failed");
    if (sk_X509_push(untrusted.get(), x) <= 0) {
      X509_free(x);
      return ChainInternal("sk_X509_push failed");
    }
  }
  OsslPtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx) return ChainInternal("X509_STORE_CTX_new failed");
  if (X509_STORE_CTX_init(ctx.get(), store.get(), X509Access::Get(leaf), untrusted.get()) != 1) {
    return ChainInternal("X509_STORE_CTX_init failed");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  if (param == nullptr) return ChainInternal("no verify parameters");
  // set_time also turns on X509_V_FLAG_USE_CHECK_TIME; both are explicit here.
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(options.at_unix_seconds));
  if (X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_USE_CHECK_TIME |
                                             X509_V_FLAG_CHECK_SS_SIGNATURE) != 1) {
    return ChainInternal("X509_VERIFY_PARAM_set_flags failed");
  }
  X509_VERIFY_PARAM_set_depth(param, 8);

  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    return MapVerifyError(err, X509_STORE_CTX_get_error_depth(ctx.get()),
                          X509_STORE_CTX_get_current_cert(ctx.get()));
  }
  internal::ClearOpenSslErrors();

  // chain[0] is the leaf, chain[n-1] the trust anchor; chain[i] was issued by
  // chain[i+1] (the anchor by itself).
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  const int n = sk_X509_num(chain);
  if (n <= 0) return ChainInternal("empty verified chain");
  for (int i = 0; i < n; ++i) {
    const ASN1_BIT_STRING* sig = nullptr;
    const X509_ALGOR* alg = nullptr;
    X509_get0_signature(&sig, &alg, sk_X509_value(chain, i));
    PERIMETER_RETURN_IF_ERROR(CheckSignatureAlgorithm(alg));
  }
  X509* top = sk_X509_value(chain, n - 1);
  const Certificate* anchor_used = nullptr;
  for (const Certificate& anchor : trust_anchors) {
    if (X509_cmp(top, X509Access::Get(anchor)) == 0) {
      anchor_used = &anchor;
      break;
    }
  }
  if (anchor_used == nullptr) return ChainInternal("verified chain does not end at an anchor");

  // CRLs. covered[i]: some CRL from chain[i]'s issuer was checked for chain[i].
  std::vector<bool> covered(static_cast<std::size_t>(n), false);
  for (const Crl& crl : options.crls) {
    X509_CRL* x_crl = X509Access::Get(crl);
    const auto& info = X509Access::ImplOf(crl);
    int issuer_index = -1;
    Status last_error;
    for (int j = 0; j < n; ++j) {
      X509* candidate = sk_X509_value(chain, j);
      if (X509_NAME_cmp(X509_CRL_get_issuer(x_crl), X509_get_subject_name(candidate)) != 0) {
        continue;
      }
      Status s = VerifyCrlSignature(x_crl, candidate);
      if (s.ok()) {
        issuer_index = j;
        break;
      }
      last_error = s;
    }
    if (issuer_index < 0) {
      if (!last_error.ok()) return last_error;  // Issuer in path, signature bad.
      continue;                                 // Not about this path.
    }
    if (info.has_unsupported_critical_extension) {
      return UnimplementedError(kCrlUnsupported,
                                "crypto: CRL has a critical extension that is not supported");
    }
    if (options.at_unix_seconds < info.this_update) {
      return FailedPreconditionError(kCrlNotYetValid, "crypto: CRL thisUpdate is after the "
                                                      "verification time");
    }
    if (!info.next_update.has_value()) {
      return FailedPreconditionError(kCrlExpired, "crypto: CRL has no nextUpdate");
    }
    if (options.at_unix_seconds > *info.next_update) {
      return FailedPreconditionError(kCrlExpired,
                                     "crypto: CRL nextUpdate is before the verification time");
    }
    for (int i = 0; i < n; ++i) {
      const bool issued_by_crl_issuer =
          (i + 1 == issuer_index) || (i == n - 1 && issuer_index == n - 1);
      if (!issued_by_crl_issuer) continue;
      X509* subject = sk_X509_value(chain, i);
      auto serial = SerialMagnitude(X509_get0_serialNumber(subject));
      if (!serial) return ChainInternal("negative serial in verified chain");
      if (crl.IsRevoked(*serial)) {
        std::string message = "crypto: certificate is revoked";
        if (auto name = NameToString(X509_get_subject_name(subject))) message += ": " + *name;
        return UnauthenticatedError(kCertRevoked, message);
      }
      covered[static_cast<std::size_t>(i)] = true;
    }
  }
  if (options.require_crl_for_each_ca) {
    for (int i = 0; i + 1 < n; ++i) {
      X509* c = sk_X509_value(chain, i);
      if ((X509_get_extension_flags(c) & EXFLAG_CA) != 0 && !covered[static_cast<std::size_t>(i)]) {
        std::string message = "crypto: no CRL covers CA certificate";
        if (auto name = NameToString(X509_get_subject_name(c))) message += " " + *name;
        return FailedPreconditionError(kCrlMissing, message);
      }
    }
  }
  internal::ClearOpenSslErrors();
  return *anchor_used;
}

// ---- Strict DER -----------------------------------------------------------

namespace {

// Returns the contents of the single TLV in `der` whose tag must be `tag`.
Result<ByteView> ReadSingleTlv(ByteView der, std::uint8_t tag) {
  if (der.size() < 2) return DerError("truncated DER value");
  if (der[0] != tag) return DerError("unexpected DER tag");
  std::size_t header = 2;
  std::size_t length = der[1];
  if (length == 0x80) return DerError("indefinite length is not DER");
  if (length > 0x80) {
    const std::size_t num = length & 0x7f;
    if (num > 4) return DerError("DER length too long");
    if (der.size() < 2 + num) return DerError("truncated DER length");
    if (der[2] == 0) return DerError("non-minimal DER length");
    length = 0;
    for (std::size_t i = 0; i < num; ++i) length = (length << 8) | der[2 + i];
    if (length < 0x80) return DerError("non-minimal DER length");
    header = 2 + num;
  }
  if (der.size() - header < length) return DerError("truncated DER contents");
  if (der.size() - header > length) return DerError("trailing bytes after DER value");
  return der.subspan(header, length);
}

}  // namespace

Result<std::uint64_t> DecodeDerInteger(ByteView der) {
  PERIMETER_ASSIGN_OR_RETURN(ByteView c, ReadSingleTlv(der, 0x02));
  if (c.empty()) return DerError("empty INTEGER");
  if ((c[0] & 0x80) != 0) return DerError("negative INTEGER");
  if (c.size() > 1 && c[0] == 0 && (c[1] & 0x80) == 0) return DerError("non-minimal INTEGER");
  if (c[0] == 0 && c.size() > 1) c = c.subspan(1);
  if (c.size() > 8) return DerError("INTEGER does not fit 64 bits");
  std::uint64_t v = 0;
  for (std::uint8_t b : c) v = (v << 8) | b;
  return v;
}

Result<std::string> DecodeDerIA5String(ByteView der) {
  PERIMETER_ASSIGN_OR_RETURN(ByteView c, ReadSingleTlv(der, 0x16));
  std::string out;
  out.reserve(c.size());
  for (std::uint8_t b : c) {
    if (b >= 0x80) return DerError("IA5String with a non-ASCII byte");
    out.push_back(static_cast<char>(b));
  }
  return out;
}

Result<Bytes> DecodeDerOctetString(ByteView der) {
  PERIMETER_ASSIGN_OR_RETURN(ByteView c, ReadSingleTlv(der, 0x04));
  return ToBytes(c);
}

}  // namespace perimeter::crypto
