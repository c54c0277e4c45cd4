#include "perimeter/crypto/x509_builder.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <set>
#include <utility>

#include "crypto/openssl/ossl_error.h"
#include "crypto/openssl/ossl_ptr.h"

namespace perimeter::crypto {

using internal::OsslPtr;

namespace {

// 9999-12-31T23:59:59Z, the last second GeneralizedTime can express.
constexpr std::int64_t kMaxUnixTime = 253402300799;
constexpr std::size_t kMaxSerialBytes = 20;  // RFC 5280 4.1.2.2

Status Invalid(std::string_view what) {
  internal::ClearOpenSslErrors();
  return InvalidArgumentError(kX509BuildInvalid, "crypto: x509 builder: " + std::string(what));
}
Status Failed(std::string_view what) { return internal::OpenSslInternal(kX509BuildFailed, what); }

// ---- DER framing (only the SEQUENCE/tag wrappers; contents come from
// OpenSSL's encoders) ----

void AppendTlv(Bytes& out, std::uint8_t tag, ByteView content) {
  out.push_back(tag);
  const std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else {
    std::array<std::uint8_t, sizeof(std::size_t)> len{};
    std::size_t count = 0;
    for (std::size_t v = n; v != 0; v >>= 8) len[count++] = static_cast<std::uint8_t>(v & 0xFF);
    out.push_back(static_cast<std::uint8_t>(0x80 | count));
    for (std::size_t i = count; i > 0; --i) out.push_back(len[i - 1]);
  }
  Append(out, content);
}

Bytes Tlv(std::uint8_t tag, ByteView content) {
  Bytes out;
  AppendTlv(out, tag, content);
  return out;
}

template <typename T>
Result<Bytes> ToDer(const T* obj, int (*i2d)(const T*, unsigned char**), std::string_view what) {
  const int len = i2d(obj, nullptr);
  if (len <= 0) return Failed(what);
  Bytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d(obj, &p) != len) return Failed(what);
  return out;
}

// ---- Field encoders ----

bool IsPrintableStringChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view(" '()+,-./:=?").find(c) != std::string_view::npos;
}

// Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    static constexpr std::uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

Result<Bytes> EncodeName(const DistinguishedName& dn, std::string_view which) {
  if (dn.empty()) return Invalid(std::string(which) + " name is empty");
  OsslPtr<X509_NAME> name(X509_NAME_new());
  if (!name) return Failed("X509_NAME_new");
  for (const NameEntry& e : dn) {
    int nid = NID_undef;
    int type = V_ASN1_UTF8STRING;
    switch (e.attribute) {
      case NameAttribute::kCommonName: nid = NID_commonName; break;
      case NameAttribute::kCountry: nid = NID_countryName; type = V_ASN1_PRINTABLESTRING; break;
      case NameAttribute::kLocality: nid = NID_localityName; break;
      case NameAttribute::kStateOrProvince: nid = NID_stateOrProvinceName; break;
      case NameAttribute::kOrganization: nid = NID_organizationName; break;
      case NameAttribute::kOrganizationalUnit: nid = NID_organizationalUnitName; break;
    }
    if (nid == NID_undef) return Invalid("unknown name attribute");
    if (e.value.empty() || e.value.size() > 256 || e.value.find('\0') != std::string::npos) {
      return Invalid(std::string(which) + " name has an empty, oversized or NUL-containing value");
    }
    if (type == V_ASN1_PRINTABLESTRING) {
      if (e.value.size() != 2 || !std::all_of(e.value.begin(), e.value.end(), IsPrintableStringChar)) {
        return Invalid(std::string(which) + " countryName must be two PrintableString letters");
      }
    } else if (!IsValidUtf8(e.value)) {
      return Invalid(std::string(which) + " name value is not valid UTF-8");
    }
    if (X509_NAME_add_entry_by_NID(name.get(), nid, type,
                                   reinterpret_cast<const unsigned char*>(e.value.data()),
                                   static_cast<int>(e.value.size()), -1, 0) != 1) {
      return Failed("X509_NAME_add_entry_by_NID");
    }
  }
  return ToDer<X509_NAME>(name.get(), i2d_X509_NAME, "i2d_X509_NAME");
}

Result<OsslPtr<ASN1_INTEGER>> MakeSerial(ByteView serial) {
  while (!serial.empty() && serial.front() == 0) serial = serial.subspan(1);
  if (serial.size() > kMaxSerialBytes) return Invalid("serial number longer than 20 bytes");
  OsslPtr<BIGNUM> bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  if (!bn) return Failed("BN_bin2bn");
  OsslPtr<ASN1_INTEGER> out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!out) return Failed("BN_to_ASN1_INTEGER");
  return out;
}

Result<Bytes> EncodeSerial(ByteView serial) {
  PERIMETER_ASSIGN_OR_RETURN(OsslPtr<ASN1_INTEGER> i, MakeSerial(serial));
  return ToDer<ASN1_INTEGER>(i.get(), i2d_ASN1_INTEGER, "i2d_ASN1_INTEGER");
}

Result<Bytes> EncodeTime(std::int64_t t) {
  if (t < 0 || t > kMaxUnixTime) return Invalid("time outside 1970..9999");
  // UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5).
  OsslPtr<ASN1_TIME> at(ASN1_TIME_adj(nullptr, static_cast<time_t>(t), 0, 0));
  if (!at) return Failed("ASN1_TIME_adj");
  return ToDer<ASN1_TIME>(at.get(), i2d_ASN1_TIME, "i2d_ASN1_TIME");
}

int HashNid(HashAlg h) {
  switch (h) {
    case HashAlg::kSha256: return NID_sha256;
    case HashAlg::kSha384: return NID_sha384;
    case HashAlg::kSha512: return NID_sha512;
    default: return NID_undef;
  }
}

// Sets `*alg` to {oid, params}; takes ownership of `params` only on success.
Status SetAlgor(X509_ALGOR* alg, int nid, int ptype, OsslPtr<ASN1_STRING> params) {
  if (X509_ALGOR_set0(alg, OBJ_nid2obj(nid), ptype, params.get()) != 1) return Failed("X509_ALGOR_set0");
  (void)params.release();
  return Status::Ok();
}

Result<OsslPtr<ASN1_STRING>> StringFrom(ByteView der) {
  OsslPtr<ASN1_STRING> s(ASN1_STRING_new());
  if (!s || ASN1_STRING_set(s.get(), der.data(), static_cast<int>(der.size())) != 1) {
    return Failed("ASN1_STRING_set");
  }
  return s;
}

// The subject's parsed key, checked to be one OpenSSL can use and to be in
// canonical DER.
Result<OsslPtr<X509_PUBKEY>> ParseSpki(ByteView spki) {
  if (spki.empty()) return Invalid("no subject public key");
  const unsigned char* p = spki.data();
  OsslPtr<X509_PUBKEY> pub(d2i_X509_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
  if (!pub || p != spki.data() + spki.size()) return Invalid("subject public key is not one DER SPKI");
  if (X509_PUBKEY_get0(pub.get()) == nullptr) return Invalid("subject public key is not usable");
  PERIMETER_ASSIGN_OR_RETURN(Bytes reenc, ToDer<X509_PUBKEY>(pub.get(), i2d_X509_PUBKEY, "i2d_X509_PUBKEY"));
  if (reenc != Bytes(spki.begin(), spki.end())) return Invalid("subject public key is not DER");
  return pub;
}

// RFC 5280 4.2.1.2 method 1: SHA-1 over the subjectPublicKey BIT STRING
// contents (without tag, length and unused-bits octet).
Result<Bytes> KeyIdentifier(ByteView spki) {
  PERIMETER_ASSIGN_OR_RETURN(OsslPtr<X509_PUBKEY> pub, ParseSpki(spki));
  const unsigned char* key = nullptr;
  int key_len = 0;
  if (X509_PUBKEY_get0_param(nullptr, &key, &key_len, nullptr, pub.get()) != 1 || key == nullptr ||
      key_len <= 0) {
    return Failed("X509_PUBKEY_get0_param");
  }
  Bytes md(EVP_MAX_MD_SIZE);
  std::size_t md_len = 0;
  if (EVP_Q_digest(nullptr, "SHA1", nullptr, key, static_cast<std::size_t>(key_len), md.data(), &md_len) != 1) {
    return Failed("SHA-1 of the subject key");
  }
  md.resize(md_len);
  return md;
}

Result<OsslPtr<ASN1_OCTET_STRING>> OctetString(ByteView b) {
  OsslPtr<ASN1_OCTET_STRING> os(ASN1_OCTET_STRING_new());
  if (!os || ASN1_OCTET_STRING_set(os.get(), b.data(), static_cast<int>(b.size())) != 1) {
    return Failed("ASN1_OCTET_STRING_set");
  }
  return os;
}

bool IsDottedOid(std::string_view s) {
  if (s.empty() || s.size() > 200 || s.front() == '.' || s.back() == '.') return false;
  int dots = 0;
  char prev = '.';
  for (char c : s) {
    if (c == '.') {
      if (prev == '.') return false;
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
    prev = c;
  }
  return dots >= 1;
}

std::string DottedOid(const ASN1_OBJECT* obj) {
  char buf[256];
  const int n = OBJ_obj2txt(buf, sizeof(buf), obj, 1);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof(buf)) return {};
  return std::string(buf, static_cast<std::size_t>(n));
}

// X509V3_EXT_i2d result, checked.
Result<OsslPtr<X509_EXTENSION>> StandardExtension(int nid, bool critical, void* value, std::string_view what) {
  OsslPtr<X509_EXTENSION> ext(X509V3_EXT_i2d(nid, critical ? 1 : 0, value));
  if (!ext) return Failed(what);
  return ext;
}

Result<OsslPtr<X509_EXTENSION>> MakeExtension(const ExtensionSpec& spec, ByteView subject_spki,
                                              ByteView issuer_spki) {
  switch (spec.kind) {
    case ExtensionSpec::Kind::kBasicConstraints: {
      if (spec.path_len.has_value() && !spec.ca) return Invalid("pathLenConstraint without cA");
      OsslPtr<BASIC_CONSTRAINTS> bc(BASIC_CONSTRAINTS_new());
      if (!bc) return Failed("BASIC_CONSTRAINTS_new");
      bc->ca = spec.ca ? 0xFF : 0;
      if (spec.path_len.has_value()) {
        bc->pathlen = ASN1_INTEGER_new();
        if (bc->pathlen == nullptr || ASN1_INTEGER_set_uint64(bc->pathlen, *spec.path_len) != 1) {
          return Failed("pathLenConstraint");
        }
      }
      return StandardExtension(NID_basic_constraints, spec.critical, bc.get(), "basicConstraints");
    }
    case ExtensionSpec::Kind::kKeyUsage: {
      if (spec.key_usage == 0 || spec.key_usage > 0x1FF) return Invalid("keyUsage with no or unknown bits");
      OsslPtr<ASN1_BIT_STRING> bits(ASN1_BIT_STRING_new());
      if (!bits) return Failed("ASN1_BIT_STRING_new");
      for (int bit = 0; bit < 9; ++bit) {
        if ((spec.key_usage & (1u << bit)) != 0 && ASN1_BIT_STRING_set_bit(bits.get(), bit, 1) != 1) {
          return Failed("ASN1_BIT_STRING_set_bit");
        }
      }
      return StandardExtension(NID_key_usage, spec.critical, bits.get(), "keyUsage");
    }
    case ExtensionSpec::Kind::kSubjectKeyIdentifier: {
      PERIMETER_ASSIGN_OR_RETURN(Bytes id, KeyIdentifier(subject_spki));
      PERIMETER_ASSIGN_OR_RETURN(OsslPtr<ASN1_OCTET_STRING> os, OctetString(id));
      return StandardExtension(NID_subject_key_identifier, false, os.get(), "subjectKeyIdentifier");
    }
    case ExtensionSpec::Kind::kAuthorityKeyIdentifier: {
      PERIMETER_ASSIGN_OR_RETURN(Bytes id, KeyIdentifier(issuer_spki));
      OsslPtr<AUTHORITY_KEYID> akid(AUTHORITY_KEYID_new());
      if (!akid) return Failed("AUTHORITY_KEYID_new");
      PERIMETER_ASSIGN_OR_RETURN(OsslPtr<ASN1_OCTET_STRING> os, OctetString(id));
      akid->keyid = os.release();
      return StandardExtension(NID_authority_key_identifier, false, akid.get(), "authorityKeyIdentifier");
    }
    case ExtensionSpec::Kind::kCustom: {
      if (!IsDottedOid(spec.oid)) return Invalid("extension OID '" + spec.oid + "' is not a dotted OID");
      OsslPtr<ASN1_OBJECT> obj(OBJ_txt2obj(spec.oid.c_str(), 1));
      if (!obj) return Invalid("extension OID '" + spec.oid + "' is not a valid OID");
      PERIMETER_ASSIGN_OR_RETURN(OsslPtr<ASN1_OCTET_STRING> os, OctetString(spec.value));
      OsslPtr<X509_EXTENSION> ext(
          X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), spec.critical ? 1 : 0, os.get()));
      if (!ext) return Failed("X509_EXTENSION_create_by_OBJ");
      return ext;
    }
  }
  return Invalid("unknown extension kind");
}

// DER "Extensions" (SEQUENCE OF Extension); empty Bytes for no extensions.
Result<Bytes> EncodeExtensions(std::vector<OsslPtr<X509_EXTENSION>> exts) {
  if (exts.empty()) return Bytes();
  std::set<std::string> seen;
  OsslPtr<STACK_OF(X509_EXTENSION)> sk(sk_X509_EXTENSION_new_null());
  if (!sk) return Failed("sk_X509_EXTENSION_new_null");
  for (OsslPtr<X509_EXTENSION>& e : exts) {
    const std::string oid = DottedOid(X509_EXTENSION_get_object(e.get()));
    if (oid.empty() || !seen.insert(oid).second) return Invalid("duplicate extension " + oid);
    if (sk_X509_EXTENSION_push(sk.get(), e.get()) <= 0) return Failed("sk_X509_EXTENSION_push");
    (void)e.release();
  }
  return ToDer<X509_EXTENSIONS>(sk.get(), i2d_X509_EXTENSIONS, "i2d_X509_EXTENSIONS");
}

Bytes BitString(ByteView bits) {
  Bytes content = {0x00};  // no unused bits
  Append(content, bits);
  return Tlv(0x03, content);
}

// Signature value and both algorithm fields for `tbs`, framed as the outer
// SEQUENCE { tbs, algorithm, BIT STRING }.
Result<Bytes> SignAndFrame(const Bytes& tbs, const Bytes& alg, const Signer& signer) {
  PERIMETER_ASSIGN_OR_RETURN(Bytes sig, signer.Sign(tbs));
  Bytes body = tbs;
  Append(body, alg);
  Append(body, BitString(sig));
  return Tlv(0x30, body);
}

}  // namespace

// ---- ExtensionSpec ----

ExtensionSpec ExtensionSpec::BasicConstraints(bool ca, std::optional<std::uint32_t> path_len, bool critical) {
  ExtensionSpec e;
  e.kind = Kind::kBasicConstraints;
  e.ca = ca;
  e.path_len = path_len;
  e.critical = critical;
  return e;
}

ExtensionSpec ExtensionSpec::KeyUsage(std::uint16_t bits, bool critical) {
  ExtensionSpec e;
  e.kind = Kind::kKeyUsage;
  e.key_usage = bits;
  e.critical = critical;
  return e;
}

ExtensionSpec ExtensionSpec::SubjectKeyIdentifier() {
  ExtensionSpec e;
  e.kind = Kind::kSubjectKeyIdentifier;
  return e;
}

ExtensionSpec ExtensionSpec::AuthorityKeyIdentifier() {
  ExtensionSpec e;
  e.kind = Kind::kAuthorityKeyIdentifier;
  return e;
}

ExtensionSpec ExtensionSpec::Custom(std::string dotted_oid, Bytes value, bool critical) {
  ExtensionSpec e;
  e.kind = Kind::kCustom;
  e.oid = std::move(dotted_oid);
  e.value = std::move(value);
  e.critical = critical;
  return e;
}

// ---- Signer ----

Signer Signer::RsaPss(const RsaPrivateKey& key, RsaPssParams params) {
  Signer s;
  s.rsa_ = &key;
  s.pss_ = params;
  return s;
}

Signer Signer::Ecdsa(const EcdsaPrivateKey& key) {
  Signer s;
  s.ecdsa_ = &key;
  return s;
}

Result<Bytes> Signer::PublicKeySpki() const {
  if (rsa_ != nullptr) return rsa_->public_key().ToSpkiDer();
  if (ecdsa_ != nullptr) return ecdsa_->public_key().ToSpkiDer();
  return Invalid("signer without a key");
}

Result<Bytes> Signer::AlgorithmIdentifierDer() const {
  internal::ClearOpenSslErrors();
  OsslPtr<X509_ALGOR> alg(X509_ALGOR_new());
  if (!alg) return Failed("X509_ALGOR_new");
  if (ecdsa_ != nullptr) {
    // RFC 5758 3.2: the parameters field is absent.
    const int nid = ecdsa_->curve() == EcCurve::kP256 ? NID_ecdsa_with_SHA256 : NID_ecdsa_with_SHA384;
    PERIMETER_RETURN_IF_ERROR(SetAlgor(alg.get(), nid, V_ASN1_UNDEF, nullptr));
    return ToDer<X509_ALGOR>(alg.get(), i2d_X509_ALGOR, "i2d_X509_ALGOR");
  }
  if (rsa_ == nullptr) return Invalid("signer without a key");
  const int hash_nid = HashNid(pss_.hash);
  if (hash_nid == NID_undef) return Invalid("RSASSA-PSS hash must be SHA-256/384/512");
  // RFC 4055 3.1: RSASSA-PSS-params, every field written explicitly (AMD's
  // form: hash and MGF1 hash with NULL parameters).
  OsslPtr<RSA_PSS_PARAMS> pss(RSA_PSS_PARAMS_new());
  if (!pss) return Failed("RSA_PSS_PARAMS_new");
  pss->hashAlgorithm = X509_ALGOR_new();
  if (pss->hashAlgorithm == nullptr) return Failed("X509_ALGOR_new");
  PERIMETER_RETURN_IF_ERROR(SetAlgor(pss->hashAlgorithm, hash_nid, V_ASN1_NULL, nullptr));
  PERIMETER_ASSIGN_OR_RETURN(Bytes hash_alg_der,
                             ToDer<X509_ALGOR>(pss->hashAlgorithm, i2d_X509_ALGOR, "i2d_X509_ALGOR"));
  PERIMETER_ASSIGN_OR_RETURN(OsslPtr<ASN1_STRING> mgf_params, StringFrom(hash_alg_der));
  pss->maskGenAlgorithm = X509_ALGOR_new();
  if (pss->maskGenAlgorithm == nullptr) return Failed("X509_ALGOR_new");
  PERIMETER_RETURN_IF_ERROR(SetAlgor(pss->maskGenAlgorithm, NID_mgf1, V_ASN1_SEQUENCE, std::move(mgf_params)));
  pss->saltLength = ASN1_INTEGER_new();
  if (pss->saltLength == nullptr || ASN1_INTEGER_set_uint64(pss->saltLength, pss_.salt_length) != 1) {
    return Failed("saltLength");
  }
  if (pss_.explicit_trailer_field) {
    pss->trailerField = ASN1_INTEGER_new();
    if (pss->trailerField == nullptr || ASN1_INTEGER_set_uint64(pss->trailerField, 1) != 1) {
      return Failed("trailerField");
    }
  }
  PERIMETER_ASSIGN_OR_RETURN(Bytes params_der,
                             ToDer<RSA_PSS_PARAMS>(pss.get(), i2d_RSA_PSS_PARAMS, "i2d_RSA_PSS_PARAMS"));
  PERIMETER_ASSIGN_OR_RETURN(OsslPtr<ASN1_STRING> params, StringFrom(params_der));
  PERIMETER_RETURN_IF_ERROR(SetAlgor(alg.get(), NID_rsassaPss, V_ASN1_SEQUENCE, std::move(params)));
  return ToDer<X509_ALGOR>(alg.get(), i2d_X509_ALGOR, "i2d_X509_ALGOR");
}

Result<Bytes> Signer::Sign(ByteView tbs) const {
  if (ecdsa_ != nullptr) return ecdsa_->Sign(tbs, EcdsaSignatureFormat::kDer);
  if (rsa_ != nullptr) {
    if (HashNid(pss_.hash) == NID_undef) return Invalid("RSASSA-PSS hash must be SHA-256/384/512");
    return rsa_->SignPss(pss_.hash, pss_.hash, pss_.salt_length, tbs);
  }
  return Invalid("signer without a key");
}

// ---- Certificates ----

Result<Certificate> BuildCertificate(const CertificateTemplate& t, const Signer& signer,
                                     const Certificate* issuer_cert) {
  internal::ClearOpenSslErrors();
  if (t.not_after < t.not_before) return Invalid("notAfter before notBefore");
  PERIMETER_ASSIGN_OR_RETURN(Bytes issuer_spki, signer.PublicKeySpki());
  if (issuer_cert != nullptr && issuer_cert->SubjectPublicKeyInfoDer() != issuer_spki) {
    return Invalid("the signer's key is not the issuer certificate's key");
  }
  PERIMETER_RETURN_IF_ERROR(ParseSpki(t.subject_public_key_spki).status());

  PERIMETER_ASSIGN_OR_RETURN(Bytes alg, signer.AlgorithmIdentifierDer());
  PERIMETER_ASSIGN_OR_RETURN(Bytes serial, EncodeSerial(t.serial));
  PERIMETER_ASSIGN_OR_RETURN(Bytes issuer, EncodeName(t.issuer, "issuer"));
  PERIMETER_ASSIGN_OR_RETURN(Bytes subject, EncodeName(t.subject, "subject"));
  PERIMETER_ASSIGN_OR_RETURN(Bytes not_before, EncodeTime(t.not_before));
  PERIMETER_ASSIGN_OR_RETURN(Bytes not_after, EncodeTime(t.not_after));
  std::vector<OsslPtr<X509_EXTENSION>> exts;
  for (const ExtensionSpec& spec : t.extensions) {
    PERIMETER_ASSIGN_OR_RETURN(OsslPtr<X509_EXTENSION> e,
                               MakeExtension(spec, t.subject_public_key_spki, issuer_spki));
    exts.push_back(std::move(e));
  }
  PERIMETER_ASSIGN_OR_RETURN(Bytes extensions, EncodeExtensions(std::move(exts)));

  // RFC 5280 4.1: TBSCertificate.
  Bytes body;
  AppendTlv(body, 0xA0, Bytes{0x02, 0x01, 0x02});  // [0] EXPLICIT version v3
  Append(body, serial);
  Append(body, alg);
  Append(body, issuer);
  Bytes validity = not_before;
  Append(validity, not_after);
  AppendTlv(body, 0x30, validity);
  Append(body, subject);
  Append(body, t.subject_public_key_spki);
  if (!extensions.empty()) AppendTlv(body, 0xA3, extensions);  // [3] EXPLICIT
  const Bytes tbs = Tlv(0x30, body);
  PERIMETER_ASSIGN_OR_RETURN(Bytes der, SignAndFrame(tbs, alg, signer));

  Result<Certificate> cert = Certificate::FromDer(der);
  if (!cert.has_value()) {
    // A custom extension value OpenSSL knows (e.g. a hand-made
    // basicConstraints) can make the result unparsable.
    return Invalid("the built certificate does not parse: " + std::string(cert.error().message()));
  }
  const Certificate& issuer_for_check = issuer_cert != nullptr ? *issuer_cert : *cert;
  if (cert->Issuer() != issuer_for_check.Subject()) {
    return Invalid("the template's issuer name is not the issuer certificate's subject");
  }
  if (Status s = cert->VerifySignedBy(issuer_for_check); !s.ok()) {
    return InternalError(kX509BuildFailed, "crypto: x509 builder: the built certificate does not verify: " +
                                               std::string(s.message()));
  }
  return cert;
}

// ---- CRLs ----

Result<Crl> BuildCrl(const CrlTemplate& t, const Signer& signer, const Certificate& issuer_cert) {
  internal::ClearOpenSslErrors();
  if (t.next_update < t.this_update) return Invalid("nextUpdate before thisUpdate");
  PERIMETER_ASSIGN_OR_RETURN(Bytes issuer_spki, signer.PublicKeySpki());
  if (issuer_cert.SubjectPublicKeyInfoDer() != issuer_spki) {
    return Invalid("the signer's key is not the issuer certificate's key");
  }
  PERIMETER_ASSIGN_OR_RETURN(Bytes alg, signer.AlgorithmIdentifierDer());
  PERIMETER_ASSIGN_OR_RETURN(Bytes issuer, EncodeName(t.issuer, "issuer"));
  PERIMETER_ASSIGN_OR_RETURN(Bytes this_update, EncodeTime(t.this_update));
  PERIMETER_ASSIGN_OR_RETURN(Bytes next_update, EncodeTime(t.next_update));

  Bytes revoked;
  std::set<Bytes> seen_serials;
  for (const RevokedEntry& r : t.revoked) {
    PERIMETER_ASSIGN_OR_RETURN(Bytes serial, EncodeSerial(r.serial));
    if (!seen_serials.insert(serial).second) return Invalid("serial listed twice");
    PERIMETER_ASSIGN_OR_RETURN(Bytes date, EncodeTime(r.revocation_date));
    Bytes entry = serial;
    Append(entry, date);
    AppendTlv(revoked, 0x30, entry);
  }

  std::vector<OsslPtr<X509_EXTENSION>> exts;
  if (t.authority_key_identifier) {
    PERIMETER_ASSIGN_OR_RETURN(OsslPtr<X509_EXTENSION> e,
                               MakeExtension(ExtensionSpec::AuthorityKeyIdentifier(), {}, issuer_spki));
    exts.push_back(std::move(e));
  }
  if (t.crl_number.has_value()) {
    OsslPtr<ASN1_INTEGER> n(ASN1_INTEGER_new());
    if (!n || ASN1_INTEGER_set_uint64(n.get(), *t.crl_number) != 1) return Failed("crlNumber");
    PERIMETER_ASSIGN_OR_RETURN(OsslPtr<X509_EXTENSION> e,
                               StandardExtension(NID_crl_number, false, n.get(), "crlNumber"));
    exts.push_back(std::move(e));
  }
  PERIMETER_ASSIGN_OR_RETURN(Bytes extensions, EncodeExtensions(std::move(exts)));

  // RFC 5280 5.1: TBSCertList, version v2.
  Bytes body = {0x02, 0x01, 0x01};
  Append(body, alg);
  Append(body, issuer);
  Append(body, this_update);
  Append(body, next_update);
  if (!revoked.empty()) AppendTlv(body, 0x30, revoked);
  if (!extensions.empty()) AppendTlv(body, 0xA0, extensions);  // [0] EXPLICIT
  const Bytes tbs = Tlv(0x30, body);
  PERIMETER_ASSIGN_OR_RETURN(Bytes der, SignAndFrame(tbs, alg, signer));

  Result<Crl> crl = Crl::FromDer(der);
  if (!crl.has_value()) {
    return InternalError(kX509BuildFailed,
                         "crypto: x509 builder: the built CRL does not parse: " + std::string(crl.error().message()));
  }
  if (Status s = crl->VerifySignedBy(issuer_cert); !s.ok()) {
    if (crl->Issuer() != issuer_cert.Subject()) {
      return Invalid("the template's issuer name is not the issuer certificate's subject");
    }
    return InvalidArgumentError(kX509BuildInvalid, "crypto: x509 builder: the built CRL does not verify "
                                                   "under the issuer (cRLSign missing?): " +
                                                       std::string(s.message()));
  }
  return crl;
}

}  // namespace perimeter::crypto
