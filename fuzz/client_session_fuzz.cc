// Fuzzes the client's transport-independent core: client::ClientHandshake
// (the attested Noise Pipes handshake, with the server's evidence checked by
// VerifyServerEvidence inside it) and client::SessionCore (the session
// protocol from the client's side), with arbitrary server frames.
//
// Setup, once per process (LLVMFuzzerInitialize; takes seconds): an
// INSECURE simulated SEV-SNP platform (fresh RSA-4096 keys on every start,
// so no signed evidence can be stored in the corpus), its ARK and CRL saved
// into a temporary directory, and a trust configuration naming that ARK with
// a policy that allows one measurement (require_crl). The client's and the
// server's static keys are fixed (fuzz_keys.h); every ephemeral is fresh, so
// the server side of the handshake is a real noise::PipesServer run
// in-process, and records after the handshake are encrypted by the harness
// with the server's transport keys: seeds hold plaintext.
//
// Input layout: byte 0: mode = b % 4, pattern = (b / 4) % 3 (0 XX; 1 IK
// with the server's key cached; 2 IK with a stale key, answered by
// XXfallback). Then, by mode:
//   0 RAW       up to 8 sized (u16 length + bytes) frame bodies, fed to the
//               client's handshake as the server's frames;
//   1 EVIDENCE  a sized evidence document of arbitrary content, sent by a
//               real PipesServer (so it reaches the verifier), then ops;
//   2 RECIPE    evidence genuinely signed by the platform from a recipe
//               (MakeRecipeEvidence: report fields, omitted certificates,
//               wrong binding, a byte tampered after signing), then ops;
//   3 GENUINE   the platform's evidence for the server's key (accepted),
//               then ops.
// Ops (after a completed handshake; opcode byte mod 7):
//   0 REQUEST   SealRequest of a request built from the input
//   1 RECORD    a sized plaintext record, encrypted by the server
//   2 RESPONSE  a response built from the input (for an id in flight or
//               any id), encoded, chunked and encrypted by the server
//   3 CLOSE     u8 code, small reason: a CLOSE record
//   4 RAW       a sized frame body as is (never decrypts)
//   5 CHUNKED   a sized arbitrary "message" split into chunk records
//               (session::Chunker), u8: how many of them to send
//   6 SKIP      the server encrypts a record the client never gets
//
// Invariants (abort() on violation):
//   * no session unless the verifier accepted: Finish() succeeds only when
//     the handshake is complete and its verdict accepted, and then the
//     session is with the server's key and carries the evidence sent; a
//     rejected verdict fails OnFrame with kUnauthenticated and the first
//     failed check's reason, and the client sends nothing further;
//   * the verdict is the one VerifyServerEvidence gives for the same
//     evidence and key; genuine evidence is accepted; evidence bound to
//     another key, or with a byte of the signed report region changed after
//     signing, is never accepted;
//   * SessionCore: request ids are never 0 nor in flight, at most 16 in
//     flight, and the frames decrypt on the server into exactly the request;
//     a response is returned only for an id in flight with the request's
//     operation (then it is no longer in flight); a CLOSE ends the session;
//     OpenFrame agrees with a mirror MessageReader fed the same records
//     (same failure reasons); after a failure or a CLOSE every call fails
//     with client.session_failed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <stdlib.h>

#include "fuzz_check.h"
#include "fuzz_input.h"
#include "fuzz_keys.h"
#include "perimeter/attest/evidence.h"
#include "perimeter/attest/noise_binding.h"
#include "perimeter/attest/snp/simulated/platform.h"
#include "perimeter/attest/snp/simulated/simulated_provider.h"
#include "perimeter/client/evidence_verifier.h"
#include "perimeter/client/handshake.h"
#include "perimeter/client/session_core.h"
#include "perimeter/client/trust_config.h"
#include "perimeter/noise/pipes.h"
#include "perimeter/session/chunker.h"
#include "perimeter/session/codec.h"
#include "perimeter/session/limits.h"
#include "perimeter/session/message_reader.h"

namespace {

using namespace perimeter;  // NOLINT
namespace sim = attest::snp::simulated;

#define CHECK(cond) PERIMETER_FUZZ_CHECK(cond)

template <typename T>
T Must(Result<T> r) {
  if (!r.has_value()) {
    std::fprintf(stderr, "client_session_fuzz: setup failed: %s\n", r.error().ToString().c_str());
    std::abort();  // harness bug, not a finding
  }
  return std::move(r).value();
}

// PERIMETER_FUZZ_VERBOSE=1: a trace of what each input does (seed checks).
bool Verbose() {
  static const bool v = std::getenv("PERIMETER_FUZZ_VERBOSE") != nullptr;
  return v;
}

constexpr std::int64_t kNotBefore = 1735689600;  // 2025-01-01T00:00:00Z
constexpr std::int64_t kAt = 1767225600;         // 2026-01-01T00:00:00Z

struct Env {
  std::string dir;
  std::shared_ptr<const sim::SimulatedPlatform> platform;
  std::shared_ptr<const client::TrustConfig> trust;
  Bytes measurement;
  std::shared_ptr<const crypto::XdhPrivateKey> server_key = fuzz::FixedKey(fuzz::kServerStaticLabel);
  std::shared_ptr<const crypto::XdhPrivateKey> client_key = fuzz::FixedKey(fuzz::kClientStaticLabel);
  std::shared_ptr<const crypto::XdhPrivateKey> stale_key = fuzz::FixedKey(fuzz::kStaleServerStaticLabel);
  Bytes genuine_evidence;
  std::shared_ptr<attest::snp::ChainCache> cache = std::make_shared<attest::snp::ChainCache>();
};

std::string* g_dir = nullptr;

void RemoveDir() {
  std::error_code ec;
  if (g_dir != nullptr) std::filesystem::remove_all(*g_dir, ec);
}

Result<Bytes> BuildEvidence(const Env& e, const sim::ReportRequest& request, bool include_ask, bool include_ark,
                            bool include_crl, std::optional<std::pair<std::size_t, std::uint8_t>> tamper) {
  attest::Evidence ev;
  PERIMETER_ASSIGN_OR_RETURN(ev.report, e.platform->SignReport(request));
  if (tamper.has_value()) ev.report[tamper->first % ev.report.size()] ^= tamper->second;
  ev.vek = e.platform->vcek().ToDer();
  if (include_ask) ev.ask = e.platform->ask().ToDer();
  if (include_ark) ev.ark = e.platform->ark().ToDer();
  if (include_crl) ev.crl = e.platform->crl().ToDer();
  ev.provider = std::string(sim::kInsecureSimulatedProviderName);
  PERIMETER_ASSIGN_OR_RETURN(std::string text, attest::SerializeEvidence(ev));
  return ToBytes(text);
}

Env* NewEnv() {
  auto* env = new Env();
  std::string tmpl = (std::filesystem::temp_directory_path() / "perimeter-fuzz-client.XXXXXX").string();
  CHECK(::mkdtemp(tmpl.data()) != nullptr);
  env->dir = tmpl;
  g_dir = new std::string(tmpl);
  std::atexit(RemoveDir);

  sim::CreateOptions o;
  o.product = attest::snp::Product::kMilan;
  o.not_before = kNotBefore;
  o.days = 3650;
  env->platform = std::make_shared<const sim::SimulatedPlatform>(Must(sim::SimulatedPlatform::Create(o)));
  const std::string sim_dir = env->dir + "/sim";
  CHECK(env->platform->Save(sim_dir).ok());
  env->measurement = Must(sim::SimulatedMeasurement(AsBytes("client fuzz workload"), AsBytes("")));
  const std::string yaml = "version: 1\nroots:\n  amd: true\n  arks: [ark.pem]\npolicy:\n  measurements: [" +
                           HexEncode(env->measurement) + "]\n  require_crl: true\n";
  env->trust = std::make_shared<const client::TrustConfig>(Must(client::ParseTrustConfig(yaml, sim_dir)));

  sim::ReportRequest r;
  r.measurement = env->measurement;
  r.report_data = Must(attest::NoiseBindingReportData(ToBytes(env->server_key->public_key())));
  env->genuine_evidence = Must(BuildEvidence(*env, r, true, true, true, std::nullopt));
  return env;
}

Env& E() {
  static Env* env = NewEnv();
  return *env;
}

std::string ReasonOf(const Status& s) { return std::string(s.reason()); }

bool IsSessionFailed(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition && s.reason() == "client.session_failed";
}

// What the verifier is known to have to say about an evidence document.
enum class Expect { kAny, kAccept, kReject };

// Evidence from a recipe (mode 2). Layout: u8 flags, u8 more, then the
// fields the flags ask for, in this order.
//   flags: 1 version 5; 2 no ASK; 4 no ARK; 8 no CRL; 16 bind to the stale
//          key; 32 measurement (48 bytes); 64 tamper (u16 offset, u8 xor);
//          128 guest policy (u64 as 2 x u32)
//   more:  1 vmpl (u8 % 4); 2 host_data (32 bytes); 4 reported_tcb (2 x
//          u32); 8 current/committed/launch tcb (3 x 2 x u32); 16 mask chip
//          key; 32 signing key (u8: 0 VCEK, 1 VLEK, else none); 64
//          platform_info (2 x u32); 128 guest_svn (u32), family and image
//          id (16 bytes each)
std::optional<Bytes> MakeRecipeEvidence(fuzz::Input& in, Expect* expect) {
  Env& e = E();
  auto u64 = [&in] {
    const std::uint64_t hi = in.U32();
    return (hi << 32) | in.U32();
  };
  auto fixed = [&in](std::size_t n) {
    Bytes b = ToBytes(in.Take(n));
    b.resize(n, 0);
    return b;
  };
  const std::uint8_t flags = in.Byte();
  const std::uint8_t more = in.Byte();
  sim::ReportRequest r;
  if (flags & 1) r.version = 5;
  const bool wrong_binding = (flags & 16) != 0;
  r.report_data = Must(attest::NoiseBindingReportData(
      ToBytes((wrong_binding ? e.stale_key : e.server_key)->public_key())));
  r.measurement = (flags & 32) ? fixed(48) : e.measurement;
  std::optional<std::pair<std::size_t, std::uint8_t>> tamper;
  if (flags & 64) {
    const std::size_t offset = in.U16() % 1184;
    const std::uint8_t x = in.Byte();
    if (x != 0) tamper.emplace(offset, x);
  }
  if (flags & 128) r.policy = u64();
  if (more & 1) r.vmpl = in.Byte() % 4;
  if (more & 2) r.host_data = fixed(32);
  if (more & 4) r.reported_tcb = u64();
  if (more & 8) {
    r.current_tcb = u64();
    r.committed_tcb = u64();
    r.launch_tcb = u64();
  }
  if (more & 16) r.mask_chip_key = true;
  if (more & 32) {
    const std::uint8_t k = in.Byte();
    r.signing_key = k == 0 ? attest::snp::SigningKey::kVcek
                           : k == 1 ? attest::snp::SigningKey::kVlek : attest::snp::SigningKey::kNone;
  }
  if (more & 64) r.platform_info = u64();
  if (more & 128) {
    r.guest_svn = in.U32();
    r.family_id = fixed(16);
    r.image_id = fixed(16);
  }
  Result<Bytes> evidence = BuildEvidence(e, r, !(flags & 2), !(flags & 4), !(flags & 8), tamper);
  if (!evidence.has_value()) return std::nullopt;  // a request the platform refuses
  // The signed region is 0x000-0x29F: a change there breaks the signature.
  if (wrong_binding || (tamper.has_value() && tamper->first < 0x2A0)) *expect = Expect::kReject;
  if (Verbose()) {
    std::fprintf(stderr, "  recipe flags %02x more %02x%s\n", flags, more,
                 *expect == Expect::kReject ? " (must be rejected)" : "");
  }
  return std::move(evidence).value();
}

client::ClientHandshake NewClient(noise::PipesPattern pattern, bool cached_chain) {
  Env& e = E();
  client::HandshakeOptions o;
  o.identity = e.client_key;
  o.trust = e.trust;
  if (pattern == noise::PipesPattern::kIK) o.cached_server_static = ToBytes(e.server_key->public_key());
  if (pattern == noise::PipesPattern::kXXfallback) o.cached_server_static = ToBytes(e.stale_key->public_key());
  o.at_unix_seconds = kAt;
  if (cached_chain) o.chain_cache = e.cache;
  return Must(client::ClientHandshake::New(std::move(o)));
}

// Checks what a handshake that stopped (failed or completed) may yield.
// Returns the outcome if there is a session.
std::optional<client::HandshakeOutcome> Conclude(client::ClientHandshake& c, const Bytes* evidence_sent) {
  const bool complete = c.complete();
  const bool accepted = c.verdict().has_value() && c.verdict()->accepted();
  Result<client::HandshakeOutcome> outcome = c.Finish();
  if (!outcome.has_value()) {
    CHECK(outcome.error().reason() == "noise.out_of_order");
    CHECK(!complete || !accepted);
    return std::nullopt;
  }
  // No session unless the verifier accepted.
  CHECK(complete && accepted);
  CHECK(!c.complete());  // handed over
  CHECK(outcome->verdict.accepted());
  CHECK(evidence_sent != nullptr);  // raw frames can never complete a handshake
  CHECK(outcome->session.server_payload == *evidence_sent);
  CHECK(outcome->session.remote_static == ToBytes(E().server_key->public_key()));
  // Spent.
  CHECK(!c.Finish().has_value());
  return std::move(outcome).value();
}

// Mode 0: the input's frames as the server's.
void RawHandshake(fuzz::Input& in, noise::PipesPattern pattern) {
  client::ClientHandshake c = NewClient(pattern, false);
  CHECK(c.offered() == (pattern == noise::PipesPattern::kXX ? noise::PipesPattern::kXX : noise::PipesPattern::kIK));
  (void)Must(c.Start());
  CHECK(!c.Start().has_value());  // exactly once
  for (int i = 0; i < 8 && !in.empty(); ++i) {
    const ByteView body = in.Sized();
    Result<std::optional<Bytes>> reply = c.OnFrame(body);
    if (!reply.has_value()) {
      CHECK(!c.complete());
      CHECK(!c.OnFrame(body).has_value());  // terminal
      break;
    }
    if (c.complete()) break;
  }
  CHECK(!Conclude(c, nullptr).has_value());
}

// Runs the handshake against a real server presenting `evidence`. Returns
// the client's outcome and the server's session, or nullopt.
struct Established {
  client::HandshakeOutcome outcome;
  noise::PipesSession server;
};

std::optional<Established> RealHandshake(noise::PipesPattern pattern, const Bytes& evidence, Expect expect,
                                         bool cached_chain) {
  Env& e = E();
  noise::PipesServer::Config sc;
  sc.static_key = e.server_key;
  sc.evidence = evidence;
  Result<noise::PipesServer> created = noise::PipesServer::New(std::move(sc));
  if (!created.has_value()) {
    CHECK(evidence.size() > noise::kMaxEvidenceSize);
    return std::nullopt;
  }
  noise::PipesServer server = std::move(created).value();
  client::ClientHandshake c = NewClient(pattern, cached_chain);

  std::optional<Bytes> to_server = Must(c.Start());
  int client_frames = 0;
  bool evidence_seen = false;
  while (to_server.has_value()) {
    ++client_frames;
    Result<std::optional<Bytes>> reply = server.OnFrame(*to_server);
    CHECK(reply.has_value());  // the genuine client's messages are always fine
    to_server.reset();
    if (!reply->has_value()) break;
    Result<std::optional<Bytes>> back = c.OnFrame(**reply);
    if (c.verdict().has_value()) evidence_seen = true;
    if (!back.has_value()) {
      CHECK(!c.complete());
      if (c.verdict().has_value() && !c.verdict()->accepted()) {
        // Rejected evidence: the handshake fails with the first failure.
        CHECK(back.error().code() == StatusCode::kUnauthenticated);
        const attest::Check* f = c.verdict()->first_failure();
        CHECK(f != nullptr && back.error().reason() == f->reason);
      }
      break;
    }
    to_server = std::move(*back);
  }
  // The evidence is the server's first encrypted payload: the client always
  // gets to judge it, and a rejected server gets nothing after it.
  CHECK(evidence_seen && c.verdict().has_value());
  const bool accepted = c.verdict()->accepted();
  if (!accepted) CHECK(!to_server.has_value() && !c.complete());
  if (Verbose()) {
    const attest::Check* f = c.verdict()->first_failure();
    std::fprintf(stderr, "  verdict %s %s (client frames %d)\n", accepted ? "accepted" : "rejected",
                 f != nullptr ? f->reason.c_str() : "", client_frames);
  }
  if (expect == Expect::kAccept) CHECK(accepted);
  if (expect == Expect::kReject) CHECK(!accepted);
  // The same verdict as the verifier on its own.
  if (!cached_chain) {
    client::EvidenceVerification v =
        client::VerifyServerEvidence(evidence, ToBytes(e.server_key->public_key()), *e.trust, kAt);
    CHECK(v.verdict.accepted() == accepted);
    CHECK(v.claims.has_value() == accepted);
  }

  std::optional<client::HandshakeOutcome> outcome = Conclude(c, &evidence);
  CHECK(outcome.has_value() == accepted);
  if (!outcome.has_value()) return std::nullopt;
  CHECK(outcome->session.pattern == pattern);
  CHECK(server.complete());
  noise::PipesSession s = Must(server.TakeSession());
  CHECK(s.pattern == pattern);
  return Established{std::move(*outcome), std::move(s)};
}

// The session after the handshake.
class Session {
 public:
  Session(fuzz::Input& in, Established est)
      : in_(in), core_(std::move(est.outcome.session.transport)), server_(std::move(est.server.transport)) {}

  void Run() {
    int ops = 0;
    while (!in_.empty() && ++ops <= 200) {
      switch (in_.Byte() % 7) {
        case 0:
          SealRequest();
          break;
        case 1: {
          const ByteView record = in_.Sized();
          SendRecord(record);
          break;
        }
        case 2:
          SendResponse();
          break;
        case 3: {
          session::Close close{static_cast<StatusCode>(in_.Byte() % 12), in_.SmallString()};
          Result<Bytes> record = session::EncodeClose(close);
          if (record.has_value()) SendRecord(*record);
          break;
        }
        case 4: {
          const ByteView body = in_.Sized();
          Open(ToBytes(body), std::nullopt);
          break;
        }
        case 5: {
          const ByteView message = in_.Sized();
          const std::uint8_t count = in_.Byte();
          Result<session::Chunker> chunker = session::Chunker::New(ToBytes(message));
          if (!chunker.has_value()) break;
          for (std::uint8_t i = 0; i < count && !chunker->done(); ++i) SendRecord(chunker->Next());
          break;
        }
        case 6: {
          const ByteView record = in_.Sized();
          // Never delivered: the client's next decrypt fails.
          if (server_.Encrypt(record).has_value()) skipped_ = true;
          break;
        }
      }
      CHECK(core_.in_flight() == in_flight_.size());
      CHECK(core_.in_flight() <= session::kMaxInFlightRequests);
      if (core_.failed() || core_.closed()) CHECK(core_.in_flight() == 0);
    }
  }

 private:
  bool Ended() const { return core_.failed() || core_.closed(); }

  std::uint32_t ReadId() {
    const std::uint8_t b = in_.Byte();
    if (b == 0xff) return in_.U32();
    if (b >= 0xf0 && !in_flight_.empty()) {
      auto it = in_flight_.begin();
      std::advance(it, static_cast<long>(b % in_flight_.size()));
      return it->first;
    }
    return b;
  }

  // u8 kind (mod 5: whoami, put, get, delete, list); put: small key, u16
  // value size * 17 (chunked when large); get/delete: small key; list: small
  // prefix, small token, u16 limit.
  void SealRequest() {
    session::RequestBody body;
    switch (in_.Byte() % 5) {
      case 0:
        body = session::WhoamiRequest{};
        break;
      case 1: {
        std::string key = in_.SmallString();
        body = session::PutRequest{std::move(key), Bytes(std::size_t{in_.U16()} * 17, 0xa5)};
        break;
      }
      case 2:
        body = session::GetRequest{in_.SmallString()};
        break;
      case 3:
        body = session::DeleteRequest{in_.SmallString()};
        break;
      case 4: {
        std::string prefix = in_.SmallString();
        Bytes token = ToBytes(in_.Small());
        body = session::ListRequest{std::move(prefix), std::move(token), in_.U16()};
        break;
      }
    }
    const session::Request copy{0, body};
    const std::size_t before = core_.in_flight();
    const bool ended = Ended();
    std::uint32_t id = 0;
    Result<std::vector<Bytes>> frames = core_.SealRequest(body, &id);
    if (!frames.has_value()) {
      const Status& s = frames.error();
      if (ended) {
        CHECK(IsSessionFailed(s));
      } else if (before >= session::kMaxInFlightRequests) {
        CHECK(s.reason() == "client.too_many_in_flight");
      } else {
        // The caller's mistake: the session goes on.
        CHECK(s.reason().substr(0, 8) == "session.");
        CHECK(!session::EncodeRequest(session::Request{1, copy.body}).has_value());
      }
      CHECK(core_.in_flight() == before);
      return;
    }
    CHECK(!ended && before < session::kMaxInFlightRequests);
    CHECK(id != 0 && in_flight_.count(id) == 0);
    in_flight_[id] = copy.operation();
    // The server reads exactly that request.
    CHECK(!frames->empty());
    std::optional<session::Message> got;
    for (const Bytes& f : *frames) {
      CHECK(!got.has_value());
      Result<Bytes> record = server_.Decrypt(f);
      CHECK(record.has_value());
      Result<std::optional<session::Message>> m = server_reader_.OnRecord(*record);
      CHECK(m.has_value());
      if (m->has_value()) got = std::move(**m);
    }
    CHECK(got.has_value() && std::holds_alternative<session::Request>(*got));
    CHECK(std::get<session::Request>(*got) == (session::Request{id, copy.body}));
  }

  // u8 kind (mod 4: error, ok with a result for the op, ok with a result
  // for another op, ok get result of u16 * 17 bytes), u8 op (for error and
  // mismatches), then the id (ReadId).
  void SendResponse() {
    const std::uint8_t kind = in_.Byte() % 4;
    const auto op = static_cast<session::Operation>(in_.Byte() % 5 + 1);
    const std::uint32_t id = ReadId();
    auto it = in_flight_.find(id);
    const session::Operation real = it != in_flight_.end() ? it->second : op;
    auto result_for = [this](session::Operation o) -> session::ResponseResult {
      switch (o) {
        case session::Operation::kWhoami:
          return session::WhoamiResult{std::string(64, 'a')};
        case session::Operation::kPut:
          return session::PutResult{};
        case session::Operation::kGet:
          return session::GetResult{ToBytes(in_.Small())};
        case session::Operation::kDelete:
          return session::DeleteResult{};
        case session::Operation::kList:
          return session::ListResult{{"k1", "k2"}, ToBytes(in_.Small())};
      }
      return session::PutResult{};
    };
    session::Response r;
    switch (kind) {
      case 0:
        r = session::Response::Error(id, op, static_cast<StatusCode>(in_.Byte() % 11 + 1), "workload.not_found");
        break;
      case 1:
        r = session::Response::Ok(id, result_for(real));
        break;
      case 2:
        r = session::Response::Ok(id, result_for(op));
        break;
      case 3:
        r = session::Response::Ok(id, session::GetResult{Bytes(std::size_t{in_.U16()} * 17, 0x3c)});
        break;
    }
    Result<Bytes> message = session::EncodeResponse(r);
    if (!message.has_value()) return;
    std::vector<Bytes> records = Must(session::SplitIntoRecords(std::move(message).value()));
    for (const Bytes& record : records) SendRecord(record);
  }

  void SendRecord(ByteView record) {
    Result<Bytes> body = server_.Encrypt(record);
    if (!body.has_value()) return;  // over the Noise message size
    Open(std::move(body).value(), ToBytes(record));
  }

  // `plaintext`: the record inside `body` when the server encrypted it.
  void Open(const Bytes& body, std::optional<Bytes> plaintext) {
    const bool ended = Ended();
    const std::map<std::uint32_t, session::Operation> in_flight_before = in_flight_;
    // What a reader fed the same records says (only while the client reads,
    // and only about frames that decrypt: the first skipped nonce breaks
    // the stream for good).
    std::optional<Result<std::optional<session::Message>>> expected;
    if (!ended && plaintext.has_value() && !skipped_) expected = mirror_.OnRecord(*plaintext);
    Result<std::optional<session::Message>> got = core_.OpenFrame(body);
    if (ended) {
      CHECK(!got.has_value() && IsSessionFailed(got.error()));
      return;
    }
    if (!got.has_value()) {
      if (Verbose()) std::fprintf(stderr, "  session failed: %s\n", ReasonOf(got.error()).c_str());
      CHECK(core_.failed() && core_.in_flight() == 0);
      in_flight_.clear();
      if (!expected.has_value()) {
        // A frame that does not decrypt (noise.decrypt_failed, or
        // noise.message_too_short for one shorter than a tag).
        CHECK(got.error().reason().substr(0, 6) == "noise.");
        return;
      }
      if (!expected->has_value()) {
        CHECK(got.error() == expected->error());
        return;
      }
      // The reader accepted it: the client refused the response it
      // completes (MessageReader lets only responses and closes through).
      CHECK(expected->value().has_value());
      const auto* r = std::get_if<session::Response>(&*expected->value());
      CHECK(r != nullptr);
      auto it = in_flight_before.find(r->id);
      if (it == in_flight_before.end()) {
        CHECK(got.error().reason() == "client.unexpected_response");
      } else {
        CHECK(it->second != r->operation && got.error().reason() == "client.operation_mismatch");
      }
      return;
    }
    CHECK(!core_.failed());
    CHECK(expected.has_value() && expected->has_value());  // a frame that decrypts, read like the mirror
    if (!got->has_value()) {
      CHECK(!expected->value().has_value());
      return;
    }
    CHECK(expected->value().has_value() && *expected->value() == **got);
    const session::Message& m = **got;
    if (const auto* r = std::get_if<session::Response>(&m)) {
      auto it = in_flight_.find(r->id);
      CHECK(it != in_flight_.end() && it->second == r->operation);  // only for a request in flight
      in_flight_.erase(it);
      if (Verbose()) std::fprintf(stderr, "  response id %u code %d\n", r->id, static_cast<int>(r->code));
    } else {
      CHECK(std::holds_alternative<session::Close>(m));
      CHECK(core_.closed());
      in_flight_.clear();
      if (Verbose()) std::fprintf(stderr, "  close %s\n", std::get<session::Close>(m).reason.c_str());
    }
  }

  fuzz::Input& in_;
  client::SessionCore core_;
  noise::Transport server_;
  session::MessageReader server_reader_{session::MessageReader::Sender::kClient};
  session::MessageReader mirror_{session::MessageReader::Sender::kServer};
  std::map<std::uint32_t, session::Operation> in_flight_;
  bool skipped_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  E();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  fuzz::Input in(data, size);
  const std::uint8_t b = in.Byte();
  const int mode = b % 4;
  const auto pattern = static_cast<noise::PipesPattern>((b / 4) % 3);
  if (mode == 0) {
    RawHandshake(in, pattern);
    return 0;
  }
  Bytes evidence;
  Expect expect = Expect::kAny;
  if (mode == 1) {
    evidence = ToBytes(in.Sized());
  } else if (mode == 2) {
    std::optional<Bytes> made = MakeRecipeEvidence(in, &expect);
    if (!made.has_value()) return 0;
    evidence = std::move(*made);
  } else {
    evidence = E().genuine_evidence;
    expect = Expect::kAccept;
  }
  std::optional<Established> est = RealHandshake(pattern, evidence, expect, /*cached_chain=*/mode == 3);
  if (!est.has_value()) return 0;
  Session session(in, std::move(*est));
  session.Run();
  return 0;
}
