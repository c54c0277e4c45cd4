// Runs the Project Wycheproof vectors in tests/testdata/wycheproof (see
// PROVENANCE.md there) through OUR wrappers, never through OpenSSL directly.
//
// For each file: "valid" cases must be accepted with exactly the expected
// output, "invalid" ones rejected, and "acceptable" ones handled as the
// per-file comment documents. Groups whose parameters we do not offer (AES-GCM
// 128/192-bit keys, nonces other than 96 bits) are still run through the
// wrapper and must be rejected by it; they are counted separately as
// "unsupported-parameter cases rejected by design". The number of cases run
// must equal the file's numberOfTests, so a parsing bug cannot pass
// vacuously.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "perimeter/base/bytes.h"
#include "perimeter/crypto/aead.h"
#include "perimeter/crypto/constant_time.h"
#include "perimeter/crypto/ecdsa.h"
#include "perimeter/crypto/ed25519.h"
#include "perimeter/crypto/hkdf.h"
#include "perimeter/crypto/hmac.h"
#include "perimeter/crypto/rsa_pss.h"
#include "perimeter/crypto/xdh.h"

namespace perimeter::crypto {
namespace {

using json = nlohmann::json;

// What our wrapper did with one case.
enum class Verdict {
  kAccepted,             // accepted, and any output equals the expected one
  kAcceptedWrongOutput,  // accepted but produced different output: always a failure
  kRejected,
};

// How a file treats one case.
struct CaseContext {
  const json& group;
  const json& test;
  bool unsupported = false;  // the group uses parameters we do not offer
};

struct Tally {
  int run = 0, valid_accepted = 0, invalid_rejected = 0, acceptable_accepted = 0,
      acceptable_rejected = 0, unsupported_rejected = 0, failed = 0;
};

Bytes Hex(const json& v) {
  if (!v.is_string()) return {};
  auto r = HexDecode(v.get<std::string>());
  return r.has_value() ? std::move(r).value() : Bytes{};
}

Result<json> LoadFile(const std::string& name) {
  std::ifstream in(std::string(PERIMETER_TESTDATA_DIR) + "/wycheproof/" + name, std::ios::binary);
  if (!in) return NotFoundError("test.no_file", name);
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgumentError("test.bad_json", name);
  return j;
}

// Per-file hooks: `unsupported(group)` marks groups we do not offer; `run`
// executes one case; `accept_acceptable(ctx)` states this file's documented
// policy for "acceptable" cases (true = we accept).
struct FileSpec {
  std::string file;
  std::function<bool(const json& group)> unsupported;
  std::function<Verdict(const CaseContext&)> run;
  std::function<bool(const CaseContext&)> accept_acceptable;
};

void RunFile(const FileSpec& spec) {
  auto loaded = LoadFile(spec.file);
  ASSERT_TRUE(loaded.has_value()) << loaded.error();
  const json& root = *loaded;
  ASSERT_TRUE(root.contains("numberOfTests") && root.contains("testGroups"));
  Tally t;
  for (const json& group : root["testGroups"]) {
    const bool unsupported = spec.unsupported && spec.unsupported(group);
    for (const json& test : group["tests"]) {
      ++t.run;
      CaseContext ctx{group, test, unsupported};
      const std::string result = test.value("result", "");
      const int id = test.value("tcId", -1);
      const Verdict v = spec.run(ctx);
      bool ok = false;
      if (v == Verdict::kAcceptedWrongOutput) {
        ok = false;
      } else if (unsupported) {
        ok = v == Verdict::kRejected;
        if (ok) ++t.unsupported_rejected;
      } else if (result == "valid") {
        ok = v == Verdict::kAccepted;
        if (ok) ++t.valid_accepted;
      } else if (result == "invalid") {
        ok = v == Verdict::kRejected;
        if (ok) ++t.invalid_rejected;
      } else if (result == "acceptable") {
        const bool want_accept = spec.accept_acceptable && spec.accept_acceptable(ctx);
        ok = (v == Verdict::kAccepted) == want_accept;
        if (ok) ++(want_accept ? t.acceptable_accepted : t.acceptable_rejected);
      }
      if (!ok) {
        ++t.failed;
        ADD_FAILURE() << spec.file << " tcId " << id << " (" << result
                      << (unsupported ? ", unsupported parameters" : "")
                      << "): " << test.value("comment", "") << " -> verdict "
                      << static_cast<int>(v);
      }
    }
  }
  std::printf(
      "wycheproof %s: %d cases: %d valid accepted, %d invalid rejected, %d acceptable (accepted "
      "%d, rejected %d), %d unsupported-parameter cases rejected by design, %d failed\n",
      spec.file.c_str(), t.run, t.valid_accepted, t.invalid_rejected,
      t.acceptable_accepted + t.acceptable_rejected, t.acceptable_accepted, t.acceptable_rejected,
      t.unsupported_rejected, t.failed);
  std::fflush(stdout);
  EXPECT_EQ(t.run, root["numberOfTests"].get<int>()) << spec.file;
  EXPECT_EQ(t.valid_accepted + t.invalid_rejected + t.acceptable_accepted + t.acceptable_rejected +
                t.unsupported_rejected + t.failed,
            t.run);
  EXPECT_EQ(t.failed, 0) << spec.file;
  EXPECT_GT(t.valid_accepted, 0) << spec.file;
}

// ------------------------------------------------------------------ AEAD

// Seal and Open through Aead. Accepted means: Open returns msg and Seal
// returns ct || tag. Rejected means every step our wrapper was asked to do
// failed (key refused, nonce refused, or tag refused) and Open left a zeroed
// buffer.
Verdict RunAead(AeadAlg alg, const CaseContext& c) {
  const json& t = c.test;
  const Bytes key = Hex(t["key"]), iv = Hex(t["iv"]), aad = Hex(t["aad"]), msg = Hex(t["msg"]);
  Bytes sealed = Hex(t["ct"]);
  Append(sealed, Hex(t["tag"]));
  auto aead = Aead::New(alg, key);
  if (!aead.has_value()) return Verdict::kRejected;
  Bytes out(sealed.size() >= kAeadTagSize ? sealed.size() - kAeadTagSize : 0, 0xaa);
  Status opened = sealed.size() >= kAeadTagSize ? aead->Open(iv, aad, sealed, out)
                                               : aead->Open(iv, aad, sealed).status();
  if (!opened.ok()) {
    if (!ConstantTimeIsZero(out)) return Verdict::kAcceptedWrongOutput;  // leaked plaintext
    // An unsupported nonce must make Seal fail too.
    if (c.unsupported && aead->Seal(iv, aad, msg).has_value()) return Verdict::kAcceptedWrongOutput;
    return Verdict::kRejected;
  }
  auto resealed = aead->Seal(iv, aad, msg);
  if (out != msg || !resealed.has_value() || *resealed != sealed) return Verdict::kAcceptedWrongOutput;
  return Verdict::kAccepted;
}

bool AeadUnsupported(const json& g) {
  return g.value("keySize", 0) != 256 || g.value("ivSize", 0) != 96 || g.value("tagSize", 0) != 128;
}

// aes_gcm: no "acceptable" cases. Unsupported: 128/192-bit keys (Aead::New
// refuses them) and nonces other than 96 bits (Seal/Open refuse them).
TEST(Wycheproof, AesGcm) {
  RunFile({"aes_gcm_test.json", AeadUnsupported,
           [](const CaseContext& c) { return RunAead(AeadAlg::kAes256Gcm, c); }, nullptr});
}

// chacha20_poly1305: no "acceptable" cases. Groups with nonces other than 96
// bits are all "invalid" in the file; our wrapper refuses the nonce size, and
// they are counted as unsupported-parameter rejections.
TEST(Wycheproof, ChaCha20Poly1305) {
  RunFile({"chacha20_poly1305_test.json", AeadUnsupported,
           [](const CaseContext& c) { return RunAead(AeadAlg::kChaCha20Poly1305, c); }, nullptr});
}

// ---------------------------------------------------------------- X25519

// x25519: "acceptable" cases are of two kinds. Those whose shared secret is
// all zeros (LowOrderPublic / ZeroSharedSecret) are REJECTED by design with
// reason crypto.xdh_low_order (xdh.h: we always reject them). All others
// (Twist, NonCanonicalPublic, EdgeCase*) are ACCEPTED and must produce the
// expected shared secret (RFC 7748 requires accepting any 32-byte u).
TEST(Wycheproof, X25519) {
  RunFile({"x25519_test.json", nullptr,
           [](const CaseContext& c) {
             const Bytes shared = Hex(c.test["shared"]);
             auto key = XdhPrivateKey::FromBytes(XdhAlg::kX25519, Hex(c.test["private"]));
             if (!key.has_value()) return Verdict::kRejected;
             auto s = key->Dh(Hex(c.test["public"]));
             if (!s.has_value()) {
               if (ConstantTimeIsZero(shared)) {
                 EXPECT_EQ(s.error().reason(), "crypto.xdh_low_order") << c.test["tcId"];
               }
               return Verdict::kRejected;
             }
             return ConstantTimeEquals(s->view(), shared) ? Verdict::kAccepted
                                                          : Verdict::kAcceptedWrongOutput;
           },
           [](const CaseContext& c) { return !ConstantTimeIsZero(Hex(c.test["shared"])); }});
}

// ------------------------------------------------------------ HMAC / HKDF

// hmac_*: no "acceptable" cases. Every tag size in the files (128 bits and
// up) is supported (HmacVerify allows truncation down to 80 bits), so no
// group is unsupported. Valid: HmacVerify accepts and Hmac's prefix equals
// the tag; invalid: HmacVerify rejects.
Verdict RunHmac(HashAlg alg, const CaseContext& c) {
  const Bytes key = Hex(c.test["key"]), msg = Hex(c.test["msg"]), tag = Hex(c.test["tag"]);
  if (!HmacVerify(alg, key, msg, tag).ok()) return Verdict::kRejected;
  auto mac = Hmac(alg, key, msg);
  if (!mac.has_value() || tag.size() > mac->size() ||
      !ConstantTimeEquals(mac->view().first(tag.size()), tag)) {
    return Verdict::kAcceptedWrongOutput;
  }
  return Verdict::kAccepted;
}

TEST(Wycheproof, HmacSha256) {
  RunFile({"hmac_sha256_test.json", nullptr,
           [](const CaseContext& c) { return RunHmac(HashAlg::kSha256, c); }, nullptr});
}

TEST(Wycheproof, HmacSha512) {
  RunFile({"hmac_sha512_test.json", nullptr,
           [](const CaseContext& c) { return RunHmac(HashAlg::kSha512, c); }, nullptr});
}

// hkdf_*: no "acceptable" cases; "invalid" = output size too large, which
// Hkdf refuses with crypto.hkdf_bad_length.
Verdict RunHkdf(HashAlg alg, const CaseContext& c) {
  const std::size_t size = c.test.value("size", std::size_t{0});
  auto okm = Hkdf(alg, Hex(c.test["ikm"]), Hex(c.test["salt"]), Hex(c.test["info"]), size);
  if (!okm.has_value()) return Verdict::kRejected;
  return ConstantTimeEquals(okm->view(), Hex(c.test["okm"])) ? Verdict::kAccepted
                                                              : Verdict::kAcceptedWrongOutput;
}

TEST(Wycheproof, HkdfSha256) {
  RunFile({"hkdf_sha256_test.json", nullptr,
           [](const CaseContext& c) { return RunHkdf(HashAlg::kSha256, c); }, nullptr});
}

TEST(Wycheproof, HkdfSha512) {
  RunFile({"hkdf_sha512_test.json", nullptr,
           [](const CaseContext& c) { return RunHkdf(HashAlg::kSha512, c); }, nullptr});
}

// ----------------------------------------------------------------- ECDSA

Result<HashAlg> ShaByName(const std::string& name) {
  if (name == "SHA-256") return HashAlg::kSha256;
  if (name == "SHA-384") return HashAlg::kSha384;
  if (name == "SHA-512") return HashAlg::kSha512;
  return InvalidArgumentError("test.unknown_hash", name);
}

// Loads the group key both from the SPKI and from the raw point; they must
// agree. A key we cannot load rejects the case (so a "valid" case fails).
Verdict RunEcdsa(EcCurve curve, EcdsaSignatureFormat format, const CaseContext& c) {
  auto key = EcdsaPublicKey::FromSpkiDer(Hex(c.group["publicKeyDer"]));
  if (!key.has_value()) return Verdict::kRejected;
  auto from_point = EcdsaPublicKey::FromUncompressedPoint(curve, Hex(c.group["publicKey"]["uncompressed"]));
  if (!from_point.has_value() || key->curve() != curve ||
      from_point->ToSpkiDer().value() != key->ToSpkiDer().value()) {
    return Verdict::kAcceptedWrongOutput;
  }
  auto hash = ShaByName(c.group.value("sha", ""));
  if (!hash.has_value()) return Verdict::kRejected;
  Status s = key->VerifyWithHash(*hash, Hex(c.test["msg"]), Hex(c.test["sig"]), format);
  if (s.ok()) return Verdict::kAccepted;
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << c.test["tcId"];
  return Verdict::kRejected;
}

// ecdsa_*: these files carry no "acceptable" cases; BER / non-minimal DER
// encodings are "invalid" and our strict DER parser rejects them.
TEST(Wycheproof, EcdsaP256Sha256Der) {
  RunFile({"ecdsa_secp256r1_sha256_test.json", nullptr,
           [](const CaseContext& c) { return RunEcdsa(EcCurve::kP256, EcdsaSignatureFormat::kDer, c); },
           nullptr});
}

TEST(Wycheproof, EcdsaP256Sha256P1363) {
  RunFile({"ecdsa_secp256r1_sha256_p1363_test.json", nullptr,
           [](const CaseContext& c) { return RunEcdsa(EcCurve::kP256, EcdsaSignatureFormat::kP1363, c); },
           nullptr});
}

TEST(Wycheproof, EcdsaP384Sha384Der) {
  RunFile({"ecdsa_secp384r1_sha384_test.json", nullptr,
           [](const CaseContext& c) { return RunEcdsa(EcCurve::kP384, EcdsaSignatureFormat::kDer, c); },
           nullptr});
}

// Also checks the AMD little-endian format: every P1363 signature we accept
// converts to the 144-byte AMD form and still verifies in that form.
TEST(Wycheproof, EcdsaP384Sha384P1363) {
  RunFile({"ecdsa_secp384r1_sha384_p1363_test.json", nullptr,
           [](const CaseContext& c) {
             Verdict v = RunEcdsa(EcCurve::kP384, EcdsaSignatureFormat::kP1363, c);
             if (v != Verdict::kAccepted) return v;
             auto amd = EcdsaConvertSignature(EcCurve::kP384, Hex(c.test["sig"]),
                                              EcdsaSignatureFormat::kP1363,
                                              EcdsaSignatureFormat::kAmdLittleEndian);
             auto key = EcdsaPublicKey::FromSpkiDer(Hex(c.group["publicKeyDer"]));
             if (!amd.has_value() || !key.has_value() ||
                 !key->Verify(Hex(c.test["msg"]), *amd, EcdsaSignatureFormat::kAmdLittleEndian).ok()) {
               return Verdict::kAcceptedWrongOutput;
             }
             return v;
           },
           nullptr});
}

// --------------------------------------------------------------- Ed25519

// ed25519: no "acceptable" cases. The key is loaded both raw and from the
// SPKI; both must agree.
TEST(Wycheproof, Ed25519) {
  RunFile({"ed25519_test.json", nullptr,
           [](const CaseContext& c) {
             auto key = Ed25519PublicKey::FromRaw(Hex(c.group["publicKey"]["pk"]));
             auto spki = Ed25519PublicKey::FromSpkiDer(Hex(c.group["publicKeyDer"]));
             if (!key.has_value()) return Verdict::kRejected;
             if (!spki.has_value() || ToBytes(spki->raw()) != ToBytes(key->raw())) {
               return Verdict::kAcceptedWrongOutput;
             }
             Status s = key->Verify(Hex(c.test["msg"]), Hex(c.test["sig"]));
             return s.ok() ? Verdict::kAccepted : Verdict::kRejected;
           },
           nullptr});
}

// ------------------------------------------------------------ RSASSA-PSS

// rsa_pss_*: no "acceptable" cases. Parameters come from the group (SHA-384,
// MGF1-SHA-384, sLen 48 - the AMD ARK/ASK setting). The key is loaded both
// from the SPKI and from the PKCS#1 RSAPublicKey; both must agree.
Verdict RunRsaPss(const CaseContext& c) {
  auto key = RsaPublicKey::FromSpkiDer(Hex(c.group["publicKeyDer"]));
  auto pkcs1 = RsaPublicKey::FromPkcs1Der(Hex(c.group["publicKeyAsn"]));
  if (!key.has_value()) return Verdict::kRejected;
  if (!pkcs1.has_value() || pkcs1->ToSpkiDer().value() != key->ToSpkiDer().value() ||
      key->modulus_bits() != c.group.value("keySize", std::size_t{0})) {
    return Verdict::kAcceptedWrongOutput;
  }
  auto hash = ShaByName(c.group.value("sha", ""));
  auto mgf = ShaByName(c.group.value("mgfSha", ""));
  if (!hash.has_value() || !mgf.has_value() || c.group.value("mgf", "") != "MGF1") return Verdict::kRejected;
  Status s = key->VerifyPss(*hash, *mgf, c.group.value("sLen", std::size_t{0}), Hex(c.test["msg"]),
                            Hex(c.test["sig"]));
  return s.ok() ? Verdict::kAccepted : Verdict::kRejected;
}

TEST(Wycheproof, RsaPss2048Sha384Mgf1Salt48) {
  RunFile({"rsa_pss_2048_sha384_mgf1_48_test.json", nullptr, RunRsaPss, nullptr});
}

TEST(Wycheproof, RsaPss4096Sha384Mgf1Salt48) {
  RunFile({"rsa_pss_4096_sha384_mgf1_48_test.json", nullptr, RunRsaPss, nullptr});
}

}  // namespace
}  // namespace perimeter::crypto
