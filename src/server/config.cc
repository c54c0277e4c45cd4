#include "perimeter/server/config.h"

#include <charconv>
#include <cmath>
#include <exception>
#include <functional>
#include <map>
#include <set>

#include <yaml-cpp/yaml.h>

#include "perimeter/keys/identifiers.h"
#include "perimeter/server/evidence_source.h"
#include "perimeter/server/log.h"

namespace perimeter::server {
namespace {

constexpr std::size_t kMaxConfigFileSize = 1 << 20;

Status BadValue(std::string_view key, std::string_view what) {
  return InvalidArgumentError("server.config_bad_value",
                              "server: config key '" + std::string(key) + "': " + std::string(what));
}

// yaml-cpp reports type errors as exceptions; they stop in these helpers.
Result<std::string> ScalarString(const YAML::Node& n, std::string_view key) {
  if (!n.IsScalar()) return BadValue(key, "must be a string");
  return n.Scalar();
}

Result<double> ScalarNumber(const YAML::Node& n, std::string_view key) {
  if (!n.IsScalar()) return BadValue(key, "must be a number");
  const std::string& s = n.Scalar();
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) {
    return BadValue(key, "must be a number");
  }
  return v;
}

Result<std::chrono::milliseconds> Seconds(const YAML::Node& n, std::string_view key, bool allow_zero) {
  PERIMETER_ASSIGN_OR_RETURN(double v, ScalarNumber(n, key));
  if (v < 0 || (!allow_zero && v == 0) || v > 365.0 * 86400) return BadValue(key, "out of range");
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(v * 1000)));
}

Result<std::uint64_t> Count(const YAML::Node& n, std::string_view key, std::uint64_t min, std::uint64_t max) {
  PERIMETER_ASSIGN_OR_RETURN(double v, ScalarNumber(n, key));
  if (v != std::floor(v) || v < static_cast<double>(min) || v > static_cast<double>(max)) {
    return BadValue(key, "must be an integer in " + std::to_string(min) + ".." + std::to_string(max));
  }
  return static_cast<std::uint64_t>(v);
}

using Setter = std::function<Status(const YAML::Node&, ServerConfig&)>;

Setter String(std::string ServerConfig::*field, std::string_view key) {
  return [field, key](const YAML::Node& n, ServerConfig& c) -> Status {
    PERIMETER_ASSIGN_OR_RETURN(c.*field, ScalarString(n, key));
    return Status::Ok();
  };
}

const std::map<std::string, Setter, std::less<>>& Setters() {
  static const auto* setters = new std::map<std::string, Setter, std::less<>>{
      {"listen",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.server.listen, ScalarString(n, "listen"));
         return Status::Ok();
       }},
      {"http_listen",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.server.http_listen, ScalarString(n, "http_listen"));
         return Status::Ok();
       }},
      {"probe_listen",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.server.probe_listen, ScalarString(n, "probe_listen"));
         return Status::Ok();
       }},
      {"provider", String(&ServerConfig::provider, "provider")},
      {"crl_file", String(&ServerConfig::crl_file, "crl_file")},
      {"vek_file", String(&ServerConfig::vek_file, "vek_file")},
      {"sim_platform", String(&ServerConfig::sim_platform, "sim_platform")},
      {"sim_workload", String(&ServerConfig::sim_workload, "sim_workload")},
      {"host_data", String(&ServerConfig::host_data, "host_data")},
      {"data_dir", String(&ServerConfig::data_dir, "data_dir")},
      {"master_secret", String(&ServerConfig::master_secret, "master_secret")},
      {"pod_id", String(&ServerConfig::pod_id, "pod_id")},
      {"ready_file", String(&ServerConfig::ready_file, "ready_file")},
      {"log_level", String(&ServerConfig::log_level, "log_level")},
      {"evidence_refresh",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.server.evidence_refresh, Seconds(n, "evidence_refresh", true));
         return Status::Ok();
       }},
      {"handshake_timeout",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.server.session.handshake_timeout, Seconds(n, "handshake_timeout", false));
         return Status::Ok();
       }},
      {"idle_timeout",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.server.session.idle_timeout, Seconds(n, "idle_timeout", false));
         return Status::Ok();
       }},
      {"chunk_timeout",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.server.session.chunk_timeout, Seconds(n, "chunk_timeout", false));
         return Status::Ok();
       }},
      {"write_timeout",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.server.write_timeout, Seconds(n, "write_timeout", false));
         return Status::Ok();
       }},
      {"drain_timeout",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.server.drain_timeout, Seconds(n, "drain_timeout", true));
         return Status::Ok();
       }},
      {"max_connections",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.server.max_connections, Count(n, "max_connections", 1, 1'000'000));
         return Status::Ok();
       }},
      {"io_threads",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(std::uint64_t v, Count(n, "io_threads", 1, kMaxThreads));
         c.server.io_threads = static_cast<int>(v);
         return Status::Ok();
       }},
      {"worker_threads",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(std::uint64_t v, Count(n, "worker_threads", 1, kMaxThreads));
         c.server.worker_threads = static_cast<int>(v);
         return Status::Ok();
       }},
      {"max_http_header_bytes",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.server.max_http_header_bytes,
                                    Count(n, "max_http_header_bytes", 512, 1 << 20));
         return Status::Ok();
       }},
      {"max_write_queue_bytes",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.server.max_write_queue_bytes,
                                    Count(n, "max_write_queue_bytes", 65536, std::uint64_t{1} << 32));
         return Status::Ok();
       }},
      {"max_total_write_queue_bytes",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(
             c.server.max_total_write_queue_bytes,
             Count(n, "max_total_write_queue_bytes", kMinTotalWriteQueueBytes, std::uint64_t{1} << 40));
         return Status::Ok();
       }},
      {"user_quota_bytes",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.quota.max_bytes, Count(n, "user_quota_bytes", 0, std::uint64_t{1} << 50));
         return Status::Ok();
       }},
      {"user_quota_records",
       [](const YAML::Node& n, ServerConfig& c) -> Status {
         PERIMETER_ASSIGN_OR_RETURN(c.quota.max_records,
                                    Count(n, "user_quota_records", 0, std::uint64_t{1} << 40));
         return Status::Ok();
       }},
  };
  return *setters;
}

Status ApplyNode(const YAML::Node& root, ServerConfig& config) {
  if (root.IsNull()) return Status::Ok();  // an empty file
  if (!root.IsMap()) return InvalidArgumentError("server.config_bad_yaml", "server: config must be a mapping");
  std::set<std::string> seen;
  for (const auto& kv : root) {
    if (!kv.first.IsScalar()) return InvalidArgumentError("server.config_bad_yaml", "server: non-scalar key");
    const std::string key = kv.first.Scalar();
    auto it = Setters().find(key);
    if (it == Setters().end()) {
      return InvalidArgumentError("server.config_unknown_key", "server: unknown config key '" + key + "'");
    }
    if (!seen.insert(key).second) {
      return InvalidArgumentError("server.config_bad_yaml", "server: config key '" + key + "' given twice");
    }
    PERIMETER_RETURN_IF_ERROR(it->second(kv.second, config));
  }
  return Status::Ok();
}

}  // namespace

Status ApplyServerConfigYaml(std::string_view yaml, ServerConfig& config) {
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    return ApplyNode(root, config);
  } catch (const std::exception& e) {
    return InvalidArgumentError("server.config_bad_yaml", std::string("server: config is not valid YAML: ") + e.what());
  }
}

Result<ServerConfig> LoadServerConfigFile(const std::string& path) {
  PERIMETER_ASSIGN_OR_RETURN(Bytes bytes, ReadWholeFile(path, kMaxConfigFileSize));
  ServerConfig config;
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  PERIMETER_RETURN_IF_ERROR(ApplyServerConfigYaml(text, config));
  config.config_bytes = std::move(bytes);
  return config;
}

Result<HostPort> ParseHostPort(std::string_view text) {
  const Status bad = InvalidArgumentError("server.bad_endpoint",
                                          "server: endpoint '" + std::string(text) + "' is not HOST:PORT");
  HostPort hp;
  std::string_view port;
  if (text.starts_with("[")) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return bad;
    hp.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.substr(0, colon).find(':') != std::string_view::npos) return bad;
    hp.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  unsigned v = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (hp.host.empty() || port.empty() || ec != std::errc() || end != port.data() + port.size() || v > 65535) {
    return bad;
  }
  hp.port = static_cast<std::uint16_t>(v);
  return hp;
}

Status ValidateServerConfig(const ServerConfig& c) {
  auto missing = [](std::string_view what) {
    return InvalidArgumentError("server.config_missing", "server: " + std::string(what) + " is required");
  };
  if (c.server.listen.empty() && c.server.http_listen.empty()) return missing("listen or http_listen");
  if (!c.server.listen.empty()) PERIMETER_RETURN_IF_ERROR(ParseHostPort(c.server.listen));
  if (!c.server.http_listen.empty()) PERIMETER_RETURN_IF_ERROR(ParseHostPort(c.server.http_listen));
  if (!c.server.probe_listen.empty()) PERIMETER_RETURN_IF_ERROR(ParseHostPort(c.server.probe_listen));
  if (c.data_dir.empty()) return missing("data_dir");
  if (c.master_secret.empty()) return missing("master_secret");
  if (c.pod_id.empty()) return missing("pod_id");
  if (Status s = keys::ValidatePodId(c.pod_id); !s.ok()) return BadValue("pod_id", s.message());
  if (c.provider != "simulated" && c.provider != "sev-guest" && c.provider != "configfs-tsm") {
    return BadValue("provider", "must be simulated, sev-guest or configfs-tsm");
  }
  if (c.provider == "simulated" && c.sim_platform.empty()) return missing("sim_platform (provider simulated)");
  if (!c.host_data.empty()) {
    Result<Bytes> hd = HexDecode(c.host_data);
    if (!hd.has_value() || hd->size() != 32) return BadValue("host_data", "must be 64 hex digits");
    if (c.provider != "simulated") return BadValue("host_data", "only the simulated provider takes it");
  }
  if (c.server.max_connections == 0) return BadValue("max_connections", "must be positive");
  if (c.server.session.handshake_timeout.count() <= 0 || c.server.session.idle_timeout.count() <= 0 ||
      c.server.session.chunk_timeout.count() <= 0 || c.server.write_timeout.count() <= 0) {
    return BadValue("timeouts", "must be positive");
  }
  // The same bounds as the YAML keys: flags reach here without them.
  if (c.server.io_threads < 1 || c.server.io_threads > kMaxThreads) {
    return BadValue("io_threads", "must be 1.." + std::to_string(kMaxThreads));
  }
  if (c.server.worker_threads < 1 || c.server.worker_threads > kMaxThreads) {
    return BadValue("worker_threads", "must be 1.." + std::to_string(kMaxThreads));
  }
  if (c.server.max_write_queue_bytes < 65536) return BadValue("max_write_queue_bytes", "must be at least 65536");
  if (c.server.max_total_write_queue_bytes < kMinTotalWriteQueueBytes) {
    return BadValue("max_total_write_queue_bytes", "must be at least " + std::to_string(kMinTotalWriteQueueBytes));
  }
  if (Result<LogLevel> l = ParseLogLevel(c.log_level); !l.has_value()) return BadValue("log_level", l.error().message());
  return Status::Ok();
}

}  // namespace perimeter::server
