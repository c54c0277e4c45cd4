// Fuzzes the SEV-SNP report parser (ParseReport). Invariants: never crashes;
// an accepted input has exactly 1184 bytes and serializes back to itself.
#include <cstdint>
#include <cstdlib>

#include "perimeter/attest/snp/report.h"
#include "perimeter/attest/snp/report_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace snp = perimeter::attest::snp;
  perimeter::ByteView input(data, size);
  auto report = snp::ParseReport(input);
  if (!report.has_value()) {
    if (report.error().reason().substr(0, 4) != "snp.") std::abort();
    return 0;
  }
  if (size != snp::kReportSize) std::abort();
  if (snp::SerializeReport(*report) != perimeter::Bytes(data, data + size)) std::abort();
  (void)snp::ReportToText(*report, snp::ReportProduct(*report));
  (void)snp::ReportToJson(*report, snp::ReportProduct(*report));
  return 0;
}
