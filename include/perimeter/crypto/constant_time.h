// Constant-time comparison for MACs, tags, tokens, bindings and secrets.
#ifndef PERIMETER_CRYPTO_CONSTANT_TIME_H_
#define PERIMETER_CRYPTO_CONSTANT_TIME_H_

#include "perimeter/base/bytes.h"

namespace perimeter::crypto {

// True iff `a` and `b` have the same length and the same bytes. The time
// taken depends only on the lengths, never on the contents (CRYPTO_memcmp).
bool ConstantTimeEquals(ByteView a, ByteView b);

// True iff every byte of `a` is zero, in time independent of the contents.
bool ConstantTimeIsZero(ByteView a);

}  // namespace perimeter::crypto

#endif  // PERIMETER_CRYPTO_CONSTANT_TIME_H_
