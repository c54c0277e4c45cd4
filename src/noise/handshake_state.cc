#include "perimeter/noise/handshake_state.h"

#include <algorithm>

namespace perimeter::noise {
namespace {

bool Contains(const std::vector<Token>& tokens, Token t) {
  return std::find(tokens.begin(), tokens.end(), t) != tokens.end();
}

Status OutOfOrder(std::string_view what) {
  return FailedPreconditionError("noise.out_of_order", std::string("noise: ") + std::string(what));
}

}  // namespace

HandshakeState::HandshakeState(HandshakeState&&) noexcept = default;
HandshakeState& HandshakeState::operator=(HandshakeState&&) noexcept = default;
HandshakeState::~HandshakeState() = default;

Status HandshakeState::CheckSize(ByteView key, std::string_view what) const {
  if (key.size() != crypto::XdhKeySize(protocol_.dh)) {
    return InvalidArgumentError("noise.bad_key_size",
                                "noise: " + std::string(what) + " has the wrong length");
  }
  return Status::Ok();
}

Result<HandshakeState> HandshakeState::New(HandshakeConfig config) {
  HandshakeState hs;
  hs.protocol_ = std::move(config.protocol);
  hs.role_ = config.role;
  const HandshakePattern& p = hs.protocol_.pattern;
  const bool initiator = hs.role_ == Role::kInitiator;

  const auto& local_pre = initiator ? p.initiator_premessage : p.responder_premessage;
  const auto& remote_pre = initiator ? p.responder_premessage : p.initiator_premessage;

  // Our static key is needed if we pre-share it or send it.
  bool need_local_s = Contains(local_pre, Token::kS);
  for (std::size_t i = 0; i < p.messages.size(); ++i) {
    bool ours = p.one_way ? initiator : ((i % 2 == 0) == initiator);
    if (ours && Contains(p.messages[i], Token::kS)) need_local_s = true;
  }
  if (need_local_s) {
    if (!config.local_static) {
      return InvalidArgumentError("noise.missing_key", "noise: pattern needs our static key");
    }
    if (config.local_static->alg() != hs.protocol_.dh) {
      return InvalidArgumentError("noise.bad_key_size", "noise: static key of the wrong DH function");
    }
    hs.s_ = std::move(config.local_static);
  }
  if (Contains(remote_pre, Token::kS)) {
    if (config.remote_static.empty()) {
      return InvalidArgumentError("noise.missing_key", "noise: pattern needs the peer's static key");
    }
    PERIMETER_RETURN_IF_ERROR(hs.CheckSize(config.remote_static, "remote static key"));
    hs.rs_ = std::move(config.remote_static);
  } else if (!config.remote_static.empty()) {
    return InvalidArgumentError("noise.unexpected_key",
                                "noise: pattern does not pre-share the peer's static key");
  }
  if (Contains(local_pre, Token::kE)) {
    if (!config.local_ephemeral) {
      return InvalidArgumentError("noise.missing_key", "noise: pattern needs our ephemeral key");
    }
    if (config.local_ephemeral->alg() != hs.protocol_.dh) {
      return InvalidArgumentError("noise.bad_key_size", "noise: ephemeral of the wrong DH function");
    }
    hs.e_ = std::move(config.local_ephemeral);
  } else if (config.local_ephemeral) {
    return InvalidArgumentError("noise.unexpected_key",
                                "noise: pattern has no ephemeral pre-message of ours");
  }
  if (Contains(remote_pre, Token::kE)) {
    if (config.remote_ephemeral.empty()) {
      return InvalidArgumentError("noise.missing_key", "noise: pattern needs the peer's ephemeral key");
    }
    PERIMETER_RETURN_IF_ERROR(hs.CheckSize(config.remote_ephemeral, "remote ephemeral key"));
    hs.re_ = std::move(config.remote_ephemeral);
  } else if (!config.remote_ephemeral.empty()) {
    return InvalidArgumentError("noise.unexpected_key",
                                "noise: pattern has no ephemeral pre-message of the peer");
  }
  const std::size_t psk_count = hs.protocol_.legacy_psk ? 1 : p.PskCount();
  if (config.psks.size() != psk_count) {
    return InvalidArgumentError("noise.bad_psk", "noise: wrong number of PSKs for the pattern");
  }
  for (const auto& psk : config.psks) {
    if (psk.size() != 32) return InvalidArgumentError("noise.bad_psk", "noise: a PSK must be 32 bytes");
  }
  hs.psks_ = std::move(config.psks);
  hs.has_psk_ = !hs.psks_.empty();

  PERIMETER_ASSIGN_OR_RETURN(
      SymmetricState ss,
      SymmetricState::New(hs.protocol_.name, hs.protocol_.hash, hs.protocol_.cipher));
  hs.symmetric_.emplace(std::move(ss));
  PERIMETER_RETURN_IF_ERROR(hs.symmetric_->MixHash(config.prologue));
  if (hs.protocol_.legacy_psk) {
    PERIMETER_RETURN_IF_ERROR(hs.symmetric_->MixPskRev30(hs.psks_[0].view()));
    hs.psks_.clear();
  }
  PERIMETER_RETURN_IF_ERROR(hs.ProcessPremessages());
  hs.action_ = hs.OurTurnToWrite() ? Action::kWriteMessage : Action::kReadMessage;
  return hs;
}

// Section 5.3 Initialize(): the initiator's pre-message keys are hashed
// first, then the responder's, each in pattern order.
Status HandshakeState::ProcessPremessages() {
  const HandshakePattern& p = protocol_.pattern;
  const bool initiator = IsInitiator();
  for (int side = 0; side < 2; ++side) {
    const auto& tokens = side == 0 ? p.initiator_premessage : p.responder_premessage;
    const bool ours = (side == 0) == initiator;
    for (Token t : tokens) {
      ByteView key;
      if (t == Token::kS) {
        key = ours ? s_->public_key() : ByteView(rs_);
      } else {
        key = ours ? e_->public_key() : ByteView(re_);
      }
      PERIMETER_RETURN_IF_ERROR(symmetric_->MixHash(key));
      // Section 9.2: with PSKs, an ephemeral public key also goes to MixKey.
      if (t == Token::kE && has_psk_) PERIMETER_RETURN_IF_ERROR(symmetric_->MixKey(key));
    }
  }
  return Status::Ok();
}

bool HandshakeState::OurTurnToWrite() const {
  if (protocol_.pattern.one_way) return IsInitiator();
  return (message_index_ % 2 == 0) == IsInitiator();
}

Status HandshakeState::Fail(Status status) {
  action_ = Action::kFailed;
  symmetric_.reset();  // wipes ck, h's key material and the cipher key
  psks_.clear();
  fixed_ephemeral_.reset();
  return status;
}

void HandshakeState::Advance() {
  ++message_index_;
  if (message_index_ >= protocol_.pattern.messages.size()) {
    action_ = Action::kSplit;
  } else {
    action_ = OurTurnToWrite() ? Action::kWriteMessage : Action::kReadMessage;
  }
}

// DH for a token, from this party's point of view (section 5.3): in "xy",
// x names the initiator's key and y the responder's.
Result<SecretBytes> HandshakeState::Dh(Token token) {
  const crypto::XdhPrivateKey* local = nullptr;
  ByteView remote;
  const bool initiator = IsInitiator();
  switch (token) {
    case Token::kEE: local = e_.get(); remote = re_; break;
    case Token::kSS: local = s_.get(); remote = rs_; break;
    case Token::kES:
      if (initiator) { local = e_.get(); remote = rs_; } else { local = s_.get(); remote = re_; }
      break;
    case Token::kSE:
      if (initiator) { local = s_.get(); remote = re_; } else { local = e_.get(); remote = rs_; }
      break;
    default:
      return InternalError("noise.bad_token", "noise: not a DH token");
  }
  if (local == nullptr || remote.empty()) {
    return InvalidArgumentError("noise.missing_key", "noise: a DH key is not available");
  }
  Result<SecretBytes> shared = local->Dh(remote);
  if (!shared.has_value()) {
    if (shared.error().reason() == "crypto.xdh_low_order") {
      return InvalidArgumentError("noise.low_order_point",
                                  "noise: DH result is all zeros (low-order public key)");
    }
    return shared.error();
  }
  return shared;
}

// The tokens that are processed the same way when writing and reading.
Status HandshakeState::MixDhOrPsk(Token token) {
  if (token == Token::kPsk) return symmetric_->MixKeyAndHash(psks_[psk_index_++].view());
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes shared, Dh(token));
  return symmetric_->MixKey(shared.view());
}

Result<Bytes> HandshakeState::WriteMessage(ByteView payload) {
  if (action_ == Action::kFailed) {
    return FailedPreconditionError("noise.handshake_failed", "noise: the handshake has failed");
  }
  if (action_ != Action::kWriteMessage) return OutOfOrder("WriteMessage when not our turn to write");
  const std::size_t dhlen = crypto::XdhKeySize(protocol_.dh);
  if (payload.size() > kMaxMessageSize) {
    return InvalidArgumentError("noise.message_too_large", "noise: payload over 65535 bytes");
  }
  const auto& tokens = protocol_.pattern.messages[message_index_];
  // Compute the exact size first, so an oversized payload fails without
  // consuming the handshake.
  {
    bool keyed = symmetric_->HasKey();
    std::size_t size = 0;
    for (Token t : tokens) {
      if (t == Token::kE) {
        size += dhlen;
        if (has_psk_) keyed = true;
      } else if (t == Token::kS) {
        size += dhlen + (keyed ? kNoiseTagSize : 0);
      } else {
        keyed = true;  // every DH token and psk calls MixKey
      }
    }
    size += payload.size() + (keyed ? kNoiseTagSize : 0);
    if (size > kMaxMessageSize) {
      return InvalidArgumentError("noise.message_too_large",
                                  "noise: handshake message would exceed 65535 bytes");
    }
  }

  Bytes out;
  for (Token t : tokens) {
    switch (t) {
      case Token::kE: {
        if (fixed_ephemeral_) {
          e_ = std::move(fixed_ephemeral_);
        } else {
          Result<crypto::XdhPrivateKey> e = crypto::XdhPrivateKey::Generate(protocol_.dh);
          if (!e.has_value()) return Fail(e.error());
          e_ = std::make_shared<const crypto::XdhPrivateKey>(std::move(e).value());
        }
        ByteView pub = e_->public_key();
        Append(out, pub);
        if (Status st = symmetric_->MixHash(pub); !st.ok()) return Fail(st);
        if (has_psk_) {
          if (Status st = symmetric_->MixKey(pub); !st.ok()) return Fail(st);
        }
        break;
      }
      case Token::kS: {
        Result<Bytes> enc = symmetric_->EncryptAndHash(s_->public_key());
        if (!enc.has_value()) return Fail(enc.error());
        Append(out, *enc);
        break;
      }
      default:
        if (Status st = MixDhOrPsk(t); !st.ok()) return Fail(st);
        break;
    }
  }
  Result<Bytes> enc = symmetric_->EncryptAndHash(payload);
  if (!enc.has_value()) return Fail(enc.error());
  Append(out, *enc);
  Advance();
  return out;
}

Result<Bytes> HandshakeState::ReadMessage(ByteView message) {
  if (action_ == Action::kFailed) {
    return FailedPreconditionError("noise.handshake_failed", "noise: the handshake has failed");
  }
  if (action_ != Action::kReadMessage) return OutOfOrder("ReadMessage when not our turn to read");
  if (message.size() > kMaxMessageSize) {
    return Fail(InvalidArgumentError("noise.message_too_large", "noise: message over 65535 bytes"));
  }
  const std::size_t dhlen = crypto::XdhKeySize(protocol_.dh);
  auto truncated = [this]() {
    return Fail(InvalidArgumentError("noise.message_too_short", "noise: handshake message truncated"));
  };
  const auto& tokens = protocol_.pattern.messages[message_index_];
  ByteView rest = message;
  for (Token t : tokens) {
    switch (t) {
      case Token::kE: {
        if (rest.size() < dhlen) return truncated();
        re_.assign(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(dhlen));
        rest = rest.subspan(dhlen);
        if (Status st = symmetric_->MixHash(re_); !st.ok()) return Fail(st);
        if (has_psk_) {
          if (Status st = symmetric_->MixKey(re_); !st.ok()) return Fail(st);
        }
        break;
      }
      case Token::kS: {
        std::size_t len = dhlen + (symmetric_->HasKey() ? kNoiseTagSize : 0);
        if (rest.size() < len) return truncated();
        Result<Bytes> rs = symmetric_->DecryptAndHash(rest.first(len));
        if (!rs.has_value()) return Fail(rs.error());
        rs_ = std::move(rs).value();
        rest = rest.subspan(len);
        break;
      }
      default:
        if (Status st = MixDhOrPsk(t); !st.ok()) return Fail(st);
        break;
    }
  }
  if (symmetric_->HasKey() && rest.size() < kNoiseTagSize) return truncated();
  Result<Bytes> payload = symmetric_->DecryptAndHash(rest);
  if (!payload.has_value()) return Fail(payload.error());
  Advance();
  return payload;
}

ByteView HandshakeState::handshake_hash() const {
  return symmetric_ ? symmetric_->GetHandshakeHash() : ByteView();
}

Result<Transport> HandshakeState::Split() {
  if (action_ != Action::kSplit) return OutOfOrder("Split before the handshake is complete");
  Bytes hash = ToBytes(symmetric_->GetHandshakeHash());
  Result<std::pair<CipherState, CipherState>> ciphers = symmetric_->Split();
  if (!ciphers.has_value()) return Fail(ciphers.error());
  auto& [c1, c2] = *ciphers;
  action_ = Action::kFailed;  // spent: a second Split is out of order
  symmetric_.reset();
  const bool initiator = IsInitiator();
  if (protocol_.pattern.one_way) {
    if (initiator) return Transport(std::move(c1), std::nullopt, std::move(hash));
    return Transport(std::nullopt, std::move(c1), std::move(hash));
  }
  if (initiator) return Transport(std::move(c1), std::move(c2), std::move(hash));
  return Transport(std::move(c2), std::move(c1), std::move(hash));
}

}  // namespace perimeter::noise
