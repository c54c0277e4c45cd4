// PodKeys: the pod's derived key hierarchy (DESIGN.md section 5), one pod
// root per master-secret generation:
//
//   pod_root_g  = HKDF-SHA256(ikm=M_g,        salt="secure-perimeter/1", info="pod:"     || pod_id)
//   user_key_g  = HKDF-SHA256(ikm=pod_root_g, salt="secure-perimeter/1", info="user:"    || user_id)
//   scratch_key = HKDF-SHA256(ikm=pod_root_g, salt="secure-perimeter/1", info="session:" || session_id)
//
// All outputs are 32 bytes; ids are the ASCII bytes of the validated ids
// (identifiers.h), with no length prefix (the labels differ, user_id has a
// fixed length, and no id may contain ':').
//
// PodKeys keeps only the pod roots, not M_g. It is the object the record
// store reads keys from while rotation proceeds.
//
// Thread-safe: every method may be called concurrently (an internal
// reader/writer lock). Not copyable or movable (the store holds a pointer).
#ifndef PERIMETER_KEYS_POD_KEYS_H_
#define PERIMETER_KEYS_POD_KEYS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "perimeter/base/result.h"
#include "perimeter/base/secret_bytes.h"
#include "perimeter/base/status.h"
#include "perimeter/keys/derived_key.h"
#include "perimeter/keys/keyring.h"
#include "perimeter/keys/master_secret.h"
#include "perimeter/keys/raw_key_access.h"

namespace perimeter::keys {

// The HKDF salt of every derivation in version 1.
inline constexpr std::string_view kHierarchySalt = "secure-perimeter/1";

class PodKeys {
 public:
  // Derives the pod root of every generation in `keyring` for `pod_id`, with
  // the keyring's current generation as current.
  // Errors: kInvalidArgument "keys.bad_pod_id"; kFailedPrecondition
  // "keys.empty_keyring"; kInternal from HKDF.
  static Result<std::unique_ptr<PodKeys>> New(std::string_view pod_id, const Keyring& keyring);

  PodKeys(const PodKeys&) = delete;
  PodKeys& operator=(const PodKeys&) = delete;

  const std::string& pod_id() const { return pod_id_; }

  // Adds generation secret.generation() (does not make it current).
  // Errors: kAlreadyExists "keys.generation_exists"; kInternal from HKDF.
  Status AddGeneration(const MasterSecret& secret);
  // Errors: kNotFound "keys.unknown_generation".
  Status SetCurrent(Generation g);
  // Forgets pod_root_g. Data still encrypted under g becomes unreadable:
  // with a record store, call store::RecordStore::RetireGeneration instead,
  // which refuses while records use g.
  // Errors: kNotFound "keys.unknown_generation"; kFailedPrecondition
  // "keys.retire_current".
  Status Retire(Generation g);

  Generation current_generation() const;
  bool HasGeneration(Generation g) const;
  // Ascending.
  std::vector<Generation> generations() const;
  // Increases on every AddGeneration/SetCurrent/Retire; caches of derived
  // keys compare it to know when to drop what they hold.
  std::uint64_t epoch() const;

  // user_key_g for `user_id` under generation `g`.
  // Errors: kInvalidArgument "keys.bad_user_id"; kNotFound
  // "keys.unknown_generation"; kInternal from HKDF.
  Result<DerivedKey> UserKey(std::string_view user_id, Generation g) const;
  // user_key under the current generation.
  Result<DerivedKey> CurrentUserKey(std::string_view user_id) const;
  // The scratch key of `session_id`, under the current generation.
  // Errors: kInvalidArgument "keys.bad_session_id"; kInternal from HKDF.
  Result<DerivedKey> ScratchKey(std::string_view session_id) const;

  // pod_root_g, for known-answer tests. Errors: kNotFound
  // "keys.unknown_generation".
  Result<DerivedKey> PodRoot(Generation g, RawKeyAccess) const;

 private:
  explicit PodKeys(std::string pod_id) : pod_id_(std::move(pod_id)) {}
  // Derives under `generation`, or the current one when absent.
  Result<DerivedKey> Derive(std::optional<Generation> generation, std::string_view label,
                            std::string_view id) const;

  const std::string pod_id_;
  mutable std::shared_mutex mu_;
  std::map<Generation, SecretArray<32>> roots_;  // GUARDED_BY(mu_)
  Generation current_ = 0;                       // GUARDED_BY(mu_)
  std::uint64_t epoch_ = 0;                      // GUARDED_BY(mu_)
};

}  // namespace perimeter::keys

#endif  // PERIMETER_KEYS_POD_KEYS_H_
