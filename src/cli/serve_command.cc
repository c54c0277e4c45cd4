// `perimeter serve`: the workload server (server/server.h).
//
//   perimeter serve [--config FILE] [--listen HOST:PORT] [--http-listen HOST:PORT]
//       [--probe-listen HOST:PORT]
//       [--provider simulated|sev-guest|configfs-tsm] [--sim-platform DIR]
//       [--sim-workload PATH] [--host-data HEX] [--crl-file FILE] [--vek-file FILE]
//       --data-dir DIR --master-secret FILE
//       [--init-master-secret] --pod-id ID [--evidence-refresh SECONDS]
//       [--max-connections N] [--handshake-timeout S] [--idle-timeout S]
//       [--chunk-timeout S] [--drain-timeout S] [--io-threads N] [--worker-threads N]
//       [--user-quota-bytes N] [--user-quota-records N]
//       [--ready-file FILE] [--log-level debug|info|warn|error|off]
//
// Flags override the YAML file (server/config.h) field by field. The server's
// Noise static key is generated at start and never written anywhere. The
// pod master secret (generation 1) comes from --master-secret; with
// --init-master-secret a missing file is first created (32 random bytes as
// hex, mode 0600). The record store is DIR/records.sqlite (DIR is created,
// mode 0700, if missing).
//
// Once listening, the bound addresses are logged ("server.listening") and,
// with --ready-file, written atomically as
// {"tcp":"127.0.0.1:P1","http":"127.0.0.1:P2","probe":"127.0.0.1:P3","pid":N}
// (a disabled listener is left out; server::WriteFileAtomically); the file is
// removed on a clean exit. SIGTERM or SIGINT
// drains the sessions (CLOSE 9 session.server_shutdown) and exits 0.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "perimeter/base/unique_fd.h"
#include "perimeter/crypto/random.h"
#include "perimeter/keys/keyring.h"
#include "perimeter/keys/master_secret.h"
#include "perimeter/keys/pod_keys.h"
#include "perimeter/keys/raw_key_access.h"
#include "perimeter/server/config.h"
#include "perimeter/server/evidence_source.h"
#include "perimeter/server/log.h"
#include "perimeter/server/metrics.h"
#include "perimeter/server/ready_file.h"
#include "perimeter/server/server.h"
#include "perimeter/server/workload_service.h"
#include "perimeter/store/record_store.h"

namespace perimeter::cli {
namespace {

using server::LogEvent;
using server::LogLevel;

struct ServeFlags {
  std::string config;
  std::string listen, http_listen, probe_listen, provider, sim_platform, sim_workload, host_data;
  std::string crl_file, vek_file;
  std::uint64_t user_quota_bytes = 0, user_quota_records = 0;
  std::string data_dir, master_secret, pod_id, ready_file, log_level;
  double evidence_refresh = 0, handshake_timeout = 0, idle_timeout = 0, chunk_timeout = 0, drain_timeout = 0;
  std::size_t max_connections = 0;
  int io_threads = 0, worker_threads = 0;
  bool init_master_secret = false;
};

Status Usage(std::string_view what) { return InvalidArgumentError("cli.bad_argument", "cli: " + std::string(what)); }

Result<std::chrono::milliseconds> Millis(double seconds, std::string_view flag, bool allow_zero) {
  if (!std::isfinite(seconds) || seconds < 0 || (!allow_zero && seconds == 0) || seconds > 365.0 * 86400) {
    return Usage(std::string(flag) + " is out of range");
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000)));
}

// Flags given on the command line override the file.
Result<server::ServerConfig> BuildConfig(const ServeFlags& f, const CLI::App& cmd) {
  server::ServerConfig c;
  if (!f.config.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(c, server::LoadServerConfigFile(f.config));
  }
  auto given = [&cmd](const char* name) { return cmd.count(name) > 0; };
  if (given("--listen")) c.server.listen = f.listen;
  if (given("--http-listen")) c.server.http_listen = f.http_listen;
  if (given("--probe-listen")) c.server.probe_listen = f.probe_listen;
  if (given("--crl-file")) c.crl_file = f.crl_file;
  if (given("--vek-file")) c.vek_file = f.vek_file;
  if (given("--user-quota-bytes")) c.quota.max_bytes = f.user_quota_bytes;
  if (given("--user-quota-records")) c.quota.max_records = f.user_quota_records;
  if (given("--provider")) c.provider = f.provider;
  if (given("--sim-platform")) c.sim_platform = f.sim_platform;
  if (given("--sim-workload")) c.sim_workload = f.sim_workload;
  if (given("--host-data")) c.host_data = f.host_data;
  if (given("--data-dir")) c.data_dir = f.data_dir;
  if (given("--master-secret")) c.master_secret = f.master_secret;
  if (given("--pod-id")) c.pod_id = f.pod_id;
  if (given("--ready-file")) c.ready_file = f.ready_file;
  if (given("--log-level")) c.log_level = f.log_level;
  if (given("--max-connections")) c.server.max_connections = f.max_connections;
  if (given("--io-threads")) c.server.io_threads = f.io_threads;
  if (given("--worker-threads")) c.server.worker_threads = f.worker_threads;
  if (given("--evidence-refresh")) {
    PERIMETER_ASSIGN_OR_RETURN(c.server.evidence_refresh, Millis(f.evidence_refresh, "--evidence-refresh", true));
  }
  if (given("--handshake-timeout")) {
    PERIMETER_ASSIGN_OR_RETURN(c.server.session.handshake_timeout,
                               Millis(f.handshake_timeout, "--handshake-timeout", false));
  }
  if (given("--idle-timeout")) {
    PERIMETER_ASSIGN_OR_RETURN(c.server.session.idle_timeout, Millis(f.idle_timeout, "--idle-timeout", false));
  }
  if (given("--chunk-timeout")) {
    PERIMETER_ASSIGN_OR_RETURN(c.server.session.chunk_timeout, Millis(f.chunk_timeout, "--chunk-timeout", false));
  }
  if (given("--drain-timeout")) {
    PERIMETER_ASSIGN_OR_RETURN(c.server.drain_timeout, Millis(f.drain_timeout, "--drain-timeout", true));
  }
  PERIMETER_RETURN_IF_ERROR(server::ValidateServerConfig(c));
  return c;
}

// Creates `path` with a fresh 32-byte secret (hex, mode 0600) unless it
// exists. Never overwrites, never follows a symlink.
Status InitMasterSecret(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    if (errno == EEXIST) return Status::Ok();
    return UnavailableError("cli.write_failed", "cli: cannot create " + path + ": " + std::strerror(errno));
  }
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes secret, crypto::RandomSecret(keys::kMasterSecretSize));
  static constexpr char kHex[] = "0123456789abcdef";
  SecretBytes text(2 * secret.size() + 1);
  for (std::size_t i = 0; i < secret.size(); ++i) {
    text.data()[2 * i] = static_cast<std::uint8_t>(kHex[secret.data()[i] >> 4]);
    text.data()[2 * i + 1] = static_cast<std::uint8_t>(kHex[secret.data()[i] & 15]);
  }
  text.data()[text.size() - 1] = '\n';
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return UnavailableError("cli.write_failed", "cli: cannot write " + path);
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || fd.Close() != 0) {
    return UnavailableError("cli.write_failed", "cli: cannot write " + path);
  }
  LogEvent(LogLevel::kInfo, "keys.master_secret_created", {{"path", path}});
  return Status::Ok();
}

Status EnsureDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();
  }
  return UnavailableError("cli.write_failed", "cli: cannot create directory " + dir);
}

Result<int> Serve(const ServeFlags& flags, const CLI::App& cmd) {
  PERIMETER_ASSIGN_OR_RETURN(server::ServerConfig config, BuildConfig(flags, cmd));
  PERIMETER_ASSIGN_OR_RETURN(LogLevel level, server::ParseLogLevel(config.log_level));
  server::InitLogging(level);

  // Keys and the store.
  if (flags.init_master_secret) PERIMETER_RETURN_IF_ERROR(InitMasterSecret(config.master_secret));
  PERIMETER_ASSIGN_OR_RETURN(keys::MasterSecret master, keys::MasterSecret::LoadFromFile(config.master_secret, 1));
  keys::Keyring keyring;
  PERIMETER_RETURN_IF_ERROR(keyring.Add(std::move(master)));
  PERIMETER_ASSIGN_OR_RETURN(std::unique_ptr<keys::PodKeys> pod_keys, keys::PodKeys::New(config.pod_id, keyring));
  PERIMETER_RETURN_IF_ERROR(EnsureDir(config.data_dir));
  PERIMETER_ASSIGN_OR_RETURN(std::unique_ptr<store::RecordStore> records,
                             store::RecordStore::Open(config.data_dir + "/records.sqlite", pod_keys.get()));

  // Evidence bound to a fresh static key.
  Bytes host_data;
  if (!config.host_data.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(host_data, HexDecode(config.host_data));
  }
  PERIMETER_ASSIGN_OR_RETURN(server::ProviderSetup setup,
                             server::NewProviderSetup(config.provider, config.sim_platform, config.sim_workload,
                                                      config.config_bytes, host_data));
  PERIMETER_RETURN_IF_ERROR(server::AddEvidenceFiles(setup, config.crl_file, config.vek_file));
  const std::string measurement = HexEncode(setup.measurement);
  server::EvidenceSource::Options evidence_options;
  evidence_options.setup = std::move(setup);
  PERIMETER_ASSIGN_OR_RETURN(std::unique_ptr<server::EvidenceSource> evidence,
                             server::EvidenceSource::New(std::move(evidence_options)));
  LogEvent(LogLevel::kInfo, "evidence.ready",
           {{"provider", evidence->provider_name()},
            {"measurement", measurement},
            {"static_key", HexEncode(evidence->static_public_key())},
            {"bytes", static_cast<unsigned long>(evidence->evidence()->size())}});

  server::Metrics metrics;
  server::WorkloadService service(records.get(), &metrics, config.quota);

  // Signals are taken synchronously by this thread: block them before any
  // thread starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  if (pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
    return InternalError("cli.signals", "cli: cannot block signals");
  }
  PERIMETER_ASSIGN_OR_RETURN(std::unique_ptr<server::Server> srv,
                             server::Server::Start(config.server, evidence.get(), &service, &metrics));
  if (!config.ready_file.empty()) {
    std::string json = "{";
    if (!srv->tcp_address().empty()) json += "\"tcp\":\"" + srv->tcp_address() + "\",";
    if (!srv->http_address().empty()) json += "\"http\":\"" + srv->http_address() + "\",";
    if (!srv->probe_address().empty()) json += "\"probe\":\"" + srv->probe_address() + "\",";
    json += "\"pid\":" + std::to_string(::getpid()) + "}\n";
    PERIMETER_RETURN_IF_ERROR(server::WriteFileAtomically(config.ready_file, json));
  }
  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  LogEvent(LogLevel::kInfo, "server.signal", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  srv->Drain();
  srv.reset();
  if (!config.ready_file.empty()) ::unlink(config.ready_file.c_str());
  LogEvent(LogLevel::kInfo, "server.exit");
  return 0;
}

}  // namespace

void RegisterServeCommands(CLI::App& app, Result<int>* result) {
  CLI::App* cmd = app.add_subcommand("serve", "Run the workload server (Noise Pipes over TCP and WebSocket)");
  auto f = std::make_shared<ServeFlags>();
  cmd->add_option("--config", f->config, "YAML configuration file (flags override it)");
  cmd->add_option("--listen", f->listen, "Raw TCP listener HOST:PORT (\"\" disables; default 127.0.0.1:7443)");
  cmd->add_option("--http-listen", f->http_listen,
                  "HTTP listener HOST:PORT: /v1/noise, /healthz, /readyz, /metrics (default 127.0.0.1:7080)");
  cmd->add_option("--probe-listen", f->probe_listen,
                  "Separate HTTP listener for /healthz, /readyz and /metrics only, with its own connection "
                  "limit (default: none)");
  cmd->add_option("--provider", f->provider, "Evidence provider: simulated, sev-guest or configfs-tsm");
  cmd->add_option("--crl-file", f->crl_file, "The ARK's CRL (DER or PEM) to include in the evidence");
  cmd->add_option("--vek-file", f->vek_file,
                  "VCEK/VLEK certificate (DER or PEM) for the evidence when the host supplies none");
  cmd->add_option("--sim-platform", f->sim_platform, "Simulated platform directory (perimeter sim init)");
  cmd->add_option("--sim-workload", f->sim_workload,
                  "File whose bytes the simulated measurement covers (default /proc/self/exe)");
  cmd->add_option("--host-data", f->host_data, "Simulated HOST_DATA, 64 hex digits (default zeros)");
  cmd->add_option("--data-dir", f->data_dir, "Directory of the record store (records.sqlite)");
  cmd->add_option("--master-secret", f->master_secret, "Pod master secret file (generation 1; mode 0600)");
  cmd->add_flag("--init-master-secret", f->init_master_secret,
                "Create the master secret file (random, mode 0600) if it does not exist");
  cmd->add_option("--pod-id", f->pod_id, "Pod id ([A-Za-z0-9._-], 1..128)");
  cmd->add_option("--evidence-refresh", f->evidence_refresh, "Seconds between evidence refreshes (0 = never)");
  cmd->add_option("--max-connections", f->max_connections, "Open connections at most (default 1024)");
  cmd->add_option("--handshake-timeout", f->handshake_timeout, "Seconds (default 10)");
  cmd->add_option("--idle-timeout", f->idle_timeout, "Seconds (default 300)");
  cmd->add_option("--chunk-timeout", f->chunk_timeout, "Seconds (default 60)");
  cmd->add_option("--drain-timeout", f->drain_timeout, "Seconds to wait for sessions on shutdown (default 30)");
  cmd->add_option("--io-threads", f->io_threads, "Network threads (default 2)");
  cmd->add_option("--worker-threads", f->worker_threads, "Store worker threads (default 2)");
  cmd->add_option("--user-quota-bytes", f->user_quota_bytes,
                  "Per user: the sum of value sizes at most (default 268435456; 0 = no limit)");
  cmd->add_option("--user-quota-records", f->user_quota_records,
                  "Per user: records at most (default 100000; 0 = no limit)");
  cmd->add_option("--ready-file", f->ready_file, "Write the bound addresses here (JSON) once serving");
  cmd->add_option("--log-level", f->log_level, "debug, info, warn, error or off (default info)");
  cmd->callback([result, f, cmd] { *result = Serve(*f, *cmd); });
}

}  // namespace perimeter::cli
