// VCEK/VLEK certificate extensions. See vek_certificate.h for the facts about
// AMD's certificates this code relies on and the test data that shows them.
#include "perimeter/attest/snp/vek_certificate.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "perimeter/attest/snp/amd_roots.h"

namespace perimeter::attest::snp {

namespace oid = crypto::amd_oid;

namespace {

Status Missing(std::string_view name, std::string_view dotted) {
  return InvalidArgumentError(kVekMissingExtension,
                              "SEV-SNP: VEK certificate lacks the " + std::string(name) +
                                  " extension (" + std::string(dotted) + ")");
}

Status Bad(std::string_view name, std::string_view why) {
  return InvalidArgumentError(kVekBadExtension, "SEV-SNP: VEK certificate extension " +
                                                    std::string(name) + ": " + std::string(why));
}

// An SPL extension: a DER INTEGER in 0..255.
Result<std::optional<std::uint8_t>> ReadSpl(const crypto::Certificate& cert,
                                            std::string_view dotted, std::string_view name) {
  std::optional<Bytes> raw = cert.ExtensionValue(dotted);
  if (!raw.has_value()) return std::optional<std::uint8_t>();
  Result<std::uint64_t> v = crypto::DecodeDerInteger(*raw);
  if (!v.ok()) return Bad(name, "not a DER INTEGER");
  if (*v > 0xFF) return Bad(name, "value " + std::to_string(*v) + " exceeds 255");
  return std::optional<std::uint8_t>(static_cast<std::uint8_t>(*v));
}

Result<std::uint8_t> RequireSpl(const crypto::Certificate& cert, std::string_view dotted,
                                std::string_view name) {
  PERIMETER_ASSIGN_OR_RETURN(std::optional<std::uint8_t> v, ReadSpl(cert, dotted, name));
  if (!v.has_value()) return Missing(name, dotted);
  return *v;
}

Status ForbidSpl(const crypto::Certificate& cert, std::string_view dotted,
                 std::string_view name, std::string_view product) {
  if (cert.ExtensionValue(dotted).has_value()) {
    return Bad(name, "not defined for " + std::string(product));
  }
  return Status::Ok();
}

// hwID: the raw chip id of `size` bytes, or (tolerated) a DER OCTET STRING
// wrapping exactly `size` bytes. The two forms cannot be confused: the
// wrapped form is always 2 bytes longer than the raw one.
Result<Bytes> DecodeHwId(ByteView raw, std::size_t size) {
  if (raw.size() == size) return ToBytes(raw);
  Result<Bytes> inner = crypto::DecodeDerOctetString(raw);
  if (inner.ok() && inner->size() == size) return std::move(inner).value();
  return Bad("hwID", "expected " + std::to_string(size) + " bytes, got " +
                         std::to_string(raw.size()));
}

std::uint64_t PackTcb(Product product, const VekSpl& s) {
  auto b = [](std::uint8_t v, int byte) {
    return static_cast<std::uint64_t>(v) << (8 * byte);
  };
  if (product == Product::kTurin) {
    return b(s.fmc.value_or(0), 0) | b(s.bl, 1) | b(s.tee, 2) | b(s.snp, 3) | b(s.spl5, 4) |
           b(s.spl6, 5) | b(s.spl7, 6) | b(s.ucode, 7);
  }
  return b(s.bl, 0) | b(s.tee, 1) | b(s.spl4.value_or(0), 2) | b(s.spl5, 3) | b(s.spl6, 4) |
         b(s.spl7, 5) | b(s.snp, 6) | b(s.ucode, 7);
}

// One DER TLV with a low tag number and a definite length, taken from the
// front of `in`. The certificate was already checked to be DER by
// crypto::Certificate; this re-walk only needs to be safe, not complete.
struct Tlv {
  std::uint8_t tag;
  ByteView content;
};
std::optional<Tlv> ReadTlv(ByteView& in) {
  if (in.size() < 2 || (in[0] & 0x1F) == 0x1F) return std::nullopt;
  const std::uint8_t tag = in[0];
  std::size_t len = in[1];
  std::size_t header = 2;
  if (len & 0x80) {
    const std::size_t n = len & 0x7F;
    if (n == 0 || n > 4 || in.size() < 2 + n) return std::nullopt;
    len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | in[2 + i];
    header += n;
  }
  if (in.size() - header < len) return std::nullopt;
  Tlv t{tag, in.subspan(header, len)};
  in = in.subspan(header + len);
  return t;
}

// crypto::Certificate rejects duplicates only among the extensions OpenSSL
// knows, not AMD's private ones, and ExtensionValue() returns the first of
// several. A second copy of e.g. an SPL would let two verifiers read two
// different TCBs from one certificate, so every extension OID must be unique
// (RFC 5280 section 4.2).
Status CheckNoDuplicateExtensions(const crypto::Certificate& cert) {
  const Status unreadable = Bad("extensions", "unreadable certificate structure");
  ByteView der(cert.ToDer());
  std::optional<Tlv> outer = ReadTlv(der);
  if (!outer || outer->tag != 0x30) return unreadable;
  ByteView body = outer->content;
  std::optional<Tlv> tbs = ReadTlv(body);
  if (!tbs || tbs->tag != 0x30) return unreadable;
  ByteView fields = tbs->content;
  std::optional<Tlv> ext_field;
  while (!fields.empty()) {
    std::optional<Tlv> f = ReadTlv(fields);
    if (!f) return unreadable;
    if (f->tag == 0xA3) ext_field = f;
  }
  if (!ext_field) return Status::Ok();  // no extensions: reported as missing later
  ByteView wrapper = ext_field->content;
  std::optional<Tlv> list = ReadTlv(wrapper);
  if (!list || list->tag != 0x30 || !wrapper.empty()) return unreadable;
  std::vector<ByteView> seen;
  ByteView items = list->content;
  while (!items.empty()) {
    std::optional<Tlv> ext = ReadTlv(items);
    if (!ext || ext->tag != 0x30) return unreadable;
    ByteView ext_body = ext->content;
    std::optional<Tlv> ext_oid = ReadTlv(ext_body);
    if (!ext_oid || ext_oid->tag != 0x06) return unreadable;
    for (ByteView prior : seen) {
      if (std::equal(prior.begin(), prior.end(), ext_oid->content.begin(),
                     ext_oid->content.end())) {
        return Bad("extensions", "an extension appears more than once");
      }
    }
    seen.push_back(ext_oid->content);
  }
  return Status::Ok();
}

// productName is "<Product>" or "<Product>-<stepping>" ("Milan-B0").
Product ProductFromProductName(std::string_view name) {
  const std::string_view line = name.substr(0, name.find('-'));
  for (Product p : {Product::kMilan, Product::kGenoa, Product::kTurin}) {
    if (line == ProductName(p)) return p;
  }
  return Product::kUnknown;
}

}  // namespace

std::string_view VekKindName(VekKind kind) {
  return kind == VekKind::kVcek ? "VCEK" : "VLEK";
}

Result<VekInfo> ParseVekCertificate(const crypto::Certificate& cert) {
  // 1. Kind, from hwID / cspID, cross-checked with the subject CN.
  const std::optional<Bytes> hw_id_raw = cert.ExtensionValue(oid::kHwId);
  const std::optional<Bytes> csp_id_raw = cert.ExtensionValue(oid::kCspId);
  if (hw_id_raw.has_value() == csp_id_raw.has_value()) {
    return InvalidArgumentError(
        kVekUnknownKind, hw_id_raw.has_value()
                             ? "SEV-SNP: VEK certificate has both hwID and cspID"
                             : "SEV-SNP: VEK certificate has neither hwID (VCEK) nor cspID (VLEK)");
  }
  const VekKind kind = hw_id_raw.has_value() ? VekKind::kVcek : VekKind::kVlek;
  const std::string_view want_cn = kind == VekKind::kVcek ? kVcekSubjectCn : kVlekSubjectCn;
  const std::optional<std::string> cn = SubjectCommonName(cert);
  if (!cn.has_value() || *cn != want_cn) {
    return InvalidArgumentError(kVekUnknownKind,
                                "SEV-SNP: VEK certificate with " +
                                    std::string(kind == VekKind::kVcek ? "hwID" : "cspID") +
                                    " has subject CN '" + cn.value_or("") + "', expected '" +
                                    std::string(want_cn) + "'");
  }

  PERIMETER_RETURN_IF_ERROR(CheckNoDuplicateExtensions(cert));

  // 2. Key: ECDSA P-384 only.
  if (cert.KeyAlgorithm() != crypto::PublicKeyAlgorithm::kEcP384) {
    return InvalidArgumentError(kVekBadKey,
                                "SEV-SNP: VEK certificate key is not ECDSA P-384");
  }
  Result<crypto::EcdsaPublicKey> public_key = crypto::EcdsaPublicKey::FromSpkiDer(cert.SubjectPublicKeyInfoDer());
  if (!public_key.ok() || public_key->curve() != crypto::EcCurve::kP384) {
    return InvalidArgumentError(kVekBadKey, "SEV-SNP: VEK certificate key does not import");
  }

  // 3. productName -> product.
  const std::optional<Bytes> name_raw = cert.ExtensionValue(oid::kProductName);
  if (!name_raw.has_value()) return Missing("productName", oid::kProductName);
  Result<std::string> product_name = crypto::DecodeDerIA5String(*name_raw);
  if (!product_name.ok()) return Bad("productName", "not a DER IA5String");
  const Product product = ProductFromProductName(*product_name);
  if (product == Product::kUnknown) {
    return Bad("productName", "unknown product '" + *product_name + "'");
  }
  const bool turin = product == Product::kTurin;
  const std::string_view line = ProductName(product);

  // 4. structVersion.
  PERIMETER_ASSIGN_OR_RETURN(const std::uint8_t struct_version,
                             RequireSpl(cert, oid::kStructVersion, "structVersion"));

  // 5. SPLs, exactly the product's set.
  VekSpl spl;
  PERIMETER_ASSIGN_OR_RETURN(spl.bl, RequireSpl(cert, oid::kBlSpl, "blSPL"));
  PERIMETER_ASSIGN_OR_RETURN(spl.tee, RequireSpl(cert, oid::kTeeSpl, "teeSPL"));
  PERIMETER_ASSIGN_OR_RETURN(spl.snp, RequireSpl(cert, oid::kSnpSpl, "snpSPL"));
  PERIMETER_ASSIGN_OR_RETURN(spl.spl5, RequireSpl(cert, oid::kSpl5, "spl5"));
  PERIMETER_ASSIGN_OR_RETURN(spl.spl6, RequireSpl(cert, oid::kSpl6, "spl6"));
  PERIMETER_ASSIGN_OR_RETURN(spl.spl7, RequireSpl(cert, oid::kSpl7, "spl7"));
  PERIMETER_ASSIGN_OR_RETURN(spl.ucode, RequireSpl(cert, oid::kUcodeSpl, "ucodeSPL"));
  if (turin) {
    PERIMETER_RETURN_IF_ERROR(ForbidSpl(cert, oid::kSpl4, "spl4", line));
    PERIMETER_ASSIGN_OR_RETURN(spl.fmc, RequireSpl(cert, oid::kFmcSpl, "fmcSPL"));
  } else {
    PERIMETER_RETURN_IF_ERROR(ForbidSpl(cert, oid::kFmcSpl, "fmcSPL", line));
    PERIMETER_ASSIGN_OR_RETURN(spl.spl4, RequireSpl(cert, oid::kSpl4, "spl4"));
  }

  // 6. hwID (VCEK) or cspID (VLEK).
  std::optional<Bytes> hw_id;
  std::optional<std::string> csp_id;
  if (kind == VekKind::kVcek) {
    PERIMETER_ASSIGN_OR_RETURN(
        hw_id, DecodeHwId(*hw_id_raw, turin ? kHwIdSizeTurin : kHwIdSizeMilanGenoa));
  } else {
    Result<std::string> csp = crypto::DecodeDerIA5String(*csp_id_raw);
    if (!csp.ok()) return Bad("cspID", "not a DER IA5String");
    if (csp->empty()) return Bad("cspID", "empty");
    csp_id = std::move(csp).value();
  }

  return VekInfo{
      .kind = kind,
      .product = product,
      .product_name = std::move(product_name).value(),
      .struct_version = struct_version,
      .hw_id = std::move(hw_id),
      .csp_id = std::move(csp_id),
      .spl = spl,
      .reported_tcb_raw = PackTcb(product, spl),
      .cert = cert,
      .public_key = std::move(public_key).value(),
  };
}

Result<crypto::EcdsaPublicKey> VekPublicKey(const VekInfo& info) { return info.public_key; }

}  // namespace perimeter::attest::snp
