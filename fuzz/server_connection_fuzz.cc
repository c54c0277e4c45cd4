// Fuzzes server::Connection (include/perimeter/server/connection.h), the
// server side of one client connection, end to end in memory: the Noise
// Pipes handshake, the session protocol (MessageReader, chunk assembly,
// in-flight limits, deadlines, draining) and the WorkloadService over a real
// RecordStore (SQLite in a temporary directory created once per process; the
// records an input wrote are deleted after it, so every input starts from an
// empty store).
//
// A genuine client (noise::PipesClient with the fixed client key of
// fuzz_keys.h, accepting any evidence) runs in-process; its handshake
// messages are real, so the fuzzer reaches the open session, where the input
// supplies *plaintext* records that the harness encrypts with the client's
// transport keys. The server's ephemeral keys are fresh on every run (no
// hook), so nothing encrypted is stored in the corpus: seeds are plain.
//
// Input layout:
//   byte 0: pattern = b % 3 (0 XX; 1 IK with the server's key cached; 2 IK
//           with a stale key, answered by XXfallback) and upfront =
//           (b / 3) % 3 genuine handshake steps done before the ops (0 none;
//           1 the client's first message; 2 the whole handshake).
//   then ops until the input ends, each an opcode byte (mod 12) and its
//   arguments (fuzz_input.h: u16/u32 big-endian; "sized" = u16 length +
//   bytes; "small" = u8 length + bytes):
//     0 RECORD   sized plaintext record: encrypted with the client's
//                transport if it has a session, else sent as a raw body
//     1 RAW      sized frame body sent as is
//     2 REQUEST  a well-formed request (see MakeRequest), chunked as needed
//     3 BIGPUT   id, u16 size selector, u8 records to send now: a chunked
//                put; the records not sent are queued for CONTINUE
//     4 CONTINUE u8 queue selector, u8 count: more queued chunk records
//     5 EXECUTE  u8 selector: executes one pending request (WorkloadService)
//                and hands the response to OnResponse
//     6 RESPOND  a response of the harness's making (see MakeResponse) for
//                an id in flight or any id
//     7 TICK     u8: advance the fake clock (b < 128: b * 100 ms, else
//                (b - 127) * 5 s) and call OnTick
//     8 DEADLINE u8: jump to NextDeadline() (or 1 ms before it) and OnTick
//     9 DRAIN
//    10 GENUINE  the client's next genuine handshake message, if any
//    11 CLOSED   OnTransportClosed()
//   at the end every pending request is executed, then the connection is
//   drained.
//
// Invariants (abort() on violation):
//   * once an output carries a close (kGraceful or kAbort), the connection
//     is closed and every later output is empty: no frames, no requests;
//   * a kAbort output carries no frames and no requests; in particular a
//     failed handshake (and the handshake timeout) is answered with nothing;
//   * a handshake output carries at most one frame; outputs in the open
//     state decrypt with the client's keys and pass the client's
//     MessageReader; a kGraceful output ends with exactly one CLOSE record,
//     and a CLOSE is never followed by anything;
//   * requests are handed out only in the open state, bound to the client's
//     user_id, exactly as a mirror MessageReader fed the same records
//     completes them (no request appears that the client did not send), with
//     distinct ids while in flight, and at most 16 in flight;
//   * OnResponse sends something only for an id that was handed out and not
//     answered yet: then exactly that response (or the workload.internal
//     stand-in for one that does not encode); any other id is dropped
//     silently; no response ever appears in any other output;
//   * a record the mirror reader rejects closes the session with CLOSE
//     carrying the reader's reason; an empty record or an undecryptable body
//     aborts;
//   * OnTick before NextDeadline() does nothing; at or after it, it closes;
//   * a genuine handshake completes with the pattern asked for and the
//     user_id of the client key.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <stdlib.h>

#include "fuzz_check.h"
#include "fuzz_input.h"
#include "fuzz_keys.h"
#include "perimeter/keys/identifiers.h"
#include "perimeter/keys/keyring.h"
#include "perimeter/keys/master_secret.h"
#include "perimeter/keys/pod_keys.h"
#include "perimeter/noise/pipes.h"
#include "perimeter/server/connection.h"
#include "perimeter/server/metrics.h"
#include "perimeter/server/workload_service.h"
#include "perimeter/session/chunker.h"
#include "perimeter/session/codec.h"
#include "perimeter/session/limits.h"
#include "perimeter/session/message_reader.h"
#include "perimeter/store/record_store.h"

namespace {

using namespace perimeter;  // NOLINT
using server::CloseKind;
using server::Connection;
using server::ConnectionOutput;
using server::PendingRequest;
using Clock = Connection::Clock;

#define CHECK(cond) PERIMETER_FUZZ_CHECK(cond)

// PERIMETER_FUZZ_VERBOSE=1: a trace of what each input does (seed checks).
bool Verbose() {
  static const bool v = std::getenv("PERIMETER_FUZZ_VERBOSE") != nullptr;
  return v;
}

template <typename T>
T Must(Result<T> r) {
  if (!r.has_value()) std::abort();  // harness bug, not a finding
  return std::move(r).value();
}

// Process-wide: keys, the store (in a temporary directory removed at exit)
// and the metrics.
struct Env {
  std::string dir;
  std::unique_ptr<keys::PodKeys> pod_keys;
  std::unique_ptr<store::RecordStore> store;
  server::Metrics metrics;
  std::shared_ptr<const crypto::XdhPrivateKey> server_key = fuzz::FixedKey(fuzz::kServerStaticLabel);
  std::shared_ptr<const crypto::XdhPrivateKey> client_key = fuzz::FixedKey(fuzz::kClientStaticLabel);
  std::shared_ptr<const crypto::XdhPrivateKey> stale_key = fuzz::FixedKey(fuzz::kStaleServerStaticLabel);
  std::shared_ptr<const Bytes> evidence = std::make_shared<const Bytes>(ToBytes(fuzz::kFuzzEvidence));
  std::string user_id;
};

std::string* g_dir = nullptr;

void RemoveDir() {
  std::error_code ec;
  if (g_dir != nullptr) std::filesystem::remove_all(*g_dir, ec);
}

Env* NewEnv() {
  auto* env = new Env();
  std::string tmpl = (std::filesystem::temp_directory_path() / "perimeter-fuzz-conn.XXXXXX").string();
  CHECK(::mkdtemp(tmpl.data()) != nullptr);
  env->dir = tmpl;
  g_dir = new std::string(tmpl);
  std::atexit(RemoveDir);
  keys::Keyring ring;
  CHECK(ring.Add(Must(keys::MasterSecret::Generate(1))).ok());
  env->pod_keys = Must(keys::PodKeys::New("pod-fuzz", ring));
  env->store = Must(store::RecordStore::Open(env->dir + "/records.sqlite", env->pod_keys.get(),
                                             store::StoreOptions{store::SyncMode::kNormalNotPowerSafe, 5000}));
  env->user_id = Must(keys::UserIdFromStaticKey(ToBytes(env->client_key->public_key())));
  return env;
}

Env& E() {
  static Env* env = NewEnv();
  return *env;
}

// Deletes every record of the fuzz user.
void ClearStore() {
  Env& e = E();
  for (int round = 0; round < 100; ++round) {
    Result<store::ListPage> page = e.store->List(e.user_id, "", "", store::kMaxListLimit);
    CHECK(page.has_value());
    if (page->keys.empty()) return;
    for (const std::string& k : page->keys) CHECK(e.store->Delete(e.user_id, k).ok());
  }
  std::abort();
}

std::string ReasonOf(const Status& s) { return std::string(s.reason()); }

class Driver {
 public:
  Driver(fuzz::Input& in, noise::PipesPattern pattern)
      : in_(in), service_(E().store.get(), &E().metrics), pattern_(pattern) {
    Connection::Options o;
    o.static_key = E().server_key;
    o.evidence = E().evidence;
    o.metrics = &E().metrics;
    conn_ = Must(Connection::New(std::move(o), now_));
    noise::PipesClient::Config c;
    c.static_key = E().client_key;
    if (pattern == noise::PipesPattern::kIK) c.cached_server_static = ToBytes(E().server_key->public_key());
    if (pattern == noise::PipesPattern::kXXfallback) c.cached_server_static = ToBytes(E().stale_key->public_key());
    c.verify_server = [](ByteView, ByteView) { return Status::Ok(); };
    client_.emplace(Must(noise::PipesClient::New(std::move(c))));
  }

  void Upfront(int steps) {
    if (steps == 1) Genuine();
    if (steps == 2) {
      for (int i = 0; i < 3 && !conn_->handshake_complete(); ++i) Genuine();
      // Nothing interfered: the handshake must have completed as asked.
      CHECK(conn_->handshake_complete() && session_.has_value());
      CHECK(conn_->pattern() == pattern_);
      CHECK(session_->pattern == pattern_);
      CHECK(conn_->user_id() == E().user_id);
    }
  }

  void Run() {
    int ops = 0;
    while (!in_.empty() && ++ops <= 200) {
      switch (in_.Byte() % 12) {
        case 0: {
          const ByteView record = in_.Sized();
          SendRecord(record);
          break;
        }
        case 1: {
          const ByteView body = in_.Sized();
          SendBody(body, std::nullopt);
          break;
        }
        case 2: {
          std::optional<session::Request> r = MakeRequest();
          if (r.has_value()) SendRequest(*r, /*send_now=*/SIZE_MAX);
          break;
        }
        case 3:
          BigPut();
          break;
        case 4:
          Continue();
          break;
        case 5:
          Execute();
          break;
        case 6: {
          std::optional<session::Response> r = MakeResponse();
          if (r.has_value()) Respond(*r);
          break;
        }
        case 7: {
          const std::uint8_t b = in_.Byte();
          now_ += b < 128 ? std::chrono::milliseconds(100) * b : std::chrono::milliseconds(5000) * (b - 127);
          Tick();
          break;
        }
        case 8: {
          const std::uint8_t b = in_.Byte();
          if (std::optional<Clock::time_point> d = conn_->NextDeadline()) {
            const Clock::time_point t = (b & 1) ? *d - std::chrono::milliseconds(1) : *d;
            if (t > now_) now_ = t;
          }
          Tick();
          break;
        }
        case 9:
          Drain();
          break;
        case 10:
          Genuine();
          break;
        case 11:
          conn_->OnTransportClosed();
          CHECK(conn_->closed());
          closed_seen_ = true;
          executing_.clear();
          break;
      }
      CheckState();
    }
    // Answer everything still pending, then drain.
    while (!pending_.empty()) {
      PendingRequest p = std::move(pending_.front());
      pending_.pop_front();
      Respond(service_.Execute(p.user_id, p.request));
      CheckState();
    }
    Drain();
    CheckState();
  }

 private:
  enum class Phase { kHandshake, kOpen, kDraining, kClosed };

  Phase PhaseOf() const {
    if (conn_->closed()) return Phase::kClosed;
    if (conn_->draining()) return Phase::kDraining;
    if (conn_->handshake_complete()) return Phase::kOpen;
    return Phase::kHandshake;
  }

  void CheckState() {
    CHECK(conn_->in_flight() <= session::kMaxInFlightRequests);
    if (closed_seen_) CHECK(conn_->closed());
    if (conn_->closed()) CHECK(conn_->in_flight() == 0 && !conn_->NextDeadline().has_value());
  }

  // Checks invariants common to every output and decodes the session
  // frames. Returns the messages the frames carry (open/draining phases).
  std::vector<session::Message> Observe(const ConnectionOutput& out, Phase before) {
    std::vector<session::Message> messages;
    if (Verbose() && (out.close != CloseKind::kNone || !out.requests.empty() || !out.frames.empty())) {
      std::fprintf(stderr, "  phase %d -> frames %zu requests %zu close %d\n", static_cast<int>(before),
                   out.frames.size(), out.requests.size(), static_cast<int>(out.close));
    }
    if (closed_seen_ || before == Phase::kClosed) {
      CHECK(out.frames.empty() && out.requests.empty() && out.close == CloseKind::kNone);
      return messages;
    }
    if (out.close == CloseKind::kAbort) CHECK(out.frames.empty() && out.requests.empty());
    if (out.close != CloseKind::kNone) {
      CHECK(conn_->closed());
      closed_seen_ = true;
      executing_.clear();
    } else {
      CHECK(!conn_->closed());
    }
    for (const Bytes& f : out.frames) CHECK(!f.empty() && f.size() <= 65535);
    if (before == Phase::kHandshake) {
      CHECK(out.frames.size() <= 1);
      CHECK(out.requests.empty());
      CHECK(out.close != CloseKind::kGraceful);
      return messages;
    }
    // Open or draining: the frames are transport messages to the client.
    CHECK(session_.has_value());
    bool closed = false;
    for (const Bytes& f : out.frames) {
      CHECK(!closed);  // nothing after a CLOSE
      Result<Bytes> record = session_->transport.Decrypt(f);
      CHECK(record.has_value());
      CHECK(record->size() <= session::kMaxRecordSize);
      Result<std::optional<session::Message>> m = from_server_.OnRecord(*record);
      CHECK(m.has_value());
      if (!m->has_value()) continue;
      if (const auto* c = std::get_if<session::Close>(&**m)) {
        closed = true;
        if (Verbose()) std::fprintf(stderr, "  CLOSE %s\n", c->reason.c_str());
      }
      if (const auto* r = std::get_if<session::Response>(&**m); r != nullptr && Verbose()) {
        std::fprintf(stderr, "  response id %u code %d %s\n", r->id, static_cast<int>(r->code), r->reason.c_str());
      }
      messages.push_back(std::move(**m));
    }
    CHECK(closed == (out.close == CloseKind::kGraceful));
    if (before == Phase::kDraining) CHECK(out.requests.empty());
    for (const PendingRequest& p : out.requests) {
      CHECK(p.user_id == E().user_id);
      CHECK(executing_.insert(p.request.id).second);  // distinct while in flight
      pending_.push_back(p);
    }
    return messages;
  }

  static const session::Close& CloseIn(const std::vector<session::Message>& m) {
    CHECK(!m.empty() && std::holds_alternative<session::Close>(m.back()));
    return std::get<session::Close>(m.back());
  }

  // `plaintext`: the record inside `body` when the harness encrypted it.
  void SendBody(ByteView body, std::optional<ByteView> plaintext) {
    const Phase before = PhaseOf();
    // What the connection's reader should do with the record.
    bool expect_abort = false;
    std::optional<Status> reader_error;
    std::optional<session::Message> completed;
    if (before == Phase::kOpen) {
      if (!plaintext.has_value() || plaintext->empty()) {
        expect_abort = true;
      } else {
        CHECK(!mirror_.failed());
        Result<std::optional<session::Message>> m = mirror_.OnRecord(*plaintext);
        if (!m.has_value()) {
          reader_error = m.error();
        } else if (m->has_value()) {
          completed = std::move(**m);
        }
      }
    }
    ConnectionOutput out = conn_->OnFrame(body, now_);
    std::vector<session::Message> messages = Observe(out, before);
    if (before == Phase::kDraining) CHECK(out.frames.empty() && out.close == CloseKind::kNone);
    if (before != Phase::kOpen) return;
    if (expect_abort) {
      CHECK(out.close == CloseKind::kAbort);
      return;
    }
    // No response is ever sent in answer to a frame: at most the CLOSE.
    CHECK(messages.size() == (out.close == CloseKind::kGraceful ? 1u : 0u));
    if (reader_error.has_value()) {
      CHECK(out.close == CloseKind::kGraceful);
      const session::Close& c = CloseIn(messages);
      CHECK(c.code == reader_error->code() && c.reason == ReasonOf(*reader_error));
      return;
    }
    if (out.close == CloseKind::kGraceful) {
      // The only other reasons to close on a well-formed record.
      const session::Close& c = CloseIn(messages);
      CHECK(c.reason == "session.duplicate_request_id" || c.reason == "session.too_many_in_flight");
      return;
    }
    CHECK(out.close == CloseKind::kNone);
    if (completed.has_value()) {
      CHECK(out.requests.size() == 1);
      CHECK(std::holds_alternative<session::Request>(*completed));
      CHECK(out.requests[0].request == std::get<session::Request>(*completed));
    } else {
      CHECK(out.requests.empty());
    }
  }

  void SendRecord(ByteView record) {
    if (!session_.has_value()) {
      SendBody(record, std::nullopt);
      return;
    }
    Result<Bytes> body = session_->transport.Encrypt(record);
    if (!body.has_value()) return;  // over the Noise message size: not sendable
    SendBody(*body, record);
  }

  // The client's next genuine handshake message.
  void Genuine() {
    if (!client_.has_value()) return;
    Bytes body;
    if (!started_) {
      body = Must(client_->Start());
      started_ = true;
    } else if (next_.has_value()) {
      body = std::move(*next_);
      next_.reset();
    } else {
      return;
    }
    const Phase before = PhaseOf();
    ConnectionOutput out = conn_->OnFrame(body, now_);
    Observe(out, before);
    if (before != Phase::kHandshake || out.close != CloseKind::kNone) {
      client_.reset();  // the server is past this point: the client gives up
      return;
    }
    if (client_->complete() && !session_.has_value()) TakeSession();
    if (out.frames.empty()) return;
    Result<std::optional<Bytes>> reply = client_->OnFrame(out.frames[0]);
    if (!reply.has_value()) {
      client_.reset();
      return;
    }
    next_ = std::move(*reply);
    if (client_->complete()) TakeSession();
  }

  void TakeSession() {
    session_.emplace(Must(client_->TakeSession()));
    CHECK(session_->remote_static == ToBytes(E().server_key->public_key()));
    CHECK(session_->server_payload == *E().evidence);
  }

  std::uint32_t ReadId() {
    const std::uint8_t b = in_.Byte();
    if (b == 0xff) return in_.U32();
    if (b >= 0xf0 && !executing_.empty()) {
      // An id in flight (to provoke duplicates).
      auto it = executing_.begin();
      std::advance(it, static_cast<long>(b % executing_.size()));
      return *it;
    }
    return b;  // includes 0, an invalid id
  }

  // u8 id selector (ReadId), u8 kind (mod 5: whoami, put, get, delete,
  // list), then: put: small key, sized value; get/delete: small key; list:
  // small prefix, small token, u16 limit.
  std::optional<session::Request> MakeRequest() {
    session::Request r;
    r.id = ReadId();
    switch (in_.Byte() % 5) {
      case 0:
        r.body = session::WhoamiRequest{};
        break;
      case 1: {
        std::string key = in_.SmallString();
        r.body = session::PutRequest{std::move(key), ToBytes(in_.Sized())};
        break;
      }
      case 2:
        r.body = session::GetRequest{in_.SmallString()};
        break;
      case 3:
        r.body = session::DeleteRequest{in_.SmallString()};
        break;
      case 4: {
        std::string prefix = in_.SmallString();
        Bytes token = ToBytes(in_.Small());
        r.body = session::ListRequest{std::move(prefix), std::move(token), in_.U16()};
        break;
      }
    }
    return r;
  }

  void SendRequest(const session::Request& r, std::size_t send_now) {
    Result<Bytes> message = session::EncodeRequest(r);
    if (!message.has_value()) return;  // invalid (bad UTF-8, id 0, ...): RECORD covers those
    std::vector<Bytes> records = Must(session::SplitIntoRecords(std::move(message).value()));
    std::size_t i = 0;
    for (; i < records.size() && i < send_now; ++i) SendRecord(records[i]);
    if (i < records.size()) {
      queued_.emplace_back(std::make_move_iterator(records.begin() + static_cast<long>(i)),
                           std::make_move_iterator(records.end()));
    }
  }

  // A put large enough to be chunked (65,400 .. ~196,000 bytes of value).
  void BigPut() {
    session::Request r;
    r.id = ReadId();
    const std::size_t size = 65400 + static_cast<std::size_t>(in_.U16() % 4096) * 32;
    const std::uint8_t now = in_.Byte();
    Bytes value(size);
    for (std::size_t i = 0; i < size; ++i) value[i] = static_cast<std::uint8_t>(i * 7 + r.id);
    r.body = session::PutRequest{"big/" + std::to_string(r.id), std::move(value)};
    SendRequest(r, now);
  }

  void Continue() {
    const std::uint8_t which = in_.Byte();
    const std::size_t count = in_.Byte() % 4 + 1;
    if (queued_.empty()) return;
    const std::size_t q = which % queued_.size();
    for (std::size_t i = 0; i < count && !queued_[q].empty(); ++i) {
      Bytes record = std::move(queued_[q].front());
      queued_[q].pop_front();
      SendRecord(record);
    }
    if (queued_[q].empty()) queued_.erase(queued_.begin() + static_cast<long>(q));
  }

  void Execute() {
    const std::uint8_t which = in_.Byte();
    if (pending_.empty()) return;
    const std::size_t i = which % pending_.size();
    PendingRequest p = std::move(pending_[i]);
    pending_.erase(pending_.begin() + static_cast<long>(i));
    Respond(service_.Execute(p.user_id, p.request));
  }

  // u8 kind (mod 4): 0 error (u8 op, u8 code, small reason); 1 whoami result
  // (small user id); 2 get result of u16 * 17 bytes (large ones are
  // chunked); 3 list result (u8 count keys "k<i>", small token); then the
  // id (ReadId).
  std::optional<session::Response> MakeResponse() {
    session::Response r;
    switch (in_.Byte() % 4) {
      case 0: {
        const auto op = static_cast<session::Operation>(in_.Byte() % 5 + 1);
        const auto code = static_cast<StatusCode>(in_.Byte() % 12);
        r = session::Response::Error(0, op, code, in_.SmallString());
        break;
      }
      case 1:
        r = session::Response::Ok(0, session::WhoamiResult{in_.SmallString()});
        break;
      case 2: {
        Bytes value(std::size_t{in_.U16()} * 17, 0x5a);
        r = session::Response::Ok(0, session::GetResult{std::move(value)});
        break;
      }
      case 3: {
        session::ListResult l;
        const std::uint8_t n = in_.Byte();
        for (std::uint8_t i = 0; i < n; ++i) l.keys.push_back("k" + std::to_string(i));
        l.next_page_token = ToBytes(in_.Small());
        r = session::Response::Ok(0, std::move(l));
        break;
      }
    }
    r.id = ReadId();
    return r;
  }

  void Respond(const session::Response& response) {
    const Phase before = PhaseOf();
    const bool ours = executing_.count(response.id) != 0;
    if (ours) CHECK(before == Phase::kOpen || before == Phase::kDraining);
    ConnectionOutput out = conn_->OnResponse(response, now_);
    std::vector<session::Message> messages = Observe(out, before);
    CHECK(out.requests.empty());
    if (!ours) {
      // Not requested, or answered already: dropped without a word.
      CHECK(out.frames.empty() && out.close == CloseKind::kNone);
      return;
    }
    executing_.erase(response.id);
    CHECK(!messages.empty());
    CHECK(std::holds_alternative<session::Response>(messages[0]));
    const session::Response& sent = std::get<session::Response>(messages[0]);
    if (session::EncodeResponse(response).has_value()) {
      CHECK(sent == response);
    } else {
      CHECK(sent == session::Response::Error(response.id, response.operation, StatusCode::kInternal,
                                             "workload.internal"));
    }
    if (before == Phase::kDraining && executing_.empty()) {
      CHECK(messages.size() == 2 && out.close == CloseKind::kGraceful);
      CHECK(CloseIn(messages).reason == "session.server_shutdown");
    } else {
      CHECK(messages.size() == 1 && out.close == CloseKind::kNone);
    }
  }

  void Tick() {
    const Phase before = PhaseOf();
    const std::optional<Clock::time_point> deadline = conn_->NextDeadline();
    ConnectionOutput out = conn_->OnTick(now_);
    std::vector<session::Message> messages = Observe(out, before);
    CHECK(out.requests.empty());
    if (!deadline.has_value() || now_ < *deadline) {
      CHECK(out.frames.empty() && out.close == CloseKind::kNone);
      return;
    }
    CHECK(before == Phase::kHandshake || before == Phase::kOpen);
    if (before == Phase::kHandshake) {
      CHECK(out.close == CloseKind::kAbort);
    } else {
      CHECK(out.close == CloseKind::kGraceful && messages.size() == 1);
      const std::string& reason = CloseIn(messages).reason;
      CHECK(reason == "session.message_timeout" || reason == "session.idle_timeout");
    }
  }

  void Drain() {
    const Phase before = PhaseOf();
    ConnectionOutput out = conn_->Drain(now_);
    std::vector<session::Message> messages = Observe(out, before);
    CHECK(out.requests.empty());
    switch (before) {
      case Phase::kHandshake:
        CHECK(out.close == CloseKind::kAbort);
        break;
      case Phase::kOpen:
        if (executing_.empty()) {
          CHECK(out.close == CloseKind::kGraceful && messages.size() == 1);
          CHECK(CloseIn(messages).reason == "session.server_shutdown");
        } else {
          CHECK(out.frames.empty() && out.close == CloseKind::kNone && conn_->draining());
        }
        break;
      case Phase::kDraining:
      case Phase::kClosed:
        CHECK(out.frames.empty() && out.close == CloseKind::kNone);
        break;
    }
  }

  fuzz::Input& in_;
  server::WorkloadService service_;
  noise::PipesPattern pattern_;
  Clock::time_point now_ = Clock::time_point(std::chrono::hours(1000));
  std::unique_ptr<Connection> conn_;

  // The genuine client.
  std::optional<noise::PipesClient> client_;
  bool started_ = false;
  std::optional<Bytes> next_;  // its next handshake body, not sent yet
  std::optional<noise::PipesSession> session_;
  session::MessageReader from_server_{session::MessageReader::Sender::kServer};
  // Mirrors the connection's reader: fed the same records while it reads.
  session::MessageReader mirror_{session::MessageReader::Sender::kClient};

  bool closed_seen_ = false;
  std::set<std::uint32_t> executing_;           // handed out, not answered
  std::deque<PendingRequest> pending_;          // handed out, not executed
  std::deque<std::deque<Bytes>> queued_;        // chunk records not sent yet
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
  const auto pattern = static_cast<noise::PipesPattern>(b % 3);
  {
    Driver driver(in, pattern);
    driver.Upfront((b / 3) % 3);
    driver.Run();
  }
  ClearStore();
  return 0;
}
