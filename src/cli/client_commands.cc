// `perimeter verify` and `perimeter client`: the client library from the
// command line.
//
//   perimeter verify ENDPOINT --trust FILE [--json] [--at UNIX]
//     Connects (XX, with a fresh throwaway identity), verifies the server's
//     evidence and prints the verdict: every check with its result and
//     reason, and the root that verified it. Exit 0 accepted, 1 rejected,
//     2 connection or handshake error (no verdict, or the handshake failed
//     after an accepted verdict).
//
//   perimeter client [--trust FILE] [--identity KEYFILE] [--known-servers FILE]
//                    [--at UNIX] [--show-verdict] ENDPOINT
//                    whoami | put KEY (VALUE | --file F) | get KEY [--out F]
//                    | list [PREFIX] [--limit N] [--page-token HEX] | delete KEY
//     Defaults live in $XDG_CONFIG_HOME/perimeter (or ~/.config/perimeter):
//     trust.yaml, identity.key (created on first use, mode 0600) and
//     known_servers.json (IK resumption). Exit 0 on success, 1 when the
//     server was rejected or the operation failed (e.g. not found), 2 on a
//     connection error.
//
// ENDPOINT is HOST:PORT (TCP) or ws://HOST:PORT/v1/noise (WebSocket).
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "perimeter/client/client.h"
#include "perimeter/client/identity.h"
#include "perimeter/client/known_servers.h"
#include "perimeter/client/trust_config.h"

namespace perimeter::cli {
namespace {

constexpr int kExitRejected = 1;
constexpr int kExitConnection = 2;
constexpr std::size_t kMaxValueFile = 1024 * 1024;

std::string ConfigDir() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/perimeter";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : ".") + "/.config/perimeter";
}

// Creates the default configuration folder (mode 0700) if it is missing.
void EnsureConfigDir(const std::string& dir) {
  std::string parent = dir.substr(0, dir.rfind('/'));
  ::mkdir(parent.c_str(), 0700);
  ::mkdir(dir.c_str(), 0700);
}

Result<std::int64_t> ParseUnix(const std::string& text) {
  if (text.empty()) return std::int64_t{0};
  std::int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || v > (INT64_MAX - 9) / 10) {
      return InvalidArgumentError("cli.bad_time", "cli: --at takes Unix seconds, e.g. 1767225600");
    }
    v = v * 10 + (c - '0');
  }
  if (v == 0) return InvalidArgumentError("cli.bad_time", "cli: --at must be after 1970");
  return v;
}

void PrintError(const Status& s) { std::fprintf(stderr, "perimeter: %s\n", s.ToString().c_str()); }

// --- verify -----------------------------------------------------------------

struct VerifyArgs {
  std::string endpoint, trust, at;
  bool json = false;
};

Result<int> Verify(const VerifyArgs& a) {
  PERIMETER_ASSIGN_OR_RETURN(client::TrustConfig trust, client::LoadTrustConfig(a.trust));
  client::ClientOptions o;
  o.trust = std::make_shared<const client::TrustConfig>(std::move(trust));
  // A throwaway identity: verifying needs no account.
  PERIMETER_ASSIGN_OR_RETURN(crypto::XdhPrivateKey key, crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519));
  o.identity = std::make_shared<const crypto::XdhPrivateKey>(std::move(key));
  PERIMETER_ASSIGN_OR_RETURN(o.at_unix_seconds, ParseUnix(a.at));
  client::ConnectResult r = client::Connect(a.endpoint, o);
  if (!r.verdict.has_value()) {
    PrintError(r.status);
    return kExitConnection;
  }
  const attest::Verdict& v = *r.verdict;
  if (a.json) {
    std::printf("%s\n", v.ToJson().c_str());
  } else {
    std::printf("server: %s\n%s", a.endpoint.c_str(), v.ToText().c_str());
    if (r.pattern) std::printf("handshake: %s completed\n", std::string(noise::PipesPatternName(*r.pattern)).c_str());
  }
  if (!v.accepted()) return kExitRejected;
  if (!r.status.ok()) {
    PrintError(r.status);
    return kExitConnection;
  }
  r.session->Close();
  return 0;
}

// --- client -----------------------------------------------------------------

struct ClientArgs {
  std::string trust, identity, known_servers, endpoint, at;
  bool show_verdict = false;
  // Operation arguments.
  std::string key, value, file, out, prefix, page_token;
  int limit = 100;
};

enum class Op { kWhoami, kPut, kGet, kList, kDelete };

Result<Bytes> ReadValueFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cli.file_missing", "cli: cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  std::string data = s.str();
  if (data.size() > kMaxValueFile) {
    return InvalidArgumentError("cli.file_too_large", "cli: " + path + " is over 1 MiB (the value limit)");
  }
  return ToBytes(data);
}

Result<int> RunClient(const ClientArgs& a, Op op) {
  const std::string dir = ConfigDir();
  const bool defaults = a.trust.empty() || a.identity.empty() || a.known_servers.empty();
  if (defaults) EnsureConfigDir(dir);
  const std::string trust_path = a.trust.empty() ? dir + "/trust.yaml" : a.trust;
  const std::string identity_path = a.identity.empty() ? dir + "/identity.key" : a.identity;
  const std::string known_path = a.known_servers.empty() ? dir + "/known_servers.json" : a.known_servers;

  PERIMETER_ASSIGN_OR_RETURN(client::TrustConfig trust, client::LoadTrustConfig(trust_path));
  client::ClientOptions o;
  o.trust = std::make_shared<const client::TrustConfig>(std::move(trust));
  bool created = false;
  PERIMETER_ASSIGN_OR_RETURN(o.identity, client::LoadOrCreateIdentity(identity_path, &created));
  if (created) std::fprintf(stderr, "perimeter: created a new identity key in %s\n", identity_path.c_str());
  PERIMETER_ASSIGN_OR_RETURN(std::unique_ptr<client::KnownServers> known, client::KnownServers::Open(known_path));
  o.known_servers = std::move(known);
  PERIMETER_ASSIGN_OR_RETURN(o.at_unix_seconds, ParseUnix(a.at));

  // Check the operation's input before connecting.
  Bytes value;
  if (op == Op::kPut) {
    if (!a.file.empty() && !a.value.empty()) {
      return InvalidArgumentError("cli.conflicting_inputs", "cli: give VALUE or --file, not both");
    }
    if (!a.file.empty()) {
      PERIMETER_ASSIGN_OR_RETURN(value, ReadValueFile(a.file));
    } else {
      value = ToBytes(a.value);
    }
  }
  Bytes token;
  if (!a.page_token.empty()) {
    Result<Bytes> t = HexDecode(a.page_token);
    if (!t.has_value()) return InvalidArgumentError("cli.bad_page_token", "cli: --page-token is hex");
    token = std::move(t).value();
  }
  if (a.limit < 1 || a.limit > 1000) return InvalidArgumentError("cli.bad_limit", "cli: --limit is 1..1000");

  client::ConnectResult r = client::Connect(a.endpoint, o);
  if (r.verdict.has_value() && (a.show_verdict || !r.verdict->accepted())) {
    std::fprintf(stderr, "%s", r.verdict->ToText().c_str());
  }
  if (!r.status.ok()) {
    PrintError(r.status);
    return r.verdict.has_value() && !r.verdict->accepted() ? kExitRejected : kExitConnection;
  }
  if (a.show_verdict && r.pattern) {
    std::fprintf(stderr, "handshake: %s completed\n", std::string(noise::PipesPatternName(*r.pattern)).c_str());
  }
  if (!r.cache_status.ok()) PrintError(r.cache_status);  // a warning only
  client::Session& s = *r.session;
  auto failed = [](const Status& st) {
    PrintError(st);
    return st.code() == StatusCode::kUnavailable ? kExitConnection : kExitRejected;
  };
  switch (op) {
    case Op::kWhoami: {
      Result<std::string> id = s.Whoami();
      if (!id.has_value()) return failed(id.error());
      std::printf("%s\n", id->c_str());
      return 0;
    }
    case Op::kPut: {
      Status st = s.Put(a.key, value);
      if (!st.ok()) return failed(st);
      return 0;
    }
    case Op::kGet: {
      Result<Bytes> v = s.Get(a.key);
      if (!v.has_value()) return failed(v.error());
      if (!a.out.empty()) {
        std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(v->data()), static_cast<std::streamsize>(v->size()));
        if (!out) return UnavailableError("cli.write_failed", "cli: cannot write " + a.out);
      } else if (!v->empty() && std::fwrite(v->data(), 1, v->size(), stdout) != v->size()) {
        return UnavailableError("cli.write_failed", "cli: cannot write the value to stdout");
      }
      return 0;
    }
    case Op::kList: {
      Result<client::ListPage> page = s.List(a.prefix, token, static_cast<std::uint16_t>(a.limit));
      if (!page.has_value()) return failed(page.error());
      for (const std::string& k : page->keys) std::printf("%s\n", k.c_str());
      if (!page->next_page_token.empty()) {
        std::fprintf(stderr, "next page: --page-token %s\n", HexEncode(page->next_page_token).c_str());
      }
      return 0;
    }
    case Op::kDelete: {
      Status st = s.Delete(a.key);
      if (!st.ok()) return failed(st);
      return 0;
    }
  }
  return InternalError("cli.internal", "cli: unknown operation");
}

}  // namespace

void RegisterClientCommands(CLI::App& app, Result<int>* result) {
  auto va = std::make_shared<VerifyArgs>();
  CLI::App* verify = app.add_subcommand(
      "verify", "Connect to a server and verify its attestation; exit 0 accepted, 1 rejected, 2 connection error");
  verify->add_option("endpoint", va->endpoint, "HOST:PORT or ws://HOST:PORT/v1/noise")->required();
  verify->add_option("--trust", va->trust, "Trust file (YAML)")->required();
  verify->add_flag("--json", va->json, "Print the verdict as JSON");
  verify->add_option("--at", va->at, "Verify as of this time (Unix seconds; default now)");
  verify->callback([result, va] { *result = Verify(*va); });

  auto ca = std::make_shared<ClientArgs>();
  CLI::App* c = app.add_subcommand("client", "Use a server's session protocol: whoami, put, get, list, delete");
  c->add_option("--trust", ca->trust, "Trust file (default: <config>/perimeter/trust.yaml)");
  c->add_option("--identity", ca->identity, "Static key file, created if missing (default: <config>/perimeter/identity.key)");
  c->add_option("--known-servers", ca->known_servers,
                "Cache of verified server keys (default: <config>/perimeter/known_servers.json)");
  c->add_option("--at", ca->at, "Verify as of this time (Unix seconds; default now)");
  c->add_flag("--show-verdict", ca->show_verdict, "Print the verdict on stderr also when it accepts");
  c->add_option("endpoint", ca->endpoint, "HOST:PORT or ws://HOST:PORT/v1/noise")->required();
  c->require_subcommand(1);

  auto* whoami = c->add_subcommand("whoami", "Print the user id the server derived from our key");
  whoami->callback([result, ca] { *result = RunClient(*ca, Op::kWhoami); });
  auto* put = c->add_subcommand("put", "Store a value (VALUE or --file F, at most 1 MiB)");
  put->add_option("key", ca->key, "Key (UTF-8)")->required();
  put->add_option("value", ca->value, "Value (text)");
  put->add_option("--file", ca->file, "Read the value from this file");
  put->callback([result, ca] { *result = RunClient(*ca, Op::kPut); });
  auto* get = c->add_subcommand("get", "Print a value (raw bytes) or write it to --out");
  get->add_option("key", ca->key, "Key (UTF-8)")->required();
  get->add_option("--out", ca->out, "Write the value to this file");
  get->callback([result, ca] { *result = RunClient(*ca, Op::kGet); });
  auto* list = c->add_subcommand("list", "List keys by prefix, one page");
  list->add_option("prefix", ca->prefix, "Key prefix (default: all keys)");
  list->add_option("--limit", ca->limit, "Keys per page, 1..1000 (default 100)");
  list->add_option("--page-token", ca->page_token, "The token printed for the next page (hex)");
  list->callback([result, ca] { *result = RunClient(*ca, Op::kList); });
  auto* del = c->add_subcommand("delete", "Delete a key");
  del->add_option("key", ca->key, "Key (UTF-8)")->required();
  del->callback([result, ca] { *result = RunClient(*ca, Op::kDelete); });
}

}  // namespace perimeter::cli
