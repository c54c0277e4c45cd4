// ECDSA P-256/P-384 over EVP_PKEY. Signatures in any of the three formats
// are first parsed into a canonical r || s (big-endian, fixed width) with
// strict encoding and range checks, then re-encoded as DER for OpenSSL.
#include "perimeter/crypto/ecdsa.h"

#include <algorithm>
#include <array>
#include <string>

#include "crypto/openssl/ossl_error.h"
#include "crypto/openssl/ossl_ptr.h"

namespace perimeter::crypto {
namespace {

using internal::OsslPtr;

constexpr std::string_view kEcFailed = "crypto.ec_failed";

// Group orders n (SEC 2 v2, sections 2.4.2 and 2.5.1), big-endian.
constexpr std::array<std::uint8_t, 32> kP256Order = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
constexpr std::array<std::uint8_t, 48> kP384Order = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73};

ByteView Order(EcCurve curve) {
  return curve == EcCurve::kP256 ? ByteView(kP256Order) : ByteView(kP384Order);
}

const char* GroupName(EcCurve curve) { return curve == EcCurve::kP256 ? "P-256" : "P-384"; }

Status Malformed(std::string_view what) {
  internal::ClearOpenSslErrors();
  return UnauthenticatedError("crypto.signature_malformed", std::string("crypto: ") + std::string(what));
}
Status Invalid() {
  internal::ClearOpenSslErrors();
  return UnauthenticatedError("crypto.signature_invalid", "crypto: ECDSA signature does not verify");
}
Status BadPublicKey(std::string_view what) {
  internal::ClearOpenSslErrors();
  return InvalidArgumentError("crypto.ec_bad_public_key", std::string("crypto: ") + std::string(what));
}
Status Unsupported() {
  internal::ClearOpenSslErrors();
  return InvalidArgumentError("crypto.ec_unsupported_curve", "crypto: only P-256 and P-384 are supported");
}

// True iff 1 <= v <= n - 1, for big-endian `v` and `n` of equal width.
// (Signature values are public; no constant-time requirement.)
bool InRange(ByteView v, ByteView n) {
  if (std::all_of(v.begin(), v.end(), [](std::uint8_t b) { return b == 0; })) return false;
  return std::lexicographical_compare(v.begin(), v.end(), n.begin(), n.end());
}

// Strict DER SEQUENCE { INTEGER r, INTEGER s } -> r || s. OpenSSL's decoder
// tolerates some BER forms, so the result is re-encoded and must reproduce
// the input byte for byte.
Result<Bytes> ParseDer(std::size_t w, ByteView sig) {
  const unsigned char* p = sig.data();
  if (sig.empty() || sig.size() > 1024) return Malformed("bad DER signature length");
  OsslPtr<ECDSA_SIG> parsed(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!parsed || p != sig.data() + sig.size()) return Malformed("signature is not a DER SEQUENCE of two INTEGERs");
  unsigned char* reenc = nullptr;
  const int len = i2d_ECDSA_SIG(parsed.get(), &reenc);
  const bool same = len > 0 && static_cast<std::size_t>(len) == sig.size() &&
                    std::equal(sig.begin(), sig.end(), reenc);
  OPENSSL_free(reenc);
  if (!same) return Malformed("signature is not strict DER");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(parsed.get(), &r, &s);
  if (BN_is_negative(r) || BN_is_negative(s) || static_cast<std::size_t>(BN_num_bytes(r)) > w ||
      static_cast<std::size_t>(BN_num_bytes(s)) > w) {
    return Malformed("signature value out of range");
  }
  Bytes out(2 * w);
  if (BN_bn2binpad(r, out.data(), static_cast<int>(w)) != static_cast<int>(w) ||
      BN_bn2binpad(s, out.data() + w, static_cast<int>(w)) != static_cast<int>(w)) {
    return internal::OpenSslInternal(kEcFailed, "BN_bn2binpad failed");
  }
  return out;
}

// Any format -> canonical r || s, with r and s in [1, n-1].
Result<Bytes> ToCanonical(EcCurve curve, ByteView sig, EcdsaSignatureFormat format) {
  const std::size_t w = EcScalarSize(curve);
  Bytes rs;
  switch (format) {
    case EcdsaSignatureFormat::kDer: {
      PERIMETER_ASSIGN_OR_RETURN(rs, ParseDer(w, sig));
      break;
    }
    case EcdsaSignatureFormat::kP1363:
      if (sig.size() != 2 * w) return Malformed("P1363 signature has the wrong length");
      rs = ToBytes(sig);
      break;
    case EcdsaSignatureFormat::kAmdLittleEndian: {
      if (sig.size() != kAmdEcdsaSignatureSize) return Malformed("AMD signature must be 144 bytes");
      rs.resize(2 * w);
      for (std::size_t half = 0; half < 2; ++half) {
        ByteView field = sig.subspan(half * kAmdEcdsaFieldSize, kAmdEcdsaFieldSize);
        // Bytes above the scalar width are padding and must be zero.
        if (!std::all_of(field.begin() + static_cast<std::ptrdiff_t>(w), field.end(),
                         [](std::uint8_t b) { return b == 0; })) {
          return Malformed("AMD signature value out of range");
        }
        std::reverse_copy(field.begin(), field.begin() + static_cast<std::ptrdiff_t>(w),
                          rs.begin() + static_cast<std::ptrdiff_t>(half * w));
      }
      break;
    }
  }
  const ByteView n = Order(curve);
  if (!InRange(ByteView(rs).first(w), n) || !InRange(ByteView(rs).subspan(w), n)) {
    return Malformed("signature value out of range");
  }
  return rs;
}

Result<Bytes> FromCanonical(EcCurve curve, ByteView rs, EcdsaSignatureFormat format) {
  const std::size_t w = EcScalarSize(curve);
  switch (format) {
    case EcdsaSignatureFormat::kP1363:
      return ToBytes(rs);
    case EcdsaSignatureFormat::kAmdLittleEndian: {
      Bytes out(kAmdEcdsaSignatureSize, 0);
      for (std::size_t half = 0; half < 2; ++half) {
        ByteView v = rs.subspan(half * w, w);
        std::reverse_copy(v.begin(), v.end(),
                          out.begin() + static_cast<std::ptrdiff_t>(half * kAmdEcdsaFieldSize));
      }
      return out;
    }
    case EcdsaSignatureFormat::kDer:
      break;
  }
  OsslPtr<ECDSA_SIG> sig(ECDSA_SIG_new());
  OsslPtr<BIGNUM> r(BN_bin2bn(rs.data(), static_cast<int>(w), nullptr));
  OsslPtr<BIGNUM> s(BN_bin2bn(rs.data() + w, static_cast<int>(w), nullptr));
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return internal::OpenSslInternal(kEcFailed, "cannot build ECDSA_SIG");
  }
  r.release();  // now owned by sig
  s.release();
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return internal::OpenSslInternal(kEcFailed, "i2d_ECDSA_SIG failed");
  Bytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) {
    return internal::OpenSslInternal(kEcFailed, "i2d_ECDSA_SIG failed");
  }
  return out;
}

Status CheckDigestSize(ByteView digest) {
  if (digest.size() != 32 && digest.size() != 48 && digest.size() != 64) {
    return InvalidArgumentError("crypto.ecdsa_bad_digest_size",
                                "crypto: ECDSA digest must be 32, 48 or 64 bytes");
  }
  return Status::Ok();
}

// The curve of an EC key, if it is a named P-256/P-384 curve.
Result<EcCurve> CurveOf(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "EC") != 1) return Unsupported();
  char name[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) != 1) {
    return Unsupported();  // explicit parameters or no group
  }
  const std::string_view n(name, len);
  if (n == "prime256v1" || n == "P-256" || n == "secp256r1") return EcCurve::kP256;
  if (n == "secp384r1" || n == "P-384") return EcCurve::kP384;
  return Unsupported();
}

// The encoded public point; must be uncompressed with the right length.
Result<Bytes> PublicPoint(EVP_PKEY* pkey, EcCurve curve) {
  Bytes point(1 + 2 * EcScalarSize(curve));
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(),
                                      &len) != 1 ||
      len != point.size() || point[0] != 0x04) {
    return BadPublicKey("EC public key is not an uncompressed point");
  }
  return point;
}

// Full public-key validation for our curves: P-256 and P-384 have cofactor 1,
// so a point that is on the curve and not the point at infinity has order n
// (SP 800-56A rev. 3, section 5.6.2.3.4). The quick check tests exactly that;
// the full EVP_PKEY_public_check adds an n*Q scalar multiplication that costs
// more than the signature verification itself.
Status CheckPublic(EVP_PKEY* pkey) {
  OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx || EVP_PKEY_public_check_quick(ctx.get()) != 1) return BadPublicKey("EC public key check failed");
  return Status::Ok();
}

Result<HashAlg> CheckedSha2(HashAlg hash) {
  if (hash != HashAlg::kSha256 && hash != HashAlg::kSha384 && hash != HashAlg::kSha512) {
    return InvalidArgumentError("crypto.ecdsa_unsupported_hash", "crypto: ECDSA needs a SHA-2 hash");
  }
  return hash;
}

}  // namespace

std::size_t EcScalarSize(EcCurve curve) { return curve == EcCurve::kP256 ? 32 : 48; }
std::string_view EcCurveName(EcCurve curve) { return GroupName(curve); }
HashAlg EcdsaDefaultHash(EcCurve curve) {
  return curve == EcCurve::kP256 ? HashAlg::kSha256 : HashAlg::kSha384;
}

Result<Bytes> EcdsaConvertSignature(EcCurve curve, ByteView signature, EcdsaSignatureFormat from,
                                    EcdsaSignatureFormat to) {
  PERIMETER_ASSIGN_OR_RETURN(Bytes rs, ToCanonical(curve, signature, from));
  return FromCanonical(curve, rs, to);
}

// ---------------------------------------------------------------- public

struct EcdsaPublicKey::Impl {
  OsslPtr<EVP_PKEY> pkey;
};

EcdsaPublicKey::EcdsaPublicKey(EcCurve curve, std::shared_ptr<const Impl> impl)
    : curve_(curve), impl_(std::move(impl)) {}
EcdsaPublicKey::EcdsaPublicKey(const EcdsaPublicKey&) = default;
EcdsaPublicKey& EcdsaPublicKey::operator=(const EcdsaPublicKey&) = default;
EcdsaPublicKey::EcdsaPublicKey(EcdsaPublicKey&&) noexcept = default;
EcdsaPublicKey& EcdsaPublicKey::operator=(EcdsaPublicKey&&) noexcept = default;
EcdsaPublicKey::~EcdsaPublicKey() = default;

Result<EcdsaPublicKey> EcdsaPublicKey::FromSpkiDer(ByteView der) {
  const unsigned char* p = der.data();
  OsslPtr<EVP_PKEY> pkey(der.empty() ? nullptr : d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey || p != der.data() + der.size()) return BadPublicKey("unparsable SubjectPublicKeyInfo");
  PERIMETER_ASSIGN_OR_RETURN(EcCurve curve, CurveOf(pkey.get()));
  PERIMETER_RETURN_IF_ERROR(PublicPoint(pkey.get(), curve));
  PERIMETER_RETURN_IF_ERROR(CheckPublic(pkey.get()));
  auto impl = std::make_shared<Impl>();
  impl->pkey = std::move(pkey);
  return EcdsaPublicKey(curve, std::move(impl));
}

Result<EcdsaPublicKey> EcdsaPublicKey::FromUncompressedPoint(EcCurve curve, ByteView point) {
  if (point.size() != 1 + 2 * EcScalarSize(curve) || point[0] != 0x04) {
    return BadPublicKey("expected an uncompressed point 0x04 || X || Y");
  }
  OsslPtr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, GroupName(curve), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return internal::OpenSslInternal(kEcFailed, "cannot build EC key parameters");
  }
  OsslPtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
  OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return internal::OpenSslInternal(kEcFailed, "cannot create EC key context");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    EVP_PKEY_free(raw);
    return BadPublicKey("point is not on the curve");
  }
  OsslPtr<EVP_PKEY> pkey(raw);
  PERIMETER_RETURN_IF_ERROR(CheckPublic(pkey.get()));
  auto impl = std::make_shared<Impl>();
  impl->pkey = std::move(pkey);
  return EcdsaPublicKey(curve, std::move(impl));
}

Result<Bytes> EcdsaPublicKey::ToSpkiDer() const {
  const int len = i2d_PUBKEY(impl_->pkey.get(), nullptr);
  if (len <= 0) return internal::OpenSslInternal(kEcFailed, "i2d_PUBKEY failed");
  Bytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d_PUBKEY(impl_->pkey.get(), &p) != len) {
    return internal::OpenSslInternal(kEcFailed, "i2d_PUBKEY failed");
  }
  return out;
}

Result<Bytes> EcdsaPublicKey::ToUncompressedPoint() const {
  auto point = PublicPoint(impl_->pkey.get(), curve_);
  if (!point.has_value()) return InternalError(kEcFailed, "crypto: cannot export EC point");
  return point;
}

Status EcdsaPublicKey::Verify(ByteView message, ByteView signature, EcdsaSignatureFormat format) const {
  return VerifyWithHash(EcdsaDefaultHash(curve_), message, signature, format);
}

Status EcdsaPublicKey::VerifyWithHash(HashAlg hash, ByteView message, ByteView signature,
                                      EcdsaSignatureFormat format) const {
  PERIMETER_RETURN_IF_ERROR(CheckedSha2(hash));
  PERIMETER_ASSIGN_OR_RETURN(Bytes digest, Hash(hash, message));
  return VerifyDigest(digest, signature, format);
}

Status EcdsaPublicKey::VerifyDigest(ByteView digest, ByteView signature,
                                    EcdsaSignatureFormat format) const {
  PERIMETER_RETURN_IF_ERROR(CheckDigestSize(digest));
  PERIMETER_ASSIGN_OR_RETURN(Bytes rs, ToCanonical(curve_, signature, format));
  PERIMETER_ASSIGN_OR_RETURN(Bytes der, FromCanonical(curve_, rs, EcdsaSignatureFormat::kDer));
  OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, impl_->pkey.get(), nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1) {
    return internal::OpenSslInternal(kEcFailed, "verify init failed");
  }
  // 1 = valid; 0 = invalid; negative = error. Only 1 is accepted.
  if (EVP_PKEY_verify(ctx.get(), der.data(), der.size(), digest.data(), digest.size()) != 1) {
    return Invalid();
  }
  return Status::Ok();
}

// --------------------------------------------------------------- private

struct EcdsaPrivateKey::Impl {
  OsslPtr<EVP_PKEY> pkey;
};

EcdsaPrivateKey::EcdsaPrivateKey(std::unique_ptr<Impl> impl, EcdsaPublicKey pub)
    : impl_(std::move(impl)), public_key_(std::move(pub)) {}
EcdsaPrivateKey::EcdsaPrivateKey(EcdsaPrivateKey&&) noexcept = default;
EcdsaPrivateKey& EcdsaPrivateKey::operator=(EcdsaPrivateKey&&) noexcept = default;
EcdsaPrivateKey::~EcdsaPrivateKey() = default;  // EVP_PKEY_free wipes the scalar.

namespace {

// Derives the public half of a private EVP_PKEY as a separate public key.
Result<EcdsaPublicKey> PublicOf(EVP_PKEY* pkey, EcCurve curve) {
  // Ask for the uncompressed encoding whatever the source said.
  if (EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                     "uncompressed") != 1) {
    return internal::OpenSslInternal(kEcFailed, "cannot set point format");
  }
  auto point = PublicPoint(pkey, curve);
  if (!point.has_value()) return InvalidArgumentError("crypto.ec_bad_private_key", "crypto: EC key has no public point");
  return EcdsaPublicKey::FromUncompressedPoint(curve, *point);
}

}  // namespace

Result<EcdsaPrivateKey> EcdsaPrivateKey::Generate(EcCurve curve) {
  OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), GroupName(curve)) != 1 ||
      EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    EVP_PKEY_free(raw);
    return internal::OpenSslInternal("crypto.keygen_failed", "EC key generation failed");
  }
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(raw);
  PERIMETER_ASSIGN_OR_RETURN(EcdsaPublicKey pub, PublicOf(raw, curve));
  return EcdsaPrivateKey(std::move(impl), std::move(pub));
}

Result<EcdsaPrivateKey> EcdsaPrivateKey::FromPkcs8Der(ByteView der) {
  const unsigned char* p = der.data();
  OsslPtr<PKCS8_PRIV_KEY_INFO> p8(
      der.empty() ? nullptr : d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size())));
  OsslPtr<EVP_PKEY> pkey(p8 ? EVP_PKCS82PKEY(p8.get()) : nullptr);
  if (!pkey || p != der.data() + der.size()) {
    internal::ClearOpenSslErrors();
    return InvalidArgumentError("crypto.ec_bad_private_key", "crypto: unparsable PKCS#8 EC key");
  }
  PERIMETER_ASSIGN_OR_RETURN(EcCurve curve, CurveOf(pkey.get()));
  PERIMETER_ASSIGN_OR_RETURN(EcdsaPublicKey pub, PublicOf(pkey.get(), curve));
  auto impl = std::make_unique<Impl>();
  impl->pkey = std::move(pkey);
  return EcdsaPrivateKey(std::move(impl), std::move(pub));
}

Result<SecretBytes> EcdsaPrivateKey::ToPkcs8Der() const {
  OsslPtr<PKCS8_PRIV_KEY_INFO> p8(EVP_PKEY2PKCS8(impl_->pkey.get()));
  const int len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8.get(), nullptr) : 0;
  if (len <= 0) return internal::OpenSslInternal(kEcFailed, "PKCS#8 encoding failed");
  SecretBytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &p) != len) {
    return internal::OpenSslInternal(kEcFailed, "PKCS#8 encoding failed");
  }
  return out;
}

Result<Bytes> EcdsaPrivateKey::Sign(ByteView message, EcdsaSignatureFormat format) const {
  PERIMETER_ASSIGN_OR_RETURN(Bytes digest, Hash(EcdsaDefaultHash(curve()), message));
  return SignDigest(digest, format);
}

Result<Bytes> EcdsaPrivateKey::SignDigest(ByteView digest, EcdsaSignatureFormat format) const {
  PERIMETER_RETURN_IF_ERROR(CheckDigestSize(digest));
  OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, impl_->pkey.get(), nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), digest.size()) != 1) {
    return internal::OpenSslInternal("crypto.signing_failed", "ECDSA sign init failed");
  }
  Bytes der(len);
  if (EVP_PKEY_sign(ctx.get(), der.data(), &len, digest.data(), digest.size()) != 1) {
    return internal::OpenSslInternal("crypto.signing_failed", "ECDSA signing failed");
  }
  der.resize(len);
  auto rs = ToCanonical(curve(), der, EcdsaSignatureFormat::kDer);
  if (!rs.has_value()) return InternalError("crypto.signing_failed", "crypto: OpenSSL produced a bad signature");
  return FromCanonical(curve(), *rs, format);
}

}  // namespace perimeter::crypto
