#include "perimeter/noise/pattern.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace perimeter::noise {
namespace {

using enum Token;
using Msgs = std::vector<std::vector<Token>>;

struct BasePattern {
  std::string_view name;
  std::vector<Token> init_pre;
  std::vector<Token> resp_pre;
  Msgs messages;
};

// The base patterns of Noise rev. 34, section 7.4 (one-way), 7.5
// (fundamental interactive) and 7.6 (deferred). Each comment gives the
// pattern in spec notation; pre-messages precede "...".
const std::vector<BasePattern>& BasePatterns() {
  static const auto* patterns = new std::vector<BasePattern>{
      // One-way.
      {"N", {}, {kS}, {{kE, kES}}},                  // <- s ... -> e, es
      {"K", {kS}, {kS}, {{kE, kES, kSS}}},           // -> s <- s ... -> e, es, ss
      {"X", {}, {kS}, {{kE, kES, kS, kSS}}},         // <- s ... -> e, es, s, ss
      // Fundamental interactive.
      {"NN", {}, {}, {{kE}, {kE, kEE}}},                              // -> e  <- e, ee
      {"NK", {}, {kS}, {{kE, kES}, {kE, kEE}}},                       // <- s ... -> e, es  <- e, ee
      {"NX", {}, {}, {{kE}, {kE, kEE, kS, kES}}},                     // -> e  <- e, ee, s, es
      {"XN", {}, {}, {{kE}, {kE, kEE}, {kS, kSE}}},                   // -> e  <- e, ee  -> s, se
      {"XK", {}, {kS}, {{kE, kES}, {kE, kEE}, {kS, kSE}}},            // <- s ... -> e, es  <- e, ee  -> s, se
      {"XX", {}, {}, {{kE}, {kE, kEE, kS, kES}, {kS, kSE}}},          // -> e  <- e, ee, s, es  -> s, se
      {"KN", {kS}, {}, {{kE}, {kE, kEE, kSE}}},                       // -> s ... -> e  <- e, ee, se
      {"KK", {kS}, {kS}, {{kE, kES, kSS}, {kE, kEE, kSE}}},           // -> s <- s ... -> e, es, ss  <- e, ee, se
      {"KX", {kS}, {}, {{kE}, {kE, kEE, kSE, kS, kES}}},              // -> s ... -> e  <- e, ee, se, s, es
      {"IN", {}, {}, {{kE, kS}, {kE, kEE, kSE}}},                     // -> e, s  <- e, ee, se
      {"IK", {}, {kS}, {{kE, kES, kS, kSS}, {kE, kEE, kSE}}},         // <- s ... -> e, es, s, ss  <- e, ee, se
      {"IX", {}, {}, {{kE, kS}, {kE, kEE, kSE, kS, kES}}},            // -> e, s  <- e, ee, se, s, es
      // Deferred.
      {"NK1", {}, {kS}, {{kE}, {kE, kEE, kES}}},                      // <- s ... -> e  <- e, ee, es
      {"NX1", {}, {}, {{kE}, {kE, kEE, kS}, {kES}}},                  // -> e  <- e, ee, s  -> es
      {"X1N", {}, {}, {{kE}, {kE, kEE}, {kS}, {kSE}}},                // -> e  <- e, ee  -> s  <- se
      {"X1K", {}, {kS}, {{kE, kES}, {kE, kEE}, {kS}, {kSE}}},         // <- s ... -> e, es  <- e, ee  -> s  <- se
      {"XK1", {}, {kS}, {{kE}, {kE, kEE, kES}, {kS, kSE}}},           // <- s ... -> e  <- e, ee, es  -> s, se
      {"X1K1", {}, {kS}, {{kE}, {kE, kEE, kES}, {kS}, {kSE}}},        // <- s ... -> e  <- e, ee, es  -> s  <- se
      {"X1X", {}, {}, {{kE}, {kE, kEE, kS, kES}, {kS}, {kSE}}},       // -> e  <- e, ee, s, es  -> s  <- se
      {"XX1", {}, {}, {{kE}, {kE, kEE, kS}, {kES, kS, kSE}}},         // -> e  <- e, ee, s  -> es, s, se
      {"X1X1", {}, {}, {{kE}, {kE, kEE, kS}, {kES, kS}, {kSE}}},      // -> e  <- e, ee, s  -> es, s  <- se
      {"K1N", {kS}, {}, {{kE}, {kE, kEE}, {kSE}}},                    // -> s ... -> e  <- e, ee  -> se
      {"K1K", {kS}, {kS}, {{kE, kES}, {kE, kEE}, {kSE}}},             // -> s <- s ... -> e, es  <- e, ee  -> se
      {"KK1", {kS}, {kS}, {{kE}, {kE, kEE, kSE, kES}}},               // -> s <- s ... -> e  <- e, ee, se, es
      {"K1K1", {kS}, {kS}, {{kE}, {kE, kEE, kES}, {kSE}}},            // -> s <- s ... -> e  <- e, ee, es  -> se
      {"K1X", {kS}, {}, {{kE}, {kE, kEE, kS, kES}, {kSE}}},           // -> s ... -> e  <- e, ee, s, es  -> se
      {"KX1", {kS}, {}, {{kE}, {kE, kEE, kSE, kS}, {kES}}},           // -> s ... -> e  <- e, ee, se, s  -> es
      {"K1X1", {kS}, {}, {{kE}, {kE, kEE, kS}, {kSE, kES}}},          // -> s ... -> e  <- e, ee, s  -> se, es
      {"I1N", {}, {}, {{kE, kS}, {kE, kEE}, {kSE}}},                  // -> e, s  <- e, ee  -> se
      {"I1K", {}, {kS}, {{kE, kES, kS}, {kE, kEE}, {kSE}}},           // <- s ... -> e, es, s  <- e, ee  -> se
      {"IK1", {}, {kS}, {{kE, kS}, {kE, kEE, kSE, kES}}},             // <- s ... -> e, s  <- e, ee, se, es
      {"I1K1", {}, {kS}, {{kE, kS}, {kE, kEE, kES}, {kSE}}},          // <- s ... -> e, s  <- e, ee, es  -> se
      {"I1X", {}, {}, {{kE, kS}, {kE, kEE, kS, kES}, {kSE}}},         // -> e, s  <- e, ee, s, es  -> se
      {"IX1", {}, {}, {{kE, kS}, {kE, kEE, kSE, kS}, {kES}}},         // -> e, s  <- e, ee, se, s  -> es
      {"I1X1", {}, {}, {{kE, kS}, {kE, kEE, kS}, {kSE, kES}}},        // -> e, s  <- e, ee, s  -> se, es
  };
  return *patterns;
}

// Splits "XXfallback+psk0" style names: the base is the leading run of
// upper-case letters and digits; the rest is modifiers separated by '+'.
std::size_t BaseLength(std::string_view name) {
  std::size_t i = 0;
  while (i < name.size() && ((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9'))) {
    ++i;
  }
  return i;
}

Status BadModifier(std::string_view what) {
  return InvalidArgumentError("noise.bad_modifier", std::string("noise: ") + std::string(what));
}

// Section 10.2: the fallback modifier turns the initiator's first message
// into a pre-message that the other party already has, and the other party
// starts. We follow the convention of noise-c and of DESIGN.md section 4:
// the party that sends first after fallback is the *initiator* of the new
// handshake (it gets the first cipher of Split). Renaming the roles swaps
// the meaning of "es" and "se".
Status ApplyFallback(HandshakePattern& p) {
  if (p.one_way || p.messages.size() < 2) {
    return BadModifier("fallback needs an interactive pattern");
  }
  for (Token t : p.messages[0]) {
    if (t != kE && t != kS) return BadModifier("fallback needs a first message of public keys only");
  }
  HandshakePattern out;
  out.name = p.name;
  out.initiator_premessage = p.responder_premessage;
  out.responder_premessage = p.initiator_premessage;
  for (Token t : p.messages[0]) out.responder_premessage.push_back(t);
  // A pre-message is "e", "s" or "e, s" in that order (section 7.1).
  std::sort(out.responder_premessage.begin(), out.responder_premessage.end());
  for (std::size_t i = 1; i < p.messages.size(); ++i) {
    std::vector<Token> m = p.messages[i];
    for (Token& t : m) {
      if (t == kES) t = kSE;
      else if (t == kSE) t = kES;
    }
    out.messages.push_back(std::move(m));
  }
  p = std::move(out);
  return Status::Ok();
}

// Section 9.2: psk0 places "psk" at the start of the first message; pskN
// (N >= 1) at the end of message N (1-based).
Status ApplyPsk(HandshakePattern& p, std::size_t position) {
  if (position > p.messages.size()) return BadModifier("psk position beyond the last message");
  if (position == 0) {
    p.messages[0].insert(p.messages[0].begin(), kPsk);
  } else {
    p.messages[position - 1].push_back(kPsk);
  }
  return Status::Ok();
}

}  // namespace

std::string_view TokenName(Token token) {
  switch (token) {
    case kE: return "e";
    case kS: return "s";
    case kEE: return "ee";
    case kES: return "es";
    case kSE: return "se";
    case kSS: return "ss";
    case kPsk: return "psk";
  }
  return "?";
}

std::size_t HandshakePattern::PskCount() const {
  std::size_t n = 0;
  for (const auto& m : messages) n += static_cast<std::size_t>(std::count(m.begin(), m.end(), kPsk));
  return n;
}

std::string HandshakePattern::ToString() const {
  auto join = [](const std::vector<Token>& tokens) {
    std::string s;
    for (Token t : tokens) {
      if (!s.empty()) s += ", ";
      s += TokenName(t);
    }
    return s;
  };
  std::string out;
  if (!initiator_premessage.empty()) out += "-> " + join(initiator_premessage) + "\n";
  if (!responder_premessage.empty()) out += "<- " + join(responder_premessage) + "\n";
  if (!out.empty()) out += "...\n";
  for (std::size_t i = 0; i < messages.size(); ++i) {
    out += (one_way || i % 2 == 0) ? "-> " : "<- ";
    out += join(messages[i]);
    if (i + 1 < messages.size()) out += "\n";
  }
  return out;
}

Result<HandshakePattern> LookupPattern(std::string_view name) {
  std::size_t base_len = BaseLength(name);
  std::string_view base = name.substr(0, base_len);
  const BasePattern* found = nullptr;
  for (const auto& p : BasePatterns()) {
    if (p.name == base) found = &p;
  }
  if (found == nullptr) {
    return InvalidArgumentError("noise.unknown_pattern",
                                "noise: unknown handshake pattern '" + std::string(name) + "'");
  }
  HandshakePattern p;
  p.name = std::string(name);
  p.initiator_premessage = found->init_pre;
  p.responder_premessage = found->resp_pre;
  p.messages = found->messages;
  p.one_way = p.messages.size() == 1;

  std::string_view rest = name.substr(base_len);
  std::array<bool, 10> psk_seen{};
  bool first = true;
  bool fallback_seen = false;
  while (!rest.empty()) {
    if (!first) {
      if (rest.front() != '+') return BadModifier("modifiers must be separated by '+'");
      rest.remove_prefix(1);
    }
    first = false;
    std::size_t end = rest.find('+');
    std::string_view mod = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    if (mod == "fallback") {
      if (fallback_seen) return BadModifier("fallback given twice");
      fallback_seen = true;
      PERIMETER_RETURN_IF_ERROR(ApplyFallback(p));
    } else if (mod.size() == 4 && mod.substr(0, 3) == "psk" && mod[3] >= '0' && mod[3] <= '9') {
      std::size_t pos = static_cast<std::size_t>(mod[3] - '0');
      if (psk_seen[pos]) return BadModifier("psk position given twice");
      psk_seen[pos] = true;
      PERIMETER_RETURN_IF_ERROR(ApplyPsk(p, pos));
    } else {
      return BadModifier("unknown modifier '" + std::string(mod) + "'");
    }
  }
  return p;
}

}  // namespace perimeter::noise
