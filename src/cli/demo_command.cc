// `perimeter demo`: the main job on the embedded default (no TEE). It runs
// the whole story of issue 4 on one machine and prints a transcript:
//
//   1. an INSECURE simulated SEV-SNP platform (its own ARK, ASK and VCEK);
//   2. a trust file that names that ARK explicitly and allows the
//      measurement of this very binary;
//   3. `perimeter serve` (this binary, a child process) on 127.0.0.1;
//   4. Alice (TCP) and Bob (WebSocket) verify the server, check by check,
//      before sending anything, then store and read back data: each sees
//      only their own; Alice reconnects with IK and the cached key;
//   5. the server's code changes (a patched copy of the binary), so its
//      measurement changes: the same client rejects it, and says why.
//
// It exits 0 only if every step turned out as expected.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/subprocess.h"
#include "perimeter/attest/snp/simulated/platform.h"
#include "perimeter/base/bytes.h"
#include "perimeter/base/secret_bytes.h"
#include "perimeter/client/client.h"
#include "perimeter/client/identity.h"
#include "perimeter/client/known_servers.h"
#include "perimeter/client/trust_config.h"
#include "perimeter/crypto/hash.h"
#include "perimeter/crypto/random.h"

namespace perimeter::cli {
namespace {

namespace sim = attest::snp::simulated;
using Clock = std::chrono::steady_clock;

struct DemoArgs {
  std::string dir;
  bool keep = false;
};

void Say(const std::string& text) {
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}

void Step(const std::string& title) { Say("\n== " + title); }

std::string Indent(const std::string& text, const std::string& pad = "   ") {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out += pad + line + "\n";
  if (!out.empty()) out.pop_back();
  return out;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return UnavailableError("cli.io", "cli: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteFile(const std::string& path, std::string_view content, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return UnavailableError("cli.io", "cli: cannot write " + path);
    out << content;
    if (!out) return UnavailableError("cli.io", "cli: cannot write " + path);
  }
  if (::chmod(path.c_str(), mode) != 0) return UnavailableError("cli.io", "cli: cannot chmod " + path);
  return Status::Ok();
}

// Creates `path` (which must not exist) with mode 0600 from the start and
// writes 32 fresh random bytes into it, the raw form
// keys::MasterSecret::LoadFromFile accepts. The secret only ever lives in a
// zeroizing buffer.
Status CreateSecretFile(const std::string& path) {
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes secret, crypto::RandomSecret(32));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cli.io", "demo: cannot create " + path);
  const ByteView bytes = secret.view();
  const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return UnavailableError("cli.io", "demo: cannot write " + path);
  return Status::Ok();
}

Status Expect(bool ok, const std::string& what) {
  if (ok) return Status::Ok();
  return InternalError("cli.demo_unexpected", "demo: unexpected outcome: " + what);
}

std::string Short(std::string_view hex) {
  return hex.size() > 16 ? std::string(hex.substr(0, 16)) + "..." : std::string(hex);
}

// One `perimeter serve` child of the demo.
struct RunningServer {
  Subprocess process;
  std::string tcp;
  std::string http;
  std::string log;
};

Result<RunningServer> StartServer(const std::string& binary, const std::string& work, const std::string& name) {
  const std::string ready = work + "/" + name + ".ready.json";
  const std::string log = work + "/" + name + ".log";
  std::vector<std::string> argv = {binary,        "serve",
                                   "--listen",    "127.0.0.1:0",
                                   "--http-listen", "127.0.0.1:0",
                                   "--provider",  "simulated",
                                   "--sim-platform", work + "/platform",
                                   "--data-dir",  work + "/data",
                                   "--master-secret", work + "/master.key",
                                   "--pod-id",    "demo-pod-0",
                                   "--ready-file", ready,
                                   "--log-level", "warn"};
  PERIMETER_ASSIGN_OR_RETURN(Subprocess child, Subprocess::Start(argv, log));
  Result<std::string> text = WaitForReadyFile(ready, child, std::chrono::seconds(60));
  if (!text.has_value()) {
    Result<std::string> log_text = ReadFile(log);
    return UnavailableError(text.status().reason(), std::string(text.status().message()) + "; server log:\n" +
                                                        (log_text.has_value() ? *log_text : std::string()));
  }
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, false);
  if (!doc.is_object() || !doc.contains("tcp") || !doc.contains("http") || !doc["tcp"].is_string() ||
      !doc["http"].is_string()) {
    return InternalError("cli.demo_bad_ready_file", "demo: unexpected ready file: " + *text);
  }
  return RunningServer{std::move(child), doc["tcp"].get<std::string>(), doc["http"].get<std::string>(), log};
}

void ShowVerdict(const client::ConnectResult& c) {
  if (c.verdict) {
    Say(Indent(c.verdict->ToText(), "   | "));
  } else {
    Say("   | no verdict: " + c.status.ToString());
  }
}

std::string PatternName(const client::ConnectResult& c) {
  return c.pattern ? std::string(noise::PipesPatternName(*c.pattern)) : std::string("-");
}

// Removes a temporary working directory (with the demo's keys) on every
// path out of the demo, unless the user asked to keep it.
class WorkDirCleanup {
 public:
  WorkDirCleanup(std::string dir, bool remove) : dir_(std::move(dir)), remove_(remove) {}
  ~WorkDirCleanup() {
    if (!remove_) return;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  WorkDirCleanup(const WorkDirCleanup&) = delete;
  WorkDirCleanup& operator=(const WorkDirCleanup&) = delete;

 private:
  std::string dir_;
  bool remove_;
};

Result<int> RunDemo(const DemoArgs& args) {
  const auto started = Clock::now();
  // The working directory: given, or a fresh one under /tmp.
  std::string work = args.dir;
  if (work.empty()) {
    std::string templ = "/tmp/perimeter-demo-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) return UnavailableError("cli.io", "demo: cannot create a temp dir");
    work = templ;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(work, ec);
    if (!std::filesystem::is_empty(work, ec)) {
      return FailedPreconditionError("cli.demo_dir_not_empty", "demo: " + work + " must be empty");
    }
    ::chmod(work.c_str(), 0700);
  }
  // Declared before the servers, so it runs after they were stopped.
  const WorkDirCleanup cleanup(work, args.dir.empty() && !args.keep);
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) return UnavailableError("cli.io", "demo: cannot find this binary (/proc/self/exe)");

  Say("Secure Perimeter demo: an attested workload on the simulated SEV-SNP platform (no TEE needed).");
  Say("Working directory: " + work);

  // 1. The simulated platform.
  Step("1. Simulated SEV-SNP platform (INSECURE: for development only, never trusted by default)");
  sim::CreateOptions options;
  options.not_before = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count() -
                       3600;
  options.days = 30;
  const auto t0 = Clock::now();
  PERIMETER_ASSIGN_OR_RETURN(sim::SimulatedPlatform platform, sim::SimulatedPlatform::Create(options));
  PERIMETER_RETURN_IF_ERROR(platform.Save(work + "/platform"));
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  char line[256];
  std::snprintf(line, sizeof(line), "   created ARK (RSA-4096), ASK (RSA-4096) and VCEK (P-384) for %s in %.1f s",
                std::string(sim::SimulatedProductName(platform.product())).c_str(), secs);
  Say(line);
  Say("   ARK: " + platform.ark().Subject() + " (" + work + "/platform/ark.pem)");

  // 2. The trust file.
  Step("2. What the client trusts");
  PERIMETER_ASSIGN_OR_RETURN(std::string binary, ReadFile(self));
  PERIMETER_ASSIGN_OR_RETURN(Bytes m1, sim::SimulatedMeasurement(AsBytes(binary), ByteView()));
  Say("   workload v1 = this binary; its simulated launch measurement is SHA-384 over it:");
  Say("   " + HexEncode(m1));
  const std::string trust_path = work + "/trust.yaml";
  const std::string trust_text = "version: 1\n"
                                 "roots:\n"
                                 "  amd: true                  # AMD's ARKs for Milan, Genoa, Turin (pinned)\n"
                                 "  arks: [platform/ark.pem]   # the simulated ARK, named explicitly\n"
                                 "policy:\n"
                                 "  measurements: [" + HexEncode(m1) + "]\n"
                                 "  allow_debug: false\n"
                                 "  max_vmpl: 0\n"
                                 "  require_crl: true\n";
  PERIMETER_RETURN_IF_ERROR(WriteFile(trust_path, trust_text, 0644));
  Say("   " + trust_path + ":");
  Say(Indent(trust_text, "   | "));
  PERIMETER_ASSIGN_OR_RETURN(client::TrustConfig trust_config, client::LoadTrustConfig(trust_path));
  auto trust = std::make_shared<const client::TrustConfig>(std::move(trust_config));

  // 3. The server.
  Step("3. The workload server (perimeter serve, v1)");
  PERIMETER_RETURN_IF_ERROR(CreateSecretFile(work + "/master.key"));
  Say("   pod master secret: " + work + "/master.key (mode 0600; the KBS issue replaces this file)");
  PERIMETER_ASSIGN_OR_RETURN(RunningServer v1, StartServer(self, work, "server-v1"));
  Say("   listening: Noise over TCP on " + v1.tcp + ", WebSocket on ws://" + v1.http + "/v1/noise");
  Say("   its Noise static key was generated at start, lives only in memory, and is bound into");
  Say("   every report: REPORT_DATA = SHA-512(\"secure-perimeter/noise-binding/1\" || static key)");

  auto known = client::KnownServers::InMemory();
  std::shared_ptr<client::KnownServers> cache(std::move(known));
  PERIMETER_ASSIGN_OR_RETURN(auto alice_key, client::LoadOrCreateIdentity(work + "/alice.key"));
  PERIMETER_ASSIGN_OR_RETURN(auto bob_key, client::LoadOrCreateIdentity(work + "/bob.key"));
  auto options_for = [&](std::shared_ptr<const crypto::XdhPrivateKey> id) {
    client::ClientOptions o;
    o.trust = trust;
    o.identity = std::move(id);
    o.known_servers = cache;
    return o;
  };

  // 4. Alice over TCP.
  Step("4. Alice connects over TCP (first contact: Noise XX) and verifies the server before sending anything");
  client::ConnectResult alice = client::Connect(v1.tcp, options_for(alice_key));
  ShowVerdict(alice);
  PERIMETER_RETURN_IF_ERROR(Expect(alice.status.ok(), "Alice's verification: " + alice.status.ToString()));
  Say("   handshake: " + PatternName(alice) + "; only now does Alice send her static key and requests");
  PERIMETER_ASSIGN_OR_RETURN(std::string alice_id, alice.session->Whoami());
  Say("   whoami -> user_id " + alice_id + " (SHA-256 of Alice's static key)");
  PERIMETER_RETURN_IF_ERROR(alice.session->Put("notes/diary", AsBytes("Alice: the meeting moved to Tuesday")));
  Say("   put notes/diary = \"Alice: the meeting moved to Tuesday\" -> OK (AES-256-GCM under Alice's key)");

  // Bob over WebSocket.
  Step("5. Bob connects over WebSocket and verifies the same way");
  client::ConnectResult bob = client::Connect("ws://" + v1.http + "/v1/noise", options_for(bob_key));
  PERIMETER_RETURN_IF_ERROR(Expect(bob.status.ok(), "Bob's verification: " + bob.status.ToString()));
  Say("   verdict: " + std::string(bob.verdict->accepted() ? "ACCEPTED" : "REJECTED") + " (" +
      std::to_string(bob.verdict->checks.size()) + " checks, root: " + bob.verdict->root + ")");
  PERIMETER_ASSIGN_OR_RETURN(std::string bob_id, bob.session->Whoami());
  Say("   whoami -> user_id " + bob_id);
  PERIMETER_RETURN_IF_ERROR(bob.session->Put("notes/diary", AsBytes("Bob: buy milk")));
  Say("   put notes/diary = \"Bob: buy milk\" -> OK (same record key, Bob's own record)");
  PERIMETER_ASSIGN_OR_RETURN(Bytes bob_sees, bob.session->Get("notes/diary"));
  Say("   Bob: get notes/diary -> \"" + std::string(bob_sees.begin(), bob_sees.end()) + "\"");
  PERIMETER_ASSIGN_OR_RETURN(client::ListPage bob_list, bob.session->List(""));
  std::string keys;
  for (const std::string& k : bob_list.keys) keys += (keys.empty() ? "" : ", ") + k;
  Say("   Bob: list \"\" -> [" + keys + "] (Alice's records are not in Bob's keyspace)");
  PERIMETER_RETURN_IF_ERROR(Expect(bob_list.keys.size() == 1 && std::string(bob_sees.begin(), bob_sees.end()) == "Bob: buy milk",
                                   "Bob must see only his own record"));
  bob.session->Close();
  alice.session->Close();

  Step("6. Alice reconnects: IK with the server key she verified before, then reads her note back");
  client::ConnectResult alice2 = client::Connect(v1.tcp, options_for(alice_key));
  PERIMETER_RETURN_IF_ERROR(Expect(alice2.status.ok(), "Alice's reconnection: " + alice2.status.ToString()));
  Say("   handshake: " + PatternName(alice2) + "; the evidence in IK message 2 was verified again: " +
      (alice2.verdict->accepted() ? "ACCEPTED" : "REJECTED"));
  PERIMETER_RETURN_IF_ERROR(Expect(alice2.pattern == noise::PipesPattern::kIK, "IK on the second connection"));
  PERIMETER_ASSIGN_OR_RETURN(Bytes alice_sees, alice2.session->Get("notes/diary"));
  Say("   Alice: get notes/diary -> \"" + std::string(alice_sees.begin(), alice_sees.end()) + "\"");
  PERIMETER_RETURN_IF_ERROR(Expect(std::string(alice_sees.begin(), alice_sees.end()) ==
                                       "Alice: the meeting moved to Tuesday",
                                   "Alice must read her own note"));
  alice2.session->Close();

  // 7. Changed code.
  Step("7. The server's code changes: a patched build (same program, one more line of bytes)");
  const std::string v2_binary = work + "/perimeter-v2";
  PERIMETER_RETURN_IF_ERROR(WriteFile(v2_binary, binary + "\n/* patched: exfiltrate notes */\n", 0755));
  PERIMETER_ASSIGN_OR_RETURN(std::string v2_bytes, ReadFile(v2_binary));
  PERIMETER_ASSIGN_OR_RETURN(Bytes m2, sim::SimulatedMeasurement(AsBytes(v2_bytes), ByteView()));
  Say("   new measurement: " + HexEncode(m2));
  Say("   allowed:         " + HexEncode(m1));
  const int v1_exit = v1.process.Stop(std::chrono::seconds(30));
  Say("   stopped v1 (SIGTERM: drained, exit code " + std::to_string(v1_exit) + ")");
  PERIMETER_ASSIGN_OR_RETURN(RunningServer v2, StartServer(v2_binary, work, "server-v2"));
  Say("   started v2 on " + v2.tcp + " with the same data and master secret");
  Step("8. Alice connects to v2 with the same trust file");
  client::ConnectResult rejected = client::Connect(v2.tcp, options_for(alice_key));
  ShowVerdict(rejected);
  PERIMETER_RETURN_IF_ERROR(Expect(!rejected.status.ok() && rejected.session == nullptr &&
                                       rejected.status.reason() == "snp.policy_measurement",
                                   "the changed server must be rejected for its measurement, got " +
                                       rejected.status.ToString()));
  Say("   REJECTED: " + rejected.status.ToString());
  Say("   Alice sent nothing after the server's evidence: no static key, no request, no data.");
  const int v2_exit = v2.process.Stop(std::chrono::seconds(30));

  Step("Summary");
  Say("   v1 verified (" + Short(HexEncode(m1)) + "), Alice and Bob each saw only their own records,");
  Say("   IK resumption worked, and the changed code (" + Short(HexEncode(m2)) + ") was refused.");
  std::snprintf(line, sizeof(line), "   servers exited with %d and %d; demo took %.1f s", v1_exit, v2_exit,
                std::chrono::duration<double>(Clock::now() - started).count());
  Say(line);
  if (args.keep || !args.dir.empty()) Say("   files kept in " + work);
  return (v1_exit == 0 && v2_exit == 0) ? 0 : 1;
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, Result<int>* result) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* demo = app.add_subcommand(
      "demo", "Run the whole attested-channel story on the simulated platform and print a transcript");
  demo->add_option("--dir", args->dir, "Empty working directory to use and keep (default: a temporary one)");
  demo->add_flag("--keep", args->keep, "Keep the temporary working directory");
  demo->callback([args, result] { *result = RunDemo(*args); });
}

}  // namespace perimeter::cli
