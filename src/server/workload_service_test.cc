#include "perimeter/server/workload_service.h"

#include <gtest/gtest.h>

#include <set>

#include "perimeter/keys/identifiers.h"
#include "src/server/server_test_util.h"

namespace perimeter::server {
namespace {

using testing::IsOk;

std::string User(int i) {
  Bytes key(32, static_cast<std::uint8_t>(i));
  return keys::UserIdFromStaticKey(key).value();
}

class WorkloadServiceTest : public ::testing::Test {
 protected:
  session::Response Run(const std::string& user, const session::Request& r) { return service_.Execute(user, r); }

  testing::TestStore store_;
  Metrics metrics_;
  WorkloadService service_{store_.store.get(), &metrics_};
};

TEST_F(WorkloadServiceTest, WhoamiAnswersTheSessionUser) {
  session::Response r = Run(User(1), testing::Whoami(4));
  ASSERT_EQ(r.code, StatusCode::kOk);
  EXPECT_EQ(r.id, 4u);
  EXPECT_EQ(r.operation, session::Operation::kWhoami);
  EXPECT_EQ(std::get<session::WhoamiResult>(*r.result).user_id, User(1));
}

TEST_F(WorkloadServiceTest, PutGetDeleteRoundTrip) {
  const Bytes value{0, 1, 2, 0xff};
  EXPECT_EQ(Run(User(1), testing::Put(1, "k", value)).code, StatusCode::kOk);
  session::Response get = Run(User(1), testing::Get(2, "k"));
  ASSERT_EQ(get.code, StatusCode::kOk);
  EXPECT_EQ(std::get<session::GetResult>(*get.result).value, value);
  EXPECT_EQ(Run(User(1), testing::Put(3, "k", Bytes{})).code, StatusCode::kOk);  // empty value, overwrite
  EXPECT_TRUE(std::get<session::GetResult>(*Run(User(1), testing::Get(4, "k")).result).value.empty());
  EXPECT_EQ(Run(User(1), testing::Delete(5, "k")).code, StatusCode::kOk);
  session::Response missing = Run(User(1), testing::Get(6, "k"));
  EXPECT_EQ(missing.code, StatusCode::kNotFound);
  EXPECT_EQ(missing.reason, kReasonNotFound);
  EXPECT_FALSE(missing.result.has_value());
  session::Response del = Run(User(1), testing::Delete(7, "k"));
  EXPECT_EQ(del.code, StatusCode::kNotFound);
  EXPECT_EQ(del.reason, kReasonNotFound);
  EXPECT_EQ(metrics_.Value("perimeter_operations_total", "op=\"get\",code=\"NOT_FOUND\""), 1);
  EXPECT_EQ(metrics_.Value("perimeter_operations_total", "op=\"put\",code=\"OK\""), 2);
}

TEST_F(WorkloadServiceTest, UsersCannotReachEachOthersRecords) {
  ASSERT_EQ(Run(User(1), testing::Put(1, "shared/name", ToBytes("one"))).code, StatusCode::kOk);
  // get, delete and list by another user see nothing.
  EXPECT_EQ(Run(User(2), testing::Get(1, "shared/name")).code, StatusCode::kNotFound);
  EXPECT_EQ(Run(User(2), testing::Delete(2, "shared/name")).code, StatusCode::kNotFound);
  session::Response list = Run(User(2), testing::List(3, ""));
  ASSERT_EQ(list.code, StatusCode::kOk);
  EXPECT_TRUE(std::get<session::ListResult>(*list.result).keys.empty());
  // A put under the same key by another user does not overwrite.
  ASSERT_EQ(Run(User(2), testing::Put(4, "shared/name", ToBytes("two"))).code, StatusCode::kOk);
  EXPECT_EQ(std::get<session::GetResult>(*Run(User(1), testing::Get(5, "shared/name")).result).value,
            ToBytes("one"));
  EXPECT_EQ(std::get<session::GetResult>(*Run(User(2), testing::Get(6, "shared/name")).result).value,
            ToBytes("two"));
  // Deleting one user's record leaves the other's.
  ASSERT_EQ(Run(User(2), testing::Delete(7, "shared/name")).code, StatusCode::kOk);
  EXPECT_EQ(Run(User(1), testing::Get(8, "shared/name")).code, StatusCode::kOk);
  // A page token of one user cannot list another user's keys.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Run(User(1), testing::Put(10, "p/" + std::to_string(i), Bytes{1})).code, StatusCode::kOk);
  }
  session::Response page = Run(User(1), testing::List(11, "p/", {}, 1));
  ASSERT_EQ(page.code, StatusCode::kOk);
  const Bytes token = std::get<session::ListResult>(*page.result).next_page_token;
  ASSERT_FALSE(token.empty());
  session::Response other = Run(User(2), testing::List(12, "p/", token, 10));
  ASSERT_EQ(other.code, StatusCode::kOk);
  EXPECT_TRUE(std::get<session::ListResult>(*other.result).keys.empty());
}

TEST_F(WorkloadServiceTest, ListPagesThroughEveryKeyOnce) {
  std::set<std::string> want;
  for (int i = 0; i < 25; ++i) {
    const std::string key = "notes/" + std::to_string(100 + i);
    want.insert(key);
    ASSERT_EQ(Run(User(1), testing::Put(1, key, Bytes{1})).code, StatusCode::kOk);
  }
  ASSERT_EQ(Run(User(1), testing::Put(1, "other", Bytes{1})).code, StatusCode::kOk);
  std::set<std::string> got;
  Bytes token;
  int pages = 0;
  do {
    session::Response r = Run(User(1), testing::List(2, "notes/", token, 7));
    ASSERT_EQ(r.code, StatusCode::kOk);
    const auto& page = std::get<session::ListResult>(*r.result);
    for (const std::string& k : page.keys) EXPECT_TRUE(got.insert(k).second) << k;
    token = page.next_page_token;
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_EQ(got, want);
}

TEST_F(WorkloadServiceTest, LongKeysGetHandleTokensBoundToUserAndPrefix) {
  const std::string a = "long/" + std::string(900, 'a');
  const std::string b = "long/" + std::string(900, 'b');
  ASSERT_EQ(Run(User(1), testing::Put(1, a, Bytes{1})).code, StatusCode::kOk);
  ASSERT_EQ(Run(User(1), testing::Put(2, b, Bytes{2})).code, StatusCode::kOk);
  session::Response first = Run(User(1), testing::List(3, "long/", {}, 1));
  ASSERT_EQ(first.code, StatusCode::kOk);
  const auto& page = std::get<session::ListResult>(*first.result);
  ASSERT_EQ(page.keys, std::vector<std::string>{a});
  ASSERT_FALSE(page.next_page_token.empty());
  EXPECT_LE(page.next_page_token.size(), session::kMaxPageTokenSize);
  session::Response second = Run(User(1), testing::List(4, "long/", page.next_page_token, 1));
  ASSERT_EQ(second.code, StatusCode::kOk);
  EXPECT_EQ(std::get<session::ListResult>(*second.result).keys, std::vector<std::string>{b});
  // The handle is refused for another user or another prefix.
  session::Response other_user = Run(User(2), testing::List(5, "long/", page.next_page_token, 1));
  EXPECT_EQ(other_user.code, StatusCode::kInvalidArgument);
  EXPECT_EQ(other_user.reason, kReasonBadPageToken);
  session::Response other_prefix = Run(User(1), testing::List(6, "lon", page.next_page_token, 1));
  EXPECT_EQ(other_prefix.reason, kReasonBadPageToken);
  Bytes forged = page.next_page_token;
  forged.back() ^= 1;
  EXPECT_EQ(Run(User(1), testing::List(7, "long/", forged, 1)).reason, kReasonBadPageToken);
}

TEST_F(WorkloadServiceTest, BadPageTokenIsARequestError) {
  session::Response r = Run(User(1), testing::List(1, "x/", ToBytes("not a token"), 10));
  EXPECT_EQ(r.code, StatusCode::kInvalidArgument);
  EXPECT_EQ(r.reason, kReasonBadPageToken);
}

TEST(WorkloadServiceErrors, StoreErrorsMapToWireReasons) {
  const session::Request req = testing::Get(9, "k");
  struct Case {
    Status in;
    StatusCode code;
    std::string_view reason;
  };
  const Case cases[] = {
      {NotFoundError("store.not_found", ""), StatusCode::kNotFound, kReasonNotFound},
      {InvalidArgumentError("store.bad_page_token", ""), StatusCode::kInvalidArgument, kReasonBadPageToken},
      {DataLossError("store.corrupt", ""), StatusCode::kDataLoss, kReasonDataLoss},
      {UnavailableError("store.io", ""), StatusCode::kUnavailable, kReasonUnavailable},
      {FailedPreconditionError("store.key_unavailable", ""), StatusCode::kUnavailable, kReasonUnavailable},
      {InternalError("store.internal", ""), StatusCode::kInternal, kReasonInternal},
      {InvalidArgumentError("store.bad_key", ""), StatusCode::kInternal, kReasonInternal},
  };
  for (const Case& c : cases) {
    session::Response r = WorkloadService::ErrorResponse(req, c.in);
    EXPECT_EQ(r.id, 9u);
    EXPECT_EQ(r.operation, session::Operation::kGet);
    EXPECT_EQ(r.code, c.code) << c.in;
    EXPECT_EQ(r.reason, c.reason) << c.in;
  }
}

TEST(WorkloadServiceErrors, NoStoreMeansUnavailableButWhoamiWorks) {
  WorkloadService service(nullptr, nullptr);
  EXPECT_FALSE(service.store_ready());
  EXPECT_EQ(service.Execute(User(1), testing::Whoami(1)).code, StatusCode::kOk);
  for (const session::Request& r : {testing::Put(2, "k", Bytes{}), testing::Get(3, "k"), testing::Delete(4, "k"),
                                    testing::List(5, "")}) {
    session::Response resp = service.Execute(User(1), r);
    EXPECT_EQ(resp.code, StatusCode::kUnavailable);
    EXPECT_EQ(resp.reason, kReasonUnavailable);
  }
}

}  // namespace
}  // namespace perimeter::server
