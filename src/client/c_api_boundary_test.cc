// The C API boundary (include/perimeter/perimeter.h) with hostile strings:
// endpoints that are not UTF-8, not printable, or huge, and a known-servers
// file whose endpoint is not UTF-8. Every call returns a code and a reason;
// nothing throws across the interface (a unit-test companion of the fuzz
// targets, without libFuzzer).
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "client/testing/test_server.h"
#include "perimeter/perimeter.h"

namespace perimeter::client {
namespace {

using testing::SharedPlatform;
using testing::TempDir;

class CApiBoundaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { SharedPlatform(); }
  void SetUp() override {
    auto path = testing::WriteTrustFile(dir_.path(), *SharedPlatform(), testing::DefaultPolicyYaml());
    ASSERT_TRUE(path.has_value());
    ASSERT_EQ(perimeter_trust_load(path->c_str(), &trust_), PERIMETER_OK);
    ASSERT_EQ(perimeter_identity_load_or_create(dir_.File("me.key").c_str(), &identity_, nullptr), PERIMETER_OK);
    ASSERT_EQ(perimeter_known_servers_open(dir_.File("known.json").c_str(), &known_), PERIMETER_OK);
  }
  void TearDown() override {
    perimeter_known_servers_destroy(known_);
    perimeter_identity_destroy(identity_);
    perimeter_trust_destroy(trust_);
  }
  TempDir dir_;
  perimeter_trust_t* trust_ = nullptr;
  perimeter_identity_t* identity_ = nullptr;
  perimeter_known_servers_t* known_ = nullptr;
};

TEST_F(CApiBoundaryTest, HostileEndpointsAreRefusedWithoutAnException) {
  const std::vector<std::string> endpoints = {
      "\xff\xfe:7000",
      "\xc3\x28:7000",                         // invalid UTF-8
      "caf\xc3\xa9.example:7000",              // valid UTF-8, not a host name
      "127.0.0.1\xff:7000",
      "127.0.0.1:70\xff" "00",
      "[::1\xff]:7000",
      "ws://127.0.0.1:7000/v1/noise\xff",      // a byte over 0x7E in the path
      "ws://127.0.0.1:7000/v1/\xc3\xa9",
      "ws://127.0.0.1:7000/v1/noise\x01",
      "ws://127.0.0.1:7000/v1 noise",
      "\xff\xfe://127.0.0.1:7000",             // a scheme that is not one
      "ws://\xff:7000/v1/noise",
      std::string(64 * 1024, '\xff') + ":7000",
      std::string(64 * 1024, 'a') + ":7000",
      "ws://127.0.0.1:7000/" + std::string(64 * 1024, '\x80'),
  };
  for (const std::string& endpoint : endpoints) {
    perimeter_connect_options_t options{};
    options.connect_timeout_ms = 2000;
    perimeter_session_t* session = nullptr;
    char* verdict = reinterpret_cast<char*>(1);  // must be set to NULL
    int rc = PERIMETER_OK;
    EXPECT_NO_THROW(rc = perimeter_connect(endpoint.c_str(), trust_, identity_, known_, &options, &session, &verdict))
        << endpoint.substr(0, 64);
    EXPECT_TRUE(rc == PERIMETER_INVALID_ARGUMENT || rc == PERIMETER_UNIMPLEMENTED) << rc;
    const std::string reason = perimeter_last_error_reason();
    EXPECT_TRUE(reason == "client.bad_endpoint" || reason == "client.unsupported_scheme") << reason;
    EXPECT_EQ(session, nullptr);
    EXPECT_EQ(verdict, nullptr);
  }
  // The cache was never touched and still opens.
  perimeter_known_servers_t* again = nullptr;
  EXPECT_EQ(perimeter_known_servers_open(dir_.File("known.json").c_str(), &again), PERIMETER_OK);
  perimeter_known_servers_destroy(again);
}

TEST_F(CApiBoundaryTest, AKnownServersFileWithAHostileEndpointIsRefused) {
  const std::string key(64, '0');
  const std::vector<std::string> files = {
      "{\"version\":2,\"servers\":{\"\xff\xfe:1\":[{\"key\":\"" + key + "\"}]}}",   // not UTF-8: not JSON
      "{\"version\":2,\"servers\":{\"caf\xc3\xa9:1\":[{\"key\":\"" + key + "\"}]}}",  // UTF-8, not ASCII
  };
  for (const std::string& text : files) {
    const std::string path = dir_.File("hostile.json");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    perimeter_known_servers_t* known = nullptr;
    int rc = PERIMETER_OK;
    EXPECT_NO_THROW(rc = perimeter_known_servers_open(path.c_str(), &known));
    EXPECT_EQ(rc, PERIMETER_DATA_LOSS);
    EXPECT_STREQ(perimeter_last_error_reason(), "client.known_servers_corrupt");
    EXPECT_EQ(known, nullptr);
  }
}

}  // namespace
}  // namespace perimeter::client
