#include "perimeter/attest/snp/verifier.h"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "perimeter/attest/snp/amd_roots.h"
#include "perimeter/crypto/constant_time.h"
#include "perimeter/crypto/ecdsa.h"
#include "perimeter/crypto/hash.h"

namespace perimeter::attest::snp {
namespace {

struct StepInfo {
  const char* id;
  const char* title;
};

// The checklist of docs/snp-verification.md, in order.
constexpr std::array<StepInfo, 11> kSteps = {{
    {"snp.report_format", "report size, version and format"},
    {"snp.product", "product identified (report CPUID, VEK productName, chain agree)"},
    {"snp.ark_trusted", "ARK is a trusted root and self-signed"},
    {"snp.ask_signed", "ASK/ASVK signed by the ARK"},
    {"snp.vek_signed", "VCEK/VLEK signed by the ASK/ASVK"},
    {"snp.chain_valid", "certificates valid at the verification time"},
    {"snp.crl", "CRL signed by the ARK, current, revokes neither"},
    {"snp.report_signature", "report signature (ECDSA P-384/SHA-384 over 0x000-0x29F)"},
    {"snp.signing_key", "SIGNING_KEY agrees with the certificate kind"},
    {"snp.chip_id", "CHIP_ID equals the VCEK hwID"},
    {"snp.reported_tcb", "REPORTED_TCB equals the VEK TCB"},
}};

// Runs the checklist, one step at a time, stopping at the first failure.
class Checklist {
 public:
  explicit Checklist(Verdict& verdict) : verdict_(verdict) {}

  // Records the outcome of the next step. Returns false if it failed.
  bool Pass(std::string detail = {}) { return Record(CheckResult::kPassed, {}, std::move(detail)); }
  bool Fail(std::string_view reason, std::string detail) {
    return Record(CheckResult::kFailed, std::string(reason), std::move(detail));
  }
  bool NotApplicable(std::string detail) { return Record(CheckResult::kNotApplicable, {}, std::move(detail)); }
  bool NotChecked(std::string detail) { return Record(CheckResult::kNotChecked, {}, std::move(detail)); }

  // Lists the steps that did not run.
  void Finish() {
    while (next_ < kSteps.size()) {
      verdict_.Add({kSteps[next_].id, kSteps[next_].title, CheckResult::kNotChecked, "",
                    "not reached: an earlier check failed"});
      ++next_;
    }
  }

 private:
  bool Record(CheckResult result, std::string reason, std::string detail) {
    verdict_.Add({kSteps[next_].id, kSteps[next_].title, result, std::move(reason), std::move(detail)});
    ++next_;
    return result != CheckResult::kFailed;
  }
  Verdict& verdict_;
  std::size_t next_ = 0;
};

bool SelfIssued(const crypto::Certificate& c) { return c.Subject() == c.Issuer(); }

// The product of an AMD ARK, or kUnknown. The ARKs shipped in the library
// were pinned and self-verified when loaded, so an identical DER needs no
// second RSA-4096 verification.
Product PinnedProduct(const crypto::Certificate& root) {
  for (const AmdRootSet& set : AllAmdRoots()) {
    if (set.ark.ToDer() == root.ToDer()) return set.product;
  }
  Product p = Product::kUnknown;
  return IsPinnedAmdArk(root, &p) ? p : Product::kUnknown;
}

std::string RootName(const crypto::Certificate& root, Product pinned) {
  if (pinned != Product::kUnknown) return "AMD " + ArkCommonName(pinned) + " (pinned)";
  Result<Bytes> h = crypto::Hash(crypto::HashAlg::kSha384, root.SubjectPublicKeyInfoDer());
  return "explicitly trusted root " + root.Subject() + ", SPKI SHA-384 " +
         (h.has_value() ? HexEncode(*h).substr(0, 32) + "..." : std::string("?"));
}


std::string TcbString(const TcbVersion& t, Product p) {
  std::string s = "bl=" + std::to_string(t.boot_loader) + " tee=" + std::to_string(t.tee) +
                  " snp=" + std::to_string(t.snp) + " ucode=" + std::to_string(t.microcode);
  if (p == Product::kTurin) s = "fmc=" + std::to_string(t.fmc) + " " + s;
  return s;
}

}  // namespace

struct ChainCache::Impl {
  mutable std::mutex mu;
  // Keyed by the digest's bytes as a string (std::map over vector<uint8_t>
  // trips a GCC 12 -O3 false positive in lexicographical_compare_three_way).
  std::map<std::string, Window> chains;  // GUARDED_BY(mu)
  std::set<std::string> crls;            // GUARDED_BY(mu)
  std::map<std::string, std::shared_ptr<const VekInfo>> veks;  // GUARDED_BY(mu)
  static std::string Key(const Bytes& b) { return std::string(b.begin(), b.end()); }
};

ChainCache::ChainCache() : impl_(std::make_unique<Impl>()) {}
ChainCache::~ChainCache() = default;

std::optional<ChainCache::Window> ChainCache::FindChain(const Bytes& key) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->chains.find(Impl::Key(key));
  if (it == impl_->chains.end()) return std::nullopt;
  return it->second;
}
void ChainCache::AddChain(const Bytes& key, Window window) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->chains[Impl::Key(key)] = window;
}
std::shared_ptr<const VekInfo> ChainCache::FindVek(const Bytes& key) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->veks.find(Impl::Key(key));
  return it == impl_->veks.end() ? nullptr : it->second;
}
void ChainCache::AddVek(const Bytes& key, std::shared_ptr<const VekInfo> vek) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->veks[Impl::Key(key)] = std::move(vek);
}
bool ChainCache::HasCrl(const Bytes& key) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->crls.count(Impl::Key(key)) != 0;
}
void ChainCache::AddCrl(const Bytes& key) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->crls.insert(Impl::Key(key));
}
std::size_t ChainCache::size() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->chains.size() + impl_->crls.size() + impl_->veks.size();
}

TrustedRoots TrustedRoots::Amd() {
  TrustedRoots roots;
  for (const crypto::Certificate& ark : AmdArks()) roots.arks.push_back(ark);
  return roots;
}

namespace {

// A cache key: SHA-256 over the length-prefixed parts (so no two different
// tuples collide by concatenation).
Bytes CacheKey(std::initializer_list<ByteView> parts) {
  Bytes all;
  for (ByteView p : parts) {
    std::uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(p.size()) >> (8 * i));
    Append(all, ByteView(len, 8));
    Append(all, p);
  }
  Result<Bytes> h = crypto::Hash(crypto::HashAlg::kSha256, all);
  return h.has_value() ? std::move(h).value() : Bytes();
}

}  // namespace

VerifyResult Verify(const VerifyInput& input, const TrustedRoots& roots_in, ChainCache* cache) {
  VerifyResult out;
  Checklist steps(out.verdict);
  const TrustedRoots roots = roots_in.arks.empty() ? TrustedRoots::Amd() : roots_in;
  auto finish = [&]() {
    steps.Finish();
    return std::move(out);
  };

  // 1. Size, version, format.
  Result<AttestationReport> parsed = ParseReport(input.report);
  if (!parsed.has_value()) {
    steps.Fail(parsed.error().reason(), std::string(parsed.error().message()));
    return finish();
  }
  const AttestationReport& report = *parsed;
  steps.Pass("version " + std::to_string(report.version) + ", " + std::to_string(input.report.size()) + " bytes");

  // 2. Product: every source that names one must agree.
  if (!input.vek.has_value()) {
    steps.Fail("snp.vek_missing", "no VCEK/VLEK was given (and none could be fetched)");
    return finish();
  }
  const crypto::Certificate& vek_cert = *input.vek;
  // Parsing a VEK (extensions, key import and validation) is deterministic
  // in its DER, so a cache may hold the result.
  const Bytes vek_key = cache != nullptr ? CacheKey({vek_cert.ToDer()}) : Bytes();
  std::shared_ptr<const VekInfo> vek = cache != nullptr ? cache->FindVek(vek_key) : nullptr;
  if (vek == nullptr) {
    Result<VekInfo> parsed_vek = ParseVekCertificate(vek_cert);
    if (!parsed_vek.has_value()) {
      steps.Fail(parsed_vek.error().reason(), "VEK certificate: " + std::string(parsed_vek.error().message()));
      return finish();
    }
    vek = std::make_shared<const VekInfo>(std::move(parsed_vek).value());
    if (cache != nullptr) cache->AddVek(vek_key, vek);
  }
  Product product = vek->product;
  const Product from_report = ReportProduct(report);
  std::string sources = "VEK says " + std::string(ProductName(vek->product));
  if (report.HasCpuid()) sources += ", report CPUID says " + std::string(ProductName(from_report));
  if (input.product_hint != Product::kUnknown) {
    sources += ", caller says " + std::string(ProductName(input.product_hint));
  }
  if ((report.HasCpuid() && from_report != product) ||
      (input.product_hint != Product::kUnknown && input.product_hint != product)) {
    steps.Fail(report.HasCpuid() && from_report == Product::kUnknown ? "snp.product_unknown"
                                                                      : "snp.product_mismatch",
               sources);
    return finish();
  }
  steps.Pass(std::string(ProductName(product)) + " (" + sources + ")");

  // 3. The root: the chain's ARK if it has one, else a trusted root of the
  // product; either way it must be one of the trusted roots (by key).
  std::optional<crypto::Certificate> presented_ark, intermediate;
  for (const crypto::Certificate& c : input.chain) {
    if (SelfIssued(c)) {
      presented_ark = c;
    } else {
      intermediate = c;
    }
  }
  // A presented ARK is matched by key; otherwise the root is found by name
  // (the intermediate's issuer, or the product's ARK name) and then proves
  // itself by signing the intermediate in step 4.
  auto matches = [&](const crypto::Certificate& t) {
    if (presented_ark.has_value()) {
      return t.SubjectPublicKeyInfoDer() == presented_ark->SubjectPublicKeyInfoDer();
    }
    if (intermediate.has_value()) return t.Subject() == intermediate->Issuer();
    return SubjectCommonName(t) == ArkCommonName(product);
  };
  const crypto::Certificate* root = nullptr;
  for (const crypto::Certificate& t : roots.arks) {
    if (matches(t)) {
      root = &t;
      break;
    }
  }
  if (root == nullptr) {
    steps.Fail("snp.ark_untrusted", presented_ark ? "the chain's ARK " + presented_ark->Subject() +
                                                        " is not a trusted root"
                                                  : "no trusted root for " + std::string(ProductName(product)));
    return finish();
  }
  // An AMD root vouches for one product only: the VEK's productName (text)
  // must name the product of the ARK it chains to.
  const Product pinned = PinnedProduct(*root);
  if (pinned != Product::kUnknown && pinned != product) {
    steps.Fail("snp.ark_wrong_product", "the root is AMD's " + std::string(ProductName(pinned)) +
                                            " ARK, the VEK says " + std::string(ProductName(product)));
    return finish();
  }
  // Without an ASK/ASVK in the chain, AMD's shipped intermediate of the
  // product is used (AMD roots only).
  if (!intermediate.has_value() && pinned != Product::kUnknown) {
    const AmdRootSet& set = AmdRoots(pinned);
    intermediate = vek->kind == VekKind::kVlek ? set.asvk : set.ask;
  }
  out.verdict.root = RootName(*root, pinned);
  const Bytes chain_key =
      intermediate ? CacheKey({root->SubjectPublicKeyInfoDer(), intermediate->ToDer(), vek_cert.ToDer()}) : Bytes();
  std::optional<ChainCache::Window> cached;
  if (cache != nullptr && intermediate.has_value()) {
    cached = cache->FindChain(chain_key);
    if (cached && (input.at_unix_seconds < cached->not_before || input.at_unix_seconds >= cached->not_after)) {
      cached.reset();
    }
  }
  const std::string want_cn = vek->kind == VekKind::kVlek ? AsvkCommonName(product) : AskCommonName(product);
  if (cached) {
    steps.Pass(out.verdict.root + " (cached)");
    steps.Pass(intermediate->Subject() + " (cached)");
    steps.Pass(std::string(VekKindName(vek->kind)) + " " + vek_cert.Subject() + " (cached)");
    steps.Pass("at " + std::to_string(input.at_unix_seconds) + " (cached)");
  } else {
    // 3 (continued). The root signs itself.
    if (Status s = root->VerifySignedBy(*root); !s.ok()) {
      out.verdict.root.clear();
      steps.Fail("snp.ark_not_self_signed", std::string(s.message()));
      return finish();
    }
    steps.Pass(out.verdict.root);

    // 4. ASK (VCEK) or ASVK (VLEK), signed by the ARK.
    if (!intermediate.has_value()) {
      steps.Fail("snp.ask_missing", "the chain has no ASK/ASVK and the root is not AMD's");
      return finish();
    }
    if (SubjectCommonName(*intermediate) != want_cn) {
      steps.Fail("snp.ask_wrong_kind", "expected " + want_cn + " for a " +
                                           std::string(VekKindName(vek->kind)) + ", got " +
                                           intermediate->Subject());
      return finish();
    }
    if (Status s = intermediate->VerifySignedBy(*root); !s.ok()) {
      steps.Fail("snp.ask_not_signed_by_ark", std::string(s.message()));
      return finish();
    }
    steps.Pass(intermediate->Subject());

    // 5. VEK signed by the ASK/ASVK.
    if (Status s = vek_cert.VerifySignedBy(*intermediate); !s.ok()) {
      steps.Fail("snp.vek_not_signed_by_ask", std::string(s.message()));
      return finish();
    }
    steps.Pass(std::string(VekKindName(vek->kind)) + " " + vek_cert.Subject());
  }

  // 6. Validity windows and CA constraints at the verification time. The
  // signatures were checked in steps 3-5 (each exactly once: this is not a
  // second pass through a generic path builder, whose repeated RSA-4096
  // verifications would double the cost).
  if (!cached) {
    const std::int64_t at = input.at_unix_seconds;
    const crypto::Certificate* path[] = {&vek_cert, &*intermediate, root};
    for (const crypto::Certificate* c : path) {
      if (at < c->NotBefore()) {
        steps.Fail("snp.cert_not_yet_valid", c->Subject() + " is valid from " + std::to_string(c->NotBefore()));
        return finish();
      }
      if (at >= c->NotAfter()) {
        steps.Fail("snp.cert_expired", c->Subject() + " expired at " + std::to_string(c->NotAfter()));
        return finish();
      }
    }
    if (!root->IsCa() || !intermediate->IsCa()) {
      steps.Fail("snp.chain_invalid", "the ARK and the ASK/ASVK must be CA certificates");
      return finish();
    }
    if (vek_cert.IsCa()) {
      steps.Fail("snp.chain_invalid", "the VCEK/VLEK must not be a CA certificate");
      return finish();
    }
    steps.Pass("at " + std::to_string(at));
    if (cache != nullptr) {
      ChainCache::Window w{std::max({root->NotBefore(), intermediate->NotBefore(), vek_cert.NotBefore()}),
                           std::min({root->NotAfter(), intermediate->NotAfter(), vek_cert.NotAfter()})};
      cache->AddChain(chain_key, w);
    }
  }

  // 7. Revocation: the ARK's CRL lists the intermediates it revoked.
  bool crl_checked = false;
  if (!input.crl.has_value()) {
    steps.NotChecked("no CRL given");
  } else {
    const crypto::Crl& crl = *input.crl;
    const Bytes crl_key = CacheKey({root->SubjectPublicKeyInfoDer(), crl.ToDer()});
    if (cache == nullptr || !cache->HasCrl(crl_key)) {
      if (Status s = crl.VerifySignedBy(*root); !s.ok()) {
        steps.Fail("snp.crl_bad_signature", std::string(s.message()));
        return finish();
      }
      if (cache != nullptr) cache->AddCrl(crl_key);
    }
    if (input.at_unix_seconds < crl.ThisUpdate()) {
      steps.Fail("snp.crl_not_yet_valid", "thisUpdate " + std::to_string(crl.ThisUpdate()));
      return finish();
    }
    if (!crl.NextUpdate().has_value() || input.at_unix_seconds > *crl.NextUpdate()) {
      steps.Fail("snp.crl_expired",
                 crl.NextUpdate() ? "nextUpdate " + std::to_string(*crl.NextUpdate()) : "no nextUpdate");
      return finish();
    }
    // A CRL covers the certificates its signer issued: here the ASK/ASVK.
    // (AMD publishes no ASK-signed CRL, so VEKs are not covered.)
    if (crl.IsRevoked(intermediate->SerialNumber())) {
      steps.Fail("snp.cert_revoked", intermediate->Subject() + " serial " +
                                         HexEncode(intermediate->SerialNumber()) + " is revoked");
      return finish();
    }
    crl_checked = true;
    steps.Pass(std::to_string(crl.RevokedSerials().size()) + " revoked serial(s), none in the chain");
  }

  // 8. Report signature by the VEK.
  Result<crypto::EcdsaPublicKey> key = VekPublicKey(*vek);
  if (!key.has_value()) {
    steps.Fail(key.error().reason(), std::string(key.error().message()));
    return finish();
  }
  if (Status s = key->Verify(report.SignedRegion(), report.AmdSignature(),
                             crypto::EcdsaSignatureFormat::kAmdLittleEndian);
      !s.ok()) {
    steps.Fail("snp.report_signature_invalid", std::string(s.message()));
    return finish();
  }
  steps.Pass();

  // 9. The report says which key signed it; it must be the certificate's kind.
  const SigningKey want = vek->kind == VekKind::kVlek ? SigningKey::kVlek : SigningKey::kVcek;
  if (report.signing_key() != want) {
    steps.Fail("snp.signing_key_mismatch", "report says " + std::string(SigningKeyName(report.signing_key())) +
                                               ", certificate is a " + std::string(VekKindName(vek->kind)));
    return finish();
  }
  steps.Pass(std::string(SigningKeyName(report.signing_key())));

  // 10. CHIP_ID = hwID (VCEK only; a VLEK is not chip-specific).
  if (vek->kind == VekKind::kVlek) {
    steps.NotApplicable("VLEK");
  } else {
    if (report.mask_chip_key()) {
      steps.Fail("snp.chip_id_masked", "MASK_CHIP_KEY is set: the report cannot be tied to the VCEK");
      return finish();
    }
    const Bytes& hwid = *vek->hw_id;
    ByteView chip(report.chip_id.data(), report.chip_id.size());
    bool match = hwid.size() <= chip.size() && crypto::ConstantTimeEquals(chip.first(hwid.size()), hwid) &&
                 crypto::ConstantTimeIsZero(chip.subspan(hwid.size()));
    if (!match) {
      steps.Fail("snp.chip_id_mismatch", "CHIP_ID " + HexEncode(chip.first(8)) + "... vs hwID " +
                                             HexEncode(ByteView(hwid).first(std::min<std::size_t>(8, hwid.size()))) +
                                             "...");
      return finish();
    }
    steps.Pass(std::to_string(hwid.size()) + "-byte hwID");
  }

  // 11. REPORTED_TCB = the VEK's TCB.
  const TcbVersion reported = DecodeTcb(report.reported_tcb, product);
  TcbVersion certified{vek->spl.fmc.value_or(0), vek->spl.bl, vek->spl.tee, vek->spl.snp, vek->spl.ucode};
  if (!(reported == certified)) {
    steps.Fail("snp.tcb_mismatch", "report " + TcbString(reported, product) + ", certificate " +
                                       TcbString(certified, product));
    return finish();
  }
  steps.Pass(TcbString(reported, product));

  Claims claims;
  claims.report = report;
  claims.product = product;
  claims.vek_kind = vek->kind;
  claims.reported_tcb = reported;
  claims.committed_tcb = DecodeTcb(report.committed_tcb, product);
  claims.launch_tcb = DecodeTcb(report.launch_tcb, product);
  claims.current_tcb = DecodeTcb(report.current_tcb, product);
  claims.crl_checked = crl_checked;
  out.claims = std::move(claims);
  return finish();
}

}  // namespace perimeter::attest::snp
