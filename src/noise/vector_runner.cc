#include "noise/vector_runner.h"

#include <memory>
#include <optional>
#include <vector>

#include "noise/testing/handshake_test_peer.h"
#include "perimeter/noise/handshake_state.h"

namespace perimeter::noise::testing {
namespace {

using nlohmann::json;
using Kind = VectorOutcome::Kind;

// A failure carried out of the helpers below.
struct Failure {
  std::string what;
};

Bytes HexField(const json& v, const char* key) {
  if (!v.contains(key) || !v[key].is_string()) return {};
  Result<Bytes> b = HexDecode(v[key].get<std::string>());
  if (!b.has_value()) throw Failure{std::string("bad hex in ") + key};
  return std::move(b).value();
}

std::shared_ptr<const crypto::XdhPrivateKey> KeyField(const json& v, const char* key,
                                                      crypto::XdhAlg dh) {
  Bytes raw = HexField(v, key);
  if (raw.empty()) return nullptr;
  Result<crypto::XdhPrivateKey> k = crypto::XdhPrivateKey::FromBytes(dh, raw);
  if (!k.has_value()) throw Failure{std::string("bad key ") + key + ": " + k.error().ToString()};
  return std::make_shared<const crypto::XdhPrivateKey>(std::move(k).value());
}

std::vector<SecretBytes> Psks(const json& v, const char* list_key, const char* single_key) {
  std::vector<SecretBytes> out;
  if (v.contains(list_key) && v[list_key].is_array()) {
    for (const auto& p : v[list_key]) {
      Result<Bytes> b = HexDecode(p.get<std::string>());
      if (!b.has_value()) throw Failure{"bad psk hex"};
      out.emplace_back(*b);
    }
  } else if (v.contains(single_key)) {
    out.emplace_back(HexField(v, single_key));
  }
  return out;
}

bool Has(const std::vector<Token>& t, Token x) {
  for (Token y : t) {
    if (y == x) return true;
  }
  return false;
}

template <typename T>
T Check(Result<T> r, const std::string& what) {
  if (!r.has_value()) throw Failure{what + ": " + r.error().ToString()};
  return std::move(r).value();
}

struct Party {
  std::optional<HandshakeState> hs;
  std::optional<Transport> transport;
};

HandshakeState MakeParty(const ProtocolName& protocol, Role role, const json& v,
                         const std::string& prefix, bool with_psks) {
  HandshakeConfig config;
  config.protocol = protocol;
  config.role = role;
  config.prologue = HexField(v, (prefix + "_prologue").c_str());
  config.local_static = KeyField(v, (prefix + "_static").c_str(), protocol.dh);
  const auto& remote_pre = role == Role::kInitiator ? protocol.pattern.responder_premessage
                                                    : protocol.pattern.initiator_premessage;
  if (Has(remote_pre, Token::kS)) config.remote_static = HexField(v, (prefix + "_remote_static").c_str());
  if (with_psks) {
    config.psks = Psks(v, (prefix + "_psks").c_str(), (prefix + "_psk").c_str());
  }
  HandshakeState hs = Check(HandshakeState::New(std::move(config)), prefix + " New");
  HandshakeStateTestPeer::SetFixedEphemeral(hs, KeyField(v, (prefix + "_ephemeral").c_str(), protocol.dh));
  return hs;
}

// Sends messages[index] from `from` to `to` and checks both sides.
void Exchange(Party& from, Party& to, const json& msg, std::size_t index) {
  Bytes payload = HexField(msg, "payload");
  Bytes expected = HexField(msg, "ciphertext");
  std::string at = "message " + std::to_string(index);
  Bytes wire, got;
  if (from.hs) {
    wire = Check(from.hs->WriteMessage(payload), at + " write");
  } else {
    wire = Check(from.transport->Encrypt(payload), at + " encrypt");
  }
  if (wire != expected) throw Failure{at + ": ciphertext differs"};
  if (to.hs) {
    got = Check(to.hs->ReadMessage(wire), at + " read");
  } else {
    got = Check(to.transport->Decrypt(wire), at + " decrypt");
  }
  if (got != payload) throw Failure{at + ": payload differs"};
  for (Party* p : {&from, &to}) {
    if (p->hs && p->hs->action() == HandshakeState::Action::kSplit) {
      p->transport.emplace(Check(p->hs->Split(), at + " split"));
      p->hs.reset();
    }
  }
}

void CheckHandshakeHash(const json& v, const Party& a, const Party& b) {
  if (!v.contains("handshake_hash")) return;
  Bytes expected = HexField(v, "handshake_hash");
  if (!a.transport || !b.transport) throw Failure{"handshake did not complete"};
  if (ToBytes(a.transport->handshake_hash()) != expected ||
      ToBytes(b.transport->handshake_hash()) != expected) {
    throw Failure{"handshake hash differs"};
  }
}

// The noise-c fallback vectors (PROVENANCE.md): Alice runs IK against a
// stale key, Bob fails to read it; both switch to XXfallback with Bob as
// initiator and Alice's IK ephemeral as pre-message.
void RunFallback(const json& v, const ProtocolName& fallback) {
  std::string ik_name = fallback.name;
  ik_name.replace(ik_name.find("XXfallback"), 10, "IK");
  ProtocolName ik = Check(ParseProtocolName(ik_name), "IK name");
  const json& msgs = v["messages"];
  Party alice, bob;
  alice.hs.emplace(MakeParty(ik, Role::kInitiator, v, "init", true));
  bob.hs.emplace(MakeParty(ik, Role::kResponder, v, "resp", true));
  Bytes m0 = Check(alice.hs->WriteMessage(HexField(msgs[0], "payload")), "IK write");
  if (m0 != HexField(msgs[0], "ciphertext")) throw Failure{"message 0: ciphertext differs"};
  Result<Bytes> r = bob.hs->ReadMessage(m0);
  if (r.has_value()) throw Failure{"IK read succeeded against a stale key"};
  Bytes alice_e = ToBytes(bob.hs->remote_ephemeral());

  HandshakeConfig bc;
  bc.protocol = fallback;
  bc.role = Role::kInitiator;
  bc.prologue = HexField(v, "resp_prologue");
  bc.local_static = KeyField(v, "resp_static", fallback.dh);
  bc.remote_ephemeral = alice_e;
  bc.psks = Psks(v, "resp_psks", "resp_psk");
  HandshakeConfig ac;
  ac.protocol = fallback;
  ac.role = Role::kResponder;
  ac.prologue = HexField(v, "init_prologue");
  ac.local_static = KeyField(v, "init_static", fallback.dh);
  ac.local_ephemeral = alice.hs->local_ephemeral();
  ac.psks = Psks(v, "init_psks", "init_psk");
  bob.hs.emplace(Check(HandshakeState::New(std::move(bc)), "fallback Bob New"));
  HandshakeStateTestPeer::SetFixedEphemeral(*bob.hs, KeyField(v, "resp_ephemeral", fallback.dh));
  alice.hs.emplace(Check(HandshakeState::New(std::move(ac)), "fallback Alice New"));
  for (std::size_t i = 1; i < msgs.size(); ++i) {
    if (i % 2 == 1) {
      Exchange(bob, alice, msgs[i], i);
    } else {
      Exchange(alice, bob, msgs[i], i);
    }
  }
  CheckHandshakeHash(v, alice, bob);
}

void RunOrdinary(const json& v, const ProtocolName& protocol) {
  Party init, resp;
  init.hs.emplace(MakeParty(protocol, Role::kInitiator, v, "init", true));
  resp.hs.emplace(MakeParty(protocol, Role::kResponder, v, "resp", true));
  const json& msgs = v["messages"];
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (protocol.pattern.one_way || i % 2 == 0) {
      Exchange(init, resp, msgs[i], i);
    } else {
      Exchange(resp, init, msgs[i], i);
    }
  }
  if (init.hs || resp.hs) throw Failure{"vector ended before the handshake completed"};
  CheckHandshakeHash(v, init, resp);
}

}  // namespace

VectorOutcome RunVector(const json& v) {
  VectorOutcome out;
  if (v.contains("protocol_name") && v["protocol_name"].is_string()) {
    out.name = v["protocol_name"].get<std::string>();
  } else if (v.contains("name") && v["name"].is_string()) {
    out.name = v["name"].get<std::string>();
  } else {
    out.detail = "vector has no protocol name";
    return out;
  }
  if (!v.contains("messages") || !v["messages"].is_array() || v["messages"].empty()) {
    out.detail = "vector has no messages";
    return out;
  }
  Result<ProtocolName> protocol = ParseProtocolName(out.name);
  if (!protocol.has_value()) {
    // Only an unsupported primitive is a reason to skip; anything else we
    // cannot parse is a failure.
    if (protocol.error().code() == StatusCode::kUnimplemented) {
      out.kind = Kind::kSkipped;
    }
    out.detail = protocol.error().ToString();
    return out;
  }
  try {
    if (v.contains("fallback") && v["fallback"].is_boolean() && v["fallback"].get<bool>()) {
      RunFallback(v, *protocol);
    } else {
      RunOrdinary(v, *protocol);
    }
    out.kind = Kind::kPassed;
  } catch (const Failure& f) {
    out.kind = Kind::kFailed;
    out.detail = f.what;
  } catch (const nlohmann::json::exception& e) {
    out.kind = Kind::kFailed;
    out.detail = std::string("malformed vector: ") + e.what();
  }
  return out;
}

}  // namespace perimeter::noise::testing
