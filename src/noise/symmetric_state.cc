#include "perimeter/noise/symmetric_state.h"

#include "perimeter/crypto/hmac.h"

namespace perimeter::noise {

Result<SymmetricState> SymmetricState::New(std::string_view protocol_name, crypto::HashAlg hash,
                                           crypto::AeadAlg cipher) {
  SymmetricState s(hash, CipherState(cipher));
  const std::size_t hash_len = crypto::DigestSize(hash);
  ByteView name = AsBytes(protocol_name);
  if (name.size() <= hash_len) {
    s.h_.assign(hash_len, 0);
    std::copy(name.begin(), name.end(), s.h_.begin());
  } else {
    PERIMETER_ASSIGN_OR_RETURN(s.h_, crypto::Hash(hash, name));
  }
  s.ck_ = SecretBytes(s.h_);
  return s;
}

Status SymmetricState::Hkdf(ByteView ikm, SecretBytes* out1, SecretBytes* out2,
                            SecretBytes* out3) {
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes temp_key, crypto::Hmac(hash_, ck_.view(), ikm));
  static constexpr std::uint8_t kOne = 0x01, kTwo = 0x02, kThree = 0x03;
  PERIMETER_ASSIGN_OR_RETURN(*out1, crypto::Hmac(hash_, temp_key.view(), ByteView(&kOne, 1)));
  PERIMETER_ASSIGN_OR_RETURN(
      *out2, crypto::Hmac(hash_, temp_key.view(), {out1->view(), ByteView(&kTwo, 1)}));
  if (out3 != nullptr) {
    PERIMETER_ASSIGN_OR_RETURN(
        *out3, crypto::Hmac(hash_, temp_key.view(), {out2->view(), ByteView(&kThree, 1)}));
  }
  return Status::Ok();
}

Status SymmetricState::MixKey(ByteView input_key_material) {
  SecretBytes ck, temp_k;
  PERIMETER_RETURN_IF_ERROR(Hkdf(input_key_material, &ck, &temp_k, nullptr));
  ck_ = std::move(ck);
  return cipher_.InitializeKey(CipherKey(temp_k));
}

Status SymmetricState::MixHash(ByteView data) {
  PERIMETER_ASSIGN_OR_RETURN(h_, crypto::Hash(hash_, {ByteView(h_), data}));
  return Status::Ok();
}

Status SymmetricState::MixKeyAndHash(ByteView input_key_material) {
  SecretBytes ck, temp_h, temp_k;
  PERIMETER_RETURN_IF_ERROR(Hkdf(input_key_material, &ck, &temp_h, &temp_k));
  ck_ = std::move(ck);
  PERIMETER_RETURN_IF_ERROR(MixHash(temp_h.view()));
  return cipher_.InitializeKey(CipherKey(temp_k));
}

Status SymmetricState::MixPskRev30(ByteView psk) {
  SecretBytes ck, temp;
  PERIMETER_RETURN_IF_ERROR(Hkdf(psk, &ck, &temp, nullptr));
  ck_ = std::move(ck);
  return MixHash(temp.view());
}

Result<Bytes> SymmetricState::EncryptAndHash(ByteView plaintext) {
  PERIMETER_ASSIGN_OR_RETURN(Bytes ciphertext, cipher_.EncryptWithAd(h_, plaintext));
  PERIMETER_RETURN_IF_ERROR(MixHash(ciphertext));
  return ciphertext;
}

Result<Bytes> SymmetricState::DecryptAndHash(ByteView ciphertext) {
  PERIMETER_ASSIGN_OR_RETURN(Bytes plaintext, cipher_.DecryptWithAd(h_, ciphertext));
  PERIMETER_RETURN_IF_ERROR(MixHash(ciphertext));
  return plaintext;
}

Result<std::pair<CipherState, CipherState>> SymmetricState::Split() {
  SecretBytes temp_k1, temp_k2;
  PERIMETER_RETURN_IF_ERROR(Hkdf({}, &temp_k1, &temp_k2, nullptr));
  CipherState c1(cipher_.alg()), c2(cipher_.alg());
  PERIMETER_RETURN_IF_ERROR(c1.InitializeKey(CipherKey(temp_k1)));
  PERIMETER_RETURN_IF_ERROR(c2.InitializeKey(CipherKey(temp_k2)));
  ck_.clear();
  return std::make_pair(std::move(c1), std::move(c2));
}

}  // namespace perimeter::noise
