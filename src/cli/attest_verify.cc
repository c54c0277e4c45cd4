// perimeter attest verify: verifies an SEV-SNP report against its chain and
// a policy, prints the verdict (every check, its result and reason) as text
// or JSON, and exits 0 if accepted, 1 if rejected (2 for usage errors).
//
//   --report FILE        the report (raw or hex)
//   --vcek FILE          the VCEK/VLEK (DER or PEM); alternatives:
//   --cert-table FILE    the SEV-SNP certificate table that came with the
//                        report (configfs-tsm auxblob, SNP_GET_EXT_REPORT)
//   --kds-cache DIR      look the VCEK (and chain, CRL) up in a KDS cache
//                        directory (snp/kds.h), fetching only with --online
//   --evidence FILE      an evidence document (docs/evidence.md) instead of
//                        --report and --vcek
//   --chain FILE         ASK (or ASVK) and ARK as AMD's KDS serves them (PEM)
//   --crl FILE           the ARK's CRL (DER or PEM)
//   --at TIME            verify as of this RFC 3339 time (default: now)
//   --trust-root FILE    trust this ARK (PEM) instead of AMD's pinned roots;
//                        repeatable. Needed for the simulated platform.
//   --product P          milan|genoa|turin, for version-2 reports
//   policy: --measurement HEX (repeatable), --host-data HEX (repeatable), --report-data HEX,
//           --min-tcb bl=N,tee=N,snp=N,ucode=N[,fmc=N], --allow-debug,
//           --allow-migration-agent, --no-smt, --max-vmpl N, --family-id HEX,
//           --image-id HEX, --author-key-digest HEX, --require-crl
#include "cli/attest_verify.h"

#include <ctime>
#include <fstream>
#include <iomanip>
#include <memory>
#include <sstream>
#include <vector>

#include "perimeter/attest/evidence.h"
#include "perimeter/attest/snp/cert_table.h"
#include "perimeter/attest/snp/kds.h"
#include "perimeter/attest/snp/provider.h"
#include "perimeter/attest/snp/policy.h"
#include "perimeter/attest/snp/verifier.h"
#include "perimeter/crypto/x509.h"

namespace perimeter::cli {
namespace {

namespace snp = attest::snp;

constexpr std::size_t kMaxInput = 1 << 20;

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cli.file_missing", "cli: cannot read " + path);
  std::string data;
  char buf[8192];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    data.append(buf, static_cast<std::size_t>(in.gcount()));
    if (data.size() > kMaxInput) return InvalidArgumentError("cli.file_too_large", "cli: " + path + " over 1 MiB");
  }
  return data;
}

bool IsPem(const std::string& s) { return s.find("-----BEGIN") != std::string::npos; }

Result<crypto::Certificate> ReadCertificate(const std::string& path) {
  PERIMETER_ASSIGN_OR_RETURN(std::string data, ReadSmallFile(path));
  if (IsPem(data)) return crypto::Certificate::FromPem(data);
  return crypto::Certificate::FromDer(AsBytes(data));
}

Result<crypto::Crl> ReadCrl(const std::string& path) {
  PERIMETER_ASSIGN_OR_RETURN(std::string data, ReadSmallFile(path));
  if (IsPem(data)) return crypto::Crl::FromPem(data);
  return crypto::Crl::FromDer(AsBytes(data));
}

Result<Bytes> HexOfSize(const std::string& flag, const std::string& hex, std::size_t size) {
  Result<Bytes> b = HexDecode(hex);
  if (!b.has_value() || b->size() != size) {
    return InvalidArgumentError("cli.bad_hex", "cli: " + flag + " must be " + std::to_string(size) + " bytes of hex");
  }
  return b;
}

Result<snp::TcbVersion> ParseTcb(const std::string& text) {
  snp::TcbVersion t;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::size_t eq = item.find('=');
    if (eq == std::string::npos) return InvalidArgumentError("cli.bad_tcb", "cli: expected name=value in --min-tcb");
    std::string name = item.substr(0, eq);
    int v = -1;
    try {
      v = std::stoi(item.substr(eq + 1));
    } catch (...) {
      v = -1;
    }
    if (v < 0 || v > 255) return InvalidArgumentError("cli.bad_tcb", "cli: TCB values are 0..255");
    auto u = static_cast<std::uint8_t>(v);
    if (name == "bl") t.boot_loader = u;
    else if (name == "tee") t.tee = u;
    else if (name == "snp") t.snp = u;
    else if (name == "ucode") t.microcode = u;
    else if (name == "fmc") t.fmc = u;
    else return InvalidArgumentError("cli.bad_tcb", "cli: unknown TCB component '" + name + "'");
  }
  return t;
}

struct Options {
  std::string report, vcek, cert_table, evidence, kds_cache, chain, crl, at, product;
  bool online = false, json = false;
  std::vector<std::string> trust_roots;
  std::vector<std::string> measurements;
  std::vector<std::string> host_data;
  std::string report_data, min_tcb, family_id, image_id, author_key;
  bool allow_debug = false, allow_ma = false, no_smt = false, require_crl = false;
  std::uint32_t max_vmpl = 0;
};

Result<int> Run(const Options& o) {
  snp::VerifyInput in;
  Bytes report;
  if (!o.evidence.empty()) {
    if (!o.report.empty() || !o.vcek.empty()) {
      return InvalidArgumentError("cli.conflicting_inputs", "cli: --evidence replaces --report and --vcek");
    }
    PERIMETER_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(o.evidence));
    PERIMETER_ASSIGN_OR_RETURN(attest::Evidence e, attest::ParseEvidence(text));
    report = e.report;
    PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate vek, crypto::Certificate::FromDer(e.vek));
    in.vek = std::move(vek);
    // Evidence may carry the intermediate and root; the root must still be
    // trusted (by key) to count.
    for (const std::optional<Bytes>* der : {&e.ask, &e.ark}) {
      if (!der->has_value()) continue;
      PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate c, crypto::Certificate::FromDer(**der));
      in.chain.push_back(std::move(c));
    }
  } else {
    if (o.report.empty()) return InvalidArgumentError("cli.missing_report", "cli: give --report FILE or --evidence FILE");
    PERIMETER_ASSIGN_OR_RETURN(report, ReadReportFile(o.report));
  }
  in.report = report;
  PERIMETER_ASSIGN_OR_RETURN(in.product_hint, ProductFromFlag(o.product));
  if (o.at.empty()) {
    in.at_unix_seconds = static_cast<std::int64_t>(std::time(nullptr));
  } else {
    PERIMETER_ASSIGN_OR_RETURN(in.at_unix_seconds, ParseRfc3339(o.at));
  }
  if (!o.chain.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(o.chain));
    PERIMETER_ASSIGN_OR_RETURN(in.chain, crypto::Certificate::ParsePemBundle(pem));
  }
  if (!o.crl.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(crypto::Crl crl, ReadCrl(o.crl));
    in.crl = std::move(crl);
  }
  if (in.vek.has_value()) {
    // From --evidence.
  } else if (!o.vcek.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate vek, ReadCertificate(o.vcek));
    in.vek = std::move(vek);
  } else if (!o.cert_table.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(std::string table, ReadSmallFile(o.cert_table));
    PERIMETER_ASSIGN_OR_RETURN(std::vector<snp::CertTableEntry> entries, snp::ParseCertTable(AsBytes(table)));
    Result<ByteView> vek = snp::FindCert(entries, snp::kGuidVcek);
    if (!vek.has_value()) vek = snp::FindCert(entries, snp::kGuidVlek);
    if (!vek.has_value()) {
      return NotFoundError("cli.cert_table_no_vek", "cli: the certificate table has no VCEK or VLEK");
    }
    PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate vek_cert, crypto::Certificate::FromDer(*vek));
    in.vek = std::move(vek_cert);
    if (in.chain.empty()) {
      for (std::string_view guid : {snp::kGuidAsk, snp::kGuidArk}) {
        Result<ByteView> der = snp::FindCert(entries, guid);
        if (!der.has_value()) continue;
        PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate c, crypto::Certificate::FromDer(*der));
        in.chain.push_back(std::move(c));
      }
    }
  } else if (!o.kds_cache.empty()) {
    // The VCEK is named by the report's own fields: product, CHIP_ID and
    // REPORTED_TCB (the verifier then checks all three against it).
    PERIMETER_ASSIGN_OR_RETURN(snp::AttestationReport parsed, snp::ParseReport(report));
    snp::Product product = snp::ReportProduct(parsed);
    if (product == snp::Product::kUnknown) product = in.product_hint;
    std::unique_ptr<snp::KdsFetcher> fetcher = o.online ? snp::NewCurlFetcher() : nullptr;
    snp::KdsCache cache(o.kds_cache, fetcher.get());
    PERIMETER_ASSIGN_OR_RETURN(
        snp::KdsResource vcek_res,
        snp::VcekResource(product, ByteView(parsed.chip_id.data(), parsed.chip_id.size()),
                          snp::DecodeTcb(parsed.reported_tcb, product)));
    PERIMETER_ASSIGN_OR_RETURN(Bytes der, cache.Get(vcek_res));
    PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate vek, crypto::Certificate::FromDer(der));
    in.vek = std::move(vek);
    if (in.chain.empty()) {
      PERIMETER_ASSIGN_OR_RETURN(snp::KdsResource chain_res, snp::CertChainResource(product, snp::KdsKeyKind::kVcek));
      Result<Bytes> pem = cache.Get(chain_res);
      if (pem.has_value()) {
        PERIMETER_ASSIGN_OR_RETURN(in.chain, crypto::Certificate::ParsePemBundle(
                                                 std::string(pem->begin(), pem->end())));
      }
    }
    if (!in.crl.has_value()) {
      PERIMETER_ASSIGN_OR_RETURN(snp::KdsResource crl_res, snp::CrlResource(product, snp::KdsKeyKind::kVcek));
      Result<Bytes> crl = cache.Get(crl_res);
      if (crl.has_value()) {
        PERIMETER_ASSIGN_OR_RETURN(crypto::Crl parsed_crl, crypto::Crl::FromDer(*crl));
        in.crl = std::move(parsed_crl);
      }
    }
  } else {
    return InvalidArgumentError("cli.missing_vcek",
                                "cli: give --vcek FILE, --cert-table FILE, --kds-cache DIR or --evidence FILE");
  }

  snp::TrustedRoots roots;
  for (const std::string& path : o.trust_roots) {
    PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate ark, ReadCertificate(path));
    roots.arks.push_back(std::move(ark));
  }

  snp::Policy policy;
  policy.require_crl = o.require_crl;
  policy.allow_debug = o.allow_debug;
  policy.allow_migration_agent = o.allow_ma;
  policy.allow_smt = !o.no_smt;
  policy.max_vmpl = o.max_vmpl;
  for (const std::string& m : o.measurements) {
    PERIMETER_ASSIGN_OR_RETURN(Bytes b, HexOfSize("--measurement", m, 48));
    policy.measurements.push_back(std::move(b));
  }
  for (const std::string& h : o.host_data) {
    PERIMETER_ASSIGN_OR_RETURN(Bytes b, HexOfSize("--host-data", h, 32));
    policy.host_data.push_back(std::move(b));
  }
  if (!o.report_data.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(policy.report_data, HexOfSize("--report-data", o.report_data, 64));
  }
  if (!o.family_id.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(policy.family_id, HexOfSize("--family-id", o.family_id, 16));
  }
  if (!o.image_id.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(policy.image_id, HexOfSize("--image-id", o.image_id, 16));
  }
  if (!o.author_key.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(policy.author_key_digest, HexOfSize("--author-key-digest", o.author_key, 48));
  }

  snp::VerifyResult result = snp::Verify(in, roots);
  if (result.claims.has_value()) {
    if (!o.min_tcb.empty()) {
      PERIMETER_ASSIGN_OR_RETURN(snp::TcbVersion min, ParseTcb(o.min_tcb));
      policy.min_tcb[result.claims->product] = min;
    }
    snp::Evaluate(*result.claims, policy, result.verdict);
  }
  std::string out = o.json ? result.verdict.ToJson() + "\n" : result.verdict.ToText();
  std::fwrite(out.data(), 1, out.size(), stdout);
  return result.verdict.accepted() ? 0 : 1;
}

}  // namespace

Result<std::int64_t> ParseRfc3339(const std::string& text) {
  auto bad = [&]() { return InvalidArgumentError("cli.bad_time", "cli: '" + text + "' is not an RFC 3339 time"); };
  if (text.size() < 20 || (text[10] != 'T' && text[10] != 't' && text[10] != ' ')) return bad();
  std::tm tm{};
  std::istringstream in(text.substr(0, 19));
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (text[10] == ' ') {
    std::istringstream in2(text.substr(0, 19));
    in2 >> std::get_time(&tm, "%Y-%m-%d %H:%M:%S");
    if (in2.fail()) return bad();
  } else if (in.fail()) {
    return bad();
  }
  std::size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  }
  std::int64_t offset = 0;
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z') && i + 1 == text.size()) {
    offset = 0;
  } else if (i + 6 == text.size() && (text[i] == '+' || text[i] == '-') && text[i + 3] == ':' &&
             std::isdigit(static_cast<unsigned char>(text[i + 1])) &&
             std::isdigit(static_cast<unsigned char>(text[i + 2])) &&
             std::isdigit(static_cast<unsigned char>(text[i + 4])) &&
             std::isdigit(static_cast<unsigned char>(text[i + 5]))) {
    int hh = (text[i + 1] - '0') * 10 + (text[i + 2] - '0');
    int mm = (text[i + 4] - '0') * 10 + (text[i + 5] - '0');
    if (hh > 23 || mm > 59) return bad();
    offset = (hh * 3600 + mm * 60) * (text[i] == '+' ? 1 : -1);
  } else {
    return bad();
  }
  return static_cast<std::int64_t>(timegm(&tm)) - offset;
}

void AddAttestVerifyCommand(CLI::App* attest, Result<int>* result) {
  auto o = std::make_shared<Options>();
  auto* v = attest->add_subcommand("verify",
                                   "Verify an SEV-SNP report (chain, CRL, signature, TCB) and a policy; "
                                   "exit 0 if accepted, 1 if rejected");
  v->add_option("--report", o->report, "Report file (raw or hex)");
  v->add_option("--evidence", o->evidence, "Evidence document (JSON) instead of --report/--vcek");
  v->add_option("--cert-table", o->cert_table, "SEV-SNP certificate table holding the VCEK/VLEK (and ASK/ARK)");
  v->add_option("--vcek", o->vcek, "VCEK or VLEK certificate (DER or PEM)");
  v->add_option("--kds-cache", o->kds_cache, "KDS cache directory to take the VCEK, chain and CRL from");
  v->add_flag("--online", o->online, "With --kds-cache: fetch missing entries from AMD's KDS");
  v->add_option("--chain", o->chain, "ASK/ASVK and ARK, PEM, as AMD's KDS serves cert_chain");
  v->add_option("--crl", o->crl, "The ARK's CRL (DER or PEM)");
  v->add_option("--at", o->at, "Verify as of this RFC 3339 time (default: now)");
  v->add_option("--trust-root", o->trust_roots, "Trust this ARK (PEM) instead of AMD's pinned roots");
  v->add_option("--product", o->product, "milan, genoa or turin (for version-2 reports)");
  v->add_flag("--json", o->json, "Print the verdict as JSON");
  v->add_option("--measurement", o->measurements, "Allowed launch measurement (hex, 48 bytes); repeatable");
  v->add_option("--host-data", o->host_data, "Allowed HOST_DATA (hex, 32 bytes); repeatable");
  v->add_option("--report-data", o->report_data, "Required REPORT_DATA (hex, 64 bytes)");
  v->add_option("--min-tcb", o->min_tcb, "Minimum REPORTED_TCB: bl=N,tee=N,snp=N,ucode=N[,fmc=N]");
  v->add_flag("--allow-debug", o->allow_debug, "Accept guests that allow debugging");
  v->add_flag("--allow-migration-agent", o->allow_ma, "Accept guests that allow a migration agent");
  v->add_flag("--no-smt", o->no_smt, "Require SMT disabled on the platform");
  v->add_option("--max-vmpl", o->max_vmpl, "Highest VMPL accepted (default 0)");
  v->add_option("--family-id", o->family_id, "Required FAMILY_ID (hex, 16 bytes)");
  v->add_option("--image-id", o->image_id, "Required IMAGE_ID (hex, 16 bytes)");
  v->add_option("--author-key-digest", o->author_key, "Required AUTHOR_KEY_DIGEST (hex, 48 bytes)");
  v->add_flag("--require-crl", o->require_crl, "Reject unless a CRL was applied");
  v->callback([result, o] { *result = Run(*o); });
}

}  // namespace perimeter::cli
