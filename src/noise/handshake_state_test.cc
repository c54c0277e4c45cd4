#include "perimeter/noise/handshake_state.h"

#include <gtest/gtest.h>

#include "tests/testing/matchers.h"

namespace perimeter::noise {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

std::shared_ptr<const crypto::XdhPrivateKey> NewKey(crypto::XdhAlg alg = crypto::XdhAlg::kX25519) {
  return std::make_shared<const crypto::XdhPrivateKey>(crypto::XdhPrivateKey::Generate(alg).value());
}

HandshakeConfig Config(std::string_view name, Role role) {
  HandshakeConfig c;
  c.protocol = ParseProtocolName(name).value();
  c.role = role;
  c.prologue = ToBytes("prologue");
  return c;
}

struct Pair {
  HandshakeState init;
  HandshakeState resp;
};

Pair NewXX() {
  HandshakeConfig i = Config("Noise_XX_25519_ChaChaPoly_SHA256", Role::kInitiator);
  i.local_static = NewKey();
  HandshakeConfig r = Config("Noise_XX_25519_ChaChaPoly_SHA256", Role::kResponder);
  r.local_static = NewKey();
  return Pair{HandshakeState::New(std::move(i)).value(), HandshakeState::New(std::move(r)).value()};
}

// Runs XX to completion and returns the two transports.
std::pair<Transport, Transport> CompleteXX() {
  Pair p = NewXX();
  Bytes m1 = p.init.WriteMessage({}).value();
  EXPECT_THAT(p.resp.ReadMessage(m1), IsOk());
  Bytes m2 = p.resp.WriteMessage(ToBytes("evidence")).value();
  EXPECT_EQ(p.init.ReadMessage(m2).value(), ToBytes("evidence"));
  Bytes m3 = p.init.WriteMessage({}).value();
  EXPECT_THAT(p.resp.ReadMessage(m3), IsOk());
  EXPECT_EQ(ToBytes(p.init.handshake_hash()), ToBytes(p.resp.handshake_hash()));
  return {p.init.Split().value(), p.resp.Split().value()};
}

TEST(HandshakeState, XXCompletesAndTransportWorksBothWays) {
  auto [a, b] = CompleteXX();
  EXPECT_EQ(ToBytes(a.handshake_hash()), ToBytes(b.handshake_hash()));
  Bytes c = a.Encrypt(ToBytes("hello")).value();
  EXPECT_EQ(b.Decrypt(c).value(), ToBytes("hello"));
  Bytes d = b.Encrypt(ToBytes("world")).value();
  EXPECT_EQ(a.Decrypt(d).value(), ToBytes("world"));
}

TEST(HandshakeState, CallsOutOfOrderAreRejectedWithoutConsumingState) {
  Pair p = NewXX();
  EXPECT_THAT(p.init.ReadMessage(Bytes(32)), StatusIs(StatusCode::kFailedPrecondition, "noise.out_of_order"));
  EXPECT_THAT(p.resp.WriteMessage({}), StatusIs(StatusCode::kFailedPrecondition, "noise.out_of_order"));
  EXPECT_THAT(p.init.Split(), StatusIs(StatusCode::kFailedPrecondition, "noise.out_of_order"));
  // The handshake still works afterwards.
  Bytes m1 = p.init.WriteMessage({}).value();
  EXPECT_THAT(p.resp.ReadMessage(m1), IsOk());
}

TEST(HandshakeState, FailureIsTerminalAndYieldsNoSession) {
  Pair p = NewXX();
  Bytes m1 = p.init.WriteMessage({}).value();
  ASSERT_THAT(p.resp.ReadMessage(m1), IsOk());
  Bytes m2 = p.resp.WriteMessage({}).value();
  m2.back() ^= 1;
  EXPECT_THAT(p.init.ReadMessage(m2), StatusIs(StatusCode::kUnauthenticated, "noise.decrypt_failed"));
  EXPECT_EQ(p.init.action(), HandshakeState::Action::kFailed);
  EXPECT_TRUE(p.init.handshake_hash().empty());
  EXPECT_THAT(p.init.WriteMessage({}), StatusIs(StatusCode::kFailedPrecondition, "noise.handshake_failed"));
  EXPECT_THAT(p.init.Split(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(HandshakeState, TruncationAtEveryLengthFails) {
  for (std::size_t msg = 0; msg < 3; ++msg) {
    Pair ref = NewXX();
    std::vector<Bytes> wire;
    wire.push_back(ref.init.WriteMessage({}).value());
    ASSERT_THAT(ref.resp.ReadMessage(wire[0]), IsOk());
    wire.push_back(ref.resp.WriteMessage(ToBytes("payload")).value());
    ASSERT_THAT(ref.init.ReadMessage(wire[1]), IsOk());
    wire.push_back(ref.init.WriteMessage({}).value());
    for (std::size_t len = 0; len < wire[msg].size(); ++len) {
      Pair p = NewXX();
      // Replay the handshake up to `msg` with fresh parties.
      Bytes w = p.init.WriteMessage({}).value();
      Status st;
      if (msg == 0) {
        st = p.resp.ReadMessage(ByteView(w).first(len)).status();
        // m1 of XX is a bare ephemeral plus an empty payload: shorter is truncated.
        EXPECT_THAT(st, StatusIs(StatusCode::kInvalidArgument, "noise.message_too_short")) << len;
        continue;
      }
      ASSERT_THAT(p.resp.ReadMessage(w), IsOk());
      w = p.resp.WriteMessage(ToBytes("payload")).value();
      if (msg == 1) {
        EXPECT_FALSE(p.init.ReadMessage(ByteView(w).first(len)).has_value()) << len;
        EXPECT_EQ(p.init.action(), HandshakeState::Action::kFailed);
        continue;
      }
      ASSERT_THAT(p.init.ReadMessage(w), IsOk());
      w = p.init.WriteMessage({}).value();
      EXPECT_FALSE(p.resp.ReadMessage(ByteView(w).first(len)).has_value()) << len;
      EXPECT_EQ(p.resp.action(), HandshakeState::Action::kFailed);
    }
  }
}

TEST(HandshakeState, OversizedMessagesAreRejected) {
  Pair p = NewXX();
  EXPECT_THAT(p.init.WriteMessage(Bytes(65535 - 31)),
              StatusIs(StatusCode::kInvalidArgument, "noise.message_too_large"));
  // State unchanged: the largest payload that fits still works.
  Result<Bytes> m1 = p.init.WriteMessage(Bytes(65535 - 32));
  ASSERT_THAT(m1, IsOk());
  EXPECT_EQ(m1->size(), 65535u);
  EXPECT_THAT(p.resp.ReadMessage(*m1), IsOk());
  Pair q = NewXX();
  (void)q.init.WriteMessage({}).value();
  EXPECT_THAT(q.resp.ReadMessage(Bytes(65536)),
              StatusIs(StatusCode::kInvalidArgument, "noise.message_too_large"));
}

TEST(HandshakeState, LowOrderEphemeralAbortsTheHandshake) {
  Pair p = NewXX();
  // An all-zero X25519 public key is a low-order point: ee would be zero.
  EXPECT_THAT(p.resp.ReadMessage(Bytes(32, 0)), IsOk());
  EXPECT_THAT(p.resp.WriteMessage({}), StatusIs(StatusCode::kInvalidArgument, "noise.low_order_point"));
  EXPECT_EQ(p.resp.action(), HandshakeState::Action::kFailed);
}

TEST(HandshakeState, ConfigurationErrors) {
  HandshakeConfig ik = Config("Noise_IK_25519_ChaChaPoly_SHA256", Role::kInitiator);
  ik.local_static = NewKey();
  EXPECT_THAT(HandshakeState::New(ik), StatusIs(StatusCode::kInvalidArgument, "noise.missing_key"));
  ik.remote_static = Bytes(31);
  EXPECT_THAT(HandshakeState::New(ik), StatusIs(StatusCode::kInvalidArgument, "noise.bad_key_size"));
  HandshakeConfig xx = Config("Noise_XX_25519_ChaChaPoly_SHA256", Role::kInitiator);
  EXPECT_THAT(HandshakeState::New(xx), StatusIs(StatusCode::kInvalidArgument, "noise.missing_key"));
  xx.local_static = NewKey();
  xx.remote_static = Bytes(32, 9);
  EXPECT_THAT(HandshakeState::New(xx), StatusIs(StatusCode::kInvalidArgument, "noise.unexpected_key"));
  xx.remote_static.clear();
  xx.local_ephemeral = NewKey();
  EXPECT_THAT(HandshakeState::New(xx), StatusIs(StatusCode::kInvalidArgument, "noise.unexpected_key"));
  HandshakeConfig psk = Config("Noise_NNpsk0_25519_ChaChaPoly_SHA256", Role::kInitiator);
  EXPECT_THAT(HandshakeState::New(psk), StatusIs(StatusCode::kInvalidArgument, "noise.bad_psk"));
  psk.psks.emplace_back(Bytes(31));
  EXPECT_THAT(HandshakeState::New(psk), StatusIs(StatusCode::kInvalidArgument, "noise.bad_psk"));
  HandshakeConfig x448 = Config("Noise_XX_448_ChaChaPoly_SHA256", Role::kInitiator);
  x448.local_static = NewKey(crypto::XdhAlg::kX25519);
  EXPECT_THAT(HandshakeState::New(x448), StatusIs(StatusCode::kInvalidArgument, "noise.bad_key_size"));
}

TEST(Transport, EveryBitFlipAndTruncationIsRejectedAndReleasesNothing) {
  auto [a, b] = CompleteXX();
  Bytes plaintext = ToBytes("attested channel message");
  Bytes c = a.Encrypt(plaintext).value();
  for (std::size_t i = 0; i < c.size() * 8; ++i) {
    Bytes t = c;
    t[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    EXPECT_THAT(b.Decrypt(t), StatusIs(StatusCode::kUnauthenticated, "noise.decrypt_failed")) << i;
  }
  for (std::size_t len = 0; len < c.size(); ++len) {
    EXPECT_FALSE(b.Decrypt(ByteView(c).first(len)).has_value()) << len;
  }
  EXPECT_EQ(b.recv_nonce(), 0u);  // failures do not advance the nonce
  EXPECT_EQ(b.Decrypt(c).value(), plaintext);
  EXPECT_THAT(b.Decrypt(c), StatusIs(StatusCode::kUnauthenticated));  // replay
}

TEST(Transport, MaximumPlaintextAndOversize) {
  auto [a, b] = CompleteXX();
  Bytes big(kMaxPlaintextSize, 0x42);
  Bytes c = a.Encrypt(big).value();
  EXPECT_EQ(c.size(), 65535u);
  EXPECT_EQ(b.Decrypt(c).value(), big);
  EXPECT_THAT(a.Encrypt(Bytes(kMaxPlaintextSize + 1)),
              StatusIs(StatusCode::kInvalidArgument, "noise.message_too_large"));
  EXPECT_THAT(b.Decrypt(Bytes(65536)), StatusIs(StatusCode::kInvalidArgument, "noise.message_too_large"));
}

TEST(Transport, NonceExhaustionIsAnError) {
  auto [a, b] = CompleteXX();
  a.SetNoncesForTesting(kMaxNonce - 1, 0);
  b.SetNoncesForTesting(0, kMaxNonce - 1);
  Bytes c = a.Encrypt(ToBytes("last")).value();
  EXPECT_EQ(b.Decrypt(c).value(), ToBytes("last"));
  EXPECT_THAT(a.Encrypt(ToBytes("one too many")),
              StatusIs(StatusCode::kResourceExhausted, "noise.nonce_exhausted"));
  EXPECT_THAT(b.Decrypt(c), StatusIs(StatusCode::kResourceExhausted, "noise.nonce_exhausted"));
}

TEST(Transport, RekeyKeepsPeersInStepAndChangesTheKey) {
  auto [a, b] = CompleteXX();
  Bytes before = a.Encrypt(ToBytes("m")).value();
  ASSERT_THAT(a.RekeySend(), IsOk());
  Bytes after = a.Encrypt(ToBytes("m")).value();
  EXPECT_EQ(b.Decrypt(before).value(), ToBytes("m"));
  // Without rekeying its receive side, b cannot read the new key's message.
  EXPECT_THAT(b.Decrypt(after), StatusIs(StatusCode::kUnauthenticated));
  ASSERT_THAT(b.RekeyRecv(), IsOk());
  EXPECT_EQ(b.Decrypt(after).value(), ToBytes("m"));
}

TEST(HandshakeState, OneWayPatternHasOnlyOneDirection) {
  auto rs = NewKey();
  HandshakeConfig i = Config("Noise_N_25519_AESGCM_SHA512", Role::kInitiator);
  i.remote_static = ToBytes(rs->public_key());
  HandshakeConfig r = Config("Noise_N_25519_AESGCM_SHA512", Role::kResponder);
  r.local_static = rs;
  HandshakeState hi = HandshakeState::New(std::move(i)).value();
  HandshakeState hr = HandshakeState::New(std::move(r)).value();
  Bytes m = hi.WriteMessage(ToBytes("one way")).value();
  EXPECT_EQ(hr.ReadMessage(m).value(), ToBytes("one way"));
  Transport ti = hi.Split().value();
  Transport tr = hr.Split().value();
  EXPECT_EQ(tr.Decrypt(ti.Encrypt(ToBytes("x")).value()).value(), ToBytes("x"));
  EXPECT_THAT(tr.Encrypt(ToBytes("x")), StatusIs(StatusCode::kFailedPrecondition, "noise.no_send_cipher"));
  EXPECT_THAT(ti.Decrypt(Bytes(16)), StatusIs(StatusCode::kFailedPrecondition, "noise.no_recv_cipher"));
}

}  // namespace
}  // namespace perimeter::noise
