#include "perimeter/client/endpoint.h"

#include <gtest/gtest.h>

#include "tests/testing/matchers.h"

namespace perimeter::client {
namespace {

using ::perimeter::testing::StatusIs;

TEST(EndpointTest, ParsesTcpAndWebSocket) {
  Endpoint e = ParseEndpoint("127.0.0.1:7000").value();
  EXPECT_EQ(e.kind, Endpoint::Kind::kTcp);
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 7000);
  EXPECT_EQ(e.ToString(), "127.0.0.1:7000");
  e = ParseEndpoint("ws://example.org:8080/v1/noise").value();
  EXPECT_EQ(e.kind, Endpoint::Kind::kWebSocket);
  EXPECT_EQ(e.host, "example.org");
  EXPECT_EQ(e.port, 8080);
  EXPECT_EQ(e.path, "/v1/noise");
  EXPECT_EQ(ParseEndpoint("ws://h:1").value().ToString(), "ws://h:1/v1/noise");
  e = ParseEndpoint("[::1]:9").value();
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.ToString(), "[::1]:9");
  EXPECT_EQ(ParseEndpoint("ws://[::1]:9/v1/noise").value().ToString(), "ws://[::1]:9/v1/noise");
}

TEST(EndpointTest, RejectsMalformed) {
  for (const char* bad : {"", "host", "host:", ":80", "host:0", "host:65536", "host:80x", "ho st:80", "[::1:80",
                          "[zz]:80", "ws://", "ws://host", "ws://host:80/a b", "ws://:80/v1/noise"}) {
    EXPECT_THAT(ParseEndpoint(bad), StatusIs(StatusCode::kInvalidArgument, "client.bad_endpoint")) << bad;
  }
  EXPECT_THAT(ParseEndpoint("wss://h:443/v1/noise"), StatusIs(StatusCode::kUnimplemented, "client.unsupported_scheme"));
  EXPECT_THAT(ParseEndpoint("http://h:80/"), StatusIs(StatusCode::kUnimplemented, "client.unsupported_scheme"));
}

}  // namespace
}  // namespace perimeter::client
