#include "attest/snp/testing/cert_builder.h"

#include <algorithm>
#include <charconv>

#include "perimeter/crypto/x509.h"

namespace perimeter::attest::snp::testing {

namespace oid = crypto::amd_oid;

namespace {

constexpr std::string_view kRsaPssOid = "1.2.840.113549.1.1.10";
constexpr std::string_view kMgf1Oid = "1.2.840.113549.1.1.8";
constexpr std::string_view kSha384Oid = "2.16.840.1.101.3.4.2.2";
constexpr std::string_view kEcdsaSha384Oid = "1.2.840.10045.4.3.3";

Bytes Concat(const std::vector<Bytes>& items) {
  Bytes out;
  for (const Bytes& b : items) Append(out, b);
  return out;
}

void AppendBase128(Bytes& out, std::uint64_t v) {
  std::uint8_t tmp[10];
  int n = 0;
  do {
    tmp[n++] = static_cast<std::uint8_t>(v & 0x7F);
    v >>= 7;
  } while (v != 0);
  while (n > 0) {
    --n;
    out.push_back(static_cast<std::uint8_t>(tmp[n] | (n > 0 ? 0x80 : 0x00)));
  }
}

Bytes Rdn(std::string_view attr_oid, Bytes value) {
  return DerTlv(0x31, DerSequence({DerOid(attr_oid), std::move(value)}));
}

// AMD's name shape: OU, C, L, ST, O, CN (printed most specific first).
Bytes AmdName(std::string_view cn) {
  return DerSequence({
      Rdn("2.5.4.11", DerUtf8String("Engineering")),
      Rdn("2.5.4.6", DerTlv(0x13, AsBytes("US"))),
      Rdn("2.5.4.7", DerUtf8String("Santa Clara")),
      Rdn("2.5.4.8", DerUtf8String("CA")),
      Rdn("2.5.4.10", DerUtf8String("Advanced Micro Devices")),
      Rdn("2.5.4.3", DerUtf8String(cn)),
  });
}

Bytes HashAlgSha384() { return DerSequence({DerOid(kSha384Oid), DerTlv(0x05, {})}); }

Bytes PssAlgorithm() {
  return DerSequence({
      DerOid(kRsaPssOid),
      DerSequence({
          DerTlv(0xA0, HashAlgSha384()),
          DerTlv(0xA1, DerSequence({DerOid(kMgf1Oid), HashAlgSha384()})),
          DerTlv(0xA2, DerInteger(48)),
      }),
  });
}

Bytes EcdsaAlgorithm() { return DerSequence({DerOid(kEcdsaSha384Oid)}); }

Bytes Tbs(const CertTemplate& t, const Bytes& sig_alg) {
  std::vector<Bytes> exts;
  for (const Extension& e : t.extensions) {
    std::vector<Bytes> parts = {DerOid(e.oid)};
    if (e.critical) parts.push_back(DerTlv(0x01, Bytes{0xFF}));
    parts.push_back(DerOctetString(e.value));
    exts.push_back(DerSequence(parts));
  }
  std::vector<Bytes> tbs = {
      DerTlv(0xA0, DerInteger(2)),
      DerInteger(t.serial),
      sig_alg,
      AmdName(t.issuer_cn),
      DerSequence({DerTlv(0x17, AsBytes(t.not_before)), DerTlv(0x17, AsBytes(t.not_after))}),
      AmdName(t.subject_cn),
      t.subject_spki_der,
  };
  if (!exts.empty()) tbs.push_back(DerTlv(0xA3, DerSequence(exts)));
  return DerSequence(tbs);
}

Bytes Assemble(const Bytes& tbs, const Bytes& sig_alg, const Bytes& sig) {
  Bytes bits = {0x00};
  Append(bits, sig);
  return DerSequence({tbs, sig_alg, DerTlv(0x03, bits)});
}

}  // namespace

Bytes DerTlv(std::uint8_t tag, ByteView content) {
  Bytes out = {tag};
  const std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else {
    Bytes len;
    for (std::size_t v = n; v != 0; v >>= 8) len.insert(len.begin(), static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(0x80 | len.size()));
    Append(out, len);
  }
  Append(out, content);
  return out;
}

Bytes DerSequence(const std::vector<Bytes>& items) { return DerTlv(0x30, Concat(items)); }

Bytes DerOid(std::string_view dotted) {
  std::vector<std::uint64_t> arcs;
  while (!dotted.empty()) {
    const std::size_t dot = dotted.find('.');
    const std::string_view part = dotted.substr(0, dot);
    std::uint64_t v = 0;
    std::from_chars(part.data(), part.data() + part.size(), v);
    arcs.push_back(v);
    if (dot == std::string_view::npos) break;
    dotted.remove_prefix(dot + 1);
  }
  Bytes body;
  AppendBase128(body, arcs.at(0) * 40 + arcs.at(1));
  for (std::size_t i = 2; i < arcs.size(); ++i) AppendBase128(body, arcs[i]);
  return DerTlv(0x06, body);
}

Bytes DerInteger(std::uint64_t value) {
  Bytes body;
  for (std::uint64_t v = value; v != 0; v >>= 8) {
    body.insert(body.begin(), static_cast<std::uint8_t>(v));
  }
  if (body.empty() || (body.front() & 0x80) != 0) body.insert(body.begin(), 0x00);
  return DerTlv(0x02, body);
}

Bytes DerIA5String(std::string_view s) { return DerTlv(0x16, AsBytes(s)); }
Bytes DerUtf8String(std::string_view s) { return DerTlv(0x0C, AsBytes(s)); }
Bytes DerOctetString(ByteView b) { return DerTlv(0x04, b); }

Result<Bytes> SignRsaPss(const CertTemplate& t, const crypto::RsaPrivateKey& issuer_key) {
  const Bytes alg = PssAlgorithm();
  const Bytes tbs = Tbs(t, alg);
  PERIMETER_ASSIGN_OR_RETURN(
      Bytes sig,
      issuer_key.SignPss(crypto::HashAlg::kSha384, crypto::HashAlg::kSha384, 48, tbs));
  return Assemble(tbs, alg, sig);
}

Result<Bytes> SignEcdsa(const CertTemplate& t, const crypto::EcdsaPrivateKey& issuer_key) {
  const Bytes alg = EcdsaAlgorithm();
  const Bytes tbs = Tbs(t, alg);
  PERIMETER_ASSIGN_OR_RETURN(Bytes sig, issuer_key.Sign(tbs, crypto::EcdsaSignatureFormat::kDer));
  return Assemble(tbs, alg, sig);
}

std::vector<Extension> AmdVekExtensions(const VekSpec& s) {
  const bool turin = s.product == Product::kTurin;
  std::vector<Extension> e;
  e.push_back({std::string(oid::kStructVersion), DerInteger(turin ? 1 : 0)});
  e.push_back({std::string(oid::kProductName), DerIA5String(s.product_name)});
  if (turin) e.push_back({std::string(oid::kFmcSpl), DerInteger(s.fmc)});
  e.push_back({std::string(oid::kBlSpl), DerInteger(s.bl)});
  e.push_back({std::string(oid::kTeeSpl), DerInteger(s.tee)});
  if (turin) e.push_back({std::string(oid::kSnpSpl), DerInteger(s.snp)});
  if (!turin) e.push_back({std::string(oid::kSpl4), DerInteger(0)});
  e.push_back({std::string(oid::kSpl5), DerInteger(0)});
  e.push_back({std::string(oid::kSpl6), DerInteger(0)});
  e.push_back({std::string(oid::kSpl7), DerInteger(0)});
  if (!turin) e.push_back({std::string(oid::kSnpSpl), DerInteger(s.snp)});
  e.push_back({std::string(oid::kUcodeSpl), DerInteger(s.ucode)});
  if (s.vlek) {
    e.push_back({std::string(oid::kCspId), DerIA5String(s.csp_id)});
  } else {
    e.push_back({std::string(oid::kHwId), s.hw_id});
  }
  return e;
}

std::vector<Extension> Without(std::vector<Extension> exts, std::string_view o) {
  std::erase_if(exts, [&](const Extension& e) { return e.oid == o; });
  return exts;
}

std::vector<Extension> WithValue(std::vector<Extension> exts, std::string_view o, Bytes value) {
  for (Extension& e : exts) {
    if (e.oid == o) {
      e.value = std::move(value);
      return exts;
    }
  }
  exts.push_back({std::string(o), std::move(value)});
  return exts;
}

}  // namespace perimeter::attest::snp::testing
