#include "perimeter/keys/keyring.h"

#include <string>

namespace perimeter::keys {
namespace {
Status Unknown(Generation g) {
  return NotFoundError("keys.unknown_generation",
                       "keys: generation " + std::to_string(g) + " is not in the keyring");
}
}  // namespace

Status Keyring::Add(MasterSecret secret) {
  const Generation g = secret.generation();
  if (secrets_.contains(g)) {
    return AlreadyExistsError("keys.generation_exists",
                              "keys: generation " + std::to_string(g) + " already present");
  }
  secrets_.emplace(g, std::move(secret));
  if (!current_.has_value()) current_ = g;
  return Status::Ok();
}

Status Keyring::SetCurrent(Generation g) {
  if (!secrets_.contains(g)) return Unknown(g);
  current_ = g;
  return Status::Ok();
}

Status Keyring::Retire(Generation g) {
  if (!secrets_.contains(g)) return Unknown(g);
  if (current_ == g) {
    return FailedPreconditionError("keys.retire_current",
                                   "keys: the current generation cannot be retired");
  }
  secrets_.erase(g);
  return Status::Ok();
}

Result<const MasterSecret*> Keyring::Get(Generation g) const {
  auto it = secrets_.find(g);
  if (it == secrets_.end()) return Unknown(g);
  return &it->second;
}

std::vector<Generation> Keyring::generations() const {
  std::vector<Generation> out;
  out.reserve(secrets_.size());
  for (const auto& [g, _] : secrets_) out.push_back(g);
  return out;
}

}  // namespace perimeter::keys
