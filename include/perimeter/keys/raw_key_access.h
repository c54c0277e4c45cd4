// RawKeyAccess: the capability needed to read the raw bytes of a key.
//
// Key types in perimeter::keys never hand out their bytes through ordinary
// accessors: callers get AEAD objects or derived keys instead. The few places
// that truly need the bytes (known-answer tests, handing M_g to a sealed
// storage backend) must pass a RawKeyAccess token, which only
// InsecureRawKeyAccess() creates. That makes every such place show up in code
// review with one grep for "InsecureRawKeyAccess".
//
// Intentionally copyable (it carries no data).
#ifndef PERIMETER_KEYS_RAW_KEY_ACCESS_H_
#define PERIMETER_KEYS_RAW_KEY_ACCESS_H_

namespace perimeter::keys {

class RawKeyAccess {
 private:
  RawKeyAccess() = default;
  friend RawKeyAccess InsecureRawKeyAccess();
};

// Returns the capability. Every call site is an audited place where raw key
// bytes leave their zeroizing container.
inline RawKeyAccess InsecureRawKeyAccess() { return RawKeyAccess(); }

}  // namespace perimeter::keys

#endif  // PERIMETER_KEYS_RAW_KEY_ACCESS_H_
