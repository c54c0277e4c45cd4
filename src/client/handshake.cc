#include "perimeter/client/handshake.h"

#include <ctime>
#include <utility>

#include "perimeter/client/evidence_verifier.h"

namespace perimeter::client {

struct ClientHandshake::State {
  HandshakeOptions options;
  std::optional<noise::PipesClient> pipes;
  std::optional<attest::Verdict> verdict;
  std::optional<attest::snp::Claims> claims;
};

ClientHandshake::ClientHandshake(std::unique_ptr<State> state) : state_(std::move(state)) {}
ClientHandshake::ClientHandshake(ClientHandshake&&) noexcept = default;
ClientHandshake& ClientHandshake::operator=(ClientHandshake&&) noexcept = default;
ClientHandshake::~ClientHandshake() = default;

Result<ClientHandshake> ClientHandshake::New(HandshakeOptions options) {
  if (options.identity == nullptr) {
    return InvalidArgumentError("client.missing_identity", "client: a handshake needs the client's static key");
  }
  if (options.trust == nullptr) {
    return InvalidArgumentError("client.missing_trust", "client: a handshake needs a trust configuration");
  }
  auto state = std::make_unique<State>();
  state->options = std::move(options);
  State* s = state.get();  // stable: the State lives on the heap for the handshake's life
  noise::PipesClient::Config config;
  config.static_key = s->options.identity;
  config.cached_server_static = s->options.cached_server_static;
  config.verify_server = [s](ByteView server_static, ByteView evidence) -> Status {
    const std::int64_t at = s->options.at_unix_seconds != 0 ? s->options.at_unix_seconds
                                                            : static_cast<std::int64_t>(std::time(nullptr));
    EvidenceVerification v =
        VerifyServerEvidence(evidence, server_static, *s->options.trust, at, s->options.chain_cache.get());
    s->verdict = v.verdict;
    if (!v.verdict.accepted()) {
      const attest::Check* f = v.verdict.first_failure();
      const std::string reason = f != nullptr ? f->reason : "client.evidence_rejected";
      return UnauthenticatedError(reason, "client: the server's evidence was rejected: " +
                                              (f != nullptr ? f->id + " failed (" + f->reason + ")" : "no check ran"));
    }
    s->claims = std::move(v.claims);
    return Status::Ok();
  };
  PERIMETER_ASSIGN_OR_RETURN(noise::PipesClient pipes, noise::PipesClient::New(std::move(config)));
  state->pipes.emplace(std::move(pipes));
  return ClientHandshake(std::move(state));
}

noise::PipesPattern ClientHandshake::offered() const { return state_->pipes->offered(); }

Result<Bytes> ClientHandshake::Start() { return state_->pipes->Start(); }

Result<std::optional<Bytes>> ClientHandshake::OnFrame(ByteView body) { return state_->pipes->OnFrame(body); }

bool ClientHandshake::complete() const { return state_->pipes->complete(); }

const std::optional<attest::Verdict>& ClientHandshake::verdict() const { return state_->verdict; }

Result<HandshakeOutcome> ClientHandshake::Finish() {
  if (!complete() || !state_->verdict.has_value() || !state_->claims.has_value() || !state_->verdict->accepted()) {
    return FailedPreconditionError("noise.out_of_order", "client: the handshake is not complete");
  }
  PERIMETER_ASSIGN_OR_RETURN(noise::PipesSession session, state_->pipes->TakeSession());
  return HandshakeOutcome{std::move(session), *state_->verdict, *state_->claims};
}

}  // namespace perimeter::client
