// `perimeter noise ...`: static keys and a demonstration of the Noise Pipes
// flows (XX first contact, IK with a cached key, IK with a stale key falling
// back to XXfallback), run through the same state machines the server and
// clients use.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "perimeter/crypto/hash.h"
#include "perimeter/noise/pipes.h"

namespace perimeter::cli {
namespace {

using crypto::XdhAlg;
using crypto::XdhPrivateKey;

// Writes the private key as hex to `path` with mode 0600, refusing to
// overwrite an existing file.
Status WriteKeyFile(const std::string& path, ByteView private_key) {
  FILE* f = std::fopen(path.c_str(), "wx");
  if (f == nullptr) {
    return AlreadyExistsError("cli.key_file_exists", "cli: cannot create " + path +
                                                         " (it exists or the folder is missing)");
  }
  ::chmod(path.c_str(), 0600);
  std::string hex = HexEncode(private_key);
  hex += "\n";
  bool ok = std::fwrite(hex.data(), 1, hex.size(), f) == hex.size();
  ok = (std::fclose(f) == 0) && ok;
  SecureWipe(hex.data(), hex.size());
  if (!ok) return UnavailableError("cli.write_failed", "cli: cannot write " + path);
  return Status::Ok();
}

Result<std::shared_ptr<const XdhPrivateKey>> ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cli.key_file_missing", "cli: cannot read " + path);
  std::string hex;
  in >> hex;
  Result<Bytes> raw = HexDecode(hex);
  if (!raw.has_value() || raw->size() != 32) {
    return InvalidArgumentError("cli.bad_key_file", "cli: " + path + " does not hold a 32-byte hex key");
  }
  SecretBytes secret(*raw);
  SecureWipe(raw->data(), raw->size());
  SecureWipe(hex.data(), hex.size());
  PERIMETER_ASSIGN_OR_RETURN(XdhPrivateKey key, XdhPrivateKey::FromBytes(XdhAlg::kX25519, secret.view()));
  return std::make_shared<const XdhPrivateKey>(std::move(key));
}

Result<int> Keygen(const std::string& out) {
  PERIMETER_ASSIGN_OR_RETURN(XdhPrivateKey key, XdhPrivateKey::Generate(XdhAlg::kX25519));
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes raw, key.ExportPrivate());
  PERIMETER_RETURN_IF_ERROR(WriteKeyFile(out, raw.view()));
  std::printf("public key: %s\n", HexEncode(key.public_key()).c_str());
  return 0;
}

Result<int> Pubkey(const std::string& in) {
  PERIMETER_ASSIGN_OR_RETURN(auto key, ReadKeyFile(in));
  std::printf("%s\n", HexEncode(key->public_key()).c_str());
  return 0;
}

// One client/server exchange in memory; prints what each step did.
Result<noise::PipesSession> RunFlow(const char* title, noise::PipesClient& client,
                                    noise::PipesServer& server) {
  std::printf("== %s\n", title);
  PERIMETER_ASSIGN_OR_RETURN(Bytes body, client.Start());
  bool to_server = true;
  bool first_of[2] = {true, true};  // [0] client, [1] server
  while (true) {
    bool& first = first_of[to_server ? 0 : 1];
    std::string note = first ? " (pattern byte " + std::to_string(body[0]) + ")" : "";
    first = false;
    std::printf("  %s %5zu bytes%s\n", to_server ? "client -> server" : "server -> client", body.size(),
                note.c_str());
    Result<std::optional<Bytes>> reply = to_server ? server.OnFrame(body) : client.OnFrame(body);
    if (!reply.has_value()) return reply.error();
    if (!reply->has_value()) break;
    body = std::move(**reply);
    to_server = !to_server;
  }
  PERIMETER_ASSIGN_OR_RETURN(noise::PipesSession cs, client.TakeSession());
  PERIMETER_ASSIGN_OR_RETURN(noise::PipesSession ss, server.TakeSession());
  PERIMETER_ASSIGN_OR_RETURN(Bytes ping, cs.transport.Encrypt(AsBytes("ping")));
  PERIMETER_ASSIGN_OR_RETURN(Bytes got, ss.transport.Decrypt(ping));
  std::printf("  completed %s; handshake hash %s\n  transport: client sent \"%.*s\" in %zu bytes\n",
              std::string(noise::PipesPatternName(cs.pattern)).c_str(),
              HexEncode(cs.transport.handshake_hash()).c_str(), static_cast<int>(got.size()),
              reinterpret_cast<const char*>(got.data()), ping.size());
  return cs;
}

Result<int> Demo(const std::string& server_key_path) {
  std::shared_ptr<const XdhPrivateKey> server_key;
  if (server_key_path.empty()) {
    PERIMETER_ASSIGN_OR_RETURN(XdhPrivateKey k, XdhPrivateKey::Generate(XdhAlg::kX25519));
    server_key = std::make_shared<const XdhPrivateKey>(std::move(k));
  } else {
    PERIMETER_ASSIGN_OR_RETURN(server_key, ReadKeyFile(server_key_path));
  }
  PERIMETER_ASSIGN_OR_RETURN(XdhPrivateKey ck, XdhPrivateKey::Generate(XdhAlg::kX25519));
  auto client_key = std::make_shared<const XdhPrivateKey>(std::move(ck));
  // No TEE in this demo: the "evidence" is a placeholder document and the
  // client accepts any; the attested channel issue replaces both.
  Bytes evidence = ToBytes(R"({"demo":"no attestation in this demo"})");
  std::printf("server static key %s\nclient static key %s\n",
              HexEncode(server_key->public_key()).c_str(), HexEncode(client_key->public_key()).c_str());
  auto accept_any = [](ByteView, ByteView) { return Status::Ok(); };
  auto new_server = [&](std::shared_ptr<const XdhPrivateKey> key) {
    return noise::PipesServer::New({key, evidence, std::string(noise::kPipesSuite)});
  };

  PERIMETER_ASSIGN_OR_RETURN(noise::PipesClient c1, noise::PipesClient::New({client_key, {}, accept_any}));
  PERIMETER_ASSIGN_OR_RETURN(noise::PipesServer s1, new_server(server_key));
  PERIMETER_ASSIGN_OR_RETURN(noise::PipesSession first, RunFlow("first contact (XX)", c1, s1));

  PERIMETER_ASSIGN_OR_RETURN(noise::PipesClient c2,
                             noise::PipesClient::New({client_key, first.remote_static, accept_any}));
  PERIMETER_ASSIGN_OR_RETURN(noise::PipesServer s2, new_server(server_key));
  PERIMETER_RETURN_IF_ERROR(RunFlow("cached server key (IK)", c2, s2));

  PERIMETER_ASSIGN_OR_RETURN(XdhPrivateKey nk, XdhPrivateKey::Generate(XdhAlg::kX25519));
  auto new_key = std::make_shared<const XdhPrivateKey>(std::move(nk));
  PERIMETER_ASSIGN_OR_RETURN(noise::PipesClient c3,
                             noise::PipesClient::New({client_key, first.remote_static, accept_any}));
  PERIMETER_ASSIGN_OR_RETURN(noise::PipesServer s3, new_server(new_key));
  PERIMETER_RETURN_IF_ERROR(RunFlow("stale cached key, server restarted (IK -> XXfallback)", c3, s3));
  return 0;
}

}  // namespace

void RegisterNoiseCommands(CLI::App& app, Result<int>* result) {
  CLI::App* noise = app.add_subcommand("noise", "Noise Pipes keys and a demonstration of the handshakes");
  noise->require_subcommand(1);

  auto* keygen = noise->add_subcommand("keygen", "Create an X25519 static key (hex, mode 0600)");
  auto out = std::make_shared<std::string>();
  keygen->add_option("--out", *out, "File to create (never overwritten)")->required();
  keygen->callback([result, out] { *result = Keygen(*out); });

  auto* pub = noise->add_subcommand("pubkey", "Print the public key of a static key file");
  auto in = std::make_shared<std::string>();
  pub->add_option("--key", *in, "Static key file")->required()->check(CLI::ExistingFile);
  pub->callback([result, in] { *result = Pubkey(*in); });

  auto* demo = noise->add_subcommand(
      "demo", "Run XX, IK and IK->XXfallback between an in-process client and server");
  auto server_key = std::make_shared<std::string>();
  demo->add_option("--server-key", *server_key, "Server static key file (default: a fresh key)");
  demo->callback([result, server_key] { *result = Demo(*server_key); });
}

}  // namespace perimeter::cli
