#include "perimeter/attest/verdict.h"

#include <nlohmann/json.hpp>

namespace perimeter::attest {

std::string_view CheckResultName(CheckResult r) {
  switch (r) {
    case CheckResult::kPassed: return "pass";
    case CheckResult::kFailed: return "FAIL";
    case CheckResult::kNotApplicable: return "n/a";
    case CheckResult::kNotChecked: return "not checked";
  }
  return "?";
}

bool Verdict::accepted() const {
  bool any_ran = false;
  for (const Check& c : checks) {
    if (c.result == CheckResult::kFailed) return false;
    any_ran = any_ran || c.result == CheckResult::kPassed;
  }
  return any_ran;
}

const Check* Verdict::first_failure() const {
  for (const Check& c : checks) {
    if (c.result == CheckResult::kFailed) return &c;
  }
  return nullptr;
}

std::string Verdict::ToText() const {
  std::string out;
  for (const Check& c : checks) {
    std::string line = "  [" + std::string(CheckResultName(c.result)) + "] " + c.title;
    if (!c.reason.empty()) line += "  (" + c.reason + ")";
    if (!c.detail.empty()) line += ": " + c.detail;
    out += line + "\n";
  }
  out += "root: " + (root.empty() ? std::string("none") : root) + "\n";
  out += std::string("verdict: ") + (accepted() ? "ACCEPTED" : "REJECTED");
  if (const Check* f = first_failure()) out += " (" + f->reason + ")";
  out += "\n";
  return out;
}

std::string Verdict::ToJson() const {
  nlohmann::json j;
  j["accepted"] = accepted();
  j["root"] = root;
  nlohmann::json list = nlohmann::json::array();
  for (const Check& c : checks) {
    list.push_back({{"id", c.id},
                    {"title", c.title},
                    {"result", std::string(CheckResultName(c.result))},
                    {"reason", c.reason},
                    {"detail", c.detail}});
  }
  j["checks"] = std::move(list);
  if (const Check* f = first_failure()) j["reason"] = f->reason;
  return j.dump(2);
}

}  // namespace perimeter::attest
