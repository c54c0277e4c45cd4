// The simulated SEV-SNP platform (issue point 8): its reports and chains are
// in AMD's real formats, verify through the same snp::Verify as hardware
// evidence only when its ARK is trusted explicitly, and every verifier check
// that needs a validly signed report rejects what it must. Fixed dates only.
#include "perimeter/attest/snp/simulated/platform.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "attest/snp/testing/cert_builder.h"
#include "perimeter/attest/snp/amd_roots.h"
#include "perimeter/attest/snp/policy.h"
#include "perimeter/attest/snp/simulated/simulated_provider.h"
#include "perimeter/attest/snp/verifier.h"
#include "perimeter/crypto/constant_time.h"
#include "perimeter/crypto/hash.h"
#include "tests/testing/matchers.h"

namespace perimeter::attest::snp::simulated {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

constexpr std::int64_t kNotBefore = 1735689600;  // 2025-01-01T00:00:00Z
constexpr std::uint32_t kDays = 3650;
constexpr std::int64_t kAt = 1767225600;  // 2026-01-01T00:00:00Z

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

crypto::Certificate RealVcek(Product p) {
  const std::string dir = std::string(PERIMETER_TESTDATA_DIR) + "/snp/";
  const char* rel = p == Product::kMilan   ? "reports/milan-v3-oak-cb/vcek.der"
                    : p == Product::kGenoa ? "reports/genoa-v5-oak-oc/vcek.der"
                                           : "certs-only/turin-vcek-virtee-sev/vcek.der";
  return crypto::Certificate::FromDer(ToBytes(ReadText(dir + rel))).value();
}

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/sim_platform_test.XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class SimulatedPlatformTest : public ::testing::Test {
 protected:
  // RSA-4096 key generation takes seconds: four platforms, made once.
  static void SetUpTestSuite() {
    for (Product p : {Product::kMilan, Product::kGenoa, Product::kTurin}) {
      CreateOptions o;
      o.product = p;
      o.not_before = kNotBefore;
      o.days = kDays;
      platforms_.push_back(std::make_shared<SimulatedPlatform>(SimulatedPlatform::Create(o).value()));
    }
    CreateOptions o;
    o.not_before = kNotBefore;
    o.days = kDays;
    other_milan_ = std::make_shared<SimulatedPlatform>(SimulatedPlatform::Create(o).value());
  }
  static void TearDownTestSuite() {
    platforms_.clear();
    other_milan_.reset();
  }

  static const SimulatedPlatform& Milan() { return *platforms_[0]; }

  static VerifyInput InputFor(const SimulatedPlatform& p, const Bytes& report) {
    VerifyInput in;
    in.report = report;
    in.vek = p.vcek();
    in.chain = p.CertChain();
    in.crl = p.crl();
    in.at_unix_seconds = kAt;
    return in;
  }
  static TrustedRoots Trusting(const SimulatedPlatform& p) {
    TrustedRoots t;
    t.arks = {p.ark()};
    return t;
  }
  static std::string Reason(const VerifyResult& r) {
    const Check* f = r.verdict.first_failure();
    return f ? f->reason : "";
  }
  static std::string ReasonFor(const SimulatedPlatform& p, const ReportRequest& req) {
    Bytes report = p.SignReport(req).value();
    return Reason(Verify(InputFor(p, report), Trusting(p)));
  }

  static std::vector<std::shared_ptr<SimulatedPlatform>> platforms_;
  static std::shared_ptr<SimulatedPlatform> other_milan_;
};

std::vector<std::shared_ptr<SimulatedPlatform>> SimulatedPlatformTest::platforms_;
std::shared_ptr<SimulatedPlatform> SimulatedPlatformTest::other_milan_;

TEST_F(SimulatedPlatformTest, ReportsVerifyOnlyWhenTheSimulatedArkIsTrusted) {
  for (const auto& p : platforms_) {
    for (std::uint32_t version : {3u, 5u}) {
      SCOPED_TRACE(std::string(ProductName(p->product())) + " v" + std::to_string(version));
      ReportRequest req;
      req.version = version;
      req.report_data = Bytes(64, 0x5A);
      req.measurement = Bytes(48, 0x11);
      Bytes report = p->SignReport(req).value();
      ASSERT_EQ(report.size(), kReportSize);

      VerifyResult ok = Verify(InputFor(*p, report), Trusting(*p));
      ASSERT_TRUE(ok.verdict.accepted()) << ok.verdict.ToText();
      EXPECT_EQ(ok.claims->product, p->product());
      EXPECT_EQ(ok.claims->report.version, version);
      EXPECT_EQ(ok.claims->reported_tcb, p->vcek_tcb());
      EXPECT_TRUE(ok.claims->crl_checked);
      EXPECT_EQ(ok.claims->report.report_data[0], 0x5A);
      EXPECT_EQ(ok.verdict.root.rfind("explicitly trusted root", 0), 0u) << ok.verdict.root;
      EXPECT_NE(ok.verdict.root.find(ArkCommonName(p->product())), std::string::npos);

      // AMD's roots (explicitly, or by default with an empty set) refuse it.
      EXPECT_EQ(Reason(Verify(InputFor(*p, report), TrustedRoots::Amd())), "snp.ark_untrusted");
      EXPECT_EQ(Reason(Verify(InputFor(*p, report), TrustedRoots{})), "snp.ark_untrusted");
      // So does another simulated platform's ARK of the same name.
      EXPECT_EQ(Reason(Verify(InputFor(*p, report), Trusting(*other_milan_))), "snp.ark_untrusted");
      EXPECT_TRUE(Verify(InputFor(*p, report), TrustedRoots::Amd()).verdict.root.empty());
    }
  }
}

TEST_F(SimulatedPlatformTest, CertificatesFollowAmdsProfilePerProduct) {
  for (const auto& p : platforms_) {
    const Product product = p->product();
    SCOPED_TRACE(std::string(ProductName(product)));
    const AmdRootSet& amd = AmdRoots(product);
    EXPECT_EQ(p->ark().Subject(), amd.ark.Subject());
    EXPECT_EQ(p->ask().Subject(), amd.ask.Subject());
    EXPECT_EQ(p->ask().Issuer(), amd.ask.Issuer());
    EXPECT_EQ(p->vcek().Subject(), RealVcek(product).Subject());
    EXPECT_EQ(p->vcek().Issuer(), RealVcek(product).Issuer());
    for (const crypto::Certificate* c : {&p->ark(), &p->ask(), &p->vcek()}) {
      EXPECT_EQ(c->SignatureAlgorithmOid(), amd.ark.SignatureAlgorithmOid());
    }
    EXPECT_EQ(p->vcek().SerialNumber(), (Bytes{0x00}));
    EXPECT_EQ(p->ark().KeyAlgorithm(), crypto::PublicKeyAlgorithm::kRsa);
    EXPECT_EQ(p->vcek().KeyAlgorithm(), crypto::PublicKeyAlgorithm::kEcP384);
    EXPECT_EQ(p->ark().ExtensionValue("2.5.29.15"), amd.ark.ExtensionValue("2.5.29.15"));
    EXPECT_EQ(p->ark().ExtensionValue("2.5.29.19"), amd.ark.ExtensionValue("2.5.29.19"));
    EXPECT_EQ(p->ask().ExtensionValue("2.5.29.19"), amd.ask.ExtensionValue("2.5.29.19"));
    EXPECT_EQ(p->ask().ExtensionValue("2.5.29.15"), amd.ask.ExtensionValue("2.5.29.15"));

    // The same AMD extensions as AMD's real VCEK of the product: same set.
    const crypto::Certificate real = RealVcek(product);
    namespace o = crypto::amd_oid;
    for (std::string_view oid : {o::kStructVersion, o::kProductName, o::kBlSpl, o::kTeeSpl, o::kSnpSpl, o::kSpl4,
                                 o::kSpl5, o::kSpl6, o::kSpl7, o::kUcodeSpl, o::kFmcSpl, o::kHwId, o::kCspId}) {
      EXPECT_EQ(p->vcek().ExtensionValue(oid).has_value(), real.ExtensionValue(oid).has_value()) << oid;
    }
    EXPECT_EQ(p->vcek().ExtensionValue(o::kStructVersion), real.ExtensionValue(o::kStructVersion));
    // And the values the independent test builder writes for the same chip.
    testing::VekSpec spec;
    spec.product = product;
    spec.product_name = std::string(SimulatedProductName(product));
    const TcbVersion t = p->vcek_tcb();
    spec.bl = t.boot_loader;
    spec.tee = t.tee;
    spec.snp = t.snp;
    spec.ucode = t.microcode;
    spec.fmc = t.fmc;
    spec.hw_id = Bytes(p->chip_id().begin(),
                       p->chip_id().begin() + (product == Product::kTurin ? 8 : 64));
    for (const testing::Extension& e : testing::AmdVekExtensions(spec)) {
      EXPECT_EQ(p->vcek().ExtensionValue(e.oid), e.value) << e.oid;
    }

    Result<VekInfo> info = ParseVekCertificate(p->vcek());
    ASSERT_THAT(info, IsOk());
    EXPECT_EQ(info->product, product);
    EXPECT_EQ(info->product_name, SimulatedProductName(product));
    EXPECT_EQ(info->hw_id->size(), product == Product::kTurin ? 8u : 64u);
    EXPECT_EQ(info->spl.fmc.has_value(), product == Product::kTurin);
    EXPECT_EQ(info->reported_tcb_raw, p->vcek_tcb_raw());
    if (product == Product::kTurin) {
      EXPECT_TRUE(crypto::ConstantTimeIsZero(ByteView(p->chip_id()).subspan(8)));
    }
    // The CRL: issued by the ARK, revokes nothing, current over the window.
    EXPECT_EQ(p->crl().Issuer(), p->ark().Subject());
    EXPECT_TRUE(p->crl().RevokedSerials().empty());
    EXPECT_THAT(p->crl().VerifySignedBy(p->ark()), IsOk());
  }
}

TEST_F(SimulatedPlatformTest, SaveLoadRoundTripAndVerifyAgain) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string dir = tmp.path() + "/platform";
  ASSERT_THAT(Milan().Save(dir), IsOk());
  for (const char* f : {"ark.pem", "ask.pem", "cert_chain.pem", "vcek.der", "vcek.pem", "crl.der", "platform.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + f)) << f;
  }
  for (const char* f : {"ark.key", "ask.key", "vcek.key"}) {
    struct stat st {};
    ASSERT_EQ(::stat((dir + "/" + f).c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
    EXPECT_EQ(ReadText(dir + "/" + f).rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u) << f;
  }
  EXPECT_EQ(crypto::Certificate::ParsePemBundle(ReadText(dir + "/cert_chain.pem")).value(), Milan().CertChain());

  Result<SimulatedPlatform> loaded = SimulatedPlatform::Load(dir);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->product(), Product::kMilan);
  EXPECT_EQ(loaded->chip_id(), Milan().chip_id());
  EXPECT_EQ(loaded->vcek_tcb(), Milan().vcek_tcb());
  EXPECT_EQ(loaded->ark(), Milan().ark());
  EXPECT_EQ(loaded->vcek(), Milan().vcek());
  EXPECT_EQ(loaded->crl().ToDer(), Milan().crl().ToDer());
  ReportRequest req;
  req.report_data = {1, 2, 3};
  Bytes report = loaded->SignReport(req).value();
  // Signed by the loaded key, verified against the original platform's ARK.
  VerifyResult r = Verify(InputFor(Milan(), report), Trusting(Milan()));
  EXPECT_TRUE(r.verdict.accepted()) << r.verdict.ToText();

  // Never overwrites; a missing or tampered platform is refused.
  EXPECT_THAT(Milan().Save(dir), StatusIs(StatusCode::kAlreadyExists, kSimPlatformExists));
  EXPECT_THAT(other_milan_->Save(dir), StatusIs(StatusCode::kAlreadyExists, kSimPlatformExists));
  EXPECT_THAT(SimulatedPlatform::Load(tmp.path() + "/nothing"), StatusIs(StatusCode::kNotFound, kSimPlatformMissing));
  const std::string other = tmp.path() + "/other";
  ASSERT_THAT(other_milan_->Save(other), IsOk());
  std::filesystem::copy_file(dir + "/vcek.key", other + "/vcek.key", std::filesystem::copy_options::overwrite_existing);
  EXPECT_THAT(SimulatedPlatform::Load(other), StatusIs(StatusCode::kDataLoss, kSimPlatformCorrupt));
  const std::string third = tmp.path() + "/third";
  ASSERT_THAT(other_milan_->Save(third), IsOk());
  std::string json = ReadText(third + "/platform.json");
  json.replace(json.find("\"chip_id\": \"") + 12, 2, json.substr(json.find("\"chip_id\": \"") + 12, 2) == "00" ? "01" : "00");
  std::filesystem::remove(third + "/platform.json");
  std::ofstream(third + "/platform.json") << json;
  EXPECT_THAT(SimulatedPlatform::Load(third), StatusIs(StatusCode::kDataLoss, kSimPlatformCorrupt));
}

TEST_F(SimulatedPlatformTest, ChecksThatNeedAValidlySignedReport) {
  ReportRequest req;
  req.signing_key = SigningKey::kVlek;
  EXPECT_EQ(ReasonFor(Milan(), req), "snp.signing_key_mismatch");
  req = {};
  Bytes chip = Milan().chip_id();
  chip[63] ^= 1;
  req.chip_id = chip;
  EXPECT_EQ(ReasonFor(Milan(), req), "snp.chip_id_mismatch");
  req = {};
  req.mask_chip_key = true;
  EXPECT_EQ(ReasonFor(Milan(), req), "snp.chip_id_masked");
  req = {};
  TcbVersion newer = Milan().vcek_tcb();
  newer.snp += 1;
  req.reported_tcb = EncodeTcb(newer, Product::kMilan);
  EXPECT_EQ(ReasonFor(Milan(), req), "snp.tcb_mismatch");
  // Turin: the chip id is compared on its 8 bytes, the rest must be zero.
  const SimulatedPlatform& turin = *platforms_[2];
  req = {};
  chip = turin.chip_id();
  chip[40] = 1;
  req.chip_id = chip;
  EXPECT_EQ(ReasonFor(turin, req), "snp.chip_id_mismatch");
  req = {};
  TcbVersion fmc = turin.vcek_tcb();
  fmc.fmc += 1;
  req.reported_tcb = EncodeTcb(fmc, Product::kTurin);
  EXPECT_EQ(ReasonFor(turin, req), "snp.tcb_mismatch");
  // Sanity: the unchanged request passes (so each rejection above is the
  // field's).
  EXPECT_EQ(ReasonFor(Milan(), ReportRequest{}), "");
}

TEST_F(SimulatedPlatformTest, MixedChainsAreRejected) {
  Bytes report = Milan().SignReport(ReportRequest{}).value();
  // Another platform's ASK (same names) presented under our ARK.
  VerifyInput in = InputFor(Milan(), report);
  in.chain = {other_milan_->ask(), Milan().ark()};
  EXPECT_EQ(Reason(Verify(in, Trusting(Milan()))), "snp.ask_not_signed_by_ark");
  // Without the ARK in the chain the root is found by name: same result.
  in.chain = {other_milan_->ask()};
  EXPECT_EQ(Reason(Verify(in, Trusting(Milan()))), "snp.ask_not_signed_by_ark");
  // Another platform's VCEK (signed by its own ASK) under our chain.
  Bytes other_report = other_milan_->SignReport(ReportRequest{}).value();
  in = InputFor(Milan(), other_report);
  in.vek = other_milan_->vcek();
  EXPECT_EQ(Reason(Verify(in, Trusting(Milan()))), "snp.vek_not_signed_by_ask");
  // Our VCEK for another chip's report: the signature does not verify.
  in = InputFor(Milan(), other_report);
  EXPECT_EQ(Reason(Verify(in, Trusting(Milan()))), "snp.report_signature_invalid");
}

TEST_F(SimulatedPlatformTest, CrlFromTheArkRevokingTheAskIsApplied) {
  Bytes report = Milan().SignReport(ReportRequest{}).value();
  VerifyInput in = InputFor(Milan(), report);
  in.crl = Milan().MakeCrl({Milan().ask().SerialNumber()}, kNotBefore, kNotBefore + 30 * 86400).value();
  in.at_unix_seconds = kNotBefore + 86400;
  EXPECT_EQ(Reason(Verify(in, Trusting(Milan()))), "snp.cert_revoked");
  in.crl = Milan().MakeCrl({{0x77}}, kNotBefore, kNotBefore + 30 * 86400).value();
  EXPECT_TRUE(Verify(in, Trusting(Milan())).verdict.accepted());
  in.at_unix_seconds = kNotBefore + 31 * 86400;
  EXPECT_EQ(Reason(Verify(in, Trusting(Milan()))), "snp.crl_expired");
  in = InputFor(Milan(), report);
  in.crl = other_milan_->crl();  // same issuer name, other key
  EXPECT_EQ(Reason(Verify(in, Trusting(Milan()))), "snp.crl_bad_signature");
}

TEST_F(SimulatedPlatformTest, PolicyRulesRejectSimulatedReports) {
  ReportRequest req;
  req.measurement = SimulatedMeasurement(AsBytes("workload v1"), AsBytes("{}")).value();
  req.host_data = Bytes(32, 0x33);
  req.report_data = Bytes(64, 0x44);
  Bytes report = Milan().SignReport(req).value();
  VerifyResult r = Verify(InputFor(Milan(), report), Trusting(Milan()));
  ASSERT_TRUE(r.claims.has_value()) << r.verdict.ToText();

  Policy policy;
  policy.measurements = {*req.measurement};
  policy.host_data = {*req.host_data};
  policy.report_data = req.report_data;
  policy.min_tcb[Product::kMilan] = Milan().vcek_tcb();
  Verdict accepted = r.verdict;
  Evaluate(*r.claims, policy, accepted);
  EXPECT_TRUE(accepted.accepted()) << accepted.ToText();

  auto reason_with = [&](const Claims& claims, const Policy& p) {
    Verdict v;
    Evaluate(claims, p, v);
    const Check* f = v.first_failure();
    return f ? f->reason : std::string();
  };
  Policy p = policy;
  p.measurements = {SimulatedMeasurement(AsBytes("workload v2"), AsBytes("{}")).value()};
  EXPECT_EQ(reason_with(*r.claims, p), "snp.policy_measurement");
  p = policy;
  p.host_data = {Bytes(32, 0x34)};
  EXPECT_EQ(reason_with(*r.claims, p), "snp.policy_host_data");
  p.host_data = {Bytes(32, 0x34), *req.host_data};
  EXPECT_EQ(reason_with(*r.claims, p), "");
  p = policy;
  p.report_data = Bytes(64, 0x45);
  EXPECT_EQ(reason_with(*r.claims, p), "snp.policy_report_data");
  p = policy;
  TcbVersion higher = Milan().vcek_tcb();
  higher.microcode += 1;
  p.min_tcb[Product::kMilan] = higher;
  EXPECT_EQ(reason_with(*r.claims, p), "snp.policy_tcb_too_old");

  // A debug-enabled guest: verifies (the signature is fine), policy refuses.
  ReportRequest debug = req;
  debug.policy |= 1ull << 19;
  Bytes debug_report = Milan().SignReport(debug).value();
  VerifyResult dr = Verify(InputFor(Milan(), debug_report), Trusting(Milan()));
  ASSERT_TRUE(dr.verdict.accepted()) << dr.verdict.ToText();
  EXPECT_EQ(reason_with(*dr.claims, policy), "snp.policy_debug_allowed");
  p = policy;
  p.allow_debug = true;
  EXPECT_EQ(reason_with(*dr.claims, p), "");
}

// Any chain that follows AMD's profile (not only ours) verifies the same way
// when its ARK is trusted: an ARK/ASK/VCEK made with the independent test
// builder (attest/snp/testing/cert_builder.h, its own DER writer) and a
// report signed here with SerializeReport + EcdsaPrivateKey::Sign.
TEST_F(SimulatedPlatformTest, AnyAmdProfileChainVerifiesWhenItsArkIsTrusted) {
  using testing::CertTemplate;
  using testing::DerSequence;
  using testing::DerTlv;
  crypto::RsaPrivateKey ark_key = crypto::RsaPrivateKey::Generate(2048).value();
  crypto::RsaPrivateKey ask_key = crypto::RsaPrivateKey::Generate(2048).value();
  crypto::EcdsaPrivateKey vcek_key = crypto::EcdsaPrivateKey::Generate(crypto::EcCurve::kP384).value();
  const testing::Extension ca = {"2.5.29.19", DerSequence({DerTlv(0x01, Bytes{0xFF})}), true};
  const testing::Extension ca_usage = {"2.5.29.15", DerTlv(0x03, Bytes{0x01, 0x06}), true};

  CertTemplate ark;
  ark.subject_cn = ark.issuer_cn = "ARK-Milan";
  ark.subject_spki_der = ark_key.public_key().ToSpkiDer().value();
  ark.serial = 0x10000;
  ark.extensions = {ca_usage, ca};
  const crypto::Certificate ark_cert =
      crypto::Certificate::FromDer(testing::SignRsaPss(ark, ark_key).value()).value();
  CertTemplate ask;
  ask.subject_cn = "SEV-Milan";
  ask.issuer_cn = "ARK-Milan";
  ask.subject_spki_der = ask_key.public_key().ToSpkiDer().value();
  ask.serial = 0x10001;
  ask.extensions = {ca, ca_usage};
  const crypto::Certificate ask_cert =
      crypto::Certificate::FromDer(testing::SignRsaPss(ask, ark_key).value()).value();
  testing::VekSpec spec;  // Milan-B0, bl 4 tee 0 snp 24 ucode 219, hwID 0xA5 x 64
  CertTemplate vcek;
  vcek.subject_cn = "SEV-VCEK";
  vcek.issuer_cn = "SEV-Milan";
  vcek.subject_spki_der = vcek_key.public_key().ToSpkiDer().value();
  vcek.extensions = testing::AmdVekExtensions(spec);
  const crypto::Certificate vcek_cert =
      crypto::Certificate::FromDer(testing::SignRsaPss(vcek, ask_key).value()).value();

  AttestationReport r;
  r.version = 3;
  r.policy = 0x30000;
  r.signature_algo = kSignatureAlgoEcdsaP384Sha384;
  r.report_data.fill(0x42);
  r.cpuid_fam_id = 0x19;
  r.cpuid_mod_id = 0x01;
  r.cpuid_step = 0x01;
  std::memcpy(r.chip_id.data(), spec.hw_id.data(), 64);
  r.reported_tcb = r.current_tcb = r.committed_tcb = r.launch_tcb =
      EncodeTcb(TcbVersion{0, spec.bl, spec.tee, spec.snp, spec.ucode}, Product::kMilan);
  Bytes report = SerializeReport(r);
  Bytes sig = vcek_key.Sign(ByteView(report).first(kSignedRegionSize),
                            crypto::EcdsaSignatureFormat::kAmdLittleEndian).value();
  std::memcpy(report.data() + kSignedRegionSize, sig.data(), sig.size());

  VerifyInput in;
  in.report = report;
  in.vek = vcek_cert;
  in.chain = {ask_cert, ark_cert};
  in.at_unix_seconds = kAt;
  TrustedRoots trusted;
  trusted.arks = {ark_cert};
  VerifyResult ok = Verify(in, trusted);
  EXPECT_TRUE(ok.verdict.accepted()) << ok.verdict.ToText();
  EXPECT_EQ(ok.verdict.root.rfind("explicitly trusted root", 0), 0u);
  EXPECT_EQ(Reason(Verify(in, TrustedRoots::Amd())), "snp.ark_untrusted");
  EXPECT_EQ(Reason(Verify(in, Trusting(Milan()))), "snp.ark_untrusted");
  // The sim ARK cannot stand in for it by name either.
  in.chain = {ask_cert};
  EXPECT_EQ(Reason(Verify(in, Trusting(Milan()))), "snp.ask_not_signed_by_ark");
}

TEST_F(SimulatedPlatformTest, ProviderPutsTheChainInTheCertTable) {
  auto platform = platforms_[1];  // Genoa
  ReportRequest base;
  base.measurement = Bytes(48, 0x21);
  InsecureSimulatedProvider provider(platform, base);
  EXPECT_EQ(provider.name(), "insecure-simulated");
  Result<RawEvidence> ev = provider.GetEvidence(Bytes(64, 0x07), 1);
  ASSERT_THAT(ev, IsOk());
  EXPECT_EQ(ev->provider, "insecure-simulated");
  ASSERT_EQ(ev->certs.size(), 3u);
  const std::array<std::uint8_t, 16> vcek_guid = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                                  0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
  EXPECT_EQ(ev->certs[0].guid, vcek_guid);
  EXPECT_EQ(ev->certs[1].guid, GuidBytes(kGuidAsk).value());
  EXPECT_EQ(ev->certs[2].guid, GuidBytes(kGuidArk).value());
  VerifyInput in;
  in.report = ev->report;
  in.vek = crypto::Certificate::FromDer(ev->certs[0].data).value();
  in.chain = {crypto::Certificate::FromDer(ev->certs[1].data).value(),
              crypto::Certificate::FromDer(ev->certs[2].data).value()};
  in.at_unix_seconds = kAt;
  VerifyResult r = Verify(in, Trusting(*platform));
  ASSERT_TRUE(r.verdict.accepted()) << r.verdict.ToText();
  EXPECT_EQ(r.claims->report.vmpl, 1u);
  EXPECT_EQ(r.claims->report.report_data[63], 0x07);
  EXPECT_EQ(r.claims->report.measurement[0], 0x21);
  EXPECT_THAT(provider.GetEvidence(Bytes(63, 0)), StatusIs(StatusCode::kInvalidArgument, "snp.provider_bad_report_data"));
  EXPECT_THAT(provider.GetEvidence(Bytes(64, 0), 4), StatusIs(StatusCode::kInvalidArgument, kSimBadRequest));
  EXPECT_THAT(GuidBytes("63da758d-e664-4564-adc5-f4b93be8accz"), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(SimulatedPlatformTest, BadRequestsAreRefused) {
  auto reason = [](const ReportRequest& r) { return Milan().SignReport(r).status(); };
  ReportRequest r;
  r.version = 2;
  EXPECT_THAT(reason(r), StatusIs(StatusCode::kInvalidArgument, kSimBadRequest));
  r = {};
  r.report_data = Bytes(65, 0);
  EXPECT_THAT(reason(r), StatusIs(StatusCode::kInvalidArgument, kSimBadRequest));
  r = {};
  r.measurement = Bytes(47, 0);
  EXPECT_THAT(reason(r), StatusIs(StatusCode::kInvalidArgument, kSimBadRequest));
  r = {};
  r.policy = 0x10000;  // bit 17 clear
  EXPECT_THAT(reason(r), StatusIs(StatusCode::kInvalidArgument, kSimBadRequest));
  r = {};
  r.policy = 0x30000 | (1ull << 40);
  EXPECT_THAT(reason(r), StatusIs(StatusCode::kInvalidArgument, kSimBadRequest));
  r = {};
  r.vmpl = 4;
  EXPECT_THAT(reason(r), StatusIs(StatusCode::kInvalidArgument, kSimBadRequest));
}

TEST(SimulatedPlatformOptions, BadOptionsAreRefusedBeforeAnyKeyIsMade) {
  CreateOptions o;
  o.not_before = kNotBefore;
  o.product = Product::kUnknown;
  EXPECT_THAT(SimulatedPlatform::Create(o), StatusIs(StatusCode::kInvalidArgument, kSimBadOptions));
  o = {};
  EXPECT_THAT(SimulatedPlatform::Create(o), StatusIs(StatusCode::kInvalidArgument, kSimBadOptions));  // no time
  o.not_before = kNotBefore;
  o.days = 0;
  EXPECT_THAT(SimulatedPlatform::Create(o), StatusIs(StatusCode::kInvalidArgument, kSimBadOptions));
  o = {};
  o.not_before = kNotBefore;
  o.vcek_tcb = TcbVersion{1, 2, 3, 4, 5};  // fmc on Milan
  EXPECT_THAT(SimulatedPlatform::Create(o), StatusIs(StatusCode::kInvalidArgument, kSimBadOptions));
  o = {};
  o.not_before = kNotBefore;
  o.chip_id = Bytes(63, 1);
  EXPECT_THAT(SimulatedPlatform::Create(o), StatusIs(StatusCode::kInvalidArgument, kSimBadOptions));
  o.product = Product::kTurin;
  o.chip_id = Bytes(64, 1);  // Turin: 8 bytes then zeros
  EXPECT_THAT(SimulatedPlatform::Create(o), StatusIs(StatusCode::kInvalidArgument, kSimBadOptions));
}

TEST(SimulatedMeasurementTest, DomainSeparatedSha384OfBinaryAndConfig) {
  Bytes m = SimulatedMeasurement(AsBytes("binary"), AsBytes("config")).value();
  ASSERT_EQ(m.size(), 48u);
  // The documented encoding, spelled out.
  Bytes encoded = ToBytes("perimeter/snp-simulated-measurement/v1");
  encoded.push_back(0);
  Append(encoded, Bytes{0, 0, 0, 0, 0, 0, 0, 6});
  Append(encoded, AsBytes("binary"));
  Append(encoded, Bytes{0, 0, 0, 0, 0, 0, 0, 6});
  Append(encoded, AsBytes("config"));
  EXPECT_EQ(m, crypto::Hash(crypto::HashAlg::kSha384, encoded).value());
  EXPECT_NE(m, SimulatedMeasurement(AsBytes("binarY"), AsBytes("config")).value());
  EXPECT_NE(m, SimulatedMeasurement(AsBytes("binary"), AsBytes("configX")).value());
  // Moving bytes between the two inputs changes the measurement.
  EXPECT_NE(SimulatedMeasurement(AsBytes("ab"), AsBytes("c")).value(),
            SimulatedMeasurement(AsBytes("a"), AsBytes("bc")).value());
  EXPECT_EQ(m, SimulatedMeasurement(AsBytes("binary"), AsBytes("config")).value());
}

}  // namespace
}  // namespace perimeter::attest::snp::simulated
