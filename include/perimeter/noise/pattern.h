// Noise handshake patterns as data (Noise Protocol Framework, revision 34,
// sections 7 and 9-10): the fundamental one-way and interactive patterns, the
// deferred patterns, and the `fallback` and `pskN` modifiers.
//
// A pattern is a list of pre-message tokens for each side and a list of
// message patterns; message i (0-based) is sent by the initiator when i is
// even and by the responder when i is odd. One-way patterns have one message.
//
// Intentionally copyable value types. Thread-safe (immutable).
#ifndef PERIMETER_NOISE_PATTERN_H_
#define PERIMETER_NOISE_PATTERN_H_

#include <string>
#include <string_view>
#include <vector>

#include "perimeter/base/result.h"

namespace perimeter::noise {

enum class Token { kE, kS, kEE, kES, kSE, kSS, kPsk };

// "e", "s", "ee", "es", "se", "ss" or "psk".
std::string_view TokenName(Token token);

struct HandshakePattern {
  std::string name;                         // e.g. "XXfallback", "IKpsk2", "NNpsk0+psk2"
  std::vector<Token> initiator_premessage;  // e.g. {kS} for K-patterns
  std::vector<Token> responder_premessage;  // e.g. {kS} for NK, IK
  std::vector<std::vector<Token>> messages;
  bool one_way = false;                     // N, K, X and their modifications

  // Number of psk tokens in the pattern (PSKs the caller must supply).
  std::size_t PskCount() const;
  // Spec notation, one line per message, e.g. "<- s\n...\n-> e, es, s, ss\n<- e, ee, se".
  std::string ToString() const;
};

// Looks up a pattern by its name in a protocol name: a base pattern (one of
// the 15 fundamental or 23 deferred patterns of the spec) optionally followed
// by modifiers: "fallback" and/or "pskN" (N = 0..9), joined by '+', e.g.
// "XXfallback", "NNpsk0+psk2". Modifiers are applied left to right.
// Errors: kInvalidArgument "noise.unknown_pattern" for an unknown base
// pattern; "noise.bad_modifier" for an unknown or inapplicable modifier (a
// psk position beyond the last message, a repeated psk, fallback on a
// pattern whose first message is not only public keys or is one-way).
Result<HandshakePattern> LookupPattern(std::string_view name);

}  // namespace perimeter::noise

#endif  // PERIMETER_NOISE_PATTERN_H_
