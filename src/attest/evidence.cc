#include "perimeter/attest/evidence.h"

#include <nlohmann/json.hpp>

#include "perimeter/attest/snp/report.h"
#include "perimeter/base/base64.h"

namespace perimeter::attest {
namespace {

using nlohmann::json;

Status Bad(std::string_view reason, const std::string& what) {
  return InvalidArgumentError(reason, "attest: evidence: " + what);
}

Result<Bytes> DecodeField(const json& doc, const char* name, bool required) {
  auto it = doc.find(name);
  if (it == doc.end()) {
    if (required) return Bad("attest.evidence_missing_field", std::string("missing \"") + name + "\"");
    return Bytes();
  }
  if (!it->is_string()) return Bad("attest.evidence_bad_field", std::string("\"") + name + "\" must be a string");
  Result<Bytes> b = Base64Decode(it->get_ref<const std::string&>());
  if (!b.has_value()) return Bad("attest.evidence_bad_field", std::string("\"") + name + "\" is not base64");
  if (b->empty()) return Bad("attest.evidence_bad_field", std::string("\"") + name + "\" is empty");
  return b;
}

}  // namespace

Result<Evidence> ParseEvidence(std::string_view text) {
  if (text.size() > kMaxEvidenceDocumentSize) {
    return Bad("attest.evidence_too_large", "over 65000 bytes");
  }
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Bad("attest.evidence_bad_json", "not a JSON object");
  static constexpr const char* kKnown[] = {"version", "tee", "report", "vek", "ask", "ark", "crl",
                                           "provider", "endorsement"};
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    bool known = false;
    for (const char* k : kKnown) known = known || it.key() == k;
    if (!known) return Bad("attest.evidence_unknown_field", "unknown member \"" + it.key() + "\"");
  }
  auto version = doc.find("version");
  if (version == doc.end()) return Bad("attest.evidence_missing_field", "missing \"version\"");
  if (!version->is_number_integer() || version->get<long long>() != kEvidenceVersion) {
    return Bad("attest.evidence_unsupported_version", "version must be 1");
  }
  Evidence e;
  auto tee = doc.find("tee");
  if (tee == doc.end()) return Bad("attest.evidence_missing_field", "missing \"tee\"");
  if (!tee->is_string() || tee->get_ref<const std::string&>() != "sev-snp") {
    return Bad("attest.evidence_unsupported_tee", "tee must be \"sev-snp\"");
  }
  PERIMETER_ASSIGN_OR_RETURN(e.report, DecodeField(doc, "report", true));
  if (e.report.size() != snp::kReportSize) {
    return Bad("attest.evidence_bad_field", "report must be 1184 bytes, got " + std::to_string(e.report.size()));
  }
  PERIMETER_ASSIGN_OR_RETURN(e.vek, DecodeField(doc, "vek", true));
  if (doc.contains("ask")) {
    PERIMETER_ASSIGN_OR_RETURN(Bytes ask, DecodeField(doc, "ask", false));
    e.ask = std::move(ask);
  }
  if (doc.contains("ark")) {
    PERIMETER_ASSIGN_OR_RETURN(Bytes ark, DecodeField(doc, "ark", false));
    e.ark = std::move(ark);
  }
  if (doc.contains("crl")) {
    PERIMETER_ASSIGN_OR_RETURN(Bytes crl, DecodeField(doc, "crl", false));
    e.crl = std::move(crl);
  }
  if (auto p = doc.find("provider"); p != doc.end()) {
    if (!p->is_string()) return Bad("attest.evidence_bad_field", "\"provider\" must be a string");
    const std::string& v = p->get_ref<const std::string&>();
    if (v != "configfs-tsm" && v != "sev-guest" && v != "insecure-simulated") {
      return Bad("attest.evidence_bad_field", "unknown provider \"" + v + "\"");
    }
    e.provider = v;
  }
  if (auto en = doc.find("endorsement"); en != doc.end()) {
    if (!en->is_object()) return Bad("attest.evidence_bad_field", "\"endorsement\" must be an object");
    e.endorsement_json = en->dump();
  }
  return e;
}

Result<std::string> SerializeEvidence(const Evidence& e) {
  if (e.report.size() != snp::kReportSize) return Bad("attest.evidence_bad_field", "report must be 1184 bytes");
  if (e.vek.empty()) return Bad("attest.evidence_bad_field", "the VEK is empty");
  // Built by hand so the member order is fixed (nlohmann sorts keys).
  std::string out = "{\"version\":1,\"tee\":\"sev-snp\",\"report\":\"" + Base64Encode(e.report) +
                    "\",\"vek\":\"" + Base64Encode(e.vek) + "\"";
  if (e.ask) out += ",\"ask\":\"" + Base64Encode(*e.ask) + "\"";
  if (e.ark) out += ",\"ark\":\"" + Base64Encode(*e.ark) + "\"";
  if (e.crl) out += ",\"crl\":\"" + Base64Encode(*e.crl) + "\"";
  if (!e.provider.empty()) out += ",\"provider\":" + json(e.provider).dump();
  if (!e.endorsement_json.empty()) {
    json en = json::parse(e.endorsement_json, nullptr, false);
    if (en.is_discarded() || !en.is_object()) return Bad("attest.evidence_bad_field", "endorsement is not an object");
    out += ",\"endorsement\":" + en.dump();
  }
  out += "}";
  if (out.size() > kMaxEvidenceDocumentSize) return Bad("attest.evidence_too_large", "over 65000 bytes");
  return out;
}

}  // namespace perimeter::attest
