// client_test_peer WORKDIR: the in-test responder as a process, for the C
// API test (run_c_api_test.sh). Writes WORKDIR/trust.yaml (trusting its
// simulated platform's ARK and measurement), starts a TCP and a WebSocket
// responder on 127.0.0.1, writes "TCP_ENDPOINT WS_ENDPOINT AT_UNIX" to
// WORKDIR/ready, and serves until it is terminated. INSECURE, tests only.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "client/testing/test_server.h"

int main(int argc, char** argv) {
  namespace t = perimeter::client::testing;
  if (argc != 2) {
    std::fprintf(stderr, "usage: client_test_peer WORKDIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  auto trust = t::WriteTrustFile(dir, *t::SharedPlatform(), t::DefaultPolicyYaml());
  if (!trust.has_value()) {
    std::fprintf(stderr, "client_test_peer: %s\n", trust.error().ToString().c_str());
    return 1;
  }
  t::TestServer::Options tcp_options;
  t::TestServer::Options ws_options;
  ws_options.websocket = true;
  auto tcp = t::TestServer::Start(tcp_options);
  auto ws = t::TestServer::Start(ws_options);
  if (!tcp.has_value() || !ws.has_value()) {
    std::fprintf(stderr, "client_test_peer: cannot listen\n");
    return 1;
  }
  {
    std::ofstream ready(dir + "/ready.tmp");
    ready << (*tcp)->endpoint() << " " << (*ws)->endpoint() << " " << t::kAt << "\n";
  }
  std::rename((dir + "/ready.tmp").c_str(), (dir + "/ready").c_str());
  while (true) ::pause();
}
