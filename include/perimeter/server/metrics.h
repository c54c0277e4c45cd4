// Metrics: the workload server's counters and gauges, rendered in the
// Prometheus text exposition format, version 0.0.4 (served on GET /metrics).
//
// Every family is registered up front with a fixed name and help text; label
// values are stable, low-cardinality strings chosen by the server (pattern
// names, operation names, status code names, stable error reasons), never
// user data: no keys, no user_ids, no peer addresses.
//
//   perimeter_handshakes_total{pattern}            completed handshakes (XX, IK, XXfallback)
//   perimeter_handshake_failures_total{reason}     failed handshakes by stable reason
//                                                  (noise.*, "server.handshake_timeout", ...)
//   perimeter_sessions_active                      sessions past the handshake, now open
//   perimeter_connections_active{transport}        open connections (tcp, websocket, http, probe)
//   perimeter_connections_total{transport}         accepted connections
//   perimeter_connections_rejected_total{reason}   connections refused ("limit": max_connections;
//                                                  "probe_limit": the probe listener's own limit)
//   perimeter_operations_total{operation,code}     executed requests by operation and
//                                                  status code name
//   perimeter_session_closes_total{reason}         CLOSE records sent, by reason
//   perimeter_evidence_refreshes_total{result}     evidence refreshes ("ok", "error")
//   perimeter_ready                                1 when /readyz answers 200
//   perimeter_write_queue_bytes                    response bytes waiting to be sent on all
//                                                  connections plus the room reserved for
//                                                  responses being produced (set when scraped)
//
// Thread-safe: every method may be called from any thread.
#ifndef PERIMETER_SERVER_METRICS_H_
#define PERIMETER_SERVER_METRICS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace perimeter::server {

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void HandshakeCompleted(std::string_view pattern);
  void HandshakeFailed(std::string_view reason);
  void SessionOpened();
  void SessionClosed();
  void ConnectionOpened(std::string_view transport);
  void ConnectionClosed(std::string_view transport);
  void ConnectionRejected(std::string_view reason);
  void Operation(std::string_view op, std::string_view code);
  void SessionCloseSent(std::string_view reason);
  void EvidenceRefreshed(bool ok);
  void SetReady(bool ready);
  void SetWriteQueueBytes(std::size_t bytes);

  // The value of one series (0 if it was never touched), for tests.
  // `labels` is the rendered label set, e.g. `pattern="XX"`, or "" for none.
  double Value(std::string_view family, std::string_view labels) const;

  // The whole exposition, families in registration order, series sorted by
  // their label text. Ends with a newline.
  std::string RenderPrometheus() const;

 private:
  struct Family {
    std::string name;
    std::string help;
    std::string type;  // "counter" or "gauge"
    std::map<std::string, double, std::less<>> series;  // rendered labels -> value
  };
  void Add(std::string_view family, std::string labels, double delta);
  void Set(std::string_view family, std::string labels, double value);
  Family* Find(std::string_view family);  // REQUIRES: mu_ held

  mutable std::mutex mu_;
  std::vector<Family> families_;  // GUARDED_BY(mu_); fixed set, built by the constructor
};

// `key="value"` with the value escaped as the exposition format requires
// (backslash, double quote and newline).
std::string PrometheusLabel(std::string_view key, std::string_view value);

}  // namespace perimeter::server

#endif  // PERIMETER_SERVER_METRICS_H_
