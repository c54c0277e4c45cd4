#include "perimeter/server/metrics.h"

#include <gtest/gtest.h>

namespace perimeter::server {
namespace {

TEST(Metrics, RendersPrometheusText) {
  Metrics m;
  m.HandshakeCompleted("XX");
  m.HandshakeCompleted("XX");
  m.HandshakeFailed("noise.decrypt_failed");
  m.SessionOpened();
  m.Operation("put", "OK");
  m.ConnectionRejected("limit");
  m.EvidenceRefreshed(true);
  const std::string text = m.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE perimeter_handshakes_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("perimeter_handshakes_total{pattern=\"XX\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("perimeter_handshakes_total{pattern=\"IK\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("perimeter_handshake_failures_total{reason=\"noise.decrypt_failed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE perimeter_sessions_active gauge\nperimeter_sessions_active 1\n"), std::string::npos);
  EXPECT_NE(text.find("perimeter_operations_total{operation=\"put\",code=\"OK\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("perimeter_connections_rejected_total{reason=\"limit\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("perimeter_evidence_refreshes_total{result=\"ok\"} 1\n"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
  m.SessionClosed();
  EXPECT_EQ(m.Value("perimeter_sessions_active", ""), 0);
}

TEST(Metrics, EscapesLabelValues) {
  EXPECT_EQ(PrometheusLabel("k", "a\"b\\c\nd"), "k=\"a\\\"b\\\\c\\nd\"");
}

}  // namespace
}  // namespace perimeter::server
