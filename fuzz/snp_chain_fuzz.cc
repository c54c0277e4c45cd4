// Fuzzes the parser of AMD KDS cert_chain bundles (PEM: ASK or ASVK, then
// ARK) and of PEM CRLs. Invariants: never crashes; errors carry a stable
// reason.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "perimeter/attest/snp/amd_roots.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace snp = perimeter::attest::snp;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto chain = snp::ParseKdsChain(text);
  if (!chain.has_value() && chain.error().reason().empty()) std::abort();
  auto crl = perimeter::crypto::Crl::FromPem(text);
  if (!crl.has_value() && crl.error().reason().empty()) std::abort();
  return 0;
}
