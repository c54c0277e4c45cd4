// The binding between a workload's attestation report and its Noise static
// key (DESIGN.md section 4; docs/wire-protocol.md section 4.3):
//
//   REPORT_DATA = SHA-512( "secure-perimeter/noise-binding/1" || server_static_public_key )
//
// The label is exactly those 32 ASCII bytes (no terminator, no length
// prefix) and the key is the raw 32-byte X25519 public key, so the result
// fills the 64-byte REPORT_DATA field. The server puts it into every report
// it requests; a client compares it, in constant time, with the REPORT_DATA
// of the report it verified, against the static key the handshake
// authenticated.
//
// Pure functions; thread-safe.
#ifndef PERIMETER_ATTEST_NOISE_BINDING_H_
#define PERIMETER_ATTEST_NOISE_BINDING_H_

#include <cstddef>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::attest {

inline constexpr std::string_view kNoiseBindingLabel = "secure-perimeter/noise-binding/1";
inline constexpr std::size_t kNoiseBindingSize = 64;

// Errors: kInvalidArgument "attest.binding_bad_key" unless the key is 32
// bytes; kInternal from the hash.
Result<Bytes> NoiseBindingReportData(ByteView server_static_public_key);

}  // namespace perimeter::attest

#endif  // PERIMETER_ATTEST_NOISE_BINDING_H_
