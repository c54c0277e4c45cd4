#include "perimeter/keys/pod_keys.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "perimeter/keys/identifiers.h"
#include "tests/testing/matchers.h"

namespace perimeter::keys {
namespace {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

// Known-answer vectors for DESIGN.md section 5, computed outside this code
// base with Python's `cryptography` package (48.0):
//
//   from cryptography.hazmat.primitives.kdf.hkdf import HKDF
//   from cryptography.hazmat.primitives import hashes
//   def h(ikm, info): return HKDF(algorithm=hashes.SHA256(), length=32,
//                                 salt=b"secure-perimeter/1", info=info).derive(ikm)
//   M1 = bytes(range(32)); M2 = bytes([0xa5] * 32)
//   uid = hashlib.sha256(bytes(range(0x40, 0x60))).hexdigest()
//   root = h(M, b"pod:" + pod); h(root, b"user:" + uid.encode()); h(root, b"session:sess-1")
//
// and the M1/pod-a row cross-checked with OpenSSL 3.0's CLI, e.g.
//   openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:000102...1f
//     -kdfopt salt:secure-perimeter/1 -kdfopt info:pod:pod-a HKDF
constexpr char kUserId[] = "ca2a4fe727faaecf16ecd130a86e0885c5540c05375340445071c0657555fd42";
constexpr char kSession[] = "sess-1";

struct Vector {
  int master;  // 1 = bytes(range(32)), 2 = 32 x 0xa5
  const char* pod;
  const char* root;
  const char* user;
  const char* session;
};
constexpr Vector kVectors[] = {
    {1, "pod-a", "fc3101d878bf5e3e65bb445e76066fbf9ca0794a4495354e162aea38019d5070",
     "f1d3f95f20ab680fbd479c055f943c18c04ca661ba7adf3b306d57ff5143589b",
     "d9c7e66116fe3d29abd5539e76db21fcd635abb9b0347e12466e09d0558e076d"},
    {1, "pod-b", "47af6e9e1c2302ca67f73f23328141cc755521ad5ae52796148b9221627f8ce1",
     "e96bb5d85f3d0023ec44560c831083811aeac631cc0b648f91d8d30047998654",
     "e5ff36bc0978011194981e52f36cd38b433494eac88b2b4b026ed7d96f3a728c"},
    {2, "pod-a", "363f6f08aeb611eb987a545b00fa066467c5f166d5afc9486cc36a6facbce564",
     "577ff2895cda83672beebfec1cbf63d001b9a69b49ceda1445469cbbe7462b8a",
     "d4e7f0ed5a77a825ad854c9d287e33c7d081c4dbefc3ab31566ca27c9d0a0899"},
    {2, "pod-b", "2af3ea9ad20a9e4dbed35245b9b16c9e537fd8ecf102952315b77e1d240c2539",
     "fa652a816d24e2e38bb21647de02b72226eea9fe9aff0eee1f59c6e3274d1793",
     "e637aa3e87867e2ebf5af8715b283b4b91a4dfe63f617c5ce5e608e628fe937e"},
};

MasterSecret Master(int which, Generation g) {
  Bytes b(32);
  for (int i = 0; i < 32; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(which == 1 ? i : 0xa5);
  return MasterSecret::FromBytes(g, b).value();
}

std::string Hex(const Result<DerivedKey>& k) {
  if (!k.has_value()) return "error: " + k.error().ToString();
  return HexEncode(k->ExportRaw(InsecureRawKeyAccess()));
}

TEST(PodKeys, KnownAnswerVectors) {
  for (const Vector& v : kVectors) {
    Keyring ring;
    ASSERT_THAT(ring.Add(Master(v.master, 1)), IsOk());
    auto keys = PodKeys::New(v.pod, ring);
    ASSERT_THAT(keys, IsOk());
    SCOPED_TRACE(std::string(v.pod) + " M" + std::to_string(v.master));
    EXPECT_EQ(Hex((*keys)->PodRoot(1, InsecureRawKeyAccess())), v.root);
    EXPECT_EQ(Hex((*keys)->UserKey(kUserId, 1)), v.user);
    EXPECT_EQ(Hex((*keys)->CurrentUserKey(kUserId)), v.user);
    EXPECT_EQ(Hex((*keys)->ScratchKey(kSession)), v.session);
  }
}

TEST(PodKeys, GenerationsAreIndependentOfTheirNumberButNotTheirSecret) {
  // The generation number is a label, not a derivation input: the same M
  // under two generation numbers gives the same keys, different M different
  // keys. (Distinct M_g per generation is the KBS's job.)
  Keyring ring;
  ASSERT_THAT(ring.Add(Master(1, 1)), IsOk());
  ASSERT_THAT(ring.Add(Master(2, 2)), IsOk());
  auto keys = PodKeys::New("pod-a", ring).value();
  EXPECT_EQ(Hex(keys->UserKey(kUserId, 1)), kVectors[0].user);
  EXPECT_EQ(Hex(keys->UserKey(kUserId, 2)), kVectors[2].user);
  EXPECT_EQ(keys->current_generation(), 1u);
  ASSERT_THAT(keys->SetCurrent(2), IsOk());
  EXPECT_EQ(Hex(keys->CurrentUserKey(kUserId)), kVectors[2].user);
  EXPECT_EQ(keys->CurrentUserKey(kUserId)->generation(), 2u);
}

TEST(PodKeys, DifferentPodsUsersSessionsAndGenerationsGiveDifferentKeys) {
  std::set<std::string> seen;
  int derived = 0;
  for (const char* pod : {"pod-a", "pod-b", "pod-c"}) {
    Keyring ring;
    ASSERT_THAT(ring.Add(MasterSecret::Generate(1).value()), IsOk());
    ASSERT_THAT(ring.Add(MasterSecret::Generate(2).value()), IsOk());
    auto keys = PodKeys::New(pod, ring).value();
    for (Generation g : {1u, 2u}) {
      seen.insert(Hex(keys->PodRoot(g, InsecureRawKeyAccess())));
      ++derived;
      for (int u = 0; u < 4; ++u) {
        std::string user = UserIdFromStaticKey(Bytes(32, static_cast<std::uint8_t>(u))).value();
        seen.insert(Hex(keys->UserKey(user, g)));
        ++derived;
      }
    }
    for (const char* s : {"s1", "s2", "s3"}) {
      seen.insert(Hex(keys->ScratchKey(s)));
      ++derived;
    }
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(derived));
  // Same inputs, same key (determinism).
  Keyring ring;
  ASSERT_THAT(ring.Add(Master(1, 1)), IsOk());
  auto a = PodKeys::New("pod-a", ring).value();
  auto b = PodKeys::New("pod-a", ring).value();
  EXPECT_EQ(Hex(a->UserKey(kUserId, 1)), Hex(b->UserKey(kUserId, 1)));
}

TEST(PodKeys, UserAndSessionLabelsAreSeparated) {
  // A session id spelled like a user id still yields a different key.
  Keyring ring;
  ASSERT_THAT(ring.Add(Master(1, 1)), IsOk());
  auto keys = PodKeys::New("pod-a", ring).value();
  EXPECT_NE(Hex(keys->UserKey(kUserId, 1)), Hex(keys->ScratchKey(kUserId)));
}

TEST(PodKeys, ValidatesInputs) {
  Keyring empty;
  EXPECT_THAT(PodKeys::New("pod-a", empty),
              StatusIs(StatusCode::kFailedPrecondition, "keys.empty_keyring"));
  Keyring ring;
  ASSERT_THAT(ring.Add(Master(1, 1)), IsOk());
  EXPECT_THAT(PodKeys::New("pod:a", ring), StatusIs(StatusCode::kInvalidArgument, "keys.bad_pod_id"));
  auto keys = PodKeys::New("pod-a", ring).value();
  EXPECT_THAT(keys->UserKey("ABC", 1), StatusIs(StatusCode::kInvalidArgument, "keys.bad_user_id"));
  EXPECT_THAT(keys->UserKey(kUserId, 9), StatusIs(StatusCode::kNotFound, "keys.unknown_generation"));
  EXPECT_THAT(keys->ScratchKey(""), StatusIs(StatusCode::kInvalidArgument, "keys.bad_session_id"));
  EXPECT_THAT(keys->AddGeneration(Master(2, 1)),
              StatusIs(StatusCode::kAlreadyExists, "keys.generation_exists"));
}

TEST(PodKeys, RetireAndEpoch) {
  Keyring ring;
  ASSERT_THAT(ring.Add(Master(1, 1)), IsOk());
  auto keys = PodKeys::New("pod-a", ring).value();
  const auto e0 = keys->epoch();
  ASSERT_THAT(keys->AddGeneration(Master(2, 2)), IsOk());
  EXPECT_GT(keys->epoch(), e0);
  EXPECT_THAT(keys->Retire(1), StatusIs(StatusCode::kFailedPrecondition, "keys.retire_current"));
  ASSERT_THAT(keys->SetCurrent(2), IsOk());
  const auto e1 = keys->epoch();
  ASSERT_THAT(keys->Retire(1), IsOk());
  EXPECT_GT(keys->epoch(), e1);
  EXPECT_FALSE(keys->HasGeneration(1));
  EXPECT_EQ(keys->generations(), std::vector<Generation>{2});
  EXPECT_THAT(keys->UserKey(kUserId, 1), StatusIs(StatusCode::kNotFound, "keys.unknown_generation"));
  EXPECT_THAT(keys->Retire(1), StatusIs(StatusCode::kNotFound, "keys.unknown_generation"));
}

TEST(PodKeys, DerivedKeyEncryptsThroughAead) {
  Keyring ring;
  ASSERT_THAT(ring.Add(Master(1, 1)), IsOk());
  auto keys = PodKeys::New("pod-a", ring).value();
  auto k = keys->UserKey(kUserId, 1).value();
  auto seal = k.NewAead(crypto::AeadAlg::kAes256Gcm).value();
  auto open = k.NewAead(crypto::AeadAlg::kAes256Gcm).value();
  Bytes nonce(12, 1);
  auto ct = seal.Seal(nonce, {}, AsBytes("hello"));
  ASSERT_THAT(ct, IsOk());
  auto pt = open.Open(nonce, {}, *ct);
  ASSERT_THAT(pt, IsOk());
  EXPECT_EQ(*pt, ToBytes("hello"));
}

}  // namespace
}  // namespace perimeter::keys
