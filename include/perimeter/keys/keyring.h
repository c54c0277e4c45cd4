// Keyring: the master secrets {g: M_g} a pod holds, with one "current"
// generation (the one new data is written under).
//
// The KBS issues generation g+1 on rotation; the pod adds it here, makes it
// current, re-encrypts (store::RecordStore::ReencryptBatch) and finally
// retires g. The keyring itself does not know whether data still uses a
// generation: retire through RecordStore::RetireGeneration, which checks.
//
// Intentionally copyable (copies the secrets, each wiped independently).
// Thread-compatible.
#ifndef PERIMETER_KEYS_KEYRING_H_
#define PERIMETER_KEYS_KEYRING_H_

#include <map>
#include <optional>
#include <vector>

#include "perimeter/base/result.h"
#include "perimeter/base/status.h"
#include "perimeter/keys/master_secret.h"

namespace perimeter::keys {

class Keyring {
 public:
  Keyring() = default;

  // Adds M_g. The first secret added becomes current.
  // Errors: kAlreadyExists "keys.generation_exists".
  Status Add(MasterSecret secret);

  // Makes `g` the generation new data is written under.
  // Errors: kNotFound "keys.unknown_generation".
  Status SetCurrent(Generation g);

  // Forgets M_g (its bytes are wiped).
  // Errors: kNotFound "keys.unknown_generation"; kFailedPrecondition
  // "keys.retire_current" if g is the current generation.
  Status Retire(Generation g);

  // Errors: kNotFound "keys.unknown_generation". The pointer is valid until
  // the keyring is modified.
  Result<const MasterSecret*> Get(Generation g) const;

  // Absent when the keyring is empty.
  std::optional<Generation> current() const { return current_; }
  // Ascending.
  std::vector<Generation> generations() const;
  bool empty() const { return secrets_.empty(); }

 private:
  std::map<Generation, MasterSecret> secrets_;
  std::optional<Generation> current_;
};

}  // namespace perimeter::keys

#endif  // PERIMETER_KEYS_KEYRING_H_
