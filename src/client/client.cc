#include "perimeter/client/client.h"

#include <exception>
#include <utility>

#include "perimeter/client/handshake.h"

namespace perimeter::client {

struct SessionFactory {
  static std::unique_ptr<Session> Make(std::unique_ptr<FrameConnection> connection, HandshakeOutcome outcome,
                                       std::chrono::milliseconds request_timeout) {
    Bytes hash = ToBytes(outcome.session.transport.handshake_hash());
    std::unique_ptr<Session> s(
        new Session(std::move(connection), SessionCore(std::move(outcome.session.transport)), request_timeout));
    s->verdict_ = std::move(outcome.verdict);
    s->claims_ = std::move(outcome.claims);
    s->pattern_ = outcome.session.pattern;
    s->server_static_ = std::move(outcome.session.remote_static);
    s->handshake_hash_ = std::move(hash);
    return s;
  }
};

Session::Session(std::unique_ptr<FrameConnection> connection, SessionCore core,
                 std::chrono::milliseconds request_timeout)
    : connection_(std::move(connection)), core_(std::move(core)), request_timeout_(request_timeout) {}

Session::~Session() { Close(); }

void Session::Close() {
  ended_ = true;
  if (connection_) connection_->Close();
}

Status Session::End(Status why) {
  Close();
  return why;
}

Result<session::Response> Session::Call(session::RequestBody body) {
  if (ended_) return FailedPreconditionError("client.session_closed", "client: the session is closed");
  const Deadline deadline = Clock::now() + request_timeout_;
  std::uint32_t id = 0;
  Result<std::vector<Bytes>> frames = core_.SealRequest(std::move(body), &id);
  if (!frames.has_value()) {
    // The caller's mistake (bad key, value too large) leaves the session usable.
    if (core_.failed()) return End(frames.error());
    return frames.error();
  }
  for (const Bytes& frame : *frames) {
    if (Status s = connection_->Send(frame, deadline); !s.ok()) return End(s);
  }
  while (true) {
    Result<Bytes> frame = connection_->Receive(deadline);
    if (!frame.has_value()) {
      const Status& e = frame.error();
      if (e.reason() == kConnectionClosed) {
        // docs/wire-protocol.md section 11: the outcome is unknown.
        return End(UnavailableError(kConnectionClosed, "client: the connection closed with request " +
                                                           std::to_string(id) + " in flight (outcome unknown)"));
      }
      return End(e);
    }
    Result<std::optional<session::Message>> message = core_.OpenFrame(*frame);
    if (!message.has_value()) return End(message.error());
    if (!message->has_value()) continue;
    if (auto* close = std::get_if<session::Close>(&**message)) {
      return End(Status(close->code, close->reason,
                        "server closed the session (" + std::string(StatusCodeName(close->code)) + ")"));
    }
    session::Response& response = std::get<session::Response>(**message);
    // Only one request is in flight at a time here, so SessionCore's check
    // that the id is in flight means it is ours.
    if (response.id != id) {
      return End(InternalError("client.internal", "client: a response to another request"));
    }
    return std::move(response);
  }
}

namespace {

Status ServerError(const session::Response& r) {
  return Status(r.code, r.reason, "server: " + std::string(StatusCodeName(r.code)));
}

}  // namespace

Result<std::string> Session::Whoami() {
  PERIMETER_ASSIGN_OR_RETURN(session::Response r, Call(session::WhoamiRequest{}));
  if (r.code != StatusCode::kOk) return ServerError(r);
  return std::get<session::WhoamiResult>(*r.result).user_id;
}

Status Session::Put(std::string_view key, ByteView value) {
  PERIMETER_ASSIGN_OR_RETURN(session::Response r, Call(session::PutRequest{std::string(key), ToBytes(value)}));
  if (r.code != StatusCode::kOk) return ServerError(r);
  return Status::Ok();
}

Result<Bytes> Session::Get(std::string_view key) {
  PERIMETER_ASSIGN_OR_RETURN(session::Response r, Call(session::GetRequest{std::string(key)}));
  if (r.code != StatusCode::kOk) return ServerError(r);
  return std::move(std::get<session::GetResult>(*r.result).value);
}

Status Session::Delete(std::string_view key) {
  PERIMETER_ASSIGN_OR_RETURN(session::Response r, Call(session::DeleteRequest{std::string(key)}));
  if (r.code != StatusCode::kOk) return ServerError(r);
  return Status::Ok();
}

Result<ListPage> Session::List(std::string_view prefix, ByteView page_token, std::uint16_t limit) {
  PERIMETER_ASSIGN_OR_RETURN(session::Response r,
                             Call(session::ListRequest{std::string(prefix), ToBytes(page_token), limit}));
  if (r.code != StatusCode::kOk) return ServerError(r);
  session::ListResult& l = std::get<session::ListResult>(*r.result);
  return ListPage{std::move(l.keys), std::move(l.next_page_token)};
}

namespace {

ConnectResult Fail(ConnectResult out, FrameConnection* connection, Status why) {
  if (connection != nullptr) connection->Close();
  out.status = std::move(why);
  out.session.reset();
  return out;
}

ConnectResult RunHandshake(std::unique_ptr<FrameConnection> connection, const std::string& cache_key,
                           const ClientOptions& options) {
  ConnectResult out;
  HandshakeOptions h;
  h.identity = options.identity;
  h.trust = options.trust;
  h.at_unix_seconds = options.at_unix_seconds;
  h.chain_cache = options.chain_cache;
  // The cache is consulted and updated under the trust configuration's
  // fingerprint only: a key verified under another configuration is never
  // offered (IK would send our static key to a server this configuration
  // has not accepted yet; known_servers.h).
  std::optional<Bytes> trust_fingerprint;
  if (options.known_servers != nullptr) {
    Result<Bytes> fp = TrustConfigFingerprint(*options.trust);
    if (fp.has_value()) {
      trust_fingerprint = std::move(fp).value();
      if (std::optional<Bytes> key = options.known_servers->Find(cache_key, *trust_fingerprint)) {
        h.cached_server_static = std::move(*key);
      }
    } else {
      out.cache_status = fp.error();  // no IK, nothing cached; the connection goes on
    }
  }
  Result<ClientHandshake> made = ClientHandshake::New(std::move(h));
  if (!made.has_value()) return Fail(std::move(out), connection.get(), made.error());
  ClientHandshake& hs = *made;
  const Deadline deadline = Clock::now() + options.handshake_timeout;

  Result<Bytes> first = hs.Start();
  if (!first.has_value()) return Fail(std::move(out), connection.get(), first.error());
  if (Status s = connection->Send(*first, deadline); !s.ok()) return Fail(std::move(out), connection.get(), s);
  while (!hs.complete()) {
    Result<Bytes> body = connection->Receive(deadline);
    if (!body.has_value()) {
      out.verdict = hs.verdict();
      return Fail(std::move(out), connection.get(), body.error());
    }
    Result<std::optional<Bytes>> reply = hs.OnFrame(*body);
    out.verdict = hs.verdict();
    // Any failure, a rejected verdict included: close, send nothing.
    if (!reply.has_value()) return Fail(std::move(out), connection.get(), reply.error());
    if (reply->has_value()) {
      if (Status s = connection->Send(**reply, deadline); !s.ok()) return Fail(std::move(out), connection.get(), s);
    }
  }
  Result<HandshakeOutcome> done = hs.Finish();
  if (!done.has_value()) return Fail(std::move(out), connection.get(), done.error());
  const noise::PipesPattern pattern = done->session.pattern;
  // The key is cached only now: the evidence was accepted and the handshake
  // (which proves the server holds the key) completed. IK needs no update.
  if (trust_fingerprint.has_value() && pattern != noise::PipesPattern::kIK) {
    out.cache_status = options.known_servers->Remember(cache_key, *trust_fingerprint, done->session.remote_static);
  }
  out.pattern = pattern;
  out.session = SessionFactory::Make(std::move(connection), std::move(done).value(), options.request_timeout);
  out.status = Status::Ok();
  return out;
}

Status CheckOptions(const ClientOptions& options) {
  if (options.trust == nullptr) {
    return InvalidArgumentError("client.missing_trust", "client: ClientOptions.trust is required");
  }
  if (options.identity == nullptr) {
    return InvalidArgumentError("client.missing_identity", "client: ClientOptions.identity is required");
  }
  return Status::Ok();
}

}  // namespace

ConnectResult ConnectOver(std::unique_ptr<FrameConnection> connection, const std::string& cache_key,
                          const ClientOptions& options) {
  if (Status s = CheckOptions(options); !s.ok()) return Fail(ConnectResult{}, connection.get(), s);
  try {
    return RunHandshake(std::move(connection), cache_key, options);
  } catch (const std::exception& e) {
    return Fail(ConnectResult{}, nullptr, InternalError("client.internal", std::string("client: ") + e.what()));
  }
}

ConnectResult Connect(std::string_view endpoint, const ClientOptions& options) {
  if (Status s = CheckOptions(options); !s.ok()) return Fail(ConnectResult{}, nullptr, s);
  Result<Endpoint> parsed = ParseEndpoint(endpoint);
  if (!parsed.has_value()) return Fail(ConnectResult{}, nullptr, parsed.error());
  Result<std::unique_ptr<FrameConnection>> connection = Dial(*parsed, Clock::now() + options.connect_timeout);
  if (!connection.has_value()) return Fail(ConnectResult{}, nullptr, connection.error());
  return ConnectOver(std::move(connection).value(), parsed->ToString(), options);
}

}  // namespace perimeter::client
