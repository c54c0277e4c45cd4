#include "perimeter/noise/protocol_name.h"

#include <vector>

namespace perimeter::noise {
namespace {

Status BadName(std::string_view name, std::string_view why) {
  return InvalidArgumentError("noise.bad_protocol_name",
                              "noise: protocol name '" + std::string(name) + "': " + std::string(why));
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  while (true) {
    std::size_t i = s.find(sep);
    parts.push_back(s.substr(0, i));
    if (i == std::string_view::npos) break;
    s.remove_prefix(i + 1);
  }
  return parts;
}

}  // namespace

Result<ProtocolName> ParseProtocolName(std::string_view name) {
  // Section 8: a protocol name is at most 255 bytes.
  if (name.size() > 255) return BadName(name.substr(0, 64), "longer than 255 bytes");
  std::vector<std::string_view> parts = Split(name, '_');
  if (parts.size() != 5 || (parts[0] != "Noise" && parts[0] != "NoisePSK")) {
    return BadName(name, "expected Noise_<pattern>_<dh>_<cipher>_<hash>");
  }
  ProtocolName out;
  out.name = std::string(name);
  out.legacy_psk = parts[0] == "NoisePSK";
  PERIMETER_ASSIGN_OR_RETURN(out.pattern, LookupPattern(parts[1]));

  if (parts[2] == "25519") {
    out.dh = crypto::XdhAlg::kX25519;
  } else if (parts[2] == "448") {
    out.dh = crypto::XdhAlg::kX448;
  } else {
    return UnimplementedError("noise.unsupported_dh",
                              "noise: unsupported DH function '" + std::string(parts[2]) + "'");
  }
  if (parts[3] == "ChaChaPoly") {
    out.cipher = crypto::AeadAlg::kChaCha20Poly1305;
  } else if (parts[3] == "AESGCM") {
    out.cipher = crypto::AeadAlg::kAes256Gcm;
  } else {
    return UnimplementedError("noise.unsupported_cipher",
                              "noise: unsupported cipher '" + std::string(parts[3]) + "'");
  }
  if (parts[4] == "SHA256") {
    out.hash = crypto::HashAlg::kSha256;
  } else if (parts[4] == "SHA512") {
    out.hash = crypto::HashAlg::kSha512;
  } else if (parts[4] == "BLAKE2s") {
    out.hash = crypto::HashAlg::kBlake2s256;
  } else if (parts[4] == "BLAKE2b") {
    out.hash = crypto::HashAlg::kBlake2b512;
  } else {
    return UnimplementedError("noise.unsupported_hash",
                              "noise: unsupported hash '" + std::string(parts[4]) + "'");
  }
  return out;
}

}  // namespace perimeter::noise
