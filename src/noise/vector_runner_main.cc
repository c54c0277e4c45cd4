// noise_vectors FILE...: runs every vector of each Noise test-vector file
// (cacophony, snow or noise-c JSON format) and prints, per file and in total,
// how many passed, failed and were skipped; a skip names its reason (only an
// unsupported primitive is skipped). The last line is
//   noise vectors: N passed, F failed, S skipped
// Exit status: 0 iff nothing failed and at least one vector passed.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "noise/vector_runner.h"

int main(int argc, char** argv) {
  using perimeter::noise::testing::RunVector;
  using Kind = perimeter::noise::testing::VectorOutcome::Kind;
  if (argc < 2) {
    std::fprintf(stderr, "usage: noise_vectors FILE...\n");
    return 2;
  }
  std::size_t passed = 0, failed = 0, skipped = 0;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto doc = nlohmann::json::parse(text.str(), nullptr, false);
    if (!in || doc.is_discarded() || !doc.contains("vectors") || !doc["vectors"].is_array()) {
      std::printf("%s: cannot read a {\"vectors\": [...]} document\n", argv[i]);
      ++failed;
      continue;
    }
    std::size_t p = 0, f = 0, s = 0;
    std::map<std::string, std::size_t> skip_reasons;
    for (const auto& v : doc["vectors"]) {
      auto outcome = RunVector(v);
      switch (outcome.kind) {
        case Kind::kPassed: ++p; break;
        case Kind::kSkipped:
          ++s;
          ++skip_reasons[outcome.detail];
          break;
        case Kind::kFailed:
          ++f;
          std::printf("FAILED %s: %s\n", outcome.name.c_str(), outcome.detail.c_str());
          break;
      }
    }
    std::printf("%s: %zu passed, %zu failed, %zu skipped\n", argv[i], p, f, s);
    for (const auto& [reason, n] : skip_reasons) std::printf("  skipped %zu: %s\n", n, reason.c_str());
    passed += p;
    failed += f;
    skipped += s;
  }
  std::printf("noise vectors: %zu passed, %zu failed, %zu skipped\n", passed, failed, skipped);
  return (failed == 0 && passed > 0) ? 0 : 1;
}
