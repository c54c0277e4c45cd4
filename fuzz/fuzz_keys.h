// Fixed key material shared by the Noise fuzzers (and by the throwaway seed
// generator described in README.md). Keys are derived from constant labels so
// that every run of a fuzzer sees the same static and ephemeral keys: a seed
// recorded once (e.g. a genuine message 2 or 3) stays valid and lets the
// fuzzer reach the success paths, not only the first AEAD failure.
//
// Fuzzing only: these keys are public and must never be used elsewhere.
#ifndef PERIMETER_FUZZ_FUZZ_KEYS_H_
#define PERIMETER_FUZZ_FUZZ_KEYS_H_

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/crypto/xdh.h"

namespace perimeter::fuzz {

// A 32-byte X25519 private scalar spread from `label` (FNV-1a, then a
// xorshift stream): deterministic, distinct per label, no crypto needed.
inline std::shared_ptr<const crypto::XdhPrivateKey> FixedKey(std::string_view label) {
  std::uint64_t x = 0xcbf29ce484222325ULL;
  for (char c : label) {
    x ^= static_cast<std::uint8_t>(c);
    x *= 0x100000001b3ULL;
  }
  Bytes raw(32);
  for (std::uint8_t& b : raw) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<std::uint8_t>(x >> 56);
  }
  Result<crypto::XdhPrivateKey> key = crypto::XdhPrivateKey::FromBytes(crypto::XdhAlg::kX25519, raw);
  if (!key.has_value()) std::abort();  // harness bug, not a finding
  return std::make_shared<const crypto::XdhPrivateKey>(std::move(key).value());
}

// Labels used by the fuzzers; the seed generator uses the same ones.
inline constexpr std::string_view kServerStaticLabel = "perimeter-fuzz/server-static";
inline constexpr std::string_view kClientStaticLabel = "perimeter-fuzz/client-static";
inline constexpr std::string_view kServerEphemeralLabel = "perimeter-fuzz/server-ephemeral";
inline constexpr std::string_view kClientEphemeralLabel = "perimeter-fuzz/client-ephemeral";
inline constexpr std::string_view kStaleServerStaticLabel = "perimeter-fuzz/stale-server-static";
inline constexpr std::string_view kFuzzEvidence = "perimeter-fuzz evidence";

}  // namespace perimeter::fuzz

#endif  // PERIMETER_FUZZ_FUZZ_KEYS_H_
