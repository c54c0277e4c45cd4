// Fuzzes the evidence document parser (attest::ParseEvidence). Invariants:
// never crashes; errors carry an "attest." reason; an accepted document
// re-serializes to one that parses to the same contents.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "perimeter/attest/evidence.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace attest = perimeter::attest;
  auto e = attest::ParseEvidence(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!e.has_value()) {
    if (e.error().reason().substr(0, 7) != "attest.") std::abort();
    return 0;
  }
  auto text = attest::SerializeEvidence(*e);
  if (!text.has_value()) return 0;  // e.g. re-encoding grew past the limit
  auto again = attest::ParseEvidence(*text);
  if (!again.has_value() || again->report != e->report || again->vek != e->vek || again->ask != e->ask ||
      again->ark != e->ark || again->provider != e->provider) {
    std::abort();
  }
  return 0;
}
