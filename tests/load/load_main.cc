// perimeter_load: load and capacity measurements of `perimeter serve` on
// 127.0.0.1 (issue 4, points 8 and 9). It starts its own server (the
// simulated platform, a fresh data directory) and runs, in order:
//
//   idle      N sessions opened (handshake + whoami) and held idle; the
//             server's resident memory before and with them gives the
//             memory per idle session;
//   load      N concurrent clients (one thread each, started together), each
//             a full handshake with evidence verification and then `ops`
//             operations (put, get, list, whoami, delete); every error is
//             counted; p50/p99 of the handshakes and of the operations;
//   rate      (--rate-seconds > 0) server handshakes per second over
//             loopback: `rate-clients` threads run XX handshakes back to
//             back (the client side skips evidence verification so that the
//             server is what is measured), with the server's CPU time from
//             /proc in the same run: handshakes per server-CPU-second.
//
// Exit status 0 only if no error happened. All traffic stays on 127.0.0.1,
// and every loop is bounded in count and time.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "perimeter/client/client.h"
#include "perimeter/client/frame_connection.h"
#include "perimeter/crypto/xdh.h"
#include "perimeter/noise/pipes.h"
#include "tests/e2e/server_harness.h"
#include "tests/testing/child_process.h"

namespace perimeter::load {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Args {
  std::string server_binary = PERIMETER_BINARY;
  int clients = 1000;
  int ops = 20;
  int idle_sessions = 1000;
  int rate_seconds = 0;
  int rate_clients = 16;
  int io_threads = 2;
  int worker_threads = 4;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size())));
  return v[i];
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// utime + stime of `pid`, in seconds (fields 14 and 15 of /proc/PID/stat).
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

class Harness {
 public:
  explicit Harness(Args args) : args_(std::move(args)) {}

  int Run() {
    RaiseFileLimit();
    if (!StartServer()) return 2;
    int failures = 0;
    if (args_.idle_sessions > 0) failures += IdlePhase();
    if (args_.clients > 0) failures += LoadPhase();
    if (args_.rate_seconds > 0) failures += RatePhase();
    std::optional<int> code = server_->Stop();
    std::printf("server exit code after SIGTERM: %s\n", code ? std::to_string(*code).c_str() : "timeout");
    if (!code || *code != 0) ++failures;
    std::printf("load: %s\n", failures == 0 ? "no errors" : "FAILED");
    return failures == 0 ? 0 : 1;
  }

 private:
  static void RaiseFileLimit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
      lim.rlim_cur = lim.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &lim);
    }
  }

  bool StartServer() {
    const std::string platform = dir_.File("platform");
    if (Status s = e2e::MakePlatform(platform); !s.ok()) {
      std::fprintf(stderr, "cannot create the simulated platform: %s\n", s.ToString().c_str());
      return false;
    }
    server_ = std::make_unique<e2e::ServerProcess>(dir_.path(), "server", platform);
    Status started = server_->Start(
        args_.server_binary,
        {"--max-connections", std::to_string(args_.clients + args_.idle_sessions + 256), "--io-threads",
         std::to_string(args_.io_threads), "--worker-threads", std::to_string(args_.worker_threads)});
    if (!started.ok()) {
      std::fprintf(stderr, "%s\n", started.ToString().c_str());
      return false;
    }
    tcp_ = server_->tcp();
    Result<std::string> m = e2e::MeasurementOf(args_.server_binary);
    if (!m.has_value()) return false;
    auto trust = e2e::MakeTrust(platform, {*m});
    if (!trust.has_value()) {
      std::fprintf(stderr, "trust: %s\n", trust.status().ToString().c_str());
      return false;
    }
    trust_ = *trust;
    chain_cache_ = std::make_shared<attest::snp::ChainCache>();
    std::printf("server pid %d on %s (io threads %d, worker threads %d)\n", server_->process()->pid(),
                tcp_.c_str(), args_.io_threads, args_.worker_threads);
    return true;
  }

  pid_t ServerPid() { return server_->process()->pid(); }
  std::size_t ServerRss() { return testing::RssBytes(server_->process()->pid()); }

  client::ClientOptions Options() {
    client::ClientOptions o;
    o.trust = trust_;
    Result<crypto::XdhPrivateKey> k = crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519);
    o.identity = std::make_shared<const crypto::XdhPrivateKey>(*std::move(k));
    o.chain_cache = chain_cache_;
    o.connect_timeout = 30s;
    o.handshake_timeout = 60s;
    o.request_timeout = 60s;
    return o;
  }

  int IdlePhase() {
    std::this_thread::sleep_for(200ms);
    const std::size_t before = ServerRss();
    std::vector<std::unique_ptr<client::Session>> sessions;
    int errors = 0;
    for (int i = 0; i < args_.idle_sessions; ++i) {
      client::ConnectResult c = client::Connect(tcp_, Options());
      if (!c.status.ok() || !c.session->Whoami().ok()) {
        if (errors++ < 5) std::fprintf(stderr, "idle session %d: %s\n", i, c.status.ToString().c_str());
        continue;
      }
      sessions.push_back(std::move(c.session));
    }
    std::this_thread::sleep_for(500ms);
    const std::size_t with = ServerRss();
    const double per = sessions.empty() ? 0
                                        : (static_cast<double>(with) - static_cast<double>(before)) /
                                              static_cast<double>(sessions.size());
    std::printf("idle: %zu sessions open; server RSS %.1f MiB before, %.1f MiB with them: %.1f KiB per idle session; "
                "errors %d\n",
                sessions.size(), static_cast<double>(before) / 1048576.0, static_cast<double>(with) / 1048576.0,
                per / 1024.0, errors);
    sessions.clear();
    return errors;
  }

  int LoadPhase() {
    std::mutex mu;
    std::condition_variable cv;
    bool go = false;
    std::vector<double> handshake_ms;
    std::vector<double> op_ms;
    std::map<std::string, int> errors;
    std::atomic<int> connected{0};
    std::atomic<int> peak{0};
    std::atomic<int> active{0};
    auto record_error = [&](const std::string& what) {
      std::lock_guard lock(mu);
      ++errors[what];
    };
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(args_.clients));
    const double cpu_before = CpuSeconds(ServerPid());
    const auto start = Clock::now();
    for (int i = 0; i < args_.clients; ++i) {
      threads.emplace_back([&, i] {
        client::ClientOptions options = Options();
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return go; });
        }
        const auto t0 = Clock::now();
        client::ConnectResult c = client::Connect(tcp_, options);
        const double hs = Ms(Clock::now() - t0);
        if (!c.status.ok()) {
          record_error("connect " + std::string(c.status.reason()));
          return;
        }
        ++connected;
        peak = std::max(peak.load(), ++active);
        std::vector<double> mine;
        mine.reserve(static_cast<std::size_t>(args_.ops));
        for (int op = 0; op < args_.ops; ++op) {
          // Per ten operations: whoami; put, get it back (three times);
          // list twice; delete one of the records put before.
          auto item = [](int n) { return "item/" + std::to_string(n); };
          auto value = [i](int n) { return "value " + std::to_string(i) + "/" + std::to_string(n); };
          const auto o0 = Clock::now();
          Status s;
          switch (op % 10) {
            case 0: s = c.session->Whoami().status(); break;
            case 1: case 3: case 5: s = c.session->Put(item(op), AsBytes(value(op))); break;
            case 2: case 4: case 6: {
              Result<Bytes> v = c.session->Get(item(op - 1));
              s = v.status();
              if (v.has_value() && std::string(v->begin(), v->end()) != value(op - 1)) {
                s = DataLossError("load.wrong_value", "a get returned another value");
              }
              break;
            }
            case 7: case 8: s = c.session->List("item/", {}, 10).status(); break;
            default: s = c.session->Delete(item(op - 8)); break;
          }
          mine.push_back(Ms(Clock::now() - o0));
          if (!s.ok()) record_error(std::string(s.reason()));
        }
        --active;
        std::lock_guard lock(mu);
        handshake_ms.push_back(hs);
        op_ms.insert(op_ms.end(), mine.begin(), mine.end());
      });
    }
    {
      std::lock_guard lock(mu);
      go = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu = CpuSeconds(ServerPid()) - cpu_before;
    int total_errors = 0;
    for (const auto& [what, n] : errors) total_errors += n;
    std::printf("load: %d clients x (handshake + %d ops) in %.1f s; %d connected, peak %d sessions at once; "
                "server CPU %.1f s\n",
                args_.clients, args_.ops, wall, connected.load(), peak.load(), cpu);
    std::printf("load: handshake (connect + XX + full evidence verification) p50 %.1f ms, p99 %.1f ms\n",
                Percentile(handshake_ms, 50), Percentile(handshake_ms, 99));
    std::printf("load: operations (%zu) p50 %.2f ms, p99 %.2f ms\n", op_ms.size(), Percentile(op_ms, 50),
                Percentile(op_ms, 99));
    std::printf("load: errors %d\n", total_errors);
    for (const auto& [what, n] : errors) std::printf("load:   %s: %d\n", what.c_str(), n);
    return total_errors;
  }

  // Back-to-back XX handshakes; the client accepts the evidence unverified
  // (the server's capacity is what is measured, not the client's).
  int RatePhase() {
    std::atomic<long> handshakes{0};
    std::atomic<int> errors{0};
    const auto stop_at = Clock::now() + std::chrono::seconds(args_.rate_seconds);
    const double cpu_before = CpuSeconds(ServerPid());
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < args_.rate_clients; ++t) {
      threads.emplace_back([&] {
        Result<crypto::XdhPrivateKey> k = crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519);
        auto key = std::make_shared<const crypto::XdhPrivateKey>(*std::move(k));
        Result<client::Endpoint> endpoint = client::ParseEndpoint(tcp_);
        while (Clock::now() < stop_at) {
          if (!OneHandshake(*endpoint, key).ok()) ++errors;
          else ++handshakes;
        }
      });
    }
    for (auto& t : threads) t.join();
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu = CpuSeconds(ServerPid()) - cpu_before;
    std::printf("rate: %ld XX handshakes with evidence in %.1f s from %d client threads: %.0f handshakes/s; "
                "server CPU %.2f s: %.0f handshakes per server-CPU-second; errors %d\n",
                handshakes.load(), wall, args_.rate_clients, static_cast<double>(handshakes.load()) / wall, cpu,
                cpu > 0 ? static_cast<double>(handshakes.load()) / cpu : 0.0, errors.load());
    return errors.load();
  }

  static Status OneHandshake(const client::Endpoint& endpoint, std::shared_ptr<const crypto::XdhPrivateKey> key) {
    const auto deadline = Clock::now() + 30s;
    PERIMETER_ASSIGN_OR_RETURN(auto conn, client::Dial(endpoint, deadline));
    noise::PipesClient::Config config;
    config.static_key = std::move(key);
    config.verify_server = [](ByteView, ByteView evidence) {
      return evidence.empty() ? InvalidArgumentError("load.no_evidence", "no evidence") : Status::Ok();
    };
    PERIMETER_ASSIGN_OR_RETURN(noise::PipesClient pipes, noise::PipesClient::New(std::move(config)));
    PERIMETER_ASSIGN_OR_RETURN(Bytes first, pipes.Start());
    PERIMETER_RETURN_IF_ERROR(conn->Send(first, deadline));
    while (!pipes.complete()) {
      PERIMETER_ASSIGN_OR_RETURN(Bytes body, conn->Receive(deadline));
      PERIMETER_ASSIGN_OR_RETURN(std::optional<Bytes> reply, pipes.OnFrame(body));
      if (reply) PERIMETER_RETURN_IF_ERROR(conn->Send(*reply, deadline));
    }
    conn->Close();
    return Status::Ok();
  }

  Args args_;
  testing::TempDir dir_;
  std::unique_ptr<e2e::ServerProcess> server_;
  std::string tcp_;
  std::shared_ptr<const client::TrustConfig> trust_;
  std::shared_ptr<attest::snp::ChainCache> chain_cache_;
};

}  // namespace
}  // namespace perimeter::load

int main(int argc, char** argv) {
  perimeter::load::Args args;
  CLI::App app("Load and capacity measurements of perimeter serve on 127.0.0.1", "perimeter_load");
  app.add_option("--server-binary", args.server_binary, "The perimeter binary to start");
  app.add_option("--clients", args.clients, "Concurrent clients of the load phase (0 skips it)");
  app.add_option("--ops", args.ops, "Operations per client after its handshake");
  app.add_option("--idle-sessions", args.idle_sessions, "Idle sessions for the memory measurement (0 skips it)");
  app.add_option("--rate-seconds", args.rate_seconds, "Seconds of back-to-back handshakes (0 skips it)");
  app.add_option("--rate-clients", args.rate_clients, "Client threads of the rate phase");
  app.add_option("--io-threads", args.io_threads, "Server I/O threads");
  app.add_option("--worker-threads", args.worker_threads, "Server store worker threads");
  CLI11_PARSE(app, argc, argv);
  return perimeter::load::Harness(std::move(args)).Run();
}
