// Dial(): TCP and WebSocket FrameConnections on Boost.Asio / Beast.
//
// Each connection owns its io_context and runs it only inside its own calls,
// so the API is blocking: an operation is started asynchronously, the context
// runs until the operation completes or the deadline passes, and on a
// deadline the socket is closed (a timed-out connection is not reused: the
// protocol state after a partial read or write is unknown). Names are
// resolved by resolve.h, which returns at the deadline even while getaddrinfo
// is stalled (Asio's resolver cannot be interrupted). Asio and Beast report
// errors as error_codes, which become Status here; the few calls that can
// throw (allocation, io_context creation, a thread) are caught at the edges.
#include "perimeter/client/frame_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <exception>
#include <optional>
#include <vector>

#include "client/resolve.h"
#include "perimeter/noise/framing.h"

namespace perimeter::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

Status FromError(const error_code& ec, bool timed_out, std::string_view what) {
  if (timed_out) return UnavailableError(kConnectionTimeout, "client: " + std::string(what) + " timed out");
  if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == websocket::error::closed ||
      ec == asio::error::broken_pipe) {
    return UnavailableError(kConnectionClosed, "client: the server closed the connection (" + ec.message() + ")");
  }
  if (ec == websocket::error::message_too_big) {
    return InvalidArgumentError(kBadFrame, "client: a WebSocket message over 65,535 bytes");
  }
  return UnavailableError(kConnectionIo, "client: " + std::string(what) + ": " + ec.message());
}

// Runs `ioc` until the operation started by `start` calls its completion, or
// the deadline passes; then `cancel` closes the socket and the operation is
// drained. Returns the operation's error and whether it timed out.
template <typename Start, typename Cancel>
std::pair<error_code, bool> RunOp(asio::io_context& ioc, Deadline deadline, Start start, Cancel cancel) {
  std::optional<error_code> result;
  start([&result](error_code ec) { result = ec; });
  ioc.restart();
  while (!result.has_value() && Clock::now() < deadline) {
    if (ioc.run_one_until(deadline) == 0 && ioc.stopped()) break;
  }
  if (result.has_value()) return {*result, false};
  cancel();
  ioc.restart();
  while (!result.has_value()) {
    if (ioc.run_one() == 0) break;
  }
  return {result.value_or(asio::error::operation_aborted), true};
}

Status ConnectSocket(asio::io_context& ioc, tcp::socket& socket, const Endpoint& e, Deadline deadline) {
  // Never blocks past the deadline, even on a stalled DNS lookup (resolve.h).
  PERIMETER_ASSIGN_OR_RETURN(std::vector<tcp::endpoint> results, internal::ResolveTcp(e.host, e.port, deadline));
  auto [ec, timed_out] = RunOp(
      ioc, deadline,
      [&](auto done) { asio::async_connect(socket, results, [done](error_code ec2, const tcp::endpoint&) { done(ec2); }); },
      [&] {
        error_code ignored;
        socket.close(ignored);
      });
  if (timed_out) return UnavailableError(kConnectionTimeout, "client: connecting to " + e.ToString() + " timed out");
  if (ec) return UnavailableError(kConnectFailed, "client: cannot connect to " + e.ToString() + ": " + ec.message());
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  return Status::Ok();
}

class TcpConnection final : public FrameConnection {
 public:
  TcpConnection() : socket_(ioc_) {}
  ~TcpConnection() override { Close(); }

  Status Open(const Endpoint& e, Deadline deadline) { return ConnectSocket(ioc_, socket_, e, deadline); }

  Status Send(ByteView body, Deadline deadline) override {
    if (body.empty() || body.size() > noise::kMaxFrameBodySize) {
      return InvalidArgumentError(kBadFrame, "client: a frame body is 1..65535 bytes");
    }
    if (broken_) return UnavailableError(kConnectionClosed, "client: the connection is closed");
    PERIMETER_ASSIGN_OR_RETURN(Bytes frame, noise::EncodeFrame(body));
    auto [ec, timed_out] = RunOp(
        ioc_, deadline,
        [&](auto done) {
          asio::async_write(socket_, asio::buffer(frame), [done](error_code ec2, std::size_t) { done(ec2); });
        },
        [&] { Close(); });
    if (ec || timed_out) {
      Close();
      return FromError(ec, timed_out, "sending");
    }
    return Status::Ok();
  }

  Result<Bytes> Receive(Deadline deadline) override {
    if (broken_) return UnavailableError(kConnectionClosed, "client: the connection is closed");
    std::uint8_t header[2];
    PERIMETER_RETURN_IF_ERROR(ReadExactly(MutableByteView(header, 2), deadline));
    const std::size_t length = LoadBigEndian16(header);
    if (length == 0) {
      Close();
      return InvalidArgumentError(kBadFrame, "client: the server sent an empty frame");
    }
    Bytes body(length);
    PERIMETER_RETURN_IF_ERROR(ReadExactly(body, deadline));
    return body;
  }

  void Close() override {
    broken_ = true;
    error_code ignored;
    if (socket_.is_open()) {
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      socket_.close(ignored);
    }
  }

 private:
  Status ReadExactly(MutableByteView out, Deadline deadline) {
    auto [ec, timed_out] = RunOp(
        ioc_, deadline,
        [&](auto done) {
          asio::async_read(socket_, asio::buffer(out.data(), out.size()),
                           [done](error_code ec2, std::size_t) { done(ec2); });
        },
        [&] { Close(); });
    if (ec || timed_out) {
      Close();
      return FromError(ec, timed_out, "receiving");
    }
    return Status::Ok();
  }

  asio::io_context ioc_;
  tcp::socket socket_;
  bool broken_ = false;
};

class WebSocketConnection final : public FrameConnection {
 public:
  WebSocketConnection() : ws_(ioc_) {}
  ~WebSocketConnection() override { Close(); }

  Status Open(const Endpoint& e, Deadline deadline) {
    PERIMETER_RETURN_IF_ERROR(ConnectSocket(ioc_, ws_.next_layer(), e, deadline));
    // No permessage-deflate (Beast's default is off; set it explicitly).
    websocket::permessage_deflate pmd;
    pmd.client_enable = false;
    pmd.server_enable = false;
    ws_.set_option(pmd);
    ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(http::field::sec_websocket_protocol, std::string(kWebSocketSubprotocol));
      req.set(http::field::user_agent, "secure-perimeter-client/1");
    }));
    ws_.read_message_max(noise::kMaxFrameBodySize);
    ws_.binary(true);
    websocket::response_type response;
    const std::string host = (e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host) + ":" +
                             std::to_string(e.port);
    auto [ec, timed_out] = RunOp(
        ioc_, deadline, [&](auto done) { ws_.async_handshake(response, host, e.path, [done](error_code ec2) { done(ec2); }); },
        [&] { Close(); });
    if (timed_out) {
      Close();
      return UnavailableError(kConnectionTimeout, "client: the WebSocket upgrade timed out");
    }
    if (ec) {
      Close();
      return UnavailableError(kConnectFailed, "client: WebSocket upgrade at " + e.ToString() + " failed: " +
                                                  ec.message() + " (HTTP " + std::to_string(response.result_int()) +
                                                  ")");
    }
    const auto selected = response[http::field::sec_websocket_protocol];
    const std::string protocol(selected.data(), selected.size());
    if (protocol != kWebSocketSubprotocol) {
      Close();
      return FailedPreconditionError(kWebSocketRefused, "client: the server selected subprotocol '" +
                                                            protocol + "', not " +
                                                            std::string(kWebSocketSubprotocol));
    }
    if (!response[http::field::sec_websocket_extensions].empty()) {
      Close();
      return FailedPreconditionError(kWebSocketRefused, "client: the server negotiated a WebSocket extension");
    }
    return Status::Ok();
  }

  Status Send(ByteView body, Deadline deadline) override {
    if (body.empty() || body.size() > noise::kMaxFrameBodySize) {
      return InvalidArgumentError(kBadFrame, "client: a frame body is 1..65535 bytes");
    }
    if (broken_) return UnavailableError(kConnectionClosed, "client: the connection is closed");
    auto [ec, timed_out] = RunOp(
        ioc_, deadline,
        [&](auto done) {
          ws_.async_write(asio::buffer(body.data(), body.size()), [done](error_code ec2, std::size_t) { done(ec2); });
        },
        [&] { Close(); });
    if (ec || timed_out) {
      Close();
      return FromError(ec, timed_out, "sending");
    }
    return Status::Ok();
  }

  Result<Bytes> Receive(Deadline deadline) override {
    if (broken_) return UnavailableError(kConnectionClosed, "client: the connection is closed");
    beast::flat_buffer buffer;
    auto [ec, timed_out] = RunOp(
        ioc_, deadline,
        [&](auto done) { ws_.async_read(buffer, [done](error_code ec2, std::size_t) { done(ec2); }); },
        [&] { Close(); });
    if (ec || timed_out) {
      Close();
      return FromError(ec, timed_out, "receiving");
    }
    if (!ws_.got_binary() || buffer.size() == 0) {
      Close();
      return InvalidArgumentError(kBadFrame, "client: the server sent a text or empty WebSocket message");
    }
    const auto data = buffer.cdata();
    const auto* p = static_cast<const std::uint8_t*>(data.data());
    return Bytes(p, p + data.size());
  }

  void Close() override {
    broken_ = true;
    error_code ignored;
    auto& socket = ws_.next_layer();
    if (socket.is_open()) {
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
    }
  }

 private:
  asio::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
  bool broken_ = false;
};

}  // namespace

Result<std::unique_ptr<FrameConnection>> Dial(const Endpoint& endpoint, Deadline deadline) {
  try {
    if (endpoint.kind == Endpoint::Kind::kTcp) {
      auto c = std::make_unique<TcpConnection>();
      PERIMETER_RETURN_IF_ERROR(c->Open(endpoint, deadline));
      return std::unique_ptr<FrameConnection>(std::move(c));
    }
    auto c = std::make_unique<WebSocketConnection>();
    PERIMETER_RETURN_IF_ERROR(c->Open(endpoint, deadline));
    return std::unique_ptr<FrameConnection>(std::move(c));
  } catch (const std::exception& e) {
    return InternalError("client.internal", std::string("client: ") + e.what());
  }
}

}  // namespace perimeter::client
