// Fuzzes the SEV-SNP certificate-table parser (the auxblob of configfs-tsm
// and the certificate buffer of SNP_GET_EXT_REPORT). Invariants: never
// crashes or reads outside the input; every accepted entry has a non-empty
// blob; rebuilding the parsed entries and parsing again gives the same
// entries.
#include <cstdint>
#include <cstdlib>

#include "perimeter/attest/snp/cert_table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace snp = perimeter::attest::snp;
  auto entries = snp::ParseCertTable(perimeter::ByteView(data, size));
  if (!entries.has_value()) {
    if (entries.error().reason().substr(0, 4) != "snp.") std::abort();
    return 0;
  }
  for (const auto& e : *entries) {
    if (e.data.empty()) std::abort();
  }
  perimeter::Bytes rebuilt = snp::BuildCertTable(*entries);
  auto again = snp::ParseCertTable(rebuilt);
  if (!again.has_value() || again->size() != entries->size()) std::abort();
  for (std::size_t i = 0; i < entries->size(); ++i) {
    if ((*again)[i].guid != (*entries)[i].guid || (*again)[i].data != (*entries)[i].data) std::abort();
  }
  return 0;
}
