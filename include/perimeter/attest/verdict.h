// Verdict: the explained outcome of verifying evidence and judging it
// against a policy. Every check that ran is listed, in order, with its
// result and, on failure, a stable reason code; a check that did not apply
// or could not run is listed too (kNotApplicable / kNotChecked), so a reader
// sees exactly what was and was not established.
//
// Intentionally copyable. Thread-compatible.
#ifndef PERIMETER_ATTEST_VERDICT_H_
#define PERIMETER_ATTEST_VERDICT_H_

#include <string>
#include <string_view>
#include <vector>

namespace perimeter::attest {

enum class CheckResult { kPassed, kFailed, kNotApplicable, kNotChecked };

std::string_view CheckResultName(CheckResult r);  // "pass", "FAIL", "n/a", "not checked"

struct Check {
  std::string id;       // stable, e.g. "snp.report_signature"
  std::string title;    // human text, e.g. "report signature (ECDSA P-384 over 0x000-0x29F)"
  CheckResult result = CheckResult::kNotChecked;
  std::string reason;   // stable reason code when failed, e.g. "snp.report_signature_invalid"
  std::string detail;   // free text: what was compared
};

struct Verdict {
  std::vector<Check> checks;
  // The trust root that verified the evidence, named for humans (e.g. "AMD
  // ARK-Milan (pinned)" or "explicitly trusted root CN=ARK-Milan,
  // SPKI SHA-384 ab12..."); empty if none did.
  std::string root;

  // True iff at least one check ran and none failed.
  bool accepted() const;
  // The first failed check, or nullptr.
  const Check* first_failure() const;
  void Add(Check check) { checks.push_back(std::move(check)); }

  std::string ToText() const;
  std::string ToJson() const;
};

}  // namespace perimeter::attest

#endif  // PERIMETER_ATTEST_VERDICT_H_
