#include "perimeter/server/metrics.h"

#include <cmath>
#include <cstdio>
#include <utility>

namespace perimeter::server {
namespace {

constexpr std::string_view kHandshakes = "perimeter_handshakes_total";
constexpr std::string_view kHandshakeFailures = "perimeter_handshake_failures_total";
constexpr std::string_view kSessionsActive = "perimeter_sessions_active";
constexpr std::string_view kConnectionsActive = "perimeter_connections_active";
constexpr std::string_view kConnectionsTotal = "perimeter_connections_total";
constexpr std::string_view kConnectionsRejected = "perimeter_connections_rejected_total";
constexpr std::string_view kOperations = "perimeter_operations_total";
constexpr std::string_view kSessionCloses = "perimeter_session_closes_total";
constexpr std::string_view kEvidenceRefreshes = "perimeter_evidence_refreshes_total";
constexpr std::string_view kReady = "perimeter_ready";
constexpr std::string_view kWriteQueueBytes = "perimeter_write_queue_bytes";

std::string FormatValue(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v));
    return buf;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

}  // namespace

std::string PrometheusLabel(std::string_view key, std::string_view value) {
  std::string out(key);
  out += "=\"";
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

Metrics::Metrics() {
  auto add = [this](std::string_view name, std::string_view type, std::string_view help,
                    std::vector<std::string> initial) {
    Family f{std::string(name), std::string(help), std::string(type), {}};
    for (std::string& labels : initial) f.series.emplace(std::move(labels), 0.0);
    families_.push_back(std::move(f));
  };
  add(kHandshakes, "counter", "Completed Noise Pipes handshakes, by pattern.",
      {PrometheusLabel("pattern", "XX"), PrometheusLabel("pattern", "IK"),
       PrometheusLabel("pattern", "XXfallback")});
  add(kHandshakeFailures, "counter", "Failed handshakes, by stable reason.", {});
  add(kSessionsActive, "gauge", "Sessions past the handshake that are open.", {""});
  add(kConnectionsActive, "gauge", "Open connections, by transport.",
      {PrometheusLabel("transport", "tcp"), PrometheusLabel("transport", "websocket"),
       PrometheusLabel("transport", "http"), PrometheusLabel("transport", "probe")});
  add(kConnectionsTotal, "counter", "Accepted connections, by transport.",
      {PrometheusLabel("transport", "tcp"), PrometheusLabel("transport", "websocket"),
       PrometheusLabel("transport", "http"), PrometheusLabel("transport", "probe")});
  add(kConnectionsRejected, "counter", "Connections refused, by reason.",
      {PrometheusLabel("reason", "limit"), PrometheusLabel("reason", "probe_limit")});
  add(kOperations, "counter", "Executed session requests, by operation and status code.", {});
  add(kSessionCloses, "counter", "CLOSE records sent, by reason.", {});
  add(kEvidenceRefreshes, "counter", "Evidence refreshes, by result.",
      {PrometheusLabel("result", "ok"), PrometheusLabel("result", "error")});
  add(kReady, "gauge", "1 when the server is ready (evidence and store available, not draining).",
      {""});
  add(kWriteQueueBytes, "gauge",
      "Response bytes waiting to be sent on all connections, plus the room reserved for the responses of "
      "requests being executed.",
      {""});
}

Metrics::Family* Metrics::Find(std::string_view family) {
  for (Family& f : families_) {
    if (f.name == family) return &f;
  }
  return nullptr;
}

void Metrics::Add(std::string_view family, std::string labels, double delta) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* f = Find(family);
  if (f == nullptr) return;
  f->series[std::move(labels)] += delta;
}

void Metrics::Set(std::string_view family, std::string labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* f = Find(family);
  if (f == nullptr) return;
  f->series[std::move(labels)] = value;
}

void Metrics::HandshakeCompleted(std::string_view pattern) {
  Add(kHandshakes, PrometheusLabel("pattern", pattern), 1);
}
void Metrics::HandshakeFailed(std::string_view reason) {
  Add(kHandshakeFailures, PrometheusLabel("reason", reason), 1);
}
void Metrics::SessionOpened() { Add(kSessionsActive, "", 1); }
void Metrics::SessionClosed() { Add(kSessionsActive, "", -1); }
void Metrics::ConnectionOpened(std::string_view transport) {
  Add(kConnectionsActive, PrometheusLabel("transport", transport), 1);
  Add(kConnectionsTotal, PrometheusLabel("transport", transport), 1);
}
void Metrics::ConnectionClosed(std::string_view transport) {
  Add(kConnectionsActive, PrometheusLabel("transport", transport), -1);
}
void Metrics::ConnectionRejected(std::string_view reason) {
  Add(kConnectionsRejected, PrometheusLabel("reason", reason), 1);
}
void Metrics::Operation(std::string_view op, std::string_view code) {
  Add(kOperations, PrometheusLabel("operation", op) + "," + PrometheusLabel("code", code), 1);
}
void Metrics::SessionCloseSent(std::string_view reason) {
  Add(kSessionCloses, PrometheusLabel("reason", reason), 1);
}
void Metrics::EvidenceRefreshed(bool ok) {
  Add(kEvidenceRefreshes, PrometheusLabel("result", ok ? "ok" : "error"), 1);
}
void Metrics::SetReady(bool ready) { Set(kReady, "", ready ? 1 : 0); }
void Metrics::SetWriteQueueBytes(std::size_t bytes) { Set(kWriteQueueBytes, "", static_cast<double>(bytes)); }

double Metrics::Value(std::string_view family, std::string_view labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Family& f : families_) {
    if (f.name != family) continue;
    auto it = f.series.find(labels);
    return it == f.series.end() ? 0.0 : it->second;
  }
  return 0.0;
}

std::string Metrics::RenderPrometheus() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const Family& f : families_) {
    // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict
    // for `"{" + labels + "}"` (a temporary built from a literal).
    out.append("# HELP ").append(f.name).append(" ").append(f.help).append("\n");
    out.append("# TYPE ").append(f.name).append(" ").append(f.type).append("\n");
    for (const auto& [labels, value] : f.series) {
      out.append(f.name);
      if (!labels.empty()) out.append("{").append(labels).append("}");
      out.append(" ").append(FormatValue(value)).append("\n");
    }
  }
  return out;
}

}  // namespace perimeter::server
