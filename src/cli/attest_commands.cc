// `perimeter attest ...`: inspect SEV-SNP attestation evidence.
//
//   perimeter attest show FILE [--json] [--product milan|genoa|turin]
//
// FILE holds one raw 1184-byte ATTESTATION_REPORT, or the same bytes as hex
// text. The product (which selects the TCB layout) comes from the report's
// CPUID fields (version 3+), else from --product, else it is "unknown" and
// TCB values are shown raw. A --product that contradicts the CPUID fields is
// an error. Nothing is verified here: the signature and chain are not
// checked.
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "cli/attest_verify.h"
#include "cli/commands.h"
#include "perimeter/attest/snp/report.h"
#include "perimeter/attest/snp/report_format.h"
#include "perimeter/attest/snp/tcb.h"

namespace perimeter::cli {
namespace {

namespace snp = attest::snp;

// Generous bound for a report given as hex text with whitespace.
constexpr std::size_t kMaxFileSize = 64 * 1024;

}  // namespace

Result<Bytes> ReadReportFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cli.report_file_missing", "cli: cannot read " + path);
  std::string data;
  char buf[4096];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    data.append(buf, static_cast<std::size_t>(in.gcount()));
    if (data.size() > kMaxFileSize) {
      return InvalidArgumentError("cli.report_file_too_large", "cli: " + path + " is larger than 64 KiB");
    }
  }
  if (data.size() == snp::kReportSize) return ToBytes(data);
  // Otherwise accept hex text (as in tests/testdata/snp/.../report.hex).
  std::string hex;
  bool all_hex = !data.empty();
  for (char c : data) {
    auto u = static_cast<unsigned char>(c);
    if (std::isspace(u)) continue;
    if (!std::isxdigit(u)) {
      all_hex = false;
      break;
    }
    hex += c;
  }
  if (all_hex) {
    Result<Bytes> decoded = HexDecode(hex);
    if (decoded.has_value()) return decoded;
  }
  return ToBytes(data);  // ParseReport reports the wrong size.
}

Result<snp::Product> ProductFromFlag(const std::string& flag) {
  if (flag.empty()) return snp::Product::kUnknown;
  if (flag == "milan") return snp::Product::kMilan;
  if (flag == "genoa") return snp::Product::kGenoa;
  if (flag == "turin") return snp::Product::kTurin;
  return InvalidArgumentError("cli.bad_product", "cli: --product must be milan, genoa or turin");
}

namespace {

Result<int> Show(const std::string& path, bool json, const std::string& product_flag) {
  PERIMETER_ASSIGN_OR_RETURN(snp::Product flag_product, ProductFromFlag(product_flag));
  PERIMETER_ASSIGN_OR_RETURN(Bytes bytes, ReadReportFile(path));
  PERIMETER_ASSIGN_OR_RETURN(snp::AttestationReport report, snp::ParseReport(bytes));
  snp::Product product = snp::ReportProduct(report);
  if (product != snp::Product::kUnknown && flag_product != snp::Product::kUnknown && product != flag_product) {
    return InvalidArgumentError("cli.product_mismatch",
                                "cli: the report's CPUID names " + std::string(snp::ProductName(product)) +
                                    " but --product says " + std::string(snp::ProductName(flag_product)));
  }
  if (product == snp::Product::kUnknown) product = flag_product;
  std::string out = json ? snp::ReportToJson(report, product) : snp::ReportToText(report, product);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

void RegisterAttestCommands(CLI::App& app, Result<int>* result) {
  CLI::App* attest = app.add_subcommand("attest", "Inspect and verify SEV-SNP attestation reports");
  attest->require_subcommand(1);

  auto* show = attest->add_subcommand(
      "show", "Print every field of an SEV-SNP attestation report (parsed, not verified)");
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto product = std::make_shared<std::string>();
  show->add_option("FILE", *file, "Raw 1184-byte report, or the same as hex text")->required();
  show->add_flag("--json", *json, "Print JSON instead of text");
  show->add_option("--product", *product,
                   "CPU product for reports without CPUID fields (version 2): milan, genoa or turin");
  show->callback([result, file, json, product] { *result = Show(*file, *json, *product); });

  AddAttestVerifyCommand(attest, result);
}

}  // namespace perimeter::cli
