#include "perimeter/client/trust_config.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "perimeter/attest/snp/amd_roots.h"
#include "perimeter/crypto/hash.h"

namespace perimeter::client {
namespace {

namespace snp = attest::snp;

constexpr std::size_t kMaxFileSize = 1 << 20;

Status Bad(std::string_view reason, const std::string& message) {
  return InvalidArgumentError(reason, "trust: " + message);
}

Result<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(kTrustFileMissing, "trust: cannot read " + what + " " + path);
  std::string data;
  char buf[8192];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    data.append(buf, static_cast<std::size_t>(in.gcount()));
    if (data.size() > kMaxFileSize) return Bad(kTrustBadValue, what + " " + path + " is over 1 MiB");
  }
  if (in.bad()) return NotFoundError(kTrustFileMissing, "trust: cannot read " + what + " " + path);
  return data;
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).string();
}

// Discards a document's parse events (only the document count matters).
class IgnoreEvents final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

bool IsPem(std::string_view s) { return s.find("-----BEGIN") != std::string_view::npos; }

// Checks that `map` is a mapping whose keys are distinct scalars from
// `allowed`.
Status CheckKeys(const YAML::Node& map, std::initializer_list<std::string_view> allowed, const std::string& where) {
  if (!map.IsMap()) return Bad(kTrustBadType, where + " must be a mapping");
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) return Bad(kTrustBadType, where + ": keys must be plain names");
    const std::string key = it->first.Scalar();
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) return Bad(kTrustUnknownKey, where + ": unknown key '" + key + "'");
    if (!seen.insert(key).second) return Bad(kTrustDuplicateKey, where + ": key '" + key + "' appears twice");
  }
  return Status::Ok();
}

Result<bool> ReadBool(const YAML::Node& node, const std::string& where) {
  if (node.IsScalar()) {
    if (node.Scalar() == "true") return true;
    if (node.Scalar() == "false") return false;
  }
  return Bad(kTrustBadType, where + " must be true or false");
}

Result<std::uint32_t> ReadUint(const YAML::Node& node, std::uint32_t max, const std::string& where) {
  if (!node.IsScalar() || node.Scalar().empty()) return Bad(kTrustBadType, where + " must be a number");
  const std::string& s = node.Scalar();
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return Bad(kTrustBadType, where + " must be a number");
  if (v > max) return Bad(kTrustBadValue, where + " must be at most " + std::to_string(max));
  return static_cast<std::uint32_t>(v);
}

Result<Bytes> ReadHex(const YAML::Node& node, std::size_t size, const std::string& where) {
  if (!node.IsScalar()) return Bad(kTrustBadType, where + " must be a hex string");
  Result<Bytes> b = HexDecode(node.Scalar());
  if (!b.has_value()) return Bad(kTrustBadHex, where + " is not hex");
  if (b->size() != size) {
    return Bad(kTrustBadLength, where + " must be " + std::to_string(size) + " bytes (" + std::to_string(2 * size) +
                                    " hex digits), not " + std::to_string(b->size()));
  }
  return b;
}

Result<std::vector<YAML::Node>> ReadSequence(const YAML::Node& node, const std::string& where) {
  if (!node.IsSequence()) return Bad(kTrustBadType, where + " must be a list");
  std::vector<YAML::Node> out;
  for (auto it = node.begin(); it != node.end(); ++it) out.push_back(*it);
  return out;
}

Result<std::string> ReadPath(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar() || node.Scalar().empty()) return Bad(kTrustBadType, where + " must be a file name");
  return node.Scalar();
}

Result<crypto::Certificate> LoadArk(const std::string& path) {
  PERIMETER_ASSIGN_OR_RETURN(std::string data, ReadFile(path, "ARK file"));
  Result<crypto::Certificate> cert =
      IsPem(data) ? crypto::Certificate::FromPem(data) : crypto::Certificate::FromDer(AsBytes(data));
  if (!cert.has_value()) return Bad(kTrustBadCertificate, path + " is not a certificate (PEM or DER)");
  // A root must be a self-signed CA; anything else can never anchor a chain
  // and is a configuration mistake.
  if (cert->Subject() != cert->Issuer() || !cert->IsCa() || !cert->VerifySignedBy(*cert).ok()) {
    return Bad(kTrustBadCertificate, path + " is not a self-signed CA certificate (an ARK)");
  }
  return cert;
}

Result<crypto::Crl> LoadCrl(const std::string& path, const snp::TrustedRoots& roots) {
  PERIMETER_ASSIGN_OR_RETURN(std::string data, ReadFile(path, "CRL file"));
  Result<crypto::Crl> crl = IsPem(data) ? crypto::Crl::FromPem(data) : crypto::Crl::FromDer(AsBytes(data));
  if (!crl.has_value()) return Bad(kTrustBadCrl, path + " is not a CRL (PEM or DER)");
  for (const crypto::Certificate& ark : roots.arks) {
    if (crl->VerifySignedBy(ark).ok()) return crl;
  }
  return Bad(kTrustBadCrl, path + " is not signed by any trusted ARK");
}

Result<snp::Product> ProductByName(const std::string& name) {
  for (snp::Product p : {snp::Product::kMilan, snp::Product::kGenoa, snp::Product::kTurin}) {
    if (name == snp::ProductName(p)) return p;
  }
  return Bad(kTrustBadValue, "policy.min_tcb: unknown product '" + name + "' (Milan, Genoa or Turin)");
}

Result<snp::TcbVersion> ReadTcb(const YAML::Node& node, snp::Product product, const std::string& where) {
  const bool turin = product == snp::Product::kTurin;
  if (turin) {
    PERIMETER_RETURN_IF_ERROR(CheckKeys(node, {"fmc", "bl", "tee", "snp", "ucode"}, where));
  } else {
    PERIMETER_RETURN_IF_ERROR(CheckKeys(node, {"bl", "tee", "snp", "ucode"}, where));
  }
  snp::TcbVersion t;
  struct Field {
    const char* name;
    std::uint8_t* out;
    bool required;
  };
  const Field fields[] = {{"fmc", &t.fmc, false},
                          {"bl", &t.boot_loader, true},
                          {"tee", &t.tee, true},
                          {"snp", &t.snp, true},
                          {"ucode", &t.microcode, true}};
  for (const Field& f : fields) {
    const YAML::Node v = node[f.name];
    if (!v) {
      if (f.required) return Bad(kTrustMissingField, where + "." + f.name + " is required");
      continue;
    }
    PERIMETER_ASSIGN_OR_RETURN(std::uint32_t n, ReadUint(v, 255, where + "." + f.name));
    *f.out = static_cast<std::uint8_t>(n);
  }
  return t;
}

Status ReadPolicy(const YAML::Node& node, snp::Policy& policy) {
  PERIMETER_RETURN_IF_ERROR(CheckKeys(node,
                                      {"measurements", "allow_any_measurement", "host_data", "min_tcb",
                                       "allow_debug", "allow_migration_agent", "allow_smt", "max_vmpl",
                                       "require_crl"},
                                      "policy"));
  bool any_measurement = false;
  if (const YAML::Node n = node["allow_any_measurement"]) {
    PERIMETER_ASSIGN_OR_RETURN(any_measurement, ReadBool(n, "policy.allow_any_measurement"));
  }
  if (const YAML::Node n = node["measurements"]) {
    PERIMETER_ASSIGN_OR_RETURN(std::vector<YAML::Node> items, ReadSequence(n, "policy.measurements"));
    for (std::size_t i = 0; i < items.size(); ++i) {
      PERIMETER_ASSIGN_OR_RETURN(Bytes m, ReadHex(items[i], 48, "policy.measurements[" + std::to_string(i) + "]"));
      policy.measurements.push_back(std::move(m));
    }
  }
  if (policy.measurements.empty() && !any_measurement) {
    return Bad(kTrustNoMeasurements,
               "policy.measurements must list at least one allowed measurement "
               "(or set policy.allow_any_measurement: true)");
  }
  if (!policy.measurements.empty() && any_measurement) {
    return Bad(kTrustBadValue, "policy.allow_any_measurement contradicts policy.measurements");
  }
  if (const YAML::Node n = node["host_data"]) {
    PERIMETER_ASSIGN_OR_RETURN(std::vector<YAML::Node> items, ReadSequence(n, "policy.host_data"));
    // An empty list would mean "any" (snp::Policy): fail closed, so a
    // template that renders no values is a mistake, not an open door.
    if (items.empty()) {
      return Bad(kTrustBadValue, "policy.host_data must list at least one value (omit the key to allow any HOST_DATA)");
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      PERIMETER_ASSIGN_OR_RETURN(Bytes h, ReadHex(items[i], 32, "policy.host_data[" + std::to_string(i) + "]"));
      policy.host_data.push_back(std::move(h));
    }
  }
  if (const YAML::Node n = node["min_tcb"]) {
    if (!n.IsMap()) return Bad(kTrustBadType, "policy.min_tcb must be a mapping of products");
    PERIMETER_RETURN_IF_ERROR(CheckKeys(n, {"Milan", "Genoa", "Turin"}, "policy.min_tcb"));
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string name = it->first.Scalar();
      PERIMETER_ASSIGN_OR_RETURN(snp::Product product, ProductByName(name));
      PERIMETER_ASSIGN_OR_RETURN(snp::TcbVersion tcb, ReadTcb(it->second, product, "policy.min_tcb." + name));
      policy.min_tcb[product] = tcb;
    }
  }
  if (const YAML::Node n = node["allow_debug"]) {
    PERIMETER_ASSIGN_OR_RETURN(policy.allow_debug, ReadBool(n, "policy.allow_debug"));
  }
  if (const YAML::Node n = node["allow_migration_agent"]) {
    PERIMETER_ASSIGN_OR_RETURN(policy.allow_migration_agent, ReadBool(n, "policy.allow_migration_agent"));
  }
  if (const YAML::Node n = node["allow_smt"]) {
    PERIMETER_ASSIGN_OR_RETURN(policy.allow_smt, ReadBool(n, "policy.allow_smt"));
  }
  if (const YAML::Node n = node["max_vmpl"]) {
    PERIMETER_ASSIGN_OR_RETURN(policy.max_vmpl, ReadUint(n, 3, "policy.max_vmpl"));
  }
  if (const YAML::Node n = node["require_crl"]) {
    PERIMETER_ASSIGN_OR_RETURN(policy.require_crl, ReadBool(n, "policy.require_crl"));
  }
  return Status::Ok();
}

Result<TrustConfig> ParseDocument(const YAML::Node& doc, const std::string& base_dir) {
  PERIMETER_RETURN_IF_ERROR(CheckKeys(doc, {"version", "roots", "crls", "policy"}, "the trust file"));
  const YAML::Node version = doc["version"];
  if (!version) return Bad(kTrustMissingField, "version is required");
  PERIMETER_ASSIGN_OR_RETURN(std::uint32_t v, ReadUint(version, 1000000, "version"));
  if (v != kTrustConfigVersion) {
    return InvalidArgumentError(kTrustUnsupportedVersion, "trust: version " + std::to_string(v) + " is not supported");
  }

  TrustConfig out;
  bool amd = true;
  std::size_t explicit_arks = 0;
  if (const YAML::Node roots = doc["roots"]) {
    PERIMETER_RETURN_IF_ERROR(CheckKeys(roots, {"amd", "arks"}, "roots"));
    if (const YAML::Node n = roots["amd"]) {
      PERIMETER_ASSIGN_OR_RETURN(amd, ReadBool(n, "roots.amd"));
    }
    if (amd) out.roots = snp::TrustedRoots::Amd();
    if (const YAML::Node n = roots["arks"]) {
      PERIMETER_ASSIGN_OR_RETURN(std::vector<YAML::Node> items, ReadSequence(n, "roots.arks"));
      for (std::size_t i = 0; i < items.size(); ++i) {
        PERIMETER_ASSIGN_OR_RETURN(std::string path, ReadPath(items[i], "roots.arks[" + std::to_string(i) + "]"));
        PERIMETER_ASSIGN_OR_RETURN(crypto::Certificate ark, LoadArk(Resolve(base_dir, path)));
        out.roots.arks.push_back(std::move(ark));
        ++explicit_arks;
      }
    }
  } else {
    out.roots = snp::TrustedRoots::Amd();
  }
  if (out.roots.arks.empty()) {
    return Bad(kTrustNoRoots, "no root is trusted (roots.amd is false and roots.arks is empty)");
  }
  out.roots_summary = std::string(amd ? "AMD ARKs (pinned)" : "no AMD ARK");
  if (explicit_arks > 0) {
    out.roots_summary += " + " + std::to_string(explicit_arks) + " explicitly trusted ARK" +
                         (explicit_arks == 1 ? "" : "s");
  }

  if (const YAML::Node n = doc["crls"]) {
    PERIMETER_ASSIGN_OR_RETURN(std::vector<YAML::Node> items, ReadSequence(n, "crls"));
    for (std::size_t i = 0; i < items.size(); ++i) {
      PERIMETER_ASSIGN_OR_RETURN(std::string path, ReadPath(items[i], "crls[" + std::to_string(i) + "]"));
      PERIMETER_ASSIGN_OR_RETURN(crypto::Crl crl, LoadCrl(Resolve(base_dir, path), out.roots));
      out.crls.push_back(std::move(crl));
    }
  }

  const YAML::Node policy = doc["policy"];
  if (!policy) return Bad(kTrustMissingField, "policy is required (at least policy.measurements)");
  PERIMETER_RETURN_IF_ERROR(ReadPolicy(policy, out.policy));
  return out;
}

}  // namespace

Result<TrustConfig> ParseTrustConfig(std::string_view yaml, const std::string& base_dir) {
  if (yaml.size() > kMaxFileSize) return Bad(kTrustBadValue, "the trust file is over 1 MiB");
  // yaml-cpp reports errors as exceptions; they stop here.
  try {
    // Count the documents, but never more than two: YAML::LoadAll (yaml-cpp
    // 0.7) loops forever, allocating, on some malformed input such as ","
    // (every further document comes back as a null one; jbeder/yaml-cpp#1040).
    const std::string text(yaml);
    std::istringstream in(text);
    YAML::Parser parser(in);
    IgnoreEvents ignore;
    if (!parser.HandleNextDocument(ignore)) return Bad(kTrustMissingField, "the trust file is empty");
    if (parser.HandleNextDocument(ignore)) {
      return Bad(kTrustBadYaml, "the trust file must hold exactly one YAML document");
    }
    return ParseDocument(YAML::Load(text), base_dir);
  } catch (const YAML::Exception& e) {
    return Bad(kTrustBadYaml, std::string("not valid YAML: ") + e.what());
  } catch (const std::exception& e) {
    return InternalError("trust.internal", std::string("trust: ") + e.what());
  }
}

Result<TrustConfig> LoadTrustConfig(const std::string& path) {
  PERIMETER_ASSIGN_OR_RETURN(std::string text, ReadFile(path, "trust file"));
  return ParseTrustConfig(text, std::filesystem::path(path).parent_path().string());
}

namespace {

// The canonical serialization TrustConfigFingerprint hashes: a label, then
// tagged, length-prefixed fields in a fixed order (never ambiguous, whatever
// the values).
class Canonical {
 public:
  void Field(std::uint8_t tag, ByteView b) {
    out_.push_back(tag);
    Length(b.size());
    out_.insert(out_.end(), b.begin(), b.end());
  }
  void U32(std::uint8_t tag, std::uint32_t v) {
    out_.push_back(tag);
    Length(v);
  }
  void Bool(std::uint8_t tag, bool v) {
    out_.push_back(tag);
    out_.push_back(v ? 1 : 0);
  }
  void Optional(std::uint8_t tag, const std::optional<Bytes>& v) {
    Bool(tag, v.has_value());
    if (v.has_value()) Field(tag, *v);
  }
  // A set of byte strings: sorted, duplicates dropped.
  void Set(std::uint8_t tag, std::vector<Bytes> items) {
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    U32(tag, static_cast<std::uint32_t>(items.size()));
    for (const Bytes& b : items) Field(tag, b);
  }
  const Bytes& bytes() const { return out_; }

 private:
  void Length(std::size_t n) {
    for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(n >> shift));
  }
  Bytes out_;
};

}  // namespace

Result<Bytes> TrustConfigFingerprint(const TrustConfig& trust) {
  // Every field of TrustConfig and snp::Policy that affects a verdict must be
  // here (a new one must be added, with a test in trust_config_test.cc).
  Canonical c;
  c.Field(0, AsBytes(std::string_view("secure-perimeter/trust-config-fingerprint/1")));
  std::vector<Bytes> arks;
  for (const crypto::Certificate& a : trust.roots.arks) arks.push_back(a.ToDer());
  c.Set(1, std::move(arks));
  std::vector<Bytes> crls;
  for (const crypto::Crl& crl : trust.crls) crls.push_back(crl.ToDer());
  c.Set(2, std::move(crls));
  const snp::Policy& p = trust.policy;
  c.Set(3, p.measurements);
  c.Set(4, p.host_data);
  c.Optional(5, p.report_data);
  c.U32(6, static_cast<std::uint32_t>(p.min_tcb.size()));
  for (const auto& [product, tcb] : p.min_tcb) {  // std::map: ordered by product
    c.U32(7, static_cast<std::uint32_t>(product));
    const std::uint8_t t[] = {tcb.fmc, tcb.boot_loader, tcb.tee, tcb.snp, tcb.microcode};
    c.Field(8, ByteView(t, sizeof(t)));
  }
  c.Bool(9, p.allow_debug);
  c.Bool(10, p.allow_migration_agent);
  c.Bool(11, p.allow_smt);
  c.U32(12, p.max_vmpl);
  c.Optional(13, p.family_id);
  c.Optional(14, p.image_id);
  c.Optional(15, p.author_key_digest);
  c.Bool(16, p.require_crl);
  return crypto::Hash(crypto::HashAlg::kSha256, c.bytes());
}

}  // namespace perimeter::client
