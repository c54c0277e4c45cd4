// Fuzzes the strict X.509 DER parsers: Certificate::FromDer and
// Crl::FromDer on the whole input.
//
// Invariants (abort() on violation):
//   * no crash (ASan/UBSan);
//   * on success, ToDer() returns exactly the input bytes (the parsers
//     promise "exactly one DER object, nothing else, re-encoding identical");
//   * the accessors of a parsed object work on it (they read the fields the
//     parser accepted; e.g. the AMD extensions of a VCEK).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "perimeter/crypto/x509.h"

namespace {

using perimeter::ByteView;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool SameBytes(const perimeter::Bytes& a, ByteView b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

void ExerciseCertificate(const perimeter::crypto::Certificate& cert) {
  (void)cert.Subject();
  (void)cert.Issuer();
  const perimeter::Bytes serial = cert.SerialNumber();
  Check(!serial.empty());
  Check(serial.size() == 1 || serial[0] != 0);  // no leading zero bytes
  (void)cert.NotBefore();
  (void)cert.NotAfter();
  (void)cert.SubjectPublicKeyInfoDer();
  (void)cert.SignatureAlgorithmOid();
  (void)cert.KeyAlgorithm();
  (void)cert.IsCa();
  namespace oid = perimeter::crypto::amd_oid;
  for (std::string_view o : {oid::kStructVersion, oid::kBlSpl, oid::kTeeSpl, oid::kSnpSpl,
                             oid::kUcodeSpl, oid::kFmcSpl}) {
    if (auto v = cert.ExtensionValue(o)) (void)perimeter::crypto::DecodeDerInteger(*v);
  }
  for (std::string_view o : {oid::kProductName, oid::kCspId}) {
    if (auto v = cert.ExtensionValue(o)) (void)perimeter::crypto::DecodeDerIA5String(*v);
  }
  (void)cert.ExtensionValue(oid::kHwId);
}

void ExerciseCrl(const perimeter::crypto::Crl& crl) {
  (void)crl.Issuer();
  (void)crl.ThisUpdate();
  (void)crl.NextUpdate();
  for (const perimeter::Bytes& serial : crl.RevokedSerials()) {
    Check(!serial.empty());
    Check(crl.IsRevoked(serial));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView der(data, size);

  perimeter::Result<perimeter::crypto::Certificate> cert = perimeter::crypto::Certificate::FromDer(der);
  if (cert.has_value()) {
    Check(SameBytes(cert->ToDer(), der));
    ExerciseCertificate(*cert);
  } else {
    Check(cert.error().reason() == perimeter::crypto::kX509ParseFailed);
  }

  perimeter::Result<perimeter::crypto::Crl> crl = perimeter::crypto::Crl::FromDer(der);
  if (crl.has_value()) {
    Check(SameBytes(crl->ToDer(), der));
    ExerciseCrl(*crl);
  } else {
    Check(crl.error().reason() == perimeter::crypto::kCrlParseFailed);
  }
  return 0;
}
