// ServerConfig: everything `perimeter serve` needs, from a YAML file and/or
// command-line flags (flags override the file, field by field).
//
// The YAML file is a mapping with exactly these optional keys (durations in
// seconds, integer or decimal):
//
//   listen: "127.0.0.1:7443"          # raw TCP Noise listener; "" disables it
//   http_listen: "127.0.0.1:7080"     # HTTP: /v1/noise (WebSocket), /healthz,
//                                     # /readyz, /metrics; "" disables it
//   probe_listen: ""                  # optional HTTP listener for /healthz, /readyz
//                                     # and /metrics only (no WebSocket), with its
//                                     # own connection limit outside
//                                     # max_connections; "" (default) disables it
//   provider: simulated               # simulated | sev-guest | configfs-tsm
//   sim_platform: sim/                # platform directory (perimeter sim init)
//   sim_workload: /proc/self/exe      # the bytes the simulated measurement covers
//   host_data: "<64 hex>"             # simulated HOST_DATA (default zeros)
//   crl_file: ark-crl.der             # the ARK's CRL (DER or PEM) to put in the
//                                     # evidence; replaces the provider's (the
//                                     # simulated platform's) CRL; "" = none
//   vek_file: vcek.pem                # VCEK or VLEK certificate (DER or PEM) for
//                                     # the evidence when the host's certificate
//                                     # table has none; "" = none
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
//   io_threads: 2                     # 1..256
//   worker_threads: 2                 # 1..256
//   max_http_header_bytes: 8192
//   max_write_queue_bytes: 4194304    # per connection, see ServerOptions
//   max_total_write_queue_bytes: 268435456   # all connections together
//   user_quota_bytes: 268435456       # per user: sum of value sizes; 0 = no limit
//   user_quota_records: 100000        # per user: number of records; 0 = no limit
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
#include "perimeter/server/workload_service.h"

namespace perimeter::server {

// Open connections the probe listener (ServerOptions::probe_listen) admits at
// once, apart from max_connections.
inline constexpr std::size_t kMaxProbeConnections = 16;

// Runtime limits of the network server (server.h).
struct ServerOptions {
  std::string listen = "127.0.0.1:7443";
  std::string http_listen = "127.0.0.1:7080";
  // Optional probe listener: plain HTTP, /healthz, /readyz and /metrics only,
  // with its own limit of kMaxProbeConnections open connections (not counted
  // in max_connections), so that a flood on the public listeners cannot make
  // the probes fail. "" disables it.
  std::string probe_listen;
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
  // Per connection: reading pauses while more than this is queued to send,
  // and a request is not started while its largest possible response would
  // not fit beside what is queued (unless nothing is queued).
  std::size_t max_write_queue_bytes = 4 * 1024 * 1024;
  // All connections together: a request is not started while the bytes
  // queued to send plus the room reserved for responses being produced,
  // plus its own largest possible response, would exceed this; it starts
  // once other connections' writes drain (or they are dropped by
  // write_timeout).
  std::size_t max_total_write_queue_bytes = 256 * 1024 * 1024;
  int io_threads = 2;
  int worker_threads = 2;
};

// The smallest server-wide write budget: room for two of the largest
// responses.
inline constexpr std::size_t kMinTotalWriteQueueBytes = 4 * 1024 * 1024;
// Thread counts (io_threads, worker_threads) are 1..kMaxThreads.
inline constexpr int kMaxThreads = 256;

struct ServerConfig {
  ServerOptions server;
  std::string provider = "simulated";
  std::string sim_platform;
  std::string sim_workload;  // empty: /proc/self/exe
  std::string host_data;     // hex; empty: zeros
  std::string crl_file;      // empty: none (AddEvidenceFiles)
  std::string vek_file;      // empty: none (AddEvidenceFiles)
  UserQuota quota;
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
// ("HOST:PORT" or "[v6]:PORT", at least one of listen and http_listen),
// positive timeouts and limits, io_threads and worker_threads in 1..256,
// max_write_queue_bytes at least 65,536 and max_total_write_queue_bytes at
// least kMinTotalWriteQueueBytes. Errors: kInvalidArgument "server.config_bad_value",
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
