#include "perimeter/noise/pipes.h"

namespace perimeter::noise {
namespace {

Result<ProtocolName> PipesProtocol(PipesPattern p, std::string_view suite) {
  return ParseProtocolName("Noise_" + std::string(PipesPatternName(p)) + "_" + std::string(suite));
}

Result<HandshakeState> NewHandshake(PipesPattern p, std::string_view suite, Role role,
                                    std::shared_ptr<const crypto::XdhPrivateKey> s, Bytes rs,
                                    std::shared_ptr<const crypto::XdhPrivateKey> e, Bytes re) {
  HandshakeConfig config;
  PERIMETER_ASSIGN_OR_RETURN(config.protocol, PipesProtocol(p, suite));
  config.role = role;
  config.prologue = ToBytes(kPipesPrologue);
  config.local_static = std::move(s);
  config.remote_static = std::move(rs);
  config.local_ephemeral = std::move(e);
  config.remote_ephemeral = std::move(re);
  return HandshakeState::New(std::move(config));
}

Bytes WithPatternByte(PipesPattern p, ByteView message) {
  Bytes out;
  out.reserve(message.size() + 1);
  out.push_back(static_cast<std::uint8_t>(p));
  Append(out, message);
  return out;
}

Status OutOfOrder(std::string_view what) {
  return FailedPreconditionError("noise.out_of_order", std::string("noise: ") + std::string(what));
}

Status BadPatternByte() {
  return InvalidArgumentError("noise.bad_pattern_byte", "noise: unexpected pattern byte");
}

Status EmptyFrame() { return InvalidArgumentError("noise.empty_frame", "noise: empty frame"); }

// What both ends hold: the handshake in progress and, once split, the
// transport and the peer's static key. `Step` is the end's own state enum;
// it must have kFailed and kComplete. Failure and completion both drop the
// handshake state, so its ephemeral private key does not outlive it.
template <typename Step>
struct PipesEnd {
  explicit PipesEnd(Step first) : step(first) {}
  Step step;
  std::optional<HandshakeState> hs;
  std::optional<Transport> transport;
  Bytes remote_static;

  Status Fail(Status s) {
    step = Step::kFailed;
    hs.reset();
    transport.reset();
    return s;
  }
  Status Finish() {
    Result<Transport> t = hs->Split();
    if (!t.has_value()) return Fail(t.error());
    transport.emplace(std::move(t).value());
    remote_static = ToBytes(hs->remote_static());
    hs.reset();
    step = Step::kComplete;
    return Status::Ok();
  }
};

}  // namespace

std::string_view PipesPatternName(PipesPattern p) {
  switch (p) {
    case PipesPattern::kXX: return "XX";
    case PipesPattern::kIK: return "IK";
    case PipesPattern::kXXfallback: return "XXfallback";
  }
  return "?";
}

// ---------------------------------------------------------------- client

enum class ClientStep { kStart, kAwaitServer, kComplete, kFailed, kTaken };

struct PipesClient::State : PipesEnd<ClientStep> {
  using Step = ClientStep;
  State() : PipesEnd(Step::kStart) {}
  Config config;
  PipesPattern offered = PipesPattern::kXX;
  PipesPattern pattern = PipesPattern::kXX;
  Bytes server_payload;

  // Reads the server's evidence-bearing message and runs the verifier.
  Status ReadServerMessage(ByteView message) {
    Result<Bytes> payload = hs->ReadMessage(message);
    if (!payload.has_value()) return Fail(payload.error());
    if (payload->size() > kMaxEvidenceSize) {
      return Fail(InvalidArgumentError("noise.evidence_too_large", "noise: evidence over 65000 bytes"));
    }
    remote_static = ToBytes(hs->remote_static());
    if (Status v = config.verify_server(remote_static, *payload); !v.ok()) return Fail(v);
    server_payload = std::move(payload).value();
    return Status::Ok();
  }
};

PipesClient::PipesClient(std::unique_ptr<State> state) : state_(std::move(state)) {}
PipesClient::PipesClient(PipesClient&&) noexcept = default;
PipesClient& PipesClient::operator=(PipesClient&&) noexcept = default;
PipesClient::~PipesClient() = default;

Result<PipesClient> PipesClient::New(Config config) {
  if (!config.static_key) return InvalidArgumentError("noise.missing_key", "noise: client static key");
  if (!config.verify_server) {
    return InvalidArgumentError("noise.missing_verifier", "noise: a client must verify the server");
  }
  auto state = std::make_unique<State>();
  state->offered = config.cached_server_static.empty() ? PipesPattern::kXX : PipesPattern::kIK;
  state->pattern = state->offered;
  PERIMETER_ASSIGN_OR_RETURN(
      HandshakeState hs, NewHandshake(state->offered, config.suite, Role::kInitiator,
                                      config.static_key, config.cached_server_static, nullptr, {}));
  state->hs.emplace(std::move(hs));
  state->config = std::move(config);
  return PipesClient(std::move(state));
}

PipesPattern PipesClient::offered() const { return state_->offered; }
bool PipesClient::complete() const { return state_->step == State::Step::kComplete; }
bool PipesClient::failed() const { return state_->step == State::Step::kFailed; }

Result<Bytes> PipesClient::Start() {
  State& st = *state_;
  if (st.step != State::Step::kStart) return OutOfOrder("Start called twice");
  Result<Bytes> m1 = st.hs->WriteMessage({});
  if (!m1.has_value()) return st.Fail(m1.error());
  st.step = State::Step::kAwaitServer;
  return WithPatternByte(st.offered, *m1);
}

Result<std::optional<Bytes>> PipesClient::OnFrame(ByteView body) {
  State& st = *state_;
  if (st.step != State::Step::kAwaitServer) {
    if (st.step == State::Step::kFailed) {
      return FailedPreconditionError("noise.handshake_failed", "noise: the handshake has failed");
    }
    return st.Fail(OutOfOrder("frame received when none was expected"));
  }
  if (body.empty()) return st.Fail(EmptyFrame());
  const std::uint8_t byte = body[0];
  ByteView message = body.subspan(1);

  if (st.offered == PipesPattern::kXX) {
    if (byte != static_cast<std::uint8_t>(PipesPattern::kXX)) return st.Fail(BadPatternByte());
    // XX message 2: <- e, ee, s, es + evidence. Verify before revealing s.
    PERIMETER_RETURN_IF_ERROR(st.ReadServerMessage(message));
    Result<Bytes> m3 = st.hs->WriteMessage({});
    if (!m3.has_value()) return st.Fail(m3.error());
    PERIMETER_RETURN_IF_ERROR(st.Finish());
    return std::optional<Bytes>(std::move(m3).value());
  }

  // Offered IK.
  if (byte == static_cast<std::uint8_t>(PipesPattern::kIK)) {
    PERIMETER_RETURN_IF_ERROR(st.ReadServerMessage(message));
    PERIMETER_RETURN_IF_ERROR(st.Finish());
    return std::optional<Bytes>();
  }
  if (byte != static_cast<std::uint8_t>(PipesPattern::kXXfallback)) return st.Fail(BadPatternByte());
  // The server could not decrypt our IK message (its static key changed):
  // continue as responder of XXfallback with our IK ephemeral as pre-message.
  std::shared_ptr<const crypto::XdhPrivateKey> e = st.hs->local_ephemeral();
  Result<HandshakeState> fb = NewHandshake(PipesPattern::kXXfallback, st.config.suite,
                                           Role::kResponder, st.config.static_key, {}, e, {});
  if (!fb.has_value()) return st.Fail(fb.error());
  st.hs.emplace(std::move(fb).value());
  st.pattern = PipesPattern::kXXfallback;
  PERIMETER_RETURN_IF_ERROR(st.ReadServerMessage(message));
  // Reply "-> s, es" (in the fallback initiator's terms) without a pattern byte.
  Result<Bytes> reply = st.hs->WriteMessage({});
  if (!reply.has_value()) return st.Fail(reply.error());
  PERIMETER_RETURN_IF_ERROR(st.Finish());
  return std::optional<Bytes>(std::move(reply).value());
}

Result<PipesSession> PipesClient::TakeSession() {
  State& st = *state_;
  if (st.step != State::Step::kComplete) return OutOfOrder("TakeSession before completion");
  st.step = State::Step::kTaken;
  PipesSession session{std::move(*st.transport), st.pattern, std::move(st.remote_static),
                       std::move(st.server_payload)};
  st.transport.reset();
  return session;
}

// ---------------------------------------------------------------- server

enum class ServerStep { kAwaitFirst, kAwaitFinal, kComplete, kFailed, kTaken };

struct PipesServer::State : PipesEnd<ServerStep> {
  using Step = ServerStep;
  State() : PipesEnd(Step::kAwaitFirst) {}
  Config config;
  std::optional<PipesPattern> pattern;

  // Reads a client message, whose payload must be empty.
  Status ReadClientMessage(ByteView message) {
    Result<Bytes> payload = hs->ReadMessage(message);
    if (!payload.has_value()) return Fail(payload.error());
    if (!payload->empty()) {
      return Fail(InvalidArgumentError("noise.unexpected_payload",
                                       "noise: client handshake payloads must be empty"));
    }
    return Status::Ok();
  }
};

PipesServer::PipesServer(std::unique_ptr<State> state) : state_(std::move(state)) {}
PipesServer::PipesServer(PipesServer&&) noexcept = default;
PipesServer& PipesServer::operator=(PipesServer&&) noexcept = default;
PipesServer::~PipesServer() = default;

Result<PipesServer> PipesServer::New(Config config) {
  if (!config.static_key) return InvalidArgumentError("noise.missing_key", "noise: server static key");
  if (config.evidence.size() > kMaxEvidenceSize) {
    return InvalidArgumentError("noise.evidence_too_large", "noise: evidence over 65000 bytes");
  }
  // Validate the suite once, so a bad configuration fails here rather than
  // on the first connection.
  PERIMETER_RETURN_IF_ERROR(PipesProtocol(PipesPattern::kXX, config.suite));
  auto state = std::make_unique<State>();
  state->config = std::move(config);
  return PipesServer(std::move(state));
}

bool PipesServer::complete() const { return state_->step == State::Step::kComplete; }
bool PipesServer::failed() const { return state_->step == State::Step::kFailed; }
std::optional<PipesPattern> PipesServer::pattern() const { return state_->pattern; }

Result<std::optional<Bytes>> PipesServer::OnFrame(ByteView body) {
  State& st = *state_;
  const Config& cfg = st.config;
  if (st.step == State::Step::kAwaitFinal) {
    // XX message 3 or the XXfallback reply: no pattern byte.
    PERIMETER_RETURN_IF_ERROR(st.ReadClientMessage(body));
    PERIMETER_RETURN_IF_ERROR(st.Finish());
    return std::optional<Bytes>();
  }
  if (st.step != State::Step::kAwaitFirst) {
    if (st.step == State::Step::kFailed) {
      return FailedPreconditionError("noise.handshake_failed", "noise: the handshake has failed");
    }
    return st.Fail(OutOfOrder("frame received after the handshake"));
  }
  if (body.empty()) return st.Fail(EmptyFrame());
  const std::uint8_t byte = body[0];
  ByteView message = body.subspan(1);

  if (byte == static_cast<std::uint8_t>(PipesPattern::kXX)) {
    st.pattern = PipesPattern::kXX;
    Result<HandshakeState> hs =
        NewHandshake(PipesPattern::kXX, cfg.suite, Role::kResponder, cfg.static_key, {}, nullptr, {});
    if (!hs.has_value()) return st.Fail(hs.error());
    st.hs.emplace(std::move(hs).value());
    PERIMETER_RETURN_IF_ERROR(st.ReadClientMessage(message));
    Result<Bytes> m2 = st.hs->WriteMessage(cfg.evidence);
    if (!m2.has_value()) return st.Fail(m2.error());
    st.step = State::Step::kAwaitFinal;
    return std::optional<Bytes>(WithPatternByte(PipesPattern::kXX, *m2));
  }
  if (byte != static_cast<std::uint8_t>(PipesPattern::kIK)) return st.Fail(BadPatternByte());

  st.pattern = PipesPattern::kIK;
  // Client payloads are empty, so IK message 1 has exactly one size:
  // e (DHLEN), enc(s) (DHLEN + 16), enc(empty payload) (16). Any other size is
  // malformed and closed without an answer, never taken for a stale key.
  const std::size_t dhlen = cfg.static_key->public_key().size();
  if (message.size() != 2 * dhlen + 32) {
    return st.Fail(InvalidArgumentError("noise.bad_message_size",
                                        "noise: IK message 1 must be e, enc(s) and an empty payload"));
  }
  Result<HandshakeState> hs =
      NewHandshake(PipesPattern::kIK, cfg.suite, Role::kResponder, cfg.static_key, {}, nullptr, {});
  if (!hs.has_value()) return st.Fail(hs.error());
  st.hs.emplace(std::move(hs).value());
  Result<Bytes> payload = st.hs->ReadMessage(message);
  if (payload.has_value()) {
    // IK succeeded: never fall back.
    if (!payload->empty()) {
      return st.Fail(InvalidArgumentError("noise.unexpected_payload",
                                          "noise: client handshake payloads must be empty"));
    }
    Result<Bytes> m2 = st.hs->WriteMessage(cfg.evidence);
    if (!m2.has_value()) return st.Fail(m2.error());
    PERIMETER_RETURN_IF_ERROR(st.Finish());
    return std::optional<Bytes>(WithPatternByte(PipesPattern::kIK, *m2));
  }
  // Fall back only when the client's ephemeral was read and the failure is
  // an authentication failure (the client encrypted to a stale static key).
  // Malformed messages are errors, not fallbacks.
  Bytes re = ToBytes(st.hs->remote_ephemeral());
  if (!payload.error().IsUnauthenticated() || re.empty()) return st.Fail(payload.error());
  st.pattern = PipesPattern::kXXfallback;
  Result<HandshakeState> fb = NewHandshake(PipesPattern::kXXfallback, cfg.suite, Role::kInitiator,
                                           cfg.static_key, {}, nullptr, std::move(re));
  if (!fb.has_value()) return st.Fail(fb.error());
  st.hs.emplace(std::move(fb).value());
  Result<Bytes> f1 = st.hs->WriteMessage(cfg.evidence);
  if (!f1.has_value()) return st.Fail(f1.error());
  st.step = State::Step::kAwaitFinal;
  return std::optional<Bytes>(WithPatternByte(PipesPattern::kXXfallback, *f1));
}

Result<PipesSession> PipesServer::TakeSession() {
  State& st = *state_;
  if (st.step != State::Step::kComplete) return OutOfOrder("TakeSession before completion");
  st.step = State::Step::kTaken;
  PipesSession session{std::move(*st.transport), *st.pattern, std::move(st.remote_static), st.config.evidence};
  st.transport.reset();
  return session;
}

}  // namespace perimeter::noise
