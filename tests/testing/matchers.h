// GoogleTest matchers for Status and Result<T> (in the style of Tink's
// test_matchers.h): IsOk(), StatusIs(code), StatusIs(code, reason).
#ifndef PERIMETER_TESTS_TESTING_MATCHERS_H_
#define PERIMETER_TESTS_TESTING_MATCHERS_H_

#include <gmock/gmock.h>

#include <string>

#include "perimeter/base/result.h"
#include "perimeter/base/status.h"

namespace perimeter::testing {

inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
Status GetStatus(const Result<T>& r) {
  return r.status();
}

MATCHER(IsOk, "is OK") {
  Status s = ::perimeter::testing::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s.ToString();
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + std::string(StatusCodeName(code))) {
  Status s = ::perimeter::testing::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, reason,
           "has status code " + std::string(StatusCodeName(code)) + " and reason " + std::string(reason)) {
  Status s = ::perimeter::testing::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code && s.reason() == std::string_view(reason);
}

}  // namespace perimeter::testing

#endif  // PERIMETER_TESTS_TESTING_MATCHERS_H_
