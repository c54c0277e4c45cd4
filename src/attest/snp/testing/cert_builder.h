// Test-only: builds X.509 certificates in AMD's SEV-SNP profile (or broken
// variants of it) with a minimal DER writer and the crypto module's keys, so
// that tests outside crypto/ need no OpenSSL. Not part of the library.
//
// The DER written is canonical (crypto::Certificate::FromDer rejects
// anything else), except where a test deliberately passes odd bytes as an
// extension value. Thread-compatible.
#ifndef PERIMETER_ATTEST_SNP_TESTING_CERT_BUILDER_H_
#define PERIMETER_ATTEST_SNP_TESTING_CERT_BUILDER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "perimeter/attest/snp/tcb.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/crypto/ecdsa.h"
#include "perimeter/crypto/rsa_pss.h"

namespace perimeter::attest::snp::testing {

// DER primitives.
Bytes DerTlv(std::uint8_t tag, ByteView content);
Bytes DerSequence(const std::vector<Bytes>& items);
Bytes DerOid(std::string_view dotted);
Bytes DerInteger(std::uint64_t value);
Bytes DerIA5String(std::string_view s);
Bytes DerUtf8String(std::string_view s);
Bytes DerOctetString(ByteView b);

struct Extension {
  std::string oid;
  Bytes value;  // the extnValue contents (inside the OCTET STRING)
  bool critical = false;
};

struct CertTemplate {
  std::string subject_cn;
  std::string issuer_cn;
  Bytes subject_spki_der;  // the certified key
  std::uint64_t serial = 0;
  std::string not_before = "250101000000Z";  // UTCTime
  std::string not_after = "320101000000Z";
  std::vector<Extension> extensions;
};

// Signs with RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt 48 (AMD's choice).
Result<Bytes> SignRsaPss(const CertTemplate& t, const crypto::RsaPrivateKey& issuer_key);
// Signs with ECDSA-with-SHA384.
Result<Bytes> SignEcdsa(const CertTemplate& t, const crypto::EcdsaPrivateKey& issuer_key);

// AMD's VEK extensions as found on real certificates (see
// vek_certificate.h): Milan/Genoa VCEK (.1.1, .1.2, .3.1-.3.8, .1.4 raw 64
// bytes), Turin VCEK (.1.1=1, .1.2, .3.9, .3.1-.3.3, .3.5-.3.8, .1.4 raw 8
// bytes), VLEK (as Milan/Genoa but .1.5 cspID instead of .1.4).
struct VekSpec {
  Product product = Product::kMilan;
  bool vlek = false;
  std::string product_name = "Milan-B0";
  std::uint8_t bl = 4, tee = 0, snp = 24, ucode = 219, fmc = 0;
  Bytes hw_id = Bytes(64, 0xA5);
  std::string csp_id = "CN=csp.example";
};
std::vector<Extension> AmdVekExtensions(const VekSpec& spec);

// Returns `exts` without the extension `oid` / with its value replaced (or
// appended if absent).
std::vector<Extension> Without(std::vector<Extension> exts, std::string_view oid);
std::vector<Extension> WithValue(std::vector<Extension> exts, std::string_view oid, Bytes value);

}  // namespace perimeter::attest::snp::testing

#endif  // PERIMETER_ATTEST_SNP_TESTING_CERT_BUILDER_H_
