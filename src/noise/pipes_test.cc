#include "perimeter/noise/pipes.h"

#include <gtest/gtest.h>

#include <functional>

#include "tests/testing/matchers.h"

namespace perimeter::noise {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

std::shared_ptr<const crypto::XdhPrivateKey> NewKey() {
  return std::make_shared<const crypto::XdhPrivateKey>(
      crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519).value());
}

Bytes Evidence() {
  Bytes e(1500);
  for (std::size_t i = 0; i < e.size(); ++i) e[i] = static_cast<std::uint8_t>(i * 13);
  return e;
}

// A verifier that accepts and records what it saw.
struct Recorder {
  Bytes server_static;
  Bytes payload;
  int calls = 0;
  ServerPayloadVerifier Verifier() {
    return [this](ByteView s, ByteView p) {
      ++calls;
      server_static = ToBytes(s);
      payload = ToBytes(p);
      return Status::Ok();
    };
  }
};

PipesClient NewClient(std::shared_ptr<const crypto::XdhPrivateKey> key, Bytes cached,
                      ServerPayloadVerifier verify) {
  PipesClient::Config c;
  c.static_key = std::move(key);
  c.cached_server_static = std::move(cached);
  c.verify_server = std::move(verify);
  return PipesClient::New(std::move(c)).value();
}

PipesServer NewServer(std::shared_ptr<const crypto::XdhPrivateKey> key) {
  PipesServer::Config c;
  c.static_key = std::move(key);
  c.evidence = Evidence();
  return PipesServer::New(std::move(c)).value();
}

// Moves frame bodies between the two until neither has anything to send or
// one fails. `tamper(index, body)` may change the body of the index-th frame.
// Returns the number of frames exchanged.
int Drive(PipesClient& client, PipesServer& server,
          const std::function<void(int, Bytes&)>& tamper = nullptr) {
  Result<Bytes> first = client.Start();
  if (!first.has_value()) return 0;
  Bytes body = std::move(first).value();
  bool to_server = true;
  int index = 0;
  while (true) {
    if (tamper) tamper(index, body);
    ++index;
    Result<std::optional<Bytes>> reply = to_server ? server.OnFrame(body) : client.OnFrame(body);
    if (!reply.has_value() || !reply->has_value()) return index;
    body = std::move(**reply);
    to_server = !to_server;
  }
}

TEST(Pipes, XXFirstContact) {
  auto ck = NewKey(), sk = NewKey();
  Recorder rec;
  PipesClient client = NewClient(ck, {}, rec.Verifier());
  PipesServer server = NewServer(sk);
  EXPECT_EQ(client.offered(), PipesPattern::kXX);
  EXPECT_EQ(Drive(client, server), 3);
  ASSERT_TRUE(client.complete());
  ASSERT_TRUE(server.complete());
  EXPECT_EQ(rec.calls, 1);
  EXPECT_EQ(rec.server_static, ToBytes(sk->public_key()));
  EXPECT_EQ(rec.payload, Evidence());
  PipesSession cs = client.TakeSession().value();
  PipesSession ss = server.TakeSession().value();
  EXPECT_EQ(cs.pattern, PipesPattern::kXX);
  EXPECT_EQ(ss.pattern, PipesPattern::kXX);
  EXPECT_EQ(ss.remote_static, ToBytes(ck->public_key()));
  EXPECT_EQ(cs.server_payload, Evidence());
  EXPECT_EQ(ToBytes(cs.transport.handshake_hash()), ToBytes(ss.transport.handshake_hash()));
  EXPECT_EQ(ss.transport.Decrypt(cs.transport.Encrypt(ToBytes("req")).value()).value(), ToBytes("req"));
  EXPECT_EQ(cs.transport.Decrypt(ss.transport.Encrypt(ToBytes("resp")).value()).value(), ToBytes("resp"));
}

TEST(Pipes, FirstFramesCarryThePatternByte) {
  auto sk = NewKey();
  Recorder rec;
  PipesClient client = NewClient(NewKey(), {}, rec.Verifier());
  PipesServer server = NewServer(sk);
  Bytes m1 = client.Start().value();
  EXPECT_EQ(m1.size(), 33u);
  EXPECT_EQ(m1[0], 0);
  Bytes m2 = **server.OnFrame(m1);
  EXPECT_EQ(m2[0], 0);
  EXPECT_EQ(m2.size(), 1 + 32 + 48 + Evidence().size() + 16);
  Bytes m3 = **client.OnFrame(m2);
  EXPECT_EQ(m3.size(), 48u + 16u);  // no pattern byte on the third frame
}

TEST(Pipes, IKWithCachedKey) {
  auto ck = NewKey(), sk = NewKey();
  Recorder rec;
  PipesClient client = NewClient(ck, ToBytes(sk->public_key()), rec.Verifier());
  PipesServer server = NewServer(sk);
  EXPECT_EQ(client.offered(), PipesPattern::kIK);
  EXPECT_EQ(Drive(client, server), 2);
  ASSERT_TRUE(client.complete());
  ASSERT_TRUE(server.complete());
  EXPECT_EQ(server.pattern(), PipesPattern::kIK);  // never falls back when IK succeeds
  EXPECT_EQ(rec.payload, Evidence());
  PipesSession cs = client.TakeSession().value();
  PipesSession ss = server.TakeSession().value();
  EXPECT_EQ(cs.pattern, PipesPattern::kIK);
  EXPECT_EQ(ss.remote_static, ToBytes(ck->public_key()));
  EXPECT_EQ(ss.transport.Decrypt(cs.transport.Encrypt(ToBytes("x")).value()).value(), ToBytes("x"));
  EXPECT_EQ(cs.transport.Decrypt(ss.transport.Encrypt(ToBytes("y")).value()).value(), ToBytes("y"));
}

TEST(Pipes, IKWithStaleKeyFallsBackToXXfallback) {
  auto ck = NewKey(), old_sk = NewKey(), new_sk = NewKey();
  Recorder rec;
  PipesClient client = NewClient(ck, ToBytes(old_sk->public_key()), rec.Verifier());
  PipesServer server = NewServer(new_sk);
  Bytes m1 = client.Start().value();
  EXPECT_EQ(m1[0], 1);
  Bytes f1 = **server.OnFrame(m1);
  EXPECT_EQ(f1[0], 2);  // XXfallback
  std::optional<Bytes> f2 = *client.OnFrame(f1);
  ASSERT_TRUE(f2.has_value());
  EXPECT_EQ(f2->size(), 48u + 16u);  // "s, es" with an empty payload; no pattern byte
  ASSERT_THAT(server.OnFrame(*f2), IsOk());
  ASSERT_TRUE(client.complete());
  ASSERT_TRUE(server.complete());
  EXPECT_EQ(rec.server_static, ToBytes(new_sk->public_key()));  // the client learns the new key
  PipesSession cs = client.TakeSession().value();
  PipesSession ss = server.TakeSession().value();
  EXPECT_EQ(cs.pattern, PipesPattern::kXXfallback);
  EXPECT_EQ(ss.pattern, PipesPattern::kXXfallback);
  EXPECT_EQ(ss.remote_static, ToBytes(ck->public_key()));
  EXPECT_EQ(ToBytes(cs.transport.handshake_hash()), ToBytes(ss.transport.handshake_hash()));
  // The server sends with the first cipher of Split, the client with the second.
  EXPECT_EQ(cs.transport.Decrypt(ss.transport.Encrypt(ToBytes("s->c")).value()).value(), ToBytes("s->c"));
  EXPECT_EQ(ss.transport.Decrypt(cs.transport.Encrypt(ToBytes("c->s")).value()).value(), ToBytes("c->s"));
}

// Every single-bit change to every frame of every flow fails the handshake
// that carried it. The party that receives the changed frame (or a later
// one) fails, and no session results, with one designed exception (Noise
// spec section 10.2, DESIGN.md section 4): a change to the encrypted part of
// an IK first message is indistinguishable, for the server, from a client
// that cached a stale key, so the server answers with XXfallback. The IK
// handshake still fails; what may complete is a new, fully authenticated
// XXfallback handshake, which we then check is sound (both sides agree on
// the handshake hash and on each other's static keys).
void ExpectEveryBitFlipFails(bool use_ik, bool stale) {
  auto ck = NewKey(), sk = NewKey(), other = NewKey();
  Bytes cached = use_ik ? ToBytes((stale ? other : sk)->public_key()) : Bytes();
  // Learn the frame sizes of a clean run.
  std::vector<std::size_t> sizes;
  {
    Recorder rec;
    PipesClient c = NewClient(ck, cached, rec.Verifier());
    PipesServer s = NewServer(sk);
    Drive(c, s, [&](int, Bytes& b) { sizes.push_back(b.size()); });
    ASSERT_TRUE(c.complete() && s.complete());
  }
  int cases = 0, fallbacks = 0;
  for (std::size_t frame = 0; frame < sizes.size(); ++frame) {
    for (std::size_t bit = 0; bit < sizes[frame] * 8; ++bit) {
      Recorder rec;
      PipesClient c = NewClient(ck, cached, rec.Verifier());
      PipesServer s = NewServer(sk);
      Drive(c, s, [&](int index, Bytes& b) {
        if (static_cast<std::size_t>(index) == frame) b[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      });
      ++cases;
      if (c.complete() && s.complete()) {
        // Only the fallback exception described above may complete.
        ASSERT_TRUE(use_ik && frame == 0 && bit >= 8 * 33) << "frame " << frame << " bit " << bit;
        ASSERT_EQ(s.pattern(), PipesPattern::kXXfallback);
        PipesSession cs = c.TakeSession().value();
        PipesSession ss = s.TakeSession().value();
        ASSERT_EQ(cs.pattern, PipesPattern::kXXfallback);
        ASSERT_EQ(ToBytes(cs.transport.handshake_hash()), ToBytes(ss.transport.handshake_hash()));
        ASSERT_EQ(cs.remote_static, ToBytes(sk->public_key()));
        ASSERT_EQ(ss.remote_static, ToBytes(ck->public_key()));
        ++fallbacks;
        continue;
      }
      ASSERT_TRUE(c.failed() || s.failed()) << "frame " << frame << " bit " << bit;
      EXPECT_FALSE(c.TakeSession().has_value() && s.TakeSession().has_value());
    }
  }
  EXPECT_GT(cases, 1000);
  // IK message 1 has 64 encrypted bytes (s and the empty payload's tag).
  EXPECT_EQ(fallbacks, use_ik ? 64 * 8 : 0);
}

TEST(Pipes, EveryBitFlipFailsXX) { ExpectEveryBitFlipFails(false, false); }
TEST(Pipes, EveryBitFlipFailsIK) { ExpectEveryBitFlipFails(true, false); }
TEST(Pipes, EveryBitFlipFailsXXfallback) { ExpectEveryBitFlipFails(true, true); }

// IK message 1 has one legal size (1 + 96 bytes with 25519): a longer or
// shorter one is malformed, closed without an answer, and never answered
// with XXfallback, whatever its content.
TEST(Pipes, IKMessageOfAnotherSizeIsMalformedNotAFallback) {
  auto ck = NewKey(), sk = NewKey(), stale = NewKey();
  for (const auto& cached : {ToBytes(sk->public_key()), ToBytes(stale->public_key())}) {
    Recorder rec;
    PipesClient c = NewClient(ck, cached, rec.Verifier());
    const Bytes good = c.Start().value();
    ASSERT_EQ(good.size(), 97u);
    for (std::size_t size : {81u, 96u, 98u, 113u, 200u, 1000u}) {
      Bytes body = good;
      body.resize(size, 0x5a);
      PipesServer s = NewServer(sk);
      Result<std::optional<Bytes>> out = s.OnFrame(body);
      EXPECT_THAT(out, StatusIs(StatusCode::kInvalidArgument, "noise.bad_message_size")) << size;
      EXPECT_TRUE(s.failed());
    }
  }
}

TEST(Pipes, EveryTruncationFails) {
  for (bool ik : {false, true}) {
    auto ck = NewKey(), sk = NewKey();
    Bytes cached = ik ? ToBytes(sk->public_key()) : Bytes();
    std::vector<std::size_t> sizes;
    {
      Recorder rec;
      PipesClient c = NewClient(ck, cached, rec.Verifier());
      PipesServer s = NewServer(sk);
      Drive(c, s, [&](int, Bytes& b) { sizes.push_back(b.size()); });
    }
    for (std::size_t frame = 0; frame < sizes.size(); ++frame) {
      for (std::size_t len = 0; len < sizes[frame]; ++len) {
        Recorder rec;
        PipesClient c = NewClient(ck, cached, rec.Verifier());
        PipesServer s = NewServer(sk);
        Drive(c, s, [&](int index, Bytes& b) {
          if (static_cast<std::size_t>(index) == frame) b.resize(len);
        });
        ASSERT_FALSE(c.complete() && s.complete()) << frame << " " << len;
        ASSERT_TRUE(c.failed() || s.failed()) << frame << " " << len;
      }
    }
  }
}

TEST(Pipes, RejectedEvidenceStopsTheClientBeforeItRevealsItsKey) {
  PipesClient client = NewClient(NewKey(), {}, [](ByteView, ByteView) {
    return UnauthenticatedError("attest.bad_signature", "rejected");
  });
  PipesServer server = NewServer(NewKey());
  Bytes m2 = **server.OnFrame(client.Start().value());
  EXPECT_THAT(client.OnFrame(m2), StatusIs(StatusCode::kUnauthenticated, "attest.bad_signature"));
  EXPECT_TRUE(client.failed());
  EXPECT_THAT(client.TakeSession(), StatusIs(StatusCode::kFailedPrecondition, "noise.out_of_order"));
}

TEST(Pipes, ServerRejectsNonEmptyClientPayload) {
  HandshakeConfig c;
  c.protocol = ParseProtocolName("Noise_XX_25519_ChaChaPoly_SHA256").value();
  c.role = Role::kInitiator;
  c.prologue = ToBytes(kPipesPrologue);
  c.local_static = NewKey();
  HandshakeState hs = HandshakeState::New(std::move(c)).value();
  Bytes body = {0};
  Append(body, hs.WriteMessage(ToBytes("hello")).value());
  PipesServer server = NewServer(NewKey());
  EXPECT_THAT(server.OnFrame(body), StatusIs(StatusCode::kInvalidArgument, "noise.unexpected_payload"));
  EXPECT_TRUE(server.failed());
}

TEST(Pipes, BadPatternBytesAndEmptyFrames) {
  PipesServer server = NewServer(NewKey());
  EXPECT_THAT(server.OnFrame(Bytes{2}), StatusIs(StatusCode::kInvalidArgument, "noise.bad_pattern_byte"));
  PipesServer server2 = NewServer(NewKey());
  EXPECT_THAT(server2.OnFrame(Bytes{}), StatusIs(StatusCode::kInvalidArgument, "noise.empty_frame"));
  // A client that offered XX rejects an IK or XXfallback answer.
  Recorder rec;
  PipesClient client = NewClient(NewKey(), {}, rec.Verifier());
  PipesServer server3 = NewServer(NewKey());
  Bytes m2 = **server3.OnFrame(client.Start().value());
  m2[0] = 2;
  EXPECT_THAT(client.OnFrame(m2), StatusIs(StatusCode::kInvalidArgument, "noise.bad_pattern_byte"));
  EXPECT_EQ(rec.calls, 0);
}

TEST(Pipes, CallsOutOfOrder) {
  Recorder rec;
  PipesClient client = NewClient(NewKey(), {}, rec.Verifier());
  EXPECT_THAT(client.OnFrame(Bytes{0}), StatusIs(StatusCode::kFailedPrecondition, "noise.out_of_order"));
  PipesClient client2 = NewClient(NewKey(), {}, rec.Verifier());
  ASSERT_THAT(client2.Start(), IsOk());
  EXPECT_THAT(client2.Start(), StatusIs(StatusCode::kFailedPrecondition, "noise.out_of_order"));
  PipesServer server = NewServer(NewKey());
  EXPECT_THAT(server.TakeSession(), StatusIs(StatusCode::kFailedPrecondition, "noise.out_of_order"));
}

TEST(Pipes, LowOrderClientEphemeralIsRejected) {
  PipesServer server = NewServer(NewKey());
  Bytes body(33, 0);  // XX, all-zero ephemeral
  EXPECT_THAT(server.OnFrame(body), StatusIs(StatusCode::kInvalidArgument, "noise.low_order_point"));
  PipesServer server2 = NewServer(NewKey());
  Bytes ik(1 + 32 + 48 + 16, 0);
  ik[0] = 1;
  EXPECT_FALSE(server2.OnFrame(ik).has_value());
}

TEST(Pipes, ConfigurationErrors) {
  PipesClient::Config c;
  c.verify_server = [](ByteView, ByteView) { return Status::Ok(); };
  EXPECT_THAT(PipesClient::New(c), StatusIs(StatusCode::kInvalidArgument, "noise.missing_key"));
  c.static_key = NewKey();
  c.verify_server = nullptr;
  EXPECT_THAT(PipesClient::New(c), StatusIs(StatusCode::kInvalidArgument, "noise.missing_verifier"));
  PipesServer::Config s;
  s.static_key = NewKey();
  s.evidence = Bytes(kMaxEvidenceSize + 1);
  EXPECT_THAT(PipesServer::New(s), StatusIs(StatusCode::kInvalidArgument, "noise.evidence_too_large"));
  s.evidence = Bytes(kMaxEvidenceSize);
  EXPECT_THAT(PipesServer::New(s), IsOk());
}

}  // namespace
}  // namespace perimeter::noise
