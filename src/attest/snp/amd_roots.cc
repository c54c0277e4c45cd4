// AMD's embedded SEV-SNP roots and ARK pinning. See amd_roots.h.
//
// The PEM text comes from src/attest/snp/roots/<product>_ask_ark_asvk.pem
// through the generated amd_roots_data.cc (src/attest/CMakeLists.txt). Each
// file is a bundle [ASK, ARK, ASVK] (the order of trustee's copies; KDS
// cert_chain responses are [ASK or ASVK, ARK]).
#include "perimeter/attest/snp/amd_roots.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "perimeter/base/bytes.h"
#include "perimeter/crypto/hash.h"

namespace perimeter::attest::snp {

namespace internal {
std::string_view EmbeddedMilanRootsPem();
std::string_view EmbeddedGenoaRootsPem();
std::string_view EmbeddedTurinRootsPem();
}  // namespace internal

namespace {

// SHA-384 of each ARK's DER SubjectPublicKeyInfo, computed from AMD's
// certificates in src/attest/snp/roots/. To recompute (the ARK is the second
// certificate of each bundle):
//   awk '/BEGIN CERT/{n++} n==2' milan_ask_ark_asvk.pem |
//     openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha384sum
// The same values follow from tests/testdata/snp/amd-roots/ask_ark_<p>.pem.
constexpr std::array<ArkPin, 3> kArkPins = {{
    {Product::kMilan,
     "1249f67f15cf229a4069195e1a9ce537d1765ef706a1f4a123c36be9518786515d25ecc007f366b564d2b3f31c48082e"},
    {Product::kGenoa,
     "32ab53a6ce5ec14926207396e5c475ae768a6a9831b7e860b5acf2e1c1dff222bc5a8bfc43eb5e06393189c1f246d880"},
    {Product::kTurin,
     "3475f08a9727f8ac9a1deaea5f2a2097aa59d64d05c2a678c229c873e6359d3a6926287a2a22cd5f88a385e333a2fcc5"},
}};

constexpr std::array<Product, 3> kProducts = {Product::kMilan, Product::kGenoa,
                                              Product::kTurin};

std::string WithProduct(std::string_view prefix, Product product) {
  if (product == Product::kUnknown) return std::string();
  return std::string(prefix) + std::string(ProductName(product));
}

// The single CN of an RFC 2253 name string as Certificate::Subject() prints
// it. Escapes and multi-valued RDNs are refused rather than interpreted.
std::optional<std::string> CommonNameOf(std::string_view rfc2253) {
  if (rfc2253.find_first_of("\\+\"") != std::string_view::npos) return std::nullopt;
  std::optional<std::string> cn;
  while (!rfc2253.empty()) {
    const std::size_t comma = rfc2253.find(',');
    const std::string_view rdn = rfc2253.substr(0, comma);
    if (rdn.starts_with("CN=")) {
      if (cn.has_value()) return std::nullopt;  // more than one CN
      cn = std::string(rdn.substr(3));
    }
    if (comma == std::string_view::npos) break;
    rfc2253.remove_prefix(comma + 1);
  }
  return cn;
}

[[noreturn]] void DieCorrupt(Product product, std::string_view what) {
  std::fprintf(stderr, "SEV-SNP: embedded AMD roots for %.*s are corrupt: %.*s\n",
               static_cast<int>(ProductName(product).size()), ProductName(product).data(),
               static_cast<int>(what.size()), what.data());
  std::abort();
}

std::string_view EmbeddedPem(Product product) {
  switch (product) {
    case Product::kMilan:
      return internal::EmbeddedMilanRootsPem();
    case Product::kGenoa:
      return internal::EmbeddedGenoaRootsPem();
    case Product::kTurin:
      return internal::EmbeddedTurinRootsPem();
    case Product::kUnknown:
      break;
  }
  return {};
}

void CheckIntermediate(Product p, const crypto::Certificate& cert,
                       const crypto::Certificate& ark, const std::string& want_cn) {
  if (SubjectCommonName(cert) != want_cn) DieCorrupt(p, "unexpected name for " + want_cn);
  if (cert.Issuer() != ark.Subject()) DieCorrupt(p, want_cn + " not issued by the ARK");
  if (!cert.IsCa()) DieCorrupt(p, want_cn + " is not a CA");
  if (!cert.VerifySignedBy(ark).ok()) DieCorrupt(p, want_cn + " not signed by the ARK");
}

AmdRootSet LoadRootSet(Product p) {
  Result<std::vector<crypto::Certificate>> certs =
      crypto::Certificate::ParsePemBundle(EmbeddedPem(p));
  if (!certs.ok()) DieCorrupt(p, certs.error().ToString());
  if (certs->size() != 3) DieCorrupt(p, "expected [ASK, ARK, ASVK]");
  AmdRootSet set{p, (*certs)[1], (*certs)[0], (*certs)[2]};
  Product pinned = Product::kUnknown;
  if (!IsPinnedAmdArk(set.ark, &pinned) || pinned != p) DieCorrupt(p, "ARK does not match its pin");
  CheckIntermediate(p, set.ask, set.ark, AskCommonName(p));
  CheckIntermediate(p, set.asvk, set.ark, AsvkCommonName(p));
  return set;
}

struct LoadedRoots {
  std::vector<AmdRootSet> sets;          // kProducts order
  std::vector<crypto::Certificate> arks;  // kProducts order
};

const LoadedRoots& Loaded() {
  static const LoadedRoots loaded = [] {
    LoadedRoots l;
    for (Product p : kProducts) {
      l.sets.push_back(LoadRootSet(p));
      l.arks.push_back(l.sets.back().ark);
    }
    return l;
  }();
  return loaded;
}

Status Malformed(std::string_view what) {
  return InvalidArgumentError(kChainMalformed,
                              "SEV-SNP: malformed KDS cert_chain: " + std::string(what));
}

}  // namespace

std::string ArkCommonName(Product product) { return WithProduct("ARK-", product); }
std::string AskCommonName(Product product) { return WithProduct("SEV-", product); }
std::string AsvkCommonName(Product product) { return WithProduct("SEV-VLEK-", product); }

std::optional<std::string> SubjectCommonName(const crypto::Certificate& cert) {
  return CommonNameOf(cert.Subject());
}
std::optional<std::string> IssuerCommonName(const crypto::Certificate& cert) {
  return CommonNameOf(cert.Issuer());
}

const AmdRootSet& AmdRoots(Product product) {
  const LoadedRoots& l = Loaded();
  for (const AmdRootSet& set : l.sets) {
    if (set.product == product) return set;
  }
  std::fprintf(stderr, "SEV-SNP: AmdRoots() called for an unknown product\n");
  std::abort();
}

std::span<const AmdRootSet> AllAmdRoots() { return Loaded().sets; }

std::span<const crypto::Certificate> AmdArks() { return Loaded().arks; }

std::span<const ArkPin> AmdArkPins() { return kArkPins; }

bool IsPinnedAmdArk(const crypto::Certificate& cert, Product* product_out) {
  Result<Bytes> digest = crypto::Hash(crypto::HashAlg::kSha384, cert.SubjectPublicKeyInfoDer());
  if (!digest.ok()) return false;
  const std::string hex = HexEncode(*digest);
  for (const ArkPin& pin : kArkPins) {
    if (hex != pin.spki_sha384_hex) continue;
    // The key is AMD's; the certificate must also be the ARK's own shape.
    if (cert.Subject() != cert.Issuer()) return false;
    if (SubjectCommonName(cert) != ArkCommonName(pin.product)) return false;
    if (!cert.VerifySignedBy(cert).ok()) return false;
    if (product_out != nullptr) *product_out = pin.product;
    return true;
  }
  return false;
}

Result<Product> ProductFromArk(const crypto::Certificate& cert) {
  Product product = Product::kUnknown;
  if (!IsPinnedAmdArk(cert, &product)) {
    return UnauthenticatedError(
        kArkNotPinned, "SEV-SNP: certificate '" + cert.Subject() + "' is not a pinned AMD ARK");
  }
  return product;
}

Result<AmdChain> ParseKdsChain(std::string_view pem) {
  Result<std::vector<crypto::Certificate>> certs = crypto::Certificate::ParsePemBundle(pem);
  if (!certs.ok()) return Malformed(certs.error().message());
  if (certs->size() != 2) {
    return Malformed("expected 2 certificates (ASK or ASVK, then ARK), got " +
                     std::to_string(certs->size()));
  }
  const crypto::Certificate& inter = (*certs)[0];
  const crypto::Certificate& ark = (*certs)[1];
  if (ark.Subject() != ark.Issuer()) {
    return Malformed("the second certificate is not a self-issued ARK");
  }
  const std::optional<std::string> ark_cn = SubjectCommonName(ark);
  Product product = Product::kUnknown;
  for (Product p : kProducts) {
    if (ark_cn == ArkCommonName(p)) product = p;
  }
  if (product == Product::kUnknown) {
    return Malformed("ARK subject CN '" + ark_cn.value_or("") + "' names no known product");
  }
  const std::optional<std::string> inter_cn = SubjectCommonName(inter);
  const bool is_ask = inter_cn == AskCommonName(product);
  const bool is_asvk = inter_cn == AsvkCommonName(product);
  if (!is_ask && !is_asvk) {
    return Malformed("first certificate CN '" + inter_cn.value_or("") + "' is not " +
                     AskCommonName(product) + " or " + AsvkCommonName(product));
  }
  if (inter.Issuer() != ark.Subject()) {
    return Malformed("the first certificate is not issued by the ARK");
  }
  return AmdChain{inter, ark, product, is_asvk};
}

}  // namespace perimeter::attest::snp
