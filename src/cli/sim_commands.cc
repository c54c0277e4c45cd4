// `perimeter sim ...`: the INSECURE simulated SEV-SNP platform (development
// and tests only; see attest/snp/simulated/platform.h).
//
//   perimeter sim init DIR [--product milan|genoa|turin]
//       [--not-before RFC3339] [--days N] [--tcb bl=N,tee=N,snp=N,ucode=N[,fmc=N]]
//   perimeter sim report --dir DIR --out FILE [--version 3|5] [--report-data HEX]
//       [--measurement HEX] [--host-data HEX] [--policy HEX] [--vmpl N]
//       [--reported-tcb bl=N,...] [--chip-id HEX] [--signing-key vcek|vlek]
//   perimeter sim measure --workload PATH [--config FILE]
//
// `init` refuses to touch a directory that already holds a platform. Its
// output names the ARK (subject and SPKI SHA-384) so that it can be added to
// a trust file explicitly; private keys are never printed. --not-before
// defaults to the start of the current UTC day. `report` writes the raw
// 1184-byte report (overwriting FILE). `measure` prints the 96-hex launch
// measurement `perimeter serve --provider simulated` reports for that
// workload binary and configuration file (SimulatedMeasurement), for trust
// files.
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "perimeter/attest/snp/report.h"
#include "perimeter/attest/snp/simulated/platform.h"
#include "perimeter/crypto/hash.h"

namespace perimeter::cli {
namespace {

namespace snp = attest::snp;
namespace sim = attest::snp::simulated;

Status Usage(std::string_view what) { return InvalidArgumentError("cli.bad_argument", "cli: " + std::string(what)); }

Result<std::uint64_t> ParseUint(std::string_view s, int base, std::uint64_t max, std::string_view what) {
  if (base == 16 && (s.starts_with("0x") || s.starts_with("0X"))) s.remove_prefix(2);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > max) {
    return Usage(std::string(what) + ": '" + std::string(s) + "' is not a number in range");
  }
  return v;
}

Result<snp::Product> ParseProduct(const std::string& s) {
  if (s == "milan") return snp::Product::kMilan;
  if (s == "genoa") return snp::Product::kGenoa;
  if (s == "turin") return snp::Product::kTurin;
  return Usage("--product must be milan, genoa or turin");
}

// "bl=N,tee=N,snp=N,ucode=N[,fmc=N]": all four required, fmc optional.
Result<snp::TcbVersion> ParseTcb(std::string_view s, std::string_view flag) {
  snp::TcbVersion t;
  int seen = 0;
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) return Usage(std::string(flag) + ": expected name=value");
    const std::string_view name = item.substr(0, eq);
    PERIMETER_ASSIGN_OR_RETURN(std::uint64_t v, ParseUint(item.substr(eq + 1), 10, 255, flag));
    const auto b = static_cast<std::uint8_t>(v);
    int bit = 0;
    if (name == "bl") {
      t.boot_loader = b;
      bit = 1;
    } else if (name == "tee") {
      t.tee = b;
      bit = 2;
    } else if (name == "snp") {
      t.snp = b;
      bit = 4;
    } else if (name == "ucode") {
      t.microcode = b;
      bit = 8;
    } else if (name == "fmc") {
      t.fmc = b;
      bit = 16;
    } else {
      return Usage(std::string(flag) + ": unknown component '" + std::string(name) + "'");
    }
    if ((seen & bit) != 0) return Usage(std::string(flag) + ": '" + std::string(name) + "' given twice");
    seen |= bit;
  }
  if ((seen & 15) != 15) return Usage(std::string(flag) + " needs bl, tee, snp and ucode");
  return t;
}

// RFC 3339 in UTC: "YYYY-MM-DDTHH:MM:SSZ" (or "+00:00"), or a date
// "YYYY-MM-DD" meaning midnight UTC.
Result<std::int64_t> ParseRfc3339(std::string_view s) {
  auto num = [&](std::size_t pos, std::size_t len, std::uint64_t max) -> Result<std::uint64_t> {
    if (pos + len > s.size()) return Usage("--not-before is not RFC 3339 (e.g. 2025-01-01T00:00:00Z)");
    return ParseUint(s.substr(pos, len), 10, max, "--not-before");
  };
  const bool date_only = s.size() == 10;
  if (!date_only && !(s.size() == 20 && s[19] == 'Z') && !(s.size() == 25 && s.substr(19) == "+00:00")) {
    return Usage("--not-before must be RFC 3339 in UTC, e.g. 2025-01-01T00:00:00Z");
  }
  if (s[4] != '-' || s[7] != '-' || (!date_only && ((s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':'))) {
    return Usage("--not-before must be RFC 3339 in UTC, e.g. 2025-01-01T00:00:00Z");
  }
  PERIMETER_ASSIGN_OR_RETURN(std::uint64_t year, num(0, 4, 9999));
  PERIMETER_ASSIGN_OR_RETURN(std::uint64_t month, num(5, 2, 12));
  PERIMETER_ASSIGN_OR_RETURN(std::uint64_t day, num(8, 2, 31));
  std::uint64_t hour = 0, minute = 0, second = 0;
  if (!date_only) {
    PERIMETER_ASSIGN_OR_RETURN(hour, num(11, 2, 23));
    PERIMETER_ASSIGN_OR_RETURN(minute, num(14, 2, 59));
    PERIMETER_ASSIGN_OR_RETURN(second, num(17, 2, 59));
  }
  if (year < 1970 || month < 1 || day < 1) return Usage("--not-before is out of range");
  // Days from civil (proleptic Gregorian), H. Hinnant's algorithm.
  const auto y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
  const std::int64_t era = y / 400;
  const std::int64_t yoe = y - era * 400;
  const auto m = static_cast<std::int64_t>(month);
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + static_cast<std::int64_t>(day) - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = era * 146097 + doe - 719468;
  return days * 86400 + static_cast<std::int64_t>(hour * 3600 + minute * 60 + second);
}

Result<Bytes> ParseHex(const std::string& s, std::size_t min, std::size_t max, std::string_view flag) {
  std::string_view v = s;
  if (v.starts_with("0x")) v.remove_prefix(2);
  Result<Bytes> b = HexDecode(v);
  if (!b.has_value() || b->size() < min || b->size() > max) {
    return Usage(std::string(flag) + " must be " +
                 (min == max ? std::to_string(min) : std::to_string(min) + ".." + std::to_string(max)) +
                 " bytes of hex");
  }
  return b;
}

struct InitArgs {
  std::string dir;
  std::string product = "milan";
  std::string not_before;
  std::uint32_t days = 7 * 365;
  std::string tcb;
};

Result<int> Init(const InitArgs& a) {
  sim::CreateOptions o;
  PERIMETER_ASSIGN_OR_RETURN(o.product, ParseProduct(a.product));
  if (a.not_before.empty()) {
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    o.not_before = now - now % 86400;
  } else {
    PERIMETER_ASSIGN_OR_RETURN(o.not_before, ParseRfc3339(a.not_before));
  }
  o.days = a.days;
  if (!a.tcb.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(o.vcek_tcb, ParseTcb(a.tcb, "--tcb"));
  }
  // Refuse early, before seconds of key generation.
  if (sim::SimulatedPlatform::Load(a.dir).status().code() != StatusCode::kNotFound) {
    return AlreadyExistsError(sim::kSimPlatformExists, "cli: " + a.dir + " already holds a simulated platform");
  }
  PERIMETER_ASSIGN_OR_RETURN(sim::SimulatedPlatform platform, sim::SimulatedPlatform::Create(o));
  PERIMETER_RETURN_IF_ERROR(platform.Save(a.dir));
  PERIMETER_ASSIGN_OR_RETURN(Bytes ark_spki_hash,
                             crypto::Hash(crypto::HashAlg::kSha384, platform.ark().SubjectPublicKeyInfoDer()));
  const snp::TcbVersion t = platform.vcek_tcb();
  std::printf("INSECURE simulated SEV-SNP platform written to %s\n", a.dir.c_str());
  std::printf("product: %s\n", std::string(snp::ProductName(platform.product())).c_str());
  std::printf("chip_id: %s\n", HexEncode(platform.chip_id()).c_str());
  std::printf("vcek_tcb: fmc=%u bl=%u tee=%u snp=%u ucode=%u\n", t.fmc, t.boot_loader, t.tee, t.snp, t.microcode);
  std::printf("ark: %s\n", platform.ark().Subject().c_str());
  std::printf("ark_spki_sha384: %s\n", HexEncode(ark_spki_hash).c_str());
  std::printf("trust it only explicitly: add %s/ark.pem to the trusted roots\n", a.dir.c_str());
  return 0;
}

struct ReportArgs {
  std::string dir;
  std::string out;
  std::uint32_t version = 3;
  std::string report_data, measurement, host_data, policy, reported_tcb, chip_id;
  std::uint32_t vmpl = 0;
  std::string signing_key = "vcek";
};

Result<int> Report(const ReportArgs& a) {
  PERIMETER_ASSIGN_OR_RETURN(sim::SimulatedPlatform platform, sim::SimulatedPlatform::Load(a.dir));
  sim::ReportRequest r;
  r.version = a.version;
  if (!a.report_data.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(r.report_data, ParseHex(a.report_data, 1, 64, "--report-data"));
  }
  if (!a.measurement.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(r.measurement, ParseHex(a.measurement, 48, 48, "--measurement"));
  }
  if (!a.host_data.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(r.host_data, ParseHex(a.host_data, 32, 32, "--host-data"));
  }
  if (!a.chip_id.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(r.chip_id, ParseHex(a.chip_id, 64, 64, "--chip-id"));
  }
  if (!a.policy.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(r.policy, ParseUint(a.policy, 16, UINT64_MAX, "--policy"));
  }
  r.vmpl = a.vmpl;
  if (!a.reported_tcb.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(snp::TcbVersion t, ParseTcb(a.reported_tcb, "--reported-tcb"));
    if (platform.product() != snp::Product::kTurin && t.fmc != 0) return Usage("--reported-tcb: fmc is Turin only");
    r.reported_tcb = snp::EncodeTcb(t, platform.product());
  }
  if (a.signing_key == "vcek") {
    r.signing_key = snp::SigningKey::kVcek;
  } else if (a.signing_key == "vlek") {
    r.signing_key = snp::SigningKey::kVlek;  // still signed by the VCEK: a report verifiers reject
  } else {
    return Usage("--signing-key must be vcek or vlek");
  }
  PERIMETER_ASSIGN_OR_RETURN(Bytes report, platform.SignReport(r));
  FILE* f = std::fopen(a.out.c_str(), "wb");
  if (f == nullptr) return UnavailableError("cli.write_failed", "cli: cannot create " + a.out);
  bool ok = std::fwrite(report.data(), 1, report.size(), f) == report.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return UnavailableError("cli.write_failed", "cli: cannot write " + a.out);
  std::printf("wrote %zu-byte INSECURE simulated report (version %u, %s) to %s\n", report.size(), a.version,
              std::string(snp::ProductName(platform.product())).c_str(), a.out.c_str());
  return 0;
}

struct MeasureArgs {
  std::string workload;
  std::string config;
};

Result<Bytes> ReadFileBytes(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return UnavailableError("cli.read_failed", "cli: cannot open " + path);
  Bytes out;
  std::uint8_t buf[65536];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.insert(out.end(), buf, buf + n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return UnavailableError("cli.read_failed", "cli: cannot read " + path);
  return out;
}

Result<int> Measure(const MeasureArgs& a) {
  PERIMETER_ASSIGN_OR_RETURN(Bytes workload, ReadFileBytes(a.workload));
  Bytes config;
  if (!a.config.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(config, ReadFileBytes(a.config));
  }
  PERIMETER_ASSIGN_OR_RETURN(Bytes m, sim::SimulatedMeasurement(workload, config));
  std::printf("%s\n", HexEncode(m).c_str());
  return 0;
}

}  // namespace

void RegisterSimCommands(CLI::App& app, Result<int>* result) {
  CLI::App* simc = app.add_subcommand(
      "sim", "INSECURE simulated SEV-SNP platform for development and tests (never trusted by default)");
  simc->require_subcommand(1);

  auto* init = simc->add_subcommand("init", "Create a simulated platform (ARK, ASK, VCEK, CRL, keys) in DIR");
  auto ia = std::make_shared<InitArgs>();
  init->add_option("DIR", ia->dir, "Directory to create the platform in (must not hold one)")->required();
  init->add_option("--product", ia->product, "milan, genoa or turin (default milan)");
  init->add_option("--not-before", ia->not_before,
                   "Start of validity, RFC 3339 UTC, e.g. 2025-01-01T00:00:00Z (default: today 00:00Z)");
  init->add_option("--days", ia->days, "Validity in days (default 2555)");
  init->add_option("--tcb", ia->tcb, "VCEK TCB: bl=N,tee=N,snp=N,ucode=N[,fmc=N] (fmc: Turin)");
  init->callback([result, ia] { *result = Init(*ia); });

  auto* rep = simc->add_subcommand("report", "Sign a raw 1184-byte SEV-SNP report with a simulated platform");
  auto ra = std::make_shared<ReportArgs>();
  rep->add_option("--dir", ra->dir, "Platform directory (from sim init)")->required();
  rep->add_option("--out", ra->out, "Output file for the raw report")->required();
  rep->add_option("--version", ra->version, "Report version, 3 or 5 (default 3)");
  rep->add_option("--report-data", ra->report_data, "REPORT_DATA, hex, up to 64 bytes (zero-padded)");
  rep->add_option("--measurement", ra->measurement, "MEASUREMENT, 48 bytes hex");
  rep->add_option("--host-data", ra->host_data, "HOST_DATA, 32 bytes hex");
  rep->add_option("--policy", ra->policy, "GUEST_POLICY as a hex number (default 0x30000)");
  rep->add_option("--vmpl", ra->vmpl, "VMPL 0..3 (default 0)");
  rep->add_option("--reported-tcb", ra->reported_tcb, "REPORTED_TCB: bl=N,tee=N,snp=N,ucode=N[,fmc=N]");
  rep->add_option("--chip-id", ra->chip_id, "CHIP_ID, 64 bytes hex (default the platform's)");
  rep->add_option("--signing-key", ra->signing_key,
                  "SIGNING_KEY field: vcek (default) or vlek (still VCEK-signed; for negative tests)");
  rep->callback([result, ra] { *result = Report(*ra); });

  auto* mea = simc->add_subcommand("measure", "Print the simulated launch measurement of a workload (96 hex)");
  auto ma = std::make_shared<MeasureArgs>();
  mea->add_option("--workload", ma->workload, "The workload binary (what `serve --sim-workload` measures)")
      ->required();
  mea->add_option("--config", ma->config, "The server's configuration file, if it uses one");
  mea->callback([result, ma] { *result = Measure(*ma); });
}

}  // namespace perimeter::cli
