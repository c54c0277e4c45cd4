// ServerConfig: everything `perimeter serve` needs, from a YAML file and/or
// command-line flags (flags override the file, field by field).
//
// The YAML file is a mapping with exactly these optional keys (durations in
// seconds, integer or decimal):
//
//   listen: "127.0.0.1:7443"          # raw TCP Noise listener; "" disables it
//   http_listen: "127.0.0.1:7080"     # HTTP: /v1/noise (WebSocket), /healthz,
//                                     # /readyz, /metrics; "" disables it
//   provider: simulated               # simulated | sev-guest | configfs-tsm
//   sim_platform: sim/                # platform directory (perimeter sim init)
//   sim_workload: /proc/self/exe      # the bytes the simulated measurement covers
//   host_data: "<64 hex>"             # simulated HOST_DATA (default zeros)
//   data_dir: data/                   # the record store: data_dir/records.sqlite
//   master_secret: master.key         # pod master secret, generation 1
//   pod_id: demo-pod
//   evidence_refresh: 3600            # 0 = never refresh
//   max_connections: 1024
//   handshake_timeout: 10
//   idle_timeout: 300
//   chunk_timeout: 60
//   write_timeout: 60
//   drain_timeout: 30
//   io_threads: 2
//   worker_threads: 2
//   max_http_header_bytes: 8192
//   max_write_queue_bytes: 4194304
//   ready_file: /run/perimeter/ready.json
//   log_level: info                   # debug | info | warn | error | off
//
// Strict, fail closed: an unknown key, a value of the wrong type or out of
// range, or a document that is not a mapping is an error. Relative paths are
// used as given (relative to the working directory).
//
// The measured configuration (simulated platform): the file's bytes as read
// (`config_bytes`), so changing the configuration changes the measurement.
//
// Errors: kInvalidArgument "server.config_bad_yaml", "server.config_unknown_key",
// "server.config_bad_value"; kUnavailable "server.io".
//
// Plain data; thread-compatible.
#ifndef PERIMETER_SERVER_CONFIG_H_
#define PERIMETER_SERVER_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"
#include "perimeter/base/status.h"
#include "perimeter/server/connection.h"

namespace perimeter::server {

// Runtime limits of the network server (server.h).
struct ServerOptions {
  std::string listen = "127.0.0.1:7443";
  std::string http_listen = "127.0.0.1:7080";
  ConnectionLimits session;  // handshake, idle and chunk timeouts
  // Open connections (TCP, WebSocket and plain HTTP together); an accepted
  // connection beyond this is closed at once and counted.
  std::size_t max_connections = 1024;
  // A connection whose write does not complete in this time is dropped.
  std::chrono::milliseconds write_timeout{60'000};
  // How long Drain() waits for sessions to finish before closing the rest.
  std::chrono::milliseconds drain_timeout{30'000};
  // After a CLOSE record: how long to wait for the peer's FIN before
  // dropping the TCP connection.
  std::chrono::milliseconds linger_timeout{2'000};
  // 0 = never.
  std::chrono::milliseconds evidence_refresh{3'600'000};
  // HTTP request head (request line and headers); bodies are refused.
  std::size_t max_http_header_bytes = 8192;
  // Reading from a connection pauses while more than this is queued to send.
  std::size_t max_write_queue_bytes = 4 * 1024 * 1024;
  int io_threads = 2;
  int worker_threads = 2;
};

struct ServerConfig {
  ServerOptions server;
  std::string provider = "simulated";
  std::string sim_platform;
  std::string sim_workload;  // empty: /proc/self/exe
  std::string host_data;     // hex; empty: zeros
  std::string data_dir;
  std::string master_secret;
  std::string pod_id;
  std::string ready_file;
  std::string log_level = "info";
  // The configuration file's bytes (empty when there is none).
  Bytes config_bytes;
};

// Parses the YAML text into `config` (keys present override its fields).
Status ApplyServerConfigYaml(std::string_view yaml, ServerConfig& config);

// Reads `path` (at most 1 MiB), applies it to defaults and keeps its bytes.
Result<ServerConfig> LoadServerConfigFile(const std::string& path);

// Checks the fields that must be set and consistent before serving:
// data_dir, master_secret, pod_id (keys::ValidatePodId), provider, the
// simulated platform dir for "simulated", host_data (64 hex), endpoints
// ("HOST:PORT" or "[v6]:PORT", at least one listener), positive timeouts
// and limits. Errors: kInvalidArgument "server.config_bad_value",
// "server.config_missing".
Status ValidateServerConfig(const ServerConfig& config);

// Splits "HOST:PORT" / "[V6]:PORT". Errors: kInvalidArgument
// "server.bad_endpoint".
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
Result<HostPort> ParseHostPort(std::string_view text);

}  // namespace perimeter::server

#endif  // PERIMETER_SERVER_CONFIG_H_
