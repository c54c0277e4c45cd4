// The INSECURE simulated SEV-SNP platform. See platform.h for the profile
// and the file layout.
#include "perimeter/attest/snp/simulated/platform.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "perimeter/attest/snp/amd_roots.h"
#include "perimeter/attest/snp/vek_certificate.h"
#include "perimeter/base/secret_bytes.h"
#include "perimeter/crypto/hash.h"
#include "perimeter/crypto/random.h"
#include "perimeter/crypto/rsa_pss.h"
#include "perimeter/crypto/x509_builder.h"

namespace perimeter::attest::snp::simulated {

namespace oid = crypto::amd_oid;

namespace {

constexpr std::size_t kCaKeyBits = 4096;
constexpr std::int64_t kDaySeconds = 86400;
constexpr std::int64_t kMaxTime = 253402300799;  // 9999-12-31T23:59:59Z
constexpr std::uint32_t kMaxDays = 36500;
constexpr std::size_t kMaxFileSize = 256 * 1024;
constexpr std::string_view kFormat = "perimeter-snp-simulated-platform";
constexpr std::string_view kMeasurementDomain = "perimeter/snp-simulated-measurement/v1";

constexpr const char* kFiles[] = {"ark.pem", "ask.pem", "cert_chain.pem", "vcek.der", "vcek.pem",
                                  "crl.der", "ark.key", "ask.key", "vcek.key", "platform.json"};

Status BadOptions(std::string_view what) {
  return InvalidArgumentError(kSimBadOptions, "SEV-SNP simulated platform: " + std::string(what));
}
Status BadRequest(std::string_view what) {
  return InvalidArgumentError(kSimBadRequest, "SEV-SNP simulated platform: " + std::string(what));
}
Status Corrupt(std::string_view what) {
  return DataLossError(kSimPlatformCorrupt, "SEV-SNP simulated platform: " + std::string(what));
}
Status Io(std::string_view what) {
  return UnavailableError(kSimIoError, "SEV-SNP simulated platform: " + std::string(what) + ": " +
                                           std::strerror(errno));
}

// ---- Names and AMD extensions ----

crypto::DistinguishedName AmdName(std::string_view cn) {
  using crypto::NameAttribute;
  return {{NameAttribute::kOrganizationalUnit, "Engineering"},
          {NameAttribute::kCountry, "US"},
          {NameAttribute::kLocality, "Santa Clara"},
          {NameAttribute::kStateOrProvince, "CA"},
          {NameAttribute::kOrganization, "Advanced Micro Devices"},
          {NameAttribute::kCommonName, std::string(cn)}};
}

Bytes DerUint8(std::uint8_t v) {
  if (v < 0x80) return {0x02, 0x01, v};
  return {0x02, 0x02, 0x00, v};
}

Bytes DerIA5(std::string_view s) {
  Bytes out = {0x16, static_cast<std::uint8_t>(s.size())};  // names are short
  Append(out, AsBytes(s));
  return out;
}

std::vector<crypto::ExtensionSpec> VcekExtensions(Product p, const TcbVersion& tcb, ByteView chip_id) {
  using crypto::ExtensionSpec;
  const bool turin = p == Product::kTurin;
  auto ext = [](std::string_view o, Bytes v) { return ExtensionSpec::Custom(std::string(o), std::move(v)); };
  std::vector<ExtensionSpec> e;
  e.push_back(ext(oid::kStructVersion, DerUint8(turin ? 1 : 0)));
  e.push_back(ext(oid::kProductName, DerIA5(SimulatedProductName(p))));
  if (turin) {
    e.push_back(ext(oid::kFmcSpl, DerUint8(tcb.fmc)));
    e.push_back(ext(oid::kBlSpl, DerUint8(tcb.boot_loader)));
    e.push_back(ext(oid::kTeeSpl, DerUint8(tcb.tee)));
    e.push_back(ext(oid::kSnpSpl, DerUint8(tcb.snp)));
    e.push_back(ext(oid::kSpl5, DerUint8(0)));
    e.push_back(ext(oid::kSpl6, DerUint8(0)));
    e.push_back(ext(oid::kSpl7, DerUint8(0)));
    e.push_back(ext(oid::kUcodeSpl, DerUint8(tcb.microcode)));
    e.push_back(ext(oid::kHwId, ToBytes(chip_id.first(kHwIdSizeTurin))));
  } else {
    e.push_back(ext(oid::kBlSpl, DerUint8(tcb.boot_loader)));
    e.push_back(ext(oid::kTeeSpl, DerUint8(tcb.tee)));
    e.push_back(ext(oid::kSpl4, DerUint8(0)));
    e.push_back(ext(oid::kSpl5, DerUint8(0)));
    e.push_back(ext(oid::kSpl6, DerUint8(0)));
    e.push_back(ext(oid::kSpl7, DerUint8(0)));
    e.push_back(ext(oid::kSnpSpl, DerUint8(tcb.snp)));
    e.push_back(ext(oid::kUcodeSpl, DerUint8(tcb.microcode)));
    e.push_back(ext(oid::kHwId, ToBytes(chip_id.first(kHwIdSizeMilanGenoa))));
  }
  return e;
}

crypto::RsaPssParams CaCertPss() {
  crypto::RsaPssParams p;  // SHA-384, MGF1-SHA-384, salt 48
  p.explicit_trailer_field = true;  // as on AMD's ARK/ASK
  return p;
}

struct CpuId {
  std::uint8_t family, model, stepping;
};
CpuId ProductCpuId(Product p) {
  switch (p) {
    case Product::kMilan: return {0x19, 0x01, 0x01};
    case Product::kGenoa: return {0x19, 0x11, 0x01};
    case Product::kTurin: return {0x1A, 0x02, 0x01};
    case Product::kUnknown: break;
  }
  return {0, 0, 0};
}

// ---- PEM ----

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::size_t PemSize(std::string_view label, std::size_t n) {
  const std::size_t b64 = (n + 2) / 3 * 4;
  const std::size_t lines = (b64 + 63) / 64;
  return (11 + label.size() + 6) + b64 + lines + (9 + label.size() + 6);
}

// Writes the PEM block into `out`, which holds exactly PemSize() bytes.
void PemEncodeInto(std::string_view label, ByteView der, std::uint8_t* out) {
  std::size_t o = 0;
  auto put = [&](std::string_view s) {
    std::memcpy(out + o, s.data(), s.size());
    o += s.size();
  };
  put("-----BEGIN ");
  put(label);
  put("-----\n");
  std::size_t col = 0;
  for (std::size_t i = 0; i < der.size(); i += 3) {
    const std::uint32_t b0 = der[i];
    const std::uint32_t b1 = i + 1 < der.size() ? der[i + 1] : 0;
    const std::uint32_t b2 = i + 2 < der.size() ? der[i + 2] : 0;
    const std::uint32_t v = (b0 << 16) | (b1 << 8) | b2;
    const char quad[4] = {kBase64[(v >> 18) & 63], kBase64[(v >> 12) & 63],
                          i + 1 < der.size() ? kBase64[(v >> 6) & 63] : '=',
                          i + 2 < der.size() ? kBase64[v & 63] : '='};
    for (char c : quad) {
      out[o++] = static_cast<std::uint8_t>(c);
      if (++col == 64) {
        out[o++] = '\n';
        col = 0;
      }
    }
  }
  if (col != 0) out[o++] = '\n';
  put("-----END ");
  put(label);
  put("-----\n");
}

std::string PemEncode(std::string_view label, ByteView der) {
  std::string out(PemSize(label, der.size()), '\0');
  PemEncodeInto(label, der, reinterpret_cast<std::uint8_t*>(out.data()));
  return out;
}

SecretBytes PemEncodeSecret(std::string_view label, ByteView der) {
  SecretBytes out(PemSize(label, der.size()));
  PemEncodeInto(label, der, out.data());
  return out;
}

int Base64Value(std::uint8_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Decodes exactly one "PRIVATE KEY" PEM block (whitespace around it only)
// into a secret buffer.
Result<SecretBytes> PemDecodeSecret(ByteView text, std::string_view label) {
  const std::string begin = "-----BEGIN " + std::string(label) + "-----";
  const std::string end = "-----END " + std::string(label) + "-----";
  std::string_view s(reinterpret_cast<const char*>(text.data()), text.size());
  const std::size_t b = s.find(begin);
  const std::size_t e = s.find(end);
  if (b == std::string_view::npos || e == std::string_view::npos || e < b) return Corrupt("no PEM block");
  auto only_space = [](std::string_view v) { return v.find_first_not_of(" \t\r\n") == std::string_view::npos; };
  if (!only_space(s.substr(0, b)) || !only_space(s.substr(e + end.size()))) return Corrupt("text outside the PEM block");
  const std::string_view body = s.substr(b + begin.size(), e - b - begin.size());
  SecretBytes out(body.size() / 4 * 3 + 3);
  std::size_t o = 0, pad = 0;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : body) {
    const auto c = static_cast<std::uint8_t>(ch);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    const int v = Base64Value(c);
    if (v < 0 || pad != 0) return Corrupt("bad base64 in PEM");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.data()[o++] = static_cast<std::uint8_t>((acc >> bits) & 0xFF);
    }
  }
  acc = 0;
  if (pad > 2 || bits >= 6) return Corrupt("bad base64 padding in PEM");
  out.resize(o);
  return out;
}

// ---- Files ----

std::string Join(const std::string& dir, std::string_view name) { return dir + "/" + std::string(name); }

// Creates `path` (never overwriting) with `mode` and writes `data`.
Status WriteNewFile(const std::string& path, ByteView data, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExistsError(kSimPlatformExists, "SEV-SNP simulated platform: " + path + " exists");
    return Io("cannot create " + path);
  }
  bool ok = ::fchmod(fd, mode) == 0;
  std::size_t done = 0;
  while (ok && done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  ok = (::fsync(fd) == 0) && ok;
  ok = (::close(fd) == 0) && ok;
  if (!ok) return Io("cannot write " + path);
  return Status::Ok();
}

// Reads a whole (small) regular file; into a wiping buffer, since it may
// hold a private key.
Result<SecretBytes> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Corrupt("cannot read " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
      static_cast<std::size_t>(st.st_size) > kMaxFileSize) {
    ::close(fd);
    return Corrupt(path + " is not a regular file of at most 256 KiB");
  }
  SecretBytes out(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (done != out.size()) return Corrupt("short read of " + path);
  return out;
}

std::string AsString(const SecretBytes& b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

}  // namespace

// ---- Free functions ----

std::string_view SimulatedProductName(Product product) {
  switch (product) {
    case Product::kMilan: return "Milan-B0";
    case Product::kGenoa: return "Genoa";
    case Product::kTurin: return "Turin";
    case Product::kUnknown: break;
  }
  return "";
}

TcbVersion DefaultTcb(Product product) {
  switch (product) {
    case Product::kMilan: return TcbVersion{0, 4, 0, 22, 213};
    case Product::kGenoa: return TcbVersion{0, 9, 0, 23, 72};
    case Product::kTurin: return TcbVersion{1, 1, 1, 1, 68};
    case Product::kUnknown: break;
  }
  return TcbVersion{};
}

Result<Bytes> SimulatedMeasurement(ByteView workload_binary, ByteView config) {
  auto be64 = [](std::size_t n) {
    std::array<std::uint8_t, 8> b{};
    const auto v = static_cast<std::uint64_t>(n);
    for (int i = 0; i < 8; ++i) b[static_cast<std::size_t>(7 - i)] = static_cast<std::uint8_t>(v >> (8 * i));
    return b;
  };
  const std::array<std::uint8_t, 1> zero = {0};
  const auto len_bin = be64(workload_binary.size());
  const auto len_cfg = be64(config.size());
  return crypto::Hash(crypto::HashAlg::kSha384,
                      {AsBytes(kMeasurementDomain), zero, len_bin, workload_binary, len_cfg, config});
}

// ---- SimulatedPlatform ----

struct SimulatedPlatform::Impl {
  Product product;
  Bytes chip_id;
  TcbVersion tcb;
  std::int64_t not_before;
  std::uint32_t days;
  crypto::RsaPrivateKey ark_key;
  crypto::RsaPrivateKey ask_key;
  crypto::EcdsaPrivateKey vcek_key;
  crypto::Certificate ark;
  crypto::Certificate ask;
  crypto::Certificate vcek;
  crypto::Crl crl;
};

SimulatedPlatform::SimulatedPlatform(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SimulatedPlatform::SimulatedPlatform(SimulatedPlatform&&) noexcept = default;
SimulatedPlatform& SimulatedPlatform::operator=(SimulatedPlatform&&) noexcept = default;
SimulatedPlatform::~SimulatedPlatform() = default;

Product SimulatedPlatform::product() const { return impl_->product; }
const Bytes& SimulatedPlatform::chip_id() const { return impl_->chip_id; }
TcbVersion SimulatedPlatform::vcek_tcb() const { return impl_->tcb; }
std::uint64_t SimulatedPlatform::vcek_tcb_raw() const { return EncodeTcb(impl_->tcb, impl_->product); }
std::int64_t SimulatedPlatform::not_before() const { return impl_->not_before; }
std::uint32_t SimulatedPlatform::days() const { return impl_->days; }
const crypto::Certificate& SimulatedPlatform::ark() const { return impl_->ark; }
const crypto::Certificate& SimulatedPlatform::ask() const { return impl_->ask; }
const crypto::Certificate& SimulatedPlatform::vcek() const { return impl_->vcek; }
const crypto::Crl& SimulatedPlatform::crl() const { return impl_->crl; }
std::vector<crypto::Certificate> SimulatedPlatform::CertChain() const { return {impl_->ask, impl_->ark}; }
const crypto::EcdsaPublicKey& SimulatedPlatform::vcek_public_key() const { return impl_->vcek_key.public_key(); }

namespace {

Result<crypto::Crl> BuildPlatformCrl(const crypto::RsaPrivateKey& ark_key, const crypto::Certificate& ark,
                                     const std::vector<Bytes>& serials, std::int64_t this_update,
                                     std::int64_t next_update) {
  crypto::CrlTemplate t;
  t.issuer = AmdName(SubjectCommonName(ark).value_or(""));
  t.this_update = this_update;
  t.next_update = next_update;
  for (const Bytes& s : serials) t.revoked.push_back({s, this_update});
  t.crl_number = 1;
  t.authority_key_identifier = true;
  return crypto::BuildCrl(t, crypto::Signer::RsaPss(ark_key), ark);
}

Status CheckOptions(const CreateOptions& o) {
  if (o.product != Product::kMilan && o.product != Product::kGenoa && o.product != Product::kTurin) {
    return BadOptions("product must be Milan, Genoa or Turin");
  }
  if (o.not_before <= 0) return BadOptions("not_before is required (Unix seconds)");
  if (o.days < 1 || o.days > kMaxDays) return BadOptions("days must be 1..36500");
  if (o.not_before + static_cast<std::int64_t>(o.days) * kDaySeconds > kMaxTime) {
    return BadOptions("validity ends after 9999");
  }
  if (o.vcek_tcb.has_value() && o.product != Product::kTurin && o.vcek_tcb->fmc != 0) {
    return BadOptions("fmc exists on Turin only");
  }
  if (o.chip_id.has_value()) {
    if (o.chip_id->size() != 64) return BadOptions("chip_id must be 64 bytes");
    if (o.product == Product::kTurin) {
      for (std::size_t i = kHwIdSizeTurin; i < 64; ++i) {
        if ((*o.chip_id)[i] != 0) return BadOptions("a Turin chip_id has 8 bytes followed by zeros");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<SimulatedPlatform> SimulatedPlatform::Create(const CreateOptions& options) {
  PERIMETER_RETURN_IF_ERROR(CheckOptions(options));
  const Product p = options.product;
  const TcbVersion tcb = options.vcek_tcb.value_or(DefaultTcb(p));
  Bytes chip_id(64, 0);
  if (options.chip_id.has_value()) {
    chip_id = *options.chip_id;
  } else {
    const std::size_t n = p == Product::kTurin ? kHwIdSizeTurin : kHwIdSizeMilanGenoa;
    PERIMETER_RETURN_IF_ERROR(crypto::RandomFill(MutableByteView(chip_id.data(), n)));
  }
  const std::int64_t not_after = options.not_before + static_cast<std::int64_t>(options.days) * kDaySeconds;

  PERIMETER_ASSIGN_OR_RETURN(crypto::RsaPrivateKey ark_key, crypto::RsaPrivateKey::Generate(kCaKeyBits));
  PERIMETER_ASSIGN_OR_RETURN(crypto::RsaPrivateKey ask_key, crypto::RsaPrivateKey::Generate(kCaKeyBits));
  PERIMETER_ASSIGN_OR_RETURN(crypto::EcdsaPrivateKey vcek_key, crypto::EcdsaPrivateKey::Generate(crypto::EcCurve::kP384));

  using crypto::ExtensionSpec;
  crypto::CertificateTemplate ark_t;
  ark_t.serial = {0x01, 0x00, 0x00};
  ark_t.issuer = ark_t.subject = AmdName(ArkCommonName(p));
  ark_t.not_before = options.not_before;
  ark_t.not_after = not_after;
  PERIMETER_ASSIGN_OR_RETURN(ark_t.subject_public_key_spki, ark_key.public_key().ToSpkiDer());
  ark_t.extensions = {ExtensionSpec::KeyUsage(crypto::kKeyUsageKeyCertSign | crypto::kKeyUsageCrlSign),
                      ExtensionSpec::SubjectKeyIdentifier(), ExtensionSpec::BasicConstraints(true)};
  PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate ark,
                             crypto::BuildCertificate(ark_t, crypto::Signer::RsaPss(ark_key, CaCertPss()), nullptr));

  crypto::CertificateTemplate ask_t;
  ask_t.serial = {0x01, 0x00, 0x01};
  ask_t.issuer = ark_t.subject;
  ask_t.subject = AmdName(AskCommonName(p));
  ask_t.not_before = options.not_before;
  ask_t.not_after = not_after;
  PERIMETER_ASSIGN_OR_RETURN(ask_t.subject_public_key_spki, ask_key.public_key().ToSpkiDer());
  ask_t.extensions = {ExtensionSpec::SubjectKeyIdentifier(), ExtensionSpec::AuthorityKeyIdentifier(),
                      ExtensionSpec::BasicConstraints(true, 0),
                      // keyUsage keyCertSign, critical, in AMD's exact bytes: AMD's
                      // ASKs encode the BIT STRING with 1 unused bit (03 02 01 04)
                      // where minimal DER would say 2 (03 02 02 04).
                      ExtensionSpec::Custom("2.5.29.15", {0x03, 0x02, 0x01, 0x04}, /*critical=*/true)};
  PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate ask,
                             crypto::BuildCertificate(ask_t, crypto::Signer::RsaPss(ark_key, CaCertPss()), &ark));

  crypto::CertificateTemplate vcek_t;
  vcek_t.serial = {};  // 0, as on every AMD VCEK
  vcek_t.issuer = ask_t.subject;
  vcek_t.subject = AmdName(kVcekSubjectCn);
  vcek_t.not_before = options.not_before;
  vcek_t.not_after = not_after;
  PERIMETER_ASSIGN_OR_RETURN(vcek_t.subject_public_key_spki, vcek_key.public_key().ToSpkiDer());
  vcek_t.extensions = VcekExtensions(p, tcb, chip_id);
  PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate vcek,
                             crypto::BuildCertificate(vcek_t, crypto::Signer::RsaPss(ask_key), &ask));
  // Self-check: the VCEK reads back as what it should say.
  PERIMETER_ASSIGN_OR_RETURN(VekInfo info, ParseVekCertificate(vcek));
  if (info.product != p || info.reported_tcb_raw != EncodeTcb(tcb, p)) {
    return InternalError("snp.sim_internal", "SEV-SNP simulated platform: VCEK does not read back");
  }

  PERIMETER_ASSIGN_OR_RETURN(crypto::Crl crl,
                             BuildPlatformCrl(ark_key, ark, options.revoked_serials, options.not_before, not_after));
  auto impl = std::make_unique<Impl>(Impl{p, std::move(chip_id), tcb, options.not_before, options.days,
                                          std::move(ark_key), std::move(ask_key), std::move(vcek_key),
                                          std::move(ark), std::move(ask), std::move(vcek), std::move(crl)});
  return SimulatedPlatform(std::move(impl));
}

Result<crypto::Crl> SimulatedPlatform::MakeCrl(const std::vector<Bytes>& serials, std::int64_t this_update,
                                               std::int64_t next_update) const {
  return BuildPlatformCrl(impl_->ark_key, impl_->ark, serials, this_update, next_update);
}

Result<Bytes> SimulatedPlatform::SignReport(const ReportRequest& req) const {
  if (req.version != 3 && req.version != 5) return BadRequest("report version must be 3 or 5");
  if (req.report_data.size() > 64) return BadRequest("report_data is longer than 64 bytes");
  if (req.measurement && req.measurement->size() != 48) return BadRequest("measurement must be 48 bytes");
  if (req.host_data && req.host_data->size() != 32) return BadRequest("host_data must be 32 bytes");
  if (req.family_id && req.family_id->size() != 16) return BadRequest("family_id must be 16 bytes");
  if (req.image_id && req.image_id->size() != 16) return BadRequest("image_id must be 16 bytes");
  if (req.chip_id && req.chip_id->size() != 64) return BadRequest("chip_id must be 64 bytes");
  if (req.vmpl > 3) return BadRequest("vmpl must be 0..3");
  if ((req.policy & (1ull << 17)) == 0 || (req.policy >> 26) != 0) {
    return BadRequest("policy must have bit 17 set and bits 63:26 clear");
  }
  if (req.signing_key != SigningKey::kVcek && req.signing_key != SigningKey::kVlek &&
      req.signing_key != SigningKey::kNone) {
    return BadRequest("unknown signing key");
  }
  auto copy = [](auto& dst, const std::optional<Bytes>& src) {
    if (src) std::memcpy(dst.data(), src->data(), dst.size());
  };
  const std::uint64_t tcb = vcek_tcb_raw();
  const CpuId cpu = ProductCpuId(impl_->product);

  AttestationReport r;
  r.version = req.version;
  r.guest_svn = req.guest_svn;
  r.policy = req.policy;
  copy(r.family_id, req.family_id);
  copy(r.image_id, req.image_id);
  r.vmpl = req.vmpl;
  r.signature_algo = kSignatureAlgoEcdsaP384Sha384;
  r.current_tcb = req.current_tcb.value_or(tcb);
  r.platform_info = req.platform_info;
  r.key_info = (req.mask_chip_key ? 0x2u : 0u) | (static_cast<std::uint32_t>(req.signing_key) << 2);
  if (!req.report_data.empty()) {
    std::memcpy(r.report_data.data(), req.report_data.data(), req.report_data.size());
  }
  copy(r.measurement, req.measurement);
  copy(r.host_data, req.host_data);
  PERIMETER_RETURN_IF_ERROR(crypto::RandomFill(r.report_id));
  r.report_id_ma.fill(0xFF);  // no migration agent
  r.reported_tcb = req.reported_tcb.value_or(tcb);
  r.cpuid_fam_id = cpu.family;
  r.cpuid_mod_id = cpu.model;
  r.cpuid_step = cpu.stepping;
  if (!req.mask_chip_key) {
    const Bytes& chip = req.chip_id ? *req.chip_id : impl_->chip_id;
    std::memcpy(r.chip_id.data(), chip.data(), r.chip_id.size());
  }
  r.committed_tcb = req.committed_tcb.value_or(tcb);
  r.current_major = r.committed_major = 1;
  r.current_minor = r.committed_minor = 55;
  r.current_build = r.committed_build = 21;
  r.launch_tcb = req.launch_tcb.value_or(tcb);
  if (req.version >= 5) {
    r.launch_mit_vector = req.launch_mit_vector;
    r.current_mit_vector = req.current_mit_vector;
  }
  Bytes bytes = SerializeReport(r);
  if (bytes.size() != kReportSize) return InternalError("snp.sim_internal", "SEV-SNP simulated platform: bad report size");
  PERIMETER_ASSIGN_OR_RETURN(Bytes sig, impl_->vcek_key.Sign(ByteView(bytes).first(kSignedRegionSize),
                                                             crypto::EcdsaSignatureFormat::kAmdLittleEndian));
  if (sig.size() != 2 * kSignatureComponentSize) {
    return InternalError("snp.sim_internal", "SEV-SNP simulated platform: bad signature size");
  }
  std::memcpy(bytes.data() + kSignedRegionSize, sig.data(), sig.size());
  // Fail closed on anything the strict parser would refuse.
  Result<AttestationReport> check = ParseReport(bytes);
  if (!check.has_value()) return BadRequest("the requested report does not parse: " + std::string(check.error().message()));
  return bytes;
}

// ---- Save / Load ----

Status SimulatedPlatform::Save(const std::string& dir) const {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Io("cannot create " + dir);
  for (const char* f : kFiles) {
    struct stat st {};
    if (::lstat(Join(dir, f).c_str(), &st) == 0) {
      return AlreadyExistsError(kSimPlatformExists,
                                "SEV-SNP simulated platform: " + Join(dir, f) + " exists; refusing to overwrite");
    }
  }
  const Impl& m = *impl_;
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes ark_key, m.ark_key.ToPkcs8Der());
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes ask_key, m.ask_key.ToPkcs8Der());
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes vcek_key, m.vcek_key.ToPkcs8Der());
  const std::string ark_pem = PemEncode("CERTIFICATE", m.ark.ToDer());
  const std::string ask_pem = PemEncode("CERTIFICATE", m.ask.ToDer());
  const std::string vcek_pem = PemEncode("CERTIFICATE", m.vcek.ToDer());
  nlohmann::json j;
  j["format"] = kFormat;
  j["version"] = 1;
  j["product"] = std::string(ProductName(m.product));
  j["chip_id"] = HexEncode(m.chip_id);
  j["vcek_tcb"] = {{"fmc", m.tcb.fmc}, {"bl", m.tcb.boot_loader}, {"tee", m.tcb.tee},
                   {"snp", m.tcb.snp}, {"ucode", m.tcb.microcode}};
  j["not_before"] = m.not_before;
  j["days"] = m.days;
  const std::string json = j.dump(2) + "\n";

  struct Out {
    const char* name;
    ByteView data;
    mode_t mode;
  };
  const SecretBytes ark_key_pem = PemEncodeSecret("PRIVATE KEY", ark_key.view());
  const SecretBytes ask_key_pem = PemEncodeSecret("PRIVATE KEY", ask_key.view());
  const SecretBytes vcek_key_pem = PemEncodeSecret("PRIVATE KEY", vcek_key.view());
  const std::string chain = ask_pem + ark_pem;
  const Out outs[] = {
      {"ark.key", ark_key_pem.view(), 0600},   {"ask.key", ask_key_pem.view(), 0600},
      {"vcek.key", vcek_key_pem.view(), 0600}, {"ark.pem", AsBytes(ark_pem), 0644},
      {"ask.pem", AsBytes(ask_pem), 0644},     {"cert_chain.pem", AsBytes(chain), 0644},
      {"vcek.der", m.vcek.ToDer(), 0644},      {"vcek.pem", AsBytes(vcek_pem), 0644},
      {"crl.der", m.crl.ToDer(), 0644},
      {"platform.json", AsBytes(json), 0644},  // last: marks a complete platform
  };
  std::vector<std::string> written;
  for (const Out& o : outs) {
    const std::string path = Join(dir, o.name);
    if (Status s = WriteNewFile(path, o.data, o.mode); !s.ok()) {
      for (const std::string& w : written) ::unlink(w.c_str());
      return s;
    }
    written.push_back(path);
  }
  return Status::Ok();
}

namespace {

Result<std::uint8_t> JsonU8(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number_unsigned() || j[key].get<std::uint64_t>() > 255) {
    return Corrupt(std::string("platform.json: vcek_tcb.") + key + " is not 0..255");
  }
  return static_cast<std::uint8_t>(j[key].get<std::uint64_t>());
}

}  // namespace

Result<SimulatedPlatform> SimulatedPlatform::Load(const std::string& dir) {
  struct stat st {};
  if (::stat(Join(dir, "platform.json").c_str(), &st) != 0) {
    return NotFoundError(kSimPlatformMissing, "SEV-SNP simulated platform: no platform.json in " + dir);
  }
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes json_text, ReadWholeFile(Join(dir, "platform.json")));
  const nlohmann::json j = nlohmann::json::parse(AsString(json_text), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Corrupt("platform.json is not a JSON object");
  if (!j.contains("format") || j["format"] != kFormat || !j.contains("version") || j["version"] != 1) {
    return Corrupt("platform.json: unknown format or version");
  }
  Product p = Product::kUnknown;
  for (Product c : {Product::kMilan, Product::kGenoa, Product::kTurin}) {
    if (j.contains("product") && j["product"] == std::string(ProductName(c))) p = c;
  }
  if (p == Product::kUnknown) return Corrupt("platform.json: unknown product");
  if (!j.contains("chip_id") || !j["chip_id"].is_string()) return Corrupt("platform.json: no chip_id");
  Result<Bytes> chip_id = HexDecode(j["chip_id"].get<std::string>());
  if (!chip_id.has_value() || chip_id->size() != 64) return Corrupt("platform.json: chip_id is not 64 hex bytes");
  if (!j.contains("vcek_tcb") || !j["vcek_tcb"].is_object()) return Corrupt("platform.json: no vcek_tcb");
  const nlohmann::json& jt = j["vcek_tcb"];
  TcbVersion tcb;
  PERIMETER_ASSIGN_OR_RETURN(tcb.fmc, JsonU8(jt, "fmc"));
  PERIMETER_ASSIGN_OR_RETURN(tcb.boot_loader, JsonU8(jt, "bl"));
  PERIMETER_ASSIGN_OR_RETURN(tcb.tee, JsonU8(jt, "tee"));
  PERIMETER_ASSIGN_OR_RETURN(tcb.snp, JsonU8(jt, "snp"));
  PERIMETER_ASSIGN_OR_RETURN(tcb.microcode, JsonU8(jt, "ucode"));
  if (!j.contains("not_before") || !j["not_before"].is_number_integer() || !j.contains("days") ||
      !j["days"].is_number_unsigned() || j["days"].get<std::uint64_t>() > kMaxDays) {
    return Corrupt("platform.json: bad not_before/days");
  }
  const auto not_before = j["not_before"].get<std::int64_t>();
  const auto days = static_cast<std::uint32_t>(j["days"].get<std::uint64_t>());

  auto read_cert_pem = [&](const char* name) -> Result<crypto::Certificate> {
    PERIMETER_ASSIGN_OR_RETURN(SecretBytes text, ReadWholeFile(Join(dir, name)));
    Result<crypto::Certificate> c = crypto::Certificate::FromPem(AsString(text));
    if (!c.has_value()) return Corrupt(std::string(name) + ": " + std::string(c.error().message()));
    return c;
  };
  PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate ark, read_cert_pem("ark.pem"));
  PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate ask, read_cert_pem("ask.pem"));
  PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate vcek_pem, read_cert_pem("vcek.pem"));
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes vcek_der, ReadWholeFile(Join(dir, "vcek.der")));
  Result<crypto::Certificate> vcek = crypto::Certificate::FromDer(vcek_der.view());
  if (!vcek.has_value() || !(*vcek == vcek_pem)) return Corrupt("vcek.der is unreadable or differs from vcek.pem");
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes chain_text, ReadWholeFile(Join(dir, "cert_chain.pem")));
  Result<std::vector<crypto::Certificate>> chain = crypto::Certificate::ParsePemBundle(AsString(chain_text));
  if (!chain.has_value() || chain->size() != 2 || !((*chain)[0] == ask) || !((*chain)[1] == ark)) {
    return Corrupt("cert_chain.pem is not ASK then ARK");
  }
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes crl_der, ReadWholeFile(Join(dir, "crl.der")));
  Result<crypto::Crl> crl = crypto::Crl::FromDer(crl_der.view());
  if (!crl.has_value()) return Corrupt("crl.der: " + std::string(crl.error().message()));

  auto read_key_der = [&](const char* name) -> Result<SecretBytes> {
    PERIMETER_ASSIGN_OR_RETURN(SecretBytes text, ReadWholeFile(Join(dir, name)));
    Result<SecretBytes> der = PemDecodeSecret(text.view(), "PRIVATE KEY");
    if (!der.has_value()) return Corrupt(std::string(name) + ": " + std::string(der.error().message()));
    return der;
  };
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes ark_der, read_key_der("ark.key"));
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes ask_der, read_key_der("ask.key"));
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes vcek_key_der, read_key_der("vcek.key"));
  Result<crypto::RsaPrivateKey> ark_key = crypto::RsaPrivateKey::FromPkcs8Der(ark_der.view());
  Result<crypto::RsaPrivateKey> ask_key = crypto::RsaPrivateKey::FromPkcs8Der(ask_der.view());
  Result<crypto::EcdsaPrivateKey> vcek_key = crypto::EcdsaPrivateKey::FromPkcs8Der(vcek_key_der.view());
  if (!ark_key.has_value() || !ask_key.has_value() || !vcek_key.has_value()) return Corrupt("unreadable key file");
  auto same_key = [](const Result<Bytes>& spki, const crypto::Certificate& c) {
    return spki.has_value() && *spki == c.SubjectPublicKeyInfoDer();
  };
  if (!same_key(ark_key->public_key().ToSpkiDer(), ark) || !same_key(ask_key->public_key().ToSpkiDer(), ask) ||
      !same_key(vcek_key->public_key().ToSpkiDer(), *vcek)) {
    return Corrupt("a key file does not match its certificate");
  }
  if (SubjectCommonName(ark) != ArkCommonName(p) || SubjectCommonName(ask) != AskCommonName(p) ||
      !ark.VerifySignedBy(ark).ok() || !ask.VerifySignedBy(ark).ok() || !vcek->VerifySignedBy(ask).ok() ||
      !crl->VerifySignedBy(ark).ok()) {
    return Corrupt("the certificates or the CRL do not chain ARK -> ASK -> VCEK");
  }
  Result<VekInfo> info = ParseVekCertificate(*vcek);
  if (!info.has_value() || info->kind != VekKind::kVcek || info->product != p) {
    return Corrupt("the VCEK does not read as a VCEK of " + std::string(ProductName(p)));
  }
  const TcbVersion certified{info->spl.fmc.value_or(0), info->spl.bl, info->spl.tee, info->spl.snp, info->spl.ucode};
  if (!(certified == tcb) || !info->hw_id.has_value() ||
      !std::equal(info->hw_id->begin(), info->hw_id->end(), chip_id->begin())) {
    return Corrupt("platform.json disagrees with the VCEK (TCB or chip_id)");
  }
  auto impl = std::make_unique<Impl>(Impl{p, std::move(*chip_id), tcb, not_before, days, std::move(*ark_key),
                                          std::move(*ask_key), std::move(*vcek_key), std::move(ark), std::move(ask),
                                          std::move(*vcek), std::move(*crl)});
  return SimulatedPlatform(std::move(impl));
}

}  // namespace perimeter::attest::snp::simulated
