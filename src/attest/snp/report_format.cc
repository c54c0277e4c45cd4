#include "perimeter/attest/snp/report_format.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace perimeter::attest::snp {
namespace {

using nlohmann::ordered_json;

std::string Hex64(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

template <std::size_t N>
std::string HexOf(const std::array<std::uint8_t, N>& a) {
  return HexEncode(ByteView(a.data(), a.size()));
}

std::string Version(std::uint8_t major, std::uint8_t minor, std::uint8_t build) {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(build);
}

const char* Bool(bool b) { return b ? "true" : "false"; }

// Ordered (name, value) pairs shared by the two renderings.
using Bits = std::vector<std::pair<const char*, bool>>;

Bits PolicyBits(const GuestPolicy& p) {
  return {{"smt", p.smt},
          {"reserved_must_be_one", p.reserved_must_be_one},
          {"migrate_ma", p.migrate_ma},
          {"debug", p.debug},
          {"single_socket", p.single_socket},
          {"cxl_allow", p.cxl_allow},
          {"mem_aes_256_xts", p.mem_aes_256_xts},
          {"rapl_dis", p.rapl_dis},
          {"ciphertext_hiding", p.ciphertext_hiding},
          {"page_swap_disable", p.page_swap_disable}};
}

Bits PlatformBits(const PlatformInfo& p) {
  return {{"smt_en", p.smt_en},
          {"tsme_en", p.tsme_en},
          {"ecc_en", p.ecc_en},
          {"rapl_dis", p.rapl_dis},
          {"ciphertext_hiding_en", p.ciphertext_hiding_en},
          {"alias_check_complete", p.alias_check_complete},
          {"tio_en", p.tio_en}};
}

struct TcbField {
  const char* name;
  std::uint64_t raw;
};

std::vector<TcbField> TcbFields(const AttestationReport& r) {
  return {{"current_tcb", r.current_tcb},
          {"reported_tcb", r.reported_tcb},
          {"committed_tcb", r.committed_tcb},
          {"launch_tcb", r.launch_tcb}};
}

class TextWriter {
 public:
  void Line(const std::string& name, const std::string& value) { out_ << name << ": " << value << "\n"; }
  void Tcb(const char* name, std::uint64_t raw, Product product) {
    Line(name, Hex64(raw));
    if (product == Product::kUnknown) return;
    TcbVersion t = DecodeTcb(raw, product);
    std::string n(name);
    if (product == Product::kTurin) Line(n + ".fmc", std::to_string(t.fmc));
    Line(n + ".boot_loader", std::to_string(t.boot_loader));
    Line(n + ".tee", std::to_string(t.tee));
    Line(n + ".snp", std::to_string(t.snp));
    Line(n + ".microcode", std::to_string(t.microcode));
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

ordered_json TcbJson(std::uint64_t raw, Product product) {
  TcbVersion t = DecodeTcb(raw, product);
  ordered_json j;
  if (product == Product::kTurin) j["fmc"] = t.fmc;
  j["boot_loader"] = t.boot_loader;
  j["tee"] = t.tee;
  j["snp"] = t.snp;
  j["microcode"] = t.microcode;
  return j;
}

}  // namespace

std::string ReportToText(const AttestationReport& r, Product product) {
  TextWriter w;
  w.Line("product", std::string(ProductName(product)));
  w.Line("version", std::to_string(r.version));
  w.Line("guest_svn", std::to_string(r.guest_svn));
  w.Line("policy", Hex64(r.policy));
  GuestPolicy policy = r.DecodedPolicy();
  w.Line("policy.abi_major", std::to_string(policy.abi_major));
  w.Line("policy.abi_minor", std::to_string(policy.abi_minor));
  for (const auto& [name, value] : PolicyBits(policy)) w.Line(std::string("policy.") + name, Bool(value));
  w.Line("family_id", HexOf(r.family_id));
  w.Line("image_id", HexOf(r.image_id));
  w.Line("vmpl", std::to_string(r.vmpl));
  w.Line("signature_algo", std::to_string(r.signature_algo));
  w.Tcb("current_tcb", r.current_tcb, product);
  w.Line("platform_info", Hex64(r.platform_info));
  for (const auto& [name, value] : PlatformBits(r.DecodedPlatformInfo())) {
    w.Line(std::string("platform_info.") + name, Bool(value));
  }
  w.Line("key_info", Hex64(r.key_info));
  w.Line("author_key_en", Bool(r.author_key_en()));
  w.Line("mask_chip_key", Bool(r.mask_chip_key()));
  w.Line("signing_key", std::string(SigningKeyName(r.signing_key())));
  w.Line("report_data", HexOf(r.report_data));
  w.Line("measurement", HexOf(r.measurement));
  w.Line("host_data", HexOf(r.host_data));
  w.Line("id_key_digest", HexOf(r.id_key_digest));
  w.Line("author_key_digest", HexOf(r.author_key_digest));
  w.Line("report_id", HexOf(r.report_id));
  w.Line("report_id_ma", HexOf(r.report_id_ma));
  w.Tcb("reported_tcb", r.reported_tcb, product);
  if (r.HasCpuid()) {
    w.Line("cpuid_fam_id", Hex64(r.cpuid_fam_id));
    w.Line("cpuid_mod_id", Hex64(r.cpuid_mod_id));
    w.Line("cpuid_step", Hex64(r.cpuid_step));
  } else {
    w.Line("cpuid_fam_id", "absent (version 2)");
    w.Line("cpuid_mod_id", "absent (version 2)");
    w.Line("cpuid_step", "absent (version 2)");
  }
  w.Line("chip_id", HexOf(r.chip_id));
  w.Tcb("committed_tcb", r.committed_tcb, product);
  w.Line("current_version", Version(r.current_major, r.current_minor, r.current_build));
  w.Line("committed_version", Version(r.committed_major, r.committed_minor, r.committed_build));
  w.Tcb("launch_tcb", r.launch_tcb, product);
  if (r.HasMitigationVectors()) {
    w.Line("launch_mit_vector", Hex64(r.launch_mit_vector));
    w.Line("current_mit_vector", Hex64(r.current_mit_vector));
  } else {
    w.Line("launch_mit_vector", "absent (version < 5)");
    w.Line("current_mit_vector", "absent (version < 5)");
  }
  w.Line("signature_r", HexOf(r.signature_r));
  w.Line("signature_s", HexOf(r.signature_s));
  return w.str();
}

std::string ReportToJson(const AttestationReport& r, Product product) {
  ordered_json j;
  j["product"] = std::string(ProductName(product));
  j["version"] = r.version;
  j["guest_svn"] = r.guest_svn;
  j["policy"] = Hex64(r.policy);
  GuestPolicy policy = r.DecodedPolicy();
  ordered_json pj;
  pj["abi_major"] = policy.abi_major;
  pj["abi_minor"] = policy.abi_minor;
  for (const auto& [name, value] : PolicyBits(policy)) pj[name] = value;
  j["policy_decoded"] = pj;
  j["family_id"] = HexOf(r.family_id);
  j["image_id"] = HexOf(r.image_id);
  j["vmpl"] = r.vmpl;
  j["signature_algo"] = r.signature_algo;
  j["platform_info"] = Hex64(r.platform_info);
  ordered_json pi;
  for (const auto& [name, value] : PlatformBits(r.DecodedPlatformInfo())) pi[name] = value;
  j["platform_info_decoded"] = pi;
  j["key_info"] = Hex64(r.key_info);
  j["author_key_en"] = r.author_key_en();
  j["mask_chip_key"] = r.mask_chip_key();
  j["signing_key"] = std::string(SigningKeyName(r.signing_key()));
  j["report_data"] = HexOf(r.report_data);
  j["measurement"] = HexOf(r.measurement);
  j["host_data"] = HexOf(r.host_data);
  j["id_key_digest"] = HexOf(r.id_key_digest);
  j["author_key_digest"] = HexOf(r.author_key_digest);
  j["report_id"] = HexOf(r.report_id);
  j["report_id_ma"] = HexOf(r.report_id_ma);
  if (r.HasCpuid()) {
    j["cpuid_fam_id"] = Hex64(r.cpuid_fam_id);
    j["cpuid_mod_id"] = Hex64(r.cpuid_mod_id);
    j["cpuid_step"] = Hex64(r.cpuid_step);
  } else {
    j["cpuid_fam_id"] = nullptr;
    j["cpuid_mod_id"] = nullptr;
    j["cpuid_step"] = nullptr;
  }
  j["chip_id"] = HexOf(r.chip_id);
  for (const TcbField& f : TcbFields(r)) {
    j[f.name] = Hex64(f.raw);
    if (product != Product::kUnknown) j[std::string(f.name) + "_decoded"] = TcbJson(f.raw, product);
  }
  j["current_version"] = Version(r.current_major, r.current_minor, r.current_build);
  j["committed_version"] = Version(r.committed_major, r.committed_minor, r.committed_build);
  if (r.HasMitigationVectors()) {
    j["launch_mit_vector"] = Hex64(r.launch_mit_vector);
    j["current_mit_vector"] = Hex64(r.current_mit_vector);
  } else {
    j["launch_mit_vector"] = nullptr;
    j["current_mit_vector"] = nullptr;
  }
  j["signature_r"] = HexOf(r.signature_r);
  j["signature_s"] = HexOf(r.signature_s);
  return j.dump(2) + "\n";
}

}  // namespace perimeter::attest::snp
