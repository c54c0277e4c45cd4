// Fuzzes the VCEK/VLEK certificate parser: DER -> crypto::Certificate ->
// ParseVekCertificate (AMD's extensions, key). Invariants: never crashes;
// errors carry an "snp." or "crypto." reason; an accepted VEK has a P-384 key
// and, for a VCEK, a hwID of 64 (Milan/Genoa) or 8 (Turin) bytes.
#include <cstdint>
#include <cstdlib>

#include "perimeter/attest/snp/vek_certificate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace snp = perimeter::attest::snp;
  auto cert = perimeter::crypto::Certificate::FromDer(perimeter::ByteView(data, size));
  if (!cert.has_value()) return 0;
  auto vek = snp::ParseVekCertificate(*cert);
  if (!vek.has_value()) {
    auto r = vek.error().reason();
    if (r.substr(0, 4) != "snp." && r.substr(0, 7) != "crypto.") std::abort();
    return 0;
  }
  if (vek->kind == snp::VekKind::kVcek) {
    if (!vek->hw_id.has_value()) std::abort();
    std::size_t want = vek->product == snp::Product::kTurin ? snp::kHwIdSizeTurin : snp::kHwIdSizeMilanGenoa;
    if (vek->hw_id->size() != want) std::abort();
  }
  if (!snp::VekPublicKey(*vek).has_value()) std::abort();
  return 0;
}
