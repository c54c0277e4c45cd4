// Server: the workload server's network side on Boost.Asio/Beast.
//
// Listeners (docs/wire-protocol.md section 2):
//   * raw TCP (`ServerOptions::listen`): frames are a 2-byte big-endian
//     length and that many bytes; a zero length ends the connection. Exactly
//     one frame is read at a time (header, then body): a connection never
//     buffers more than one frame ahead.
//   * HTTP/1.1 (`ServerOptions::http_listen`):
//       GET /v1/noise with a WebSocket upgrade: the client must offer the
//         subprotocol `secure-perimeter.v1` (else 400, no upgrade); the server
//         selects exactly it and never negotiates an extension
//         (permessage-deflate is off). One binary message = one frame body;
//         a text message, an empty one or one over 65,535 bytes ends the
//         connection (1008; Beast closes an oversized one with 1009 itself).
//         A session that ends with a CLOSE record is closed with 1000.
//       GET /healthz  200 while the process serves.
//       GET /readyz   200 only when the evidence and the store are ready and
//                     the server is not draining; else 503.
//       GET /metrics  Prometheus text format 0.0.4 (metrics.h).
//     Anything else: 404 / 405; request heads over max_http_header_bytes and
//     requests with a body are refused; one request per connection.
//   * probe HTTP (`ServerOptions::probe_listen`, optional): /healthz, /readyz
//     and /metrics as above, no WebSocket (404), at most
//     kMaxProbeConnections open at once (excess counted as rejected
//     "probe_limit"), NOT counted in max_connections: a flood of the public
//     listeners cannot make the kubelet's probes fail.
//
// Limits: max_connections open connections on listen and http_listen
// together (excess ones are closed at accept and counted as rejected
// "limit"); the handshake timeout also bounds reading the HTTP request;
// write_timeout bounds every write (a peer that does not read is dropped).
// Memory held for a peer that does not read its responses is bounded:
//   * reading pauses while more than max_write_queue_bytes wait to be sent,
//     or while 4 complete requests (or about 1 MiB of them)
//     wait to be executed;
//   * a request is executed only when its largest possible response (about
//     1 MiB for get and list, 512 bytes for the others) fits beside what the
//     connection has queued within max_write_queue_bytes (or nothing is
//     queued), and within max_total_write_queue_bytes for all connections
//     together (the room is reserved while the request runs); otherwise it
//     waits for writes to drain. (Handshake replies and CLOSE records are
//     never held back: one frame each, on top of these limits.)
// Connection timeouts: connection.h.
//
// Threads: one io_context run by `io_threads` threads. Each connection's
// state lives on its own strand. Requests run on a pool of `worker_threads`
// (the store blocks on fsync), one at a time per connection so that
// requests on the same key apply in the order received; responses are posted
// back to the connection's strand.
//
// Shutdown: Drain() stops accepting on TCP, makes /readyz answer 503 and
// refuses new WebSocket upgrades, aborts connections still in their
// handshake, and sends CLOSE 9 session.server_shutdown to each session once
// its in-flight requests are answered; it waits up to drain_timeout for all
// connections to end, then Stop()s. After a session's CLOSE record (any
// reason) nothing more of it is executed: requests received but not yet
// started are dropped. Stop() closes everything at once and
// joins the threads. The destructor Stop()s.
//
// Thread-safe: every public method may be called from any thread except
// from the server's own threads (Drain/Stop join them).
#ifndef PERIMETER_SERVER_SERVER_H_
#define PERIMETER_SERVER_SERVER_H_

#include <memory>
#include <string>

#include "perimeter/base/result.h"
#include "perimeter/base/status.h"
#include "perimeter/server/config.h"
#include "perimeter/server/evidence_source.h"
#include "perimeter/server/metrics.h"
#include "perimeter/server/workload_service.h"

namespace perimeter::server {

// The WebSocket path and subprotocol of version 1.
inline constexpr std::string_view kWebSocketPath = "/v1/noise";
inline constexpr std::string_view kWebSocketSubprotocol = "secure-perimeter.v1";

class Server {
 public:
  // Binds the listeners (port 0 = ephemeral), starts the threads and the
  // evidence refresh timer. `evidence`, `service` and `metrics` must be
  // non-null and outlive the server.
  // Errors: kInvalidArgument "server.bad_endpoint", "server.bad_options";
  // kUnavailable "server.bind_failed".
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options, EvidenceSource* evidence,
                                               WorkloadService* service, Metrics* metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound addresses as "HOST:PORT" ("" when that listener is disabled).
  std::string tcp_address() const;
  std::string http_address() const;
  std::string probe_address() const;

  // True when /readyz would answer 200.
  bool ready() const;
  // Open connections on listen and http_listen (probes not included).
  std::size_t connections() const;
  // Bytes queued to send on all connections plus the room reserved for
  // responses being produced (perimeter_write_queue_bytes).
  std::size_t write_queue_bytes() const;

  // Graceful shutdown (see the file comment); blocks until done. Idempotent.
  void Drain();
  // Closes every connection and joins the threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace perimeter::server

#endif  // PERIMETER_SERVER_SERVER_H_
