#include "perimeter/base/status.h"

#include <gtest/gtest.h>

#include "perimeter/base/result.h"

namespace perimeter {
namespace {

TEST(Status, OkHasNoReasonOrMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.reason(), "ok");
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, ErrorCarriesCodeReasonAndMessage) {
  Status s = UnauthenticatedError("noise.decrypt_failed", "bad tag");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsUnauthenticated());
  EXPECT_EQ(s.reason(), "noise.decrypt_failed");
  EXPECT_EQ(s.ToString(), "UNAUTHENTICATED [noise.decrypt_failed]: bad tag");
}

TEST(Status, EqualityIgnoresMessage) {
  EXPECT_EQ(InvalidArgumentError("a.b", "x"), InvalidArgumentError("a.b", "y"));
  EXPECT_FALSE(InvalidArgumentError("a.b", "x") == InvalidArgumentError("a.c", "x"));
  EXPECT_FALSE(InvalidArgumentError("a.b", "x") == InternalError("a.b", "x"));
}

TEST(Status, ErrorWithOkCodeFailsClosed) {
  Status s(StatusCode::kOk, "x", "y");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInternal);
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("test.odd", "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  PERIMETER_ASSIGN_OR_RETURN(int h, Half(x));
  PERIMETER_ASSIGN_OR_RETURN(h, Half(h));
  return h;
}

Status CheckEven(int x) {
  PERIMETER_RETURN_IF_ERROR(Half(x));
  return Status::Ok();
}

TEST(Result, PropagatesValuesAndErrors) {
  Result<int> r = Quarter(8);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 2);
  Result<int> e = Quarter(6);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().reason(), "test.odd");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).reason(), "test.odd");
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> e = Half(3);
  EXPECT_DEATH((void)e.value(), "value\\(\\) on an error Result");
}

TEST(ResultDeathTest, OkStatusIsNotAnError) {
  EXPECT_DEATH(Result<int>{Status::Ok()}, "OK Status");
}

}  // namespace
}  // namespace perimeter
