#include "perimeter/server/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "src/server/server_test_util.h"

namespace perimeter::server {
namespace {

using testing::IsOk;
using testing::StatusIs;

ServerConfig Valid() {
  ServerConfig c;
  c.sim_platform = "sim";
  c.data_dir = "data";
  c.master_secret = "m.key";
  c.pod_id = "pod-1";
  return c;
}

TEST(ServerConfig, ParsesEveryKey) {
  ServerConfig c;
  ASSERT_THAT(ApplyServerConfigYaml(R"(
listen: "0.0.0.0:7443"
http_listen: "[::1]:8080"
provider: simulated
sim_platform: sim/
sim_workload: /bin/true
host_data: "0101010101010101010101010101010101010101010101010101010101010101"
data_dir: data
master_secret: m.key
pod_id: demo
evidence_refresh: 60
max_connections: 10
handshake_timeout: 0.5
idle_timeout: 30
chunk_timeout: 6
write_timeout: 7
drain_timeout: 2
io_threads: 3
worker_threads: 4
max_http_header_bytes: 4096
max_write_queue_bytes: 1048576
ready_file: r.json
log_level: debug
)",
                                    c),
              IsOk());
  EXPECT_EQ(c.server.listen, "0.0.0.0:7443");
  EXPECT_EQ(c.server.http_listen, "[::1]:8080");
  EXPECT_EQ(c.sim_workload, "/bin/true");
  EXPECT_EQ(c.server.evidence_refresh, std::chrono::seconds(60));
  EXPECT_EQ(c.server.max_connections, 10u);
  EXPECT_EQ(c.server.session.handshake_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(c.server.session.idle_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.server.session.chunk_timeout, std::chrono::seconds(6));
  EXPECT_EQ(c.server.write_timeout, std::chrono::seconds(7));
  EXPECT_EQ(c.server.drain_timeout, std::chrono::seconds(2));
  EXPECT_EQ(c.server.io_threads, 3);
  EXPECT_EQ(c.server.worker_threads, 4);
  EXPECT_EQ(c.server.max_http_header_bytes, 4096u);
  EXPECT_EQ(c.server.max_write_queue_bytes, 1048576u);
  EXPECT_EQ(c.ready_file, "r.json");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_THAT(ValidateServerConfig(c), IsOk());
}

TEST(ServerConfig, RejectsUnknownKeysAndBadValues) {
  ServerConfig c;
  EXPECT_THAT(ApplyServerConfigYaml("listen: a:1\nlisten_typo: x\n", c),
              StatusIs(StatusCode::kInvalidArgument, "server.config_unknown_key"));
  EXPECT_THAT(ApplyServerConfigYaml("max_connections: -1\n", c),
              StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
  EXPECT_THAT(ApplyServerConfigYaml("max_connections: 1.5\n", c),
              StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
  EXPECT_THAT(ApplyServerConfigYaml("idle_timeout: soon\n", c),
              StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
  EXPECT_THAT(ApplyServerConfigYaml("idle_timeout: 0\n", c),
              StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
  EXPECT_THAT(ApplyServerConfigYaml("pod_id: [a, b]\n", c),
              StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
  EXPECT_THAT(ApplyServerConfigYaml("- a\n- b\n", c), StatusIs(StatusCode::kInvalidArgument, "server.config_bad_yaml"));
  EXPECT_THAT(ApplyServerConfigYaml("a: [", c), StatusIs(StatusCode::kInvalidArgument, "server.config_bad_yaml"));
  EXPECT_THAT(ApplyServerConfigYaml("pod_id: a\npod_id: b\n", c), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ApplyServerConfigYaml("", c), IsOk());
}

TEST(ServerConfig, ValidateRequiresTheEssentials) {
  EXPECT_THAT(ValidateServerConfig(Valid()), IsOk());
  ServerConfig c = Valid();
  c.data_dir.clear();
  EXPECT_THAT(ValidateServerConfig(c), StatusIs(StatusCode::kInvalidArgument, "server.config_missing"));
  c = Valid();
  c.pod_id = "bad:id";
  EXPECT_THAT(ValidateServerConfig(c), StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
  c = Valid();
  c.provider = "tdx";
  EXPECT_THAT(ValidateServerConfig(c), StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
  c = Valid();
  c.host_data = "abcd";
  EXPECT_THAT(ValidateServerConfig(c), StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
  c = Valid();
  c.server.listen = "nope";
  EXPECT_THAT(ValidateServerConfig(c), StatusIs(StatusCode::kInvalidArgument, "server.bad_endpoint"));
  c = Valid();
  c.server.listen.clear();
  c.server.http_listen.clear();
  EXPECT_THAT(ValidateServerConfig(c), StatusIs(StatusCode::kInvalidArgument, "server.config_missing"));
  c = Valid();
  c.log_level = "loud";
  EXPECT_THAT(ValidateServerConfig(c), StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
}

TEST(ServerConfig, ParsesTheProbeQuotaEvidenceFileAndBudgetKeys) {
  ServerConfig c;
  ASSERT_THAT(ApplyServerConfigYaml(R"(
probe_listen: "127.0.0.1:7081"
crl_file: ark.crl
vek_file: vcek.pem
max_total_write_queue_bytes: 67108864
user_quota_bytes: 1048576
user_quota_records: 10
)",
                                    c),
              IsOk());
  EXPECT_EQ(c.server.probe_listen, "127.0.0.1:7081");
  EXPECT_EQ(c.crl_file, "ark.crl");
  EXPECT_EQ(c.vek_file, "vcek.pem");
  EXPECT_EQ(c.server.max_total_write_queue_bytes, 67108864u);
  EXPECT_EQ(c.quota.max_bytes, 1048576u);
  EXPECT_EQ(c.quota.max_records, 10u);
  // Defaults.
  const ServerConfig d;
  EXPECT_EQ(d.quota.max_bytes, 256u * 1024 * 1024);
  EXPECT_EQ(d.quota.max_records, 100000u);
  EXPECT_TRUE(d.server.probe_listen.empty());
  // 0 = no quota; out-of-range values are refused.
  EXPECT_THAT(ApplyServerConfigYaml("user_quota_bytes: 0\nuser_quota_records: 0\n", c), IsOk());
  EXPECT_EQ(c.quota.max_bytes, 0u);
  EXPECT_THAT(ApplyServerConfigYaml("user_quota_records: -1\n", c),
              StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
  EXPECT_THAT(ApplyServerConfigYaml("max_total_write_queue_bytes: 1024\n", c),
              StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
  ServerConfig v = Valid();
  v.server.probe_listen = "nope";
  EXPECT_THAT(ValidateServerConfig(v), StatusIs(StatusCode::kInvalidArgument, "server.bad_endpoint"));
}

// Finding: --io-threads / --worker-threads reach ValidateServerConfig
// without the YAML keys' 1..256 bound.
TEST(ServerConfig, ValidateBoundsThreadCountsAndQueueLimitsLikeTheYamlKeys) {
  for (int bad : {0, -1, 257, 100000}) {
    ServerConfig c = Valid();
    c.server.io_threads = bad;
    EXPECT_THAT(ValidateServerConfig(c), StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value")) << bad;
    c = Valid();
    c.server.worker_threads = bad;
    EXPECT_THAT(ValidateServerConfig(c), StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value")) << bad;
  }
  ServerConfig c = Valid();
  c.server.io_threads = 256;
  c.server.worker_threads = 1;
  EXPECT_THAT(ValidateServerConfig(c), IsOk());
  EXPECT_THAT(ApplyServerConfigYaml("io_threads: 257\n", c),
              StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
  c = Valid();
  c.server.max_write_queue_bytes = 1000;
  EXPECT_THAT(ValidateServerConfig(c), StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
  c = Valid();
  c.server.max_total_write_queue_bytes = kMinTotalWriteQueueBytes - 1;
  EXPECT_THAT(ValidateServerConfig(c), StatusIs(StatusCode::kInvalidArgument, "server.config_bad_value"));
}

TEST(ServerConfig, LoadKeepsTheFileBytesForTheMeasurement) {
  testing::TempDir dir;
  const std::string path = dir.File("server.yaml");
  const std::string text = "pod_id: demo\nlog_level: warn\n";
  std::ofstream(path) << text;
  Result<ServerConfig> c = LoadServerConfigFile(path);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->pod_id, "demo");
  EXPECT_EQ(c->config_bytes, ToBytes(text));
  EXPECT_THAT(LoadServerConfigFile(dir.File("missing.yaml")), StatusIs(StatusCode::kUnavailable, "server.io"));
}

TEST(ServerConfig, ParseHostPort) {
  EXPECT_EQ(ParseHostPort("127.0.0.1:80")->port, 80);
  EXPECT_EQ(ParseHostPort("[::1]:0")->host, "::1");
  EXPECT_EQ(ParseHostPort("localhost:65535")->port, 65535);
  for (const char* bad : {"", ":80", "host", "host:", "host:65536", "host:8x", "::1:80", "[::1]80"}) {
    EXPECT_THAT(ParseHostPort(bad), StatusIs(StatusCode::kInvalidArgument, "server.bad_endpoint")) << bad;
  }
}

}  // namespace
}  // namespace perimeter::server
