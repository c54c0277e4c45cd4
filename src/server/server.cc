#include "perimeter/server/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "perimeter/noise/framing.h"
#include "perimeter/server/connection.h"
#include "perimeter/server/log.h"
#include "perimeter/session/limits.h"
#include "server/write_queue.h"

namespace perimeter::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

constexpr std::string_view kTransportTcp = "tcp";
constexpr std::string_view kTransportWebSocket = "websocket";
constexpr std::string_view kTransportHttp = "http";
constexpr std::string_view kTransportProbe = "probe";

// What one response can put in a connection's write queue: every record
// carries a 16-byte tag and, on TCP, a 2-byte length; a chunked message has
// a 13-byte header per record. get and list answers may carry a whole
// message (a 1 MiB value, or 1,000 keys); the others fit one small record.
constexpr std::size_t kRecordOverhead = 16 + 2;
constexpr std::size_t kLargestResponseBytes =
    session::kMaxMessageSize +
    (session::kMaxMessageSize / session::kMaxChunkDataSize + 1) * (session::kChunkHeaderSize + kRecordOverhead);
constexpr std::size_t kSmallResponseBytes = 512;
static_assert(kLargestResponseBytes * 2 <= kMinTotalWriteQueueBytes);

std::size_t MaxResponseBytes(const session::Request& r) {
  switch (r.operation()) {
    case session::Operation::kGet:
    case session::Operation::kList:
      return kLargestResponseBytes;
    case session::Operation::kWhoami:
    case session::Operation::kPut:
    case session::Operation::kDelete:
      return kSmallResponseBytes;
  }
  return kLargestResponseBytes;
}

// Roughly what a complete request holds in memory.
std::size_t RequestBytes(const session::Request& r) {
  return 64 + std::visit(
                  [](const auto& body) -> std::size_t {
                    using T = std::decay_t<decltype(body)>;
                    if constexpr (std::is_same_v<T, session::PutRequest>) {
                      return body.key.size() + body.value.size();
                    } else if constexpr (std::is_same_v<T, session::GetRequest> ||
                                         std::is_same_v<T, session::DeleteRequest>) {
                      return body.key.size();
                    } else if constexpr (std::is_same_v<T, session::ListRequest>) {
                      return body.prefix.size() + body.page_token.size();
                    } else {
                      return 0;
                    }
                  },
                  r.body);
}

// Complete requests waiting to be executed on one connection: reading stops
// (the rest wait in the socket) once there are this many, or once they hold
// a largest message's worth of bytes.
constexpr std::size_t kMaxQueuedRequests = 4;
constexpr std::size_t kMaxQueuedRequestBytes = session::kMaxMessageSize;

class NoiseSession;

// State shared by the listeners and every connection. Declared so that the
// io_context and the worker pool are destroyed first (their pending handlers
// own sessions, whose destructors use the rest).
struct Core {
  ServerOptions options;
  EvidenceSource* evidence = nullptr;
  WorkloadService* service = nullptr;
  Metrics* metrics = nullptr;

  std::atomic<bool> draining{false};
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> probe_connections{0};
  // Bytes queued to send on every connection, plus reservations for
  // responses being produced. Outlives the sessions (declared before io).
  internal::SendBudget budget;

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::uint64_t, std::weak_ptr<NoiseSession>> sessions;  // GUARDED_BY(mu)
  std::uint64_t next_session_id = 0;                              // GUARDED_BY(mu)

  bool ready() const {
    return !draining.load() && evidence->evidence() != nullptr && service->store_ready();
  }

  // Destroyed first, in this order: pool (joined by Stop), then io_context.
  asio::io_context io;
  asio::thread_pool workers;

  Core(const ServerOptions& o, EvidenceSource* e, WorkloadService* s, Metrics* m)
      : options(o),
        evidence(e),
        service(s),
        metrics(m),
        budget(o.max_total_write_queue_bytes),
        io(o.io_threads),
        workers(static_cast<std::size_t>(o.worker_threads)) {}
};

// One open connection's place in max_connections and the gauges; released
// by the destructor on every path.
class Slot {
 public:
  // `counter` (core->connections or core->probe_connections) already counts it.
  Slot(Core* core, std::string_view transport, std::atomic<std::size_t>* counter)
      : core_(core), transport_(transport), counter_(counter) {
    core_->metrics->ConnectionOpened(transport_);
  }
  Slot(Slot&& o) noexcept
      : core_(std::exchange(o.core_, nullptr)), transport_(o.transport_), counter_(o.counter_) {}
  Slot& operator=(Slot&&) = delete;
  Slot(const Slot&) = delete;
  ~Slot() {
    if (core_ == nullptr) return;
    core_->metrics->ConnectionClosed(transport_);
    counter_->fetch_sub(1);
    core_->cv.notify_all();
  }
  void Retag(std::string_view transport) {
    core_->metrics->ConnectionClosed(transport_);
    transport_ = transport;
    core_->metrics->ConnectionOpened(transport_);
  }

 private:
  Core* core_;
  std::string_view transport_;
  std::atomic<std::size_t>* counter_;
};

std::optional<Slot> Admit(Core& core, std::string_view transport) {
  const bool probe = transport == kTransportProbe;
  std::atomic<std::size_t>& counter = probe ? core.probe_connections : core.connections;
  const std::size_t limit = probe ? kMaxProbeConnections : core.options.max_connections;
  const std::string_view reason = probe ? "probe_limit" : "limit";
  const std::size_t n = counter.fetch_add(1) + 1;
  if (n > limit) {
    counter.fetch_sub(1);
    core.metrics->ConnectionRejected(reason);
    LogEvent(LogLevel::kDebug, "connection.rejected",
             {{"reason", std::string(reason)}, {"transport", std::string(transport)}});
    return std::nullopt;
  }
  return std::optional<Slot>(std::in_place, &core, transport, &counter);
}

// ---------------------------------------------------------------------------
// NoiseSession: drives a Connection over one transport. Every member is
// touched only on strand_ (the socket's executor).
class NoiseSession : public std::enable_shared_from_this<NoiseSession> {
 public:
  NoiseSession(Core& core, asio::any_io_executor strand, Slot slot)
      : core_(core),
        strand_(std::move(strand)),
        slot_(std::move(slot)),
        timer_(strand_),
        write_timer_(strand_),
        queue_(&core_.budget) {}
  virtual ~NoiseSession() {
    if (reserved_ + credit_ != 0) core_.budget.Release(reserved_ + credit_);
  }
  NoiseSession(const NoiseSession&) = delete;
  NoiseSession& operator=(const NoiseSession&) = delete;

  // On the strand, once the transport is ready for frames.
  void Begin() {
    Connection::Options o;
    o.static_key = core_.evidence->static_key();
    o.evidence = core_.evidence->evidence();
    o.limits = core_.options.session;
    o.metrics = core_.metrics;
    Result<std::unique_ptr<Connection>> conn = Connection::New(std::move(o), Clock::now());
    if (!conn.has_value()) {
      LogEvent(LogLevel::kError, "session.create_failed", {StatusCodeField(conn.error()), StatusReasonField(conn.error())});
      Finish(CloseKind::kAbort);
      return;
    }
    conn_ = std::move(conn).value();
    {
      std::lock_guard<std::mutex> lock(core_.mu);
      id_ = ++core_.next_session_id;
      core_.sessions[id_] = weak_from_this();
      registered_ = true;
    }
    if (core_.draining.load()) {
      Apply(conn_->Drain(Clock::now()));
      if (finished_) return;
    }
    ArmTimer();
    MaybeRead();
  }

  void PostDrain() {
    asio::post(strand_, [self = shared_from_this()] {
      if (self->finished_ || self->conn_ == nullptr) return;
      self->Apply(self->conn_->Drain(Clock::now()));
    });
  }

  // Forced close (Stop).
  void PostAbort() {
    asio::post(strand_, [self = shared_from_this()] { self->Finish(CloseKind::kAbort); });
  }

 protected:
  // Reads one frame body; completes with OnFrame() or OnReadError().
  virtual void ReadFrame() = 0;
  // Writes `wire` (the queue's front, already wrapped); completes with
  // OnWriteDone(). The write's completion handler must hold `wire`: the
  // transport may read it until then, even after an abort.
  virtual void WriteFrame(std::shared_ptr<const Bytes> wire) = 0;
  // The transport's form of a frame body (TCP: the length prefix).
  virtual Result<Bytes> Wrap(Bytes body) = 0;
  // Ends the transport: kGraceful after a CLOSE record, kAbort otherwise.
  virtual void CloseTransport(CloseKind kind) = 0;

  void OnFrame(ByteView body) {
    reading_ = false;
    if (finished_) return;
    Apply(conn_->OnFrame(body, Clock::now()));
    MaybeRead();
  }

  void OnReadError() {
    reading_ = false;
    if (finished_) return;
    Finish(CloseKind::kAbort);
  }

  void OnWriteDone(const ErrorCode& ec) {
    writing_ = false;
    write_timer_.cancel();
    if (finished_) return;
    if (ec) {
      Finish(CloseKind::kAbort);
      return;
    }
    queue_.PopFront();
    if (!queue_.empty()) {
      StartWrite();
    } else if (closing_) {
      Finish(CloseKind::kGraceful);
      return;
    }
    // Room was made: the next request's response may fit now.
    PumpWork();
    MaybeRead();
  }

  Core& core_;
  asio::any_io_executor strand_;
  bool finished_ = false;
  bool reading_ = false;
  bool writing_ = false;

 private:
  // Reading pauses while the responses wait for the peer to read them, and
  // while enough complete requests wait to be executed; OnWriteDone and the
  // end of each request resume it.
  void MaybeRead() {
    if (reading_ || finished_ || closing_ || conn_ == nullptr || conn_->closed() || conn_->draining()) return;
    if (queue_.bytes() > core_.options.max_write_queue_bytes) return;
    if (work_.size() >= kMaxQueuedRequests || work_bytes_ >= kMaxQueuedRequestBytes) return;
    reading_ = true;
    ReadFrame();
  }

  void Apply(ConnectionOutput out) {
    if (finished_) return;
    for (Bytes& frame : out.frames) {
      Result<Bytes> wire = Wrap(std::move(frame));
      if (!wire.has_value()) {
        Finish(CloseKind::kAbort);
        return;
      }
      // A response's frames use up the room reserved for it first, so that
      // the budget never counts them twice.
      const std::size_t prepaid = std::min(credit_, wire->size());
      credit_ -= prepaid;
      queue_.Push(std::move(wire).value(), prepaid);
    }
    if (out.close == CloseKind::kAbort) {
      Finish(CloseKind::kAbort);
      return;
    }
    if (out.close == CloseKind::kGraceful) {
      // The CLOSE record is the session's last word: nothing received
      // before it and not yet executed is executed after it.
      closing_ = true;
      DropWork();
    }
    if (!closing_) {
      for (PendingRequest& r : out.requests) {
        work_bytes_ += RequestBytes(r.request);
        work_.push_back(std::move(r));
      }
    }
    if (!writing_ && !queue_.empty()) StartWrite();
    if (closing_ && !writing_ && queue_.empty()) {
      Finish(CloseKind::kGraceful);
      return;
    }
    PumpWork();
    ArmTimer();
  }

  void StartWrite() {
    writing_ = true;
    write_timer_.expires_after(core_.options.write_timeout);
    write_timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
      if (ec == asio::error::operation_aborted || self->finished_ || !self->writing_) return;
      LogEvent(LogLevel::kDebug, "session.write_timeout");
      self->Finish(CloseKind::kAbort);
    });
    WriteFrame(queue_.Front());
  }

  void DropWork() {
    work_.clear();
    work_bytes_ = 0;
  }

  // Requests run one at a time per connection, in arrival order. One starts
  // only when its largest possible response fits: beside what this
  // connection has queued, within max_write_queue_bytes (or the queue is
  // empty), and within the server-wide budget, where the room is reserved
  // until the response is queued. Otherwise it waits: OnWriteDone (this
  // connection's queue drains) or the budget's wake-up (others' do) resumes.
  void PumpWork() {
    if (working_ || work_.empty() || finished_) return;
    if (closing_) {
      DropWork();
      return;
    }
    const std::size_t need = MaxResponseBytes(work_.front().request);
    const std::size_t queued = queue_.bytes();
    if (queued != 0 && queued + need > core_.options.max_write_queue_bytes) return;
    if (!core_.budget.TryReserve(need)) {
      WaitForBudget(need);
      return;
    }
    reserved_ = need;
    working_ = true;
    PendingRequest request = std::move(work_.front());
    work_.pop_front();
    work_bytes_ -= RequestBytes(request.request);
    asio::post(core_.workers, [self = shared_from_this(), request = std::move(request)] {
      session::Response response = self->core_.service->Execute(request.user_id, request.request);
      asio::post(self->strand_, [self, response = std::move(response)]() mutable {
        self->working_ = false;
        // The response's frames take over its reservation (Apply may start
        // the next request, with a reservation of its own); the rest goes.
        self->credit_ = std::exchange(self->reserved_, 0);
        if (!self->finished_) self->Apply(self->conn_->OnResponse(std::move(response), Clock::now()));
        if (self->credit_ != 0) self->core_.budget.Release(std::exchange(self->credit_, 0));
        if (self->finished_) return;
        self->PumpWork();
        self->MaybeRead();
      });
    });
    MaybeRead();  // the backlog shrank
  }

  // The wake-up holds the session: while it waits it may have nothing else
  // pending (no read, no write, no timer) to keep it alive.
  void WaitForBudget(std::size_t need) {
    if (waiting_for_budget_) return;
    waiting_for_budget_ = true;
    core_.budget.Wait(need, [self = shared_from_this()] {
      asio::post(self->strand_, [self] {
        self->waiting_for_budget_ = false;
        self->PumpWork();
        self->MaybeRead();
      });
    });
  }

  void ArmTimer() {
    if (finished_ || conn_ == nullptr) return;
    std::optional<Clock::time_point> deadline = conn_->NextDeadline();
    if (deadline == armed_) return;
    armed_ = deadline;
    if (!deadline) {
      timer_.cancel();
      return;
    }
    timer_.expires_at(*deadline);
    timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
      if (ec == asio::error::operation_aborted || self->finished_) return;
      self->armed_.reset();
      self->Apply(self->conn_->OnTick(Clock::now()));
    });
  }

  void Finish(CloseKind kind) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    write_timer_.cancel();
    DropWork();
    // A write still in flight keeps its frame (and the frame stays counted)
    // until its completion handler runs.
    if (kind == CloseKind::kAbort) queue_.DropPending(/*front_in_flight=*/writing_);
    if (conn_ != nullptr) conn_->OnTransportClosed();
    if (registered_) {
      std::lock_guard<std::mutex> lock(core_.mu);
      core_.sessions.erase(id_);
      registered_ = false;
    }
    core_.cv.notify_all();
    CloseTransport(kind);
  }

  Slot slot_;
  asio::steady_timer timer_;
  asio::steady_timer write_timer_;
  std::optional<Clock::time_point> armed_;
  std::unique_ptr<Connection> conn_;
  internal::WriteQueue queue_;
  std::deque<PendingRequest> work_;  // complete requests not yet started
  std::size_t work_bytes_ = 0;       // RequestBytes of work_
  std::size_t reserved_ = 0;         // budget reserved for the running request's response
  std::size_t credit_ = 0;           // while its response is applied: the part not yet used
  bool working_ = false;
  bool waiting_for_budget_ = false;
  bool closing_ = false;
  bool registered_ = false;
  std::uint64_t id_ = 0;
};

// ---------------------------------------------------------------------------
// Raw TCP: 2-byte big-endian length, then the body; one frame read at a time.
class TcpSession final : public NoiseSession {
 public:
  TcpSession(Core& core, tcp::socket socket, Slot slot)
      : NoiseSession(core, socket.get_executor(), std::move(slot)),
        socket_(std::move(socket)),
        linger_timer_(strand_) {}

  void Run() {
    asio::dispatch(strand_, [self = std::static_pointer_cast<TcpSession>(shared_from_this())] {
      ErrorCode ignored;
      self->socket_.set_option(tcp::no_delay(true), ignored);
      self->Begin();
    });
  }

 private:
  std::shared_ptr<TcpSession> Self() { return std::static_pointer_cast<TcpSession>(shared_from_this()); }

  void ReadFrame() override {
    asio::async_read(socket_, asio::buffer(header_), [self = Self()](const ErrorCode& ec, std::size_t) {
      if (self->finished_) return self->Discard();
      if (ec) return self->OnReadError();
      const std::size_t length = LoadBigEndian16(self->header_.data());
      if (length == 0) return self->OnReadError();  // section 2.1: a zero length is an error
      self->body_.resize(length);
      asio::async_read(self->socket_, asio::buffer(self->body_), [self](const ErrorCode& ec2, std::size_t) {
        if (self->finished_) return self->Discard();
        if (ec2) return self->OnReadError();
        self->OnFrame(self->body_);
      });
    });
  }

  void WriteFrame(std::shared_ptr<const Bytes> wire) override {
    const asio::const_buffer buffer = asio::buffer(*wire);
    asio::async_write(socket_, buffer, [self = Self(), wire = std::move(wire)](const ErrorCode& ec, std::size_t) {
      self->OnWriteDone(ec);
    });
  }

  Result<Bytes> Wrap(Bytes body) override { return noise::EncodeFrame(body); }

  void CloseTransport(CloseKind kind) override {
    ErrorCode ignored;
    if (kind == CloseKind::kAbort) {
      socket_.close(ignored);
      return;
    }
    // After a CLOSE record: FIN, then wait (briefly) for the peer's FIN so
    // that unread input does not turn our close into a RST that could
    // destroy the CLOSE record in flight.
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    linger_timer_.expires_after(core_.options.linger_timeout);
    linger_timer_.async_wait([self = Self()](const ErrorCode&) {
      ErrorCode ignored2;
      self->socket_.close(ignored2);
    });
    if (!reading_) Discard();
  }

  // Reads and drops input until EOF (or the linger timer closes the socket).
  void Discard() {
    reading_ = true;
    socket_.async_read_some(asio::buffer(discard_), [self = Self()](const ErrorCode& ec, std::size_t) {
      if (ec) {
        self->reading_ = false;
        ErrorCode ignored;
        self->linger_timer_.cancel();
        self->socket_.close(ignored);
        return;
      }
      self->Discard();
    });
  }

  tcp::socket socket_;
  asio::steady_timer linger_timer_;
  std::array<std::uint8_t, 2> header_{};
  Bytes body_;
  std::array<std::uint8_t, 4096> discard_{};
};

// ---------------------------------------------------------------------------
// WebSocket: one binary message = one frame body.
class WsSession final : public NoiseSession {
 public:
  WsSession(Core& core, beast::tcp_stream stream, Slot slot)
      : NoiseSession(core, stream.get_executor(), std::move(slot)), ws_(std::move(stream)) {}

  void Accept(http::request<http::empty_body> request) {
    auto self = std::static_pointer_cast<WsSession>(shared_from_this());
    websocket::permessage_deflate pmd;
    pmd.server_enable = false;
    pmd.client_enable = false;
    ws_.set_option(pmd);
    ws_.read_message_max(noise::kMaxFrameBodySize);
    ws_.auto_fragment(false);
    ws_.binary(true);
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = core_.options.session.handshake_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::server, "secure-perimeter");
      res.set(http::field::sec_websocket_protocol, std::string(kWebSocketSubprotocol));
    }));
    // The websocket timeouts take over from the TCP stream's.
    beast::get_lowest_layer(ws_).expires_never();
    ws_.async_accept(request, [self](const ErrorCode& ec) {
      if (ec) {
        self->finished_ = true;
        ErrorCode ignored;
        beast::get_lowest_layer(self->ws_).socket().close(ignored);
        return;
      }
      self->Begin();
    });
  }

 private:
  std::shared_ptr<WsSession> Self() { return std::static_pointer_cast<WsSession>(shared_from_this()); }

  void ReadFrame() override {
    ws_.async_read(buffer_, [self = Self()](const ErrorCode& ec, std::size_t) {
      if (self->finished_) return;
      if (ec) return self->OnReadError();
      if (!self->ws_.got_binary() || self->buffer_.size() == 0) {
        self->buffer_.consume(self->buffer_.size());
        return self->OnReadError();  // a text or empty message: close 1008
      }
      const auto data = self->buffer_.cdata();
      Bytes body(static_cast<const std::uint8_t*>(data.data()),
                 static_cast<const std::uint8_t*>(data.data()) + data.size());
      self->buffer_.consume(self->buffer_.size());
      self->OnFrame(body);
    });
  }

  void WriteFrame(std::shared_ptr<const Bytes> wire) override {
    const asio::const_buffer buffer = asio::buffer(*wire);
    ws_.async_write(buffer, [self = Self(), wire = std::move(wire)](const ErrorCode& ec, std::size_t) {
      self->OnWriteDone(ec);
    });
  }

  Result<Bytes> Wrap(Bytes body) override { return body; }

  void CloseTransport(CloseKind kind) override {
    auto& socket = beast::get_lowest_layer(ws_).socket();
    if (!ws_.is_open() || (kind == CloseKind::kAbort && writing_)) {
      // The stream failed, or a write is stuck: no close handshake.
      ErrorCode ignored;
      socket.close(ignored);
      return;
    }
    const websocket::close_reason reason(kind == CloseKind::kGraceful ? websocket::close_code::normal
                                                                      : websocket::close_code::policy_error);
    ws_.async_close(reason, [self = Self()](const ErrorCode&) {
      ErrorCode ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
};

// ---------------------------------------------------------------------------
// HTTP: one request per connection: the WebSocket upgrade or a probe. On
// the probe listener (`probe_only`) there is no WebSocket.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Core& core, tcp::socket socket, Slot slot, bool probe_only = false)
      : core_(core), stream_(std::move(socket)), slot_(std::move(slot)), probe_only_(probe_only) {}

  void Run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(core_.options.max_http_header_bytes));
    parser_->body_limit(0);
    stream_.expires_after(core_.options.session.handshake_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](const ErrorCode& ec, std::size_t) {
      if (ec) {
        if (ec == http::error::header_limit || ec == http::error::body_limit || ec == http::error::unexpected_body) {
          return self->Respond(http::status::bad_request, "request refused\n", "text/plain");
        }
        return self->Close();
      }
      self->Route();
    });
  }

  void Route() {
    http::request<http::empty_body> req = parser_->release();
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));
    if (websocket::is_upgrade(req)) {
      if (probe_only_ || target != kWebSocketPath) return Respond(http::status::not_found, "not found\n", "text/plain");
      if (core_.draining.load()) {
        return Respond(http::status::service_unavailable, "draining\n", "text/plain");
      }
      if (!OffersSubprotocol(req)) {
        return Respond(http::status::bad_request, "subprotocol secure-perimeter.v1 required\n", "text/plain");
      }
      slot_->Retag(kTransportWebSocket);
      auto ws = std::make_shared<WsSession>(core_, std::move(stream_), std::move(*slot_));
      slot_.reset();
      ws->Accept(std::move(req));
      return;
    }
    if (req.method() != http::verb::get) {
      return Respond(http::status::method_not_allowed, "method not allowed\n", "text/plain");
    }
    if (target == "/healthz") return Respond(http::status::ok, "ok\n", "text/plain");
    if (target == "/readyz") {
      const bool ready = core_.ready();
      core_.metrics->SetReady(ready);
      return Respond(ready ? http::status::ok : http::status::service_unavailable,
                     ready ? "ready\n" : "not ready\n", "text/plain");
    }
    if (target == "/metrics") {
      core_.metrics->SetReady(core_.ready());
      core_.metrics->SetWriteQueueBytes(core_.budget.used());
      return Respond(http::status::ok, core_.metrics->RenderPrometheus(), "text/plain; version=0.0.4; charset=utf-8");
    }
    return Respond(http::status::not_found, "not found\n", "text/plain");
  }

  static bool OffersSubprotocol(const http::request<http::empty_body>& req) {
    const auto range = req.equal_range(http::field::sec_websocket_protocol);
    for (auto it = range.first; it != range.second; ++it) {
      std::string_view list(it->value().data(), it->value().size());
      while (!list.empty()) {
        const std::size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (item == kWebSocketSubprotocol) return true;
      }
    }
    return false;
  }

  void Respond(http::status status, std::string body, std::string_view content_type) {
    response_.emplace(status, 11);
    response_->set(http::field::server, "secure-perimeter");
    response_->set(http::field::content_type, std::string(content_type));
    response_->set(http::field::cache_control, "no-store");
    response_->keep_alive(false);
    response_->body() = std::move(body);
    response_->prepare_payload();
    stream_.expires_after(core_.options.write_timeout);
    http::async_write(stream_, *response_, [self = shared_from_this()](const ErrorCode&, std::size_t) {
      self->Close();
    });
  }

  void Close() {
    ErrorCode ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  Core& core_;
  beast::tcp_stream stream_;
  std::optional<Slot> slot_;
  const bool probe_only_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
};

Result<tcp::endpoint> ResolveEndpoint(std::string_view text) {
  PERIMETER_ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(text));
  const std::string host = hp.host == "localhost" ? "127.0.0.1" : hp.host;
  ErrorCode ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) {
    return InvalidArgumentError("server.bad_endpoint",
                                "server: '" + hp.host + "' is not an IP address (or localhost)");
  }
  return tcp::endpoint(address, hp.port);
}

std::string FormatEndpoint(const tcp::endpoint& ep) {
  const std::string host = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(ep.port());
}

}  // namespace

// ---------------------------------------------------------------------------
struct Server::Impl {
  explicit Impl(const ServerOptions& o, EvidenceSource* e, WorkloadService* s, Metrics* m)
      : core(std::make_unique<Core>(o, e, s, m)),
        tcp_acceptor(asio::make_strand(core->io)),
        http_acceptor(asio::make_strand(core->io)),
        probe_acceptor(asio::make_strand(core->io)),
        // On a strand of its own: ScheduleRefresh (after a refresh on a
        // worker) and Stop's cancel reach it from different threads.
        refresh_timer(asio::make_strand(core->io)),
        guard(core->io.get_executor()) {}

  Status Listen(tcp::acceptor& acceptor, const std::string& address, std::string& bound) {
    PERIMETER_ASSIGN_OR_RETURN(tcp::endpoint ep, ResolveEndpoint(address));
    ErrorCode ec;
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return UnavailableError("server.bind_failed", "server: cannot listen on " + address + ": " + ec.message());
    }
    bound = FormatEndpoint(acceptor.local_endpoint(ec));
    return Status::Ok();
  }

  void AcceptTcp() {
    tcp_acceptor.async_accept(asio::make_strand(core->io), [this](const ErrorCode& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !tcp_acceptor.is_open()) return;
      if (!ec) {
        std::optional<Slot> slot = Admit(*core, kTransportTcp);
        if (slot) {
          std::make_shared<TcpSession>(*core, std::move(socket), std::move(*slot))->Run();
        } else {
          ErrorCode ignored;
          socket.close(ignored);
        }
      }
      AcceptTcp();
    });
  }

  void AcceptHttp() {
    http_acceptor.async_accept(asio::make_strand(core->io), [this](const ErrorCode& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !http_acceptor.is_open()) return;
      if (!ec) {
        std::optional<Slot> slot = Admit(*core, kTransportHttp);
        if (slot) {
          std::make_shared<HttpSession>(*core, std::move(socket), std::move(*slot))->Run();
        } else {
          ErrorCode ignored;
          socket.close(ignored);
        }
      }
      AcceptHttp();
    });
  }

  // The probe listener: its own connection count (kMaxProbeConnections),
  // outside max_connections.
  void AcceptProbe() {
    probe_acceptor.async_accept(asio::make_strand(core->io), [this](const ErrorCode& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !probe_acceptor.is_open()) return;
      if (!ec) {
        std::optional<Slot> slot = Admit(*core, kTransportProbe);
        if (slot) {
          std::make_shared<HttpSession>(*core, std::move(socket), std::move(*slot), /*probe_only=*/true)->Run();
        } else {
          ErrorCode ignored;
          socket.close(ignored);
        }
      }
      AcceptProbe();
    });
  }

  // On refresh_timer's strand.
  void ScheduleRefresh() {
    if (refresh_stopped || core->options.evidence_refresh.count() <= 0) return;
    refresh_timer.expires_after(core->options.evidence_refresh);
    refresh_timer.async_wait([this](const ErrorCode& ec) {
      if (ec) return;
      asio::post(core->workers, [this] {
        Status s = core->evidence->Refresh();
        core->metrics->EvidenceRefreshed(s.ok());
        if (s.ok()) {
          LogEvent(LogLevel::kInfo, "evidence.refreshed");
        } else {
          LogEvent(LogLevel::kWarn, "evidence.refresh_failed", {StatusCodeField(s), StatusReasonField(s)});
        }
        asio::post(refresh_timer.get_executor(), [this] { ScheduleRefresh(); });
      });
    });
  }

  std::vector<std::shared_ptr<NoiseSession>> LiveSessions() {
    std::vector<std::shared_ptr<NoiseSession>> live;
    std::lock_guard<std::mutex> lock(core->mu);
    for (auto& [id, weak] : core->sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    return live;
  }

  std::unique_ptr<Core> core;
  tcp::acceptor tcp_acceptor;
  tcp::acceptor http_acceptor;
  tcp::acceptor probe_acceptor;
  asio::steady_timer refresh_timer;
  bool refresh_stopped = false;  // on refresh_timer's strand
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::vector<std::thread> threads;
  std::string tcp_address;
  std::string http_address;
  std::string probe_address;
  std::mutex lifecycle_mu;
  bool drained = false;  // GUARDED_BY(lifecycle_mu)
  bool stopped = false;  // GUARDED_BY(lifecycle_mu)
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, EvidenceSource* evidence,
                                              WorkloadService* service, Metrics* metrics) {
  if (evidence == nullptr || service == nullptr || metrics == nullptr || options.io_threads < 1 ||
      options.io_threads > kMaxThreads || options.worker_threads < 1 || options.worker_threads > kMaxThreads ||
      options.max_connections == 0 || options.max_total_write_queue_bytes < kMinTotalWriteQueueBytes) {
    return InvalidArgumentError("server.bad_options", "server: missing dependencies or bad limits");
  }
  if (options.listen.empty() && options.http_listen.empty()) {
    return InvalidArgumentError("server.bad_options", "server: no listener configured");
  }
  auto impl = std::make_unique<Impl>(options, evidence, service, metrics);
  if (!options.listen.empty()) {
    PERIMETER_RETURN_IF_ERROR(impl->Listen(impl->tcp_acceptor, options.listen, impl->tcp_address));
  }
  if (!options.http_listen.empty()) {
    PERIMETER_RETURN_IF_ERROR(impl->Listen(impl->http_acceptor, options.http_listen, impl->http_address));
  }
  if (!options.probe_listen.empty()) {
    PERIMETER_RETURN_IF_ERROR(impl->Listen(impl->probe_acceptor, options.probe_listen, impl->probe_address));
  }
  std::unique_ptr<Server> server(new Server(std::move(impl)));
  Impl& i = *server->impl_;
  if (!options.listen.empty()) asio::post(i.tcp_acceptor.get_executor(), [&i] { i.AcceptTcp(); });
  if (!options.http_listen.empty()) asio::post(i.http_acceptor.get_executor(), [&i] { i.AcceptHttp(); });
  if (!options.probe_listen.empty()) asio::post(i.probe_acceptor.get_executor(), [&i] { i.AcceptProbe(); });
  asio::post(i.refresh_timer.get_executor(), [&i] { i.ScheduleRefresh(); });
  metrics->SetReady(i.core->ready());
  for (int t = 0; t < options.io_threads; ++t) {
    i.threads.emplace_back([&i] { i.core->io.run(); });
  }
  LogEvent(LogLevel::kInfo, "server.listening",
           {{"tcp", i.tcp_address}, {"http", i.http_address}, {"probe", i.probe_address},
            {"io_threads", options.io_threads},
            {"worker_threads", options.worker_threads}, {"max_connections", options.max_connections}});
  return server;
}

std::string Server::tcp_address() const { return impl_->tcp_address; }
std::string Server::http_address() const { return impl_->http_address; }
std::string Server::probe_address() const { return impl_->probe_address; }
std::size_t Server::write_queue_bytes() const { return impl_->core->budget.used(); }
bool Server::ready() const { return impl_->core->ready(); }
std::size_t Server::connections() const { return impl_->core->connections.load(); }

void Server::Drain() {
  {
    std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
    if (impl_->drained || impl_->stopped) return;
    impl_->drained = true;
  }
  Impl& i = *impl_;
  Core& core = *i.core;
  core.draining.store(true);
  core.metrics->SetReady(false);
  LogEvent(LogLevel::kInfo, "server.draining", {{"drain_timeout_ms", static_cast<long long>(core.options.drain_timeout.count())}});
  asio::post(i.tcp_acceptor.get_executor(), [&i] {
    ErrorCode ignored;
    i.tcp_acceptor.close(ignored);
  });
  for (auto& s : i.LiveSessions()) s->PostDrain();
  {
    std::unique_lock<std::mutex> lock(core.mu);
    const bool done = core.cv.wait_for(lock, core.options.drain_timeout, [&] { return core.sessions.empty(); });
    LogEvent(done ? LogLevel::kInfo : LogLevel::kWarn, "server.drained",
             {{"remaining_sessions", static_cast<unsigned long>(core.sessions.size())}});
  }
  Stop();
}

void Server::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  Impl& i = *impl_;
  Core& core = *i.core;
  core.draining.store(true);
  core.metrics->SetReady(false);
  asio::post(i.tcp_acceptor.get_executor(), [&i] {
    ErrorCode ignored;
    i.tcp_acceptor.close(ignored);
  });
  asio::post(i.http_acceptor.get_executor(), [&i] {
    ErrorCode ignored;
    i.http_acceptor.close(ignored);
  });
  asio::post(i.probe_acceptor.get_executor(), [&i] {
    ErrorCode ignored;
    i.probe_acceptor.close(ignored);
  });
  asio::post(i.refresh_timer.get_executor(), [&i] {
    i.refresh_stopped = true;
    i.refresh_timer.cancel();
  });
  for (auto& s : i.LiveSessions()) s->PostAbort();
  // Give the posted closes a moment to run, then stop the loop regardless.
  i.guard.reset();
  {
    std::unique_lock<std::mutex> lock(core.mu);
    core.cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return core.sessions.empty(); });
  }
  core.io.stop();
  for (std::thread& t : i.threads) t.join();
  i.threads.clear();
  core.workers.join();
  // Sessions destroyed from here on (with the io_context) wake no one.
  core.budget.Close();
  LogEvent(LogLevel::kInfo, "server.stopped");
}

}  // namespace perimeter::server
