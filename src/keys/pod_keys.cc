#include "perimeter/keys/pod_keys.h"

#include <mutex>
#include <string>

#include "perimeter/crypto/hkdf.h"
#include "perimeter/keys/identifiers.h"

namespace perimeter::keys {
namespace {

Status Unknown(Generation g) {
  return NotFoundError("keys.unknown_generation",
                       "keys: generation " + std::to_string(g) + " is not loaded");
}

// HKDF-SHA256(ikm, salt="secure-perimeter/1", info=label || id), 32 bytes.
// `label` includes its ':' ("pod:", "user:", "session:").
Result<SecretBytes> HierarchyHkdf(ByteView ikm, std::string_view label, std::string_view id) {
  Bytes info;
  info.reserve(label.size() + id.size());
  Append(info, AsBytes(label));
  Append(info, AsBytes(id));
  return crypto::Hkdf(crypto::HashAlg::kSha256, ikm, AsBytes(kHierarchySalt), info,
                      kDerivedKeySize);
}

Result<SecretArray<32>> DerivePodRoot(const MasterSecret& m, std::string_view pod_id) {
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes root,
                             HierarchyHkdf(m.ExportRaw(InsecureRawKeyAccess()), "pod:", pod_id));
  return SecretArray<32>(root.view());
}

}  // namespace

Result<std::unique_ptr<PodKeys>> PodKeys::New(std::string_view pod_id, const Keyring& keyring) {
  PERIMETER_RETURN_IF_ERROR(ValidatePodId(pod_id));
  if (keyring.empty() || !keyring.current().has_value()) {
    return FailedPreconditionError("keys.empty_keyring", "keys: the keyring holds no secret");
  }
  std::unique_ptr<PodKeys> keys(new PodKeys(std::string(pod_id)));
  for (Generation g : keyring.generations()) {
    PERIMETER_ASSIGN_OR_RETURN(const MasterSecret* m, keyring.Get(g));
    PERIMETER_RETURN_IF_ERROR(keys->AddGeneration(*m));
  }
  PERIMETER_RETURN_IF_ERROR(keys->SetCurrent(*keyring.current()));
  return keys;
}

Status PodKeys::AddGeneration(const MasterSecret& secret) {
  PERIMETER_ASSIGN_OR_RETURN(SecretArray<32> root, DerivePodRoot(secret, pod_id_));
  std::unique_lock lock(mu_);
  if (roots_.contains(secret.generation())) {
    return AlreadyExistsError("keys.generation_exists",
                              "keys: generation " + std::to_string(secret.generation()) +
                                  " already loaded");
  }
  roots_.emplace(secret.generation(), root);
  ++epoch_;
  return Status::Ok();
}

Status PodKeys::SetCurrent(Generation g) {
  std::unique_lock lock(mu_);
  if (!roots_.contains(g)) return Unknown(g);
  current_ = g;
  ++epoch_;
  return Status::Ok();
}

Status PodKeys::Retire(Generation g) {
  std::unique_lock lock(mu_);
  if (!roots_.contains(g)) return Unknown(g);
  if (g == current_) {
    return FailedPreconditionError("keys.retire_current",
                                   "keys: the current generation cannot be retired");
  }
  roots_.erase(g);  // SecretArray wipes itself
  ++epoch_;
  return Status::Ok();
}

Generation PodKeys::current_generation() const {
  std::shared_lock lock(mu_);
  return current_;
}

bool PodKeys::HasGeneration(Generation g) const {
  std::shared_lock lock(mu_);
  return roots_.contains(g);
}

std::vector<Generation> PodKeys::generations() const {
  std::shared_lock lock(mu_);
  std::vector<Generation> out;
  for (const auto& [g, _] : roots_) out.push_back(g);
  return out;
}

std::uint64_t PodKeys::epoch() const {
  std::shared_lock lock(mu_);
  return epoch_;
}

Result<DerivedKey> PodKeys::Derive(std::optional<Generation> generation, std::string_view label,
                                   std::string_view id) const {
  SecretArray<32> root;
  Generation g = 0;
  {
    // The generation and its root are read under one lock, so a concurrent
    // SetCurrent/Retire cannot pair a root with the wrong generation.
    std::shared_lock lock(mu_);
    g = generation.value_or(current_);
    auto it = roots_.find(g);
    if (it == roots_.end()) return Unknown(g);
    root = it->second;
  }
  PERIMETER_ASSIGN_OR_RETURN(SecretBytes key, HierarchyHkdf(root.view(), label, id));
  return DerivedKey(g, key.view());
}

Result<DerivedKey> PodKeys::UserKey(std::string_view user_id, Generation g) const {
  PERIMETER_RETURN_IF_ERROR(ValidateUserId(user_id));
  return Derive(g, "user:", user_id);
}

Result<DerivedKey> PodKeys::CurrentUserKey(std::string_view user_id) const {
  PERIMETER_RETURN_IF_ERROR(ValidateUserId(user_id));
  return Derive(std::nullopt, "user:", user_id);
}

Result<DerivedKey> PodKeys::ScratchKey(std::string_view session_id) const {
  PERIMETER_RETURN_IF_ERROR(ValidateSessionId(session_id));
  return Derive(std::nullopt, "session:", session_id);
}

Result<DerivedKey> PodKeys::PodRoot(Generation g, RawKeyAccess) const {
  std::shared_lock lock(mu_);
  auto it = roots_.find(g);
  if (it == roots_.end()) return Unknown(g);
  return DerivedKey(g, it->second.view());
}

}  // namespace perimeter::keys
