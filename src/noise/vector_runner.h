// Runs one Noise test vector in the JSON formats of cacophony, snow and
// noise-c (see tests/testdata/noise/PROVENANCE.md): every handshake message,
// every transport message and, when present, the handshake hash must match
// byte for byte on both sides. Test-only (fixed ephemerals).
#ifndef PERIMETER_NOISE_VECTOR_RUNNER_H_
#define PERIMETER_NOISE_VECTOR_RUNNER_H_

#include <string>

#include <nlohmann/json.hpp>

namespace perimeter::noise::testing {

struct VectorOutcome {
  enum class Kind { kPassed, kFailed, kSkipped };
  Kind kind = Kind::kFailed;
  std::string name;    // the protocol name
  std::string detail;  // why it failed or was skipped
};

VectorOutcome RunVector(const nlohmann::json& vector);

}  // namespace perimeter::noise::testing

#endif  // PERIMETER_NOISE_VECTOR_RUNNER_H_
