// The C API (include/perimeter/perimeter.h) over the C++ client. Every entry
// point is a boundary: Status becomes a code plus per-thread last-error
// strings, and any exception (allocation failure, a library's throw) is
// caught here and reported as PERIMETER_INTERNAL.
#include "perimeter/perimeter.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>

#include "perimeter/client/client.h"
#include "perimeter/client/identity.h"
#include "perimeter/client/known_servers.h"
#include "perimeter/client/trust_config.h"

struct perimeter_trust_t {
  std::shared_ptr<const perimeter::client::TrustConfig> trust;
};
struct perimeter_identity_t {
  std::shared_ptr<const perimeter::crypto::XdhPrivateKey> key;
};
struct perimeter_known_servers_t {
  std::shared_ptr<perimeter::client::KnownServers> known;
};
struct perimeter_session_t {
  std::unique_ptr<perimeter::client::Session> session;
};
struct perimeter_key_list_t {
  perimeter::client::ListPage page;
};

namespace {

using perimeter::Status;
using perimeter::StatusCode;

struct LastError {
  std::string reason = "ok";
  std::string message;
};
thread_local LastError last_error;

int Report(const Status& s) {
  try {
    last_error.reason = std::string(s.reason());
    last_error.message = std::string(s.message());
  } catch (...) {
    // Out of memory while recording the error: keep the code.
  }
  return static_cast<int>(s.code());
}

int Ok() {
  last_error.reason = "ok";
  last_error.message.clear();
  return PERIMETER_OK;
}

int Bad(const char* reason, const char* message) {
  return Report(perimeter::InvalidArgumentError(reason, message));
}

// Runs `f` (returning an int code) with the catch-all boundary.
template <typename F>
int Guard(F f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return Report(perimeter::ResourceExhaustedError("client.out_of_memory", "client: out of memory"));
  } catch (const std::exception& e) {
    return Report(perimeter::InternalError("client.internal", std::string("client: ") + e.what()));
  } catch (...) {
    return Report(perimeter::InternalError("client.internal", "client: unknown exception"));
  }
}

// A malloc'ed copy (freed with perimeter_free); NUL-terminated for strings.
char* CopyString(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

std::string_view View(const char* p, std::size_t n) { return n == 0 ? std::string_view() : std::string_view(p, n); }

}  // namespace

extern "C" {

const char* perimeter_last_error_reason(void) { return last_error.reason.c_str(); }
const char* perimeter_last_error_message(void) { return last_error.message.c_str(); }

void perimeter_free(void* p) { std::free(p); }

int perimeter_trust_load(const char* path, perimeter_trust_t** out) {
  return Guard([&] {
    if (path == nullptr || out == nullptr) return Bad("client.null_argument", "client: path and out are required");
    perimeter::Result<perimeter::client::TrustConfig> t = perimeter::client::LoadTrustConfig(path);
    if (!t.has_value()) return Report(t.error());
    auto handle = std::make_unique<perimeter_trust_t>();
    handle->trust = std::make_shared<const perimeter::client::TrustConfig>(std::move(t).value());
    *out = handle.release();
    return Ok();
  });
}

void perimeter_trust_destroy(perimeter_trust_t* trust) { delete trust; }

int perimeter_identity_load_or_create(const char* path, perimeter_identity_t** out, int* created) {
  return Guard([&] {
    if (path == nullptr || out == nullptr) return Bad("client.null_argument", "client: path and out are required");
    bool made = false;
    auto key = perimeter::client::LoadOrCreateIdentity(path, &made);
    if (!key.has_value()) return Report(key.error());
    auto handle = std::make_unique<perimeter_identity_t>();
    handle->key = std::move(key).value();
    *out = handle.release();
    if (created != nullptr) *created = made ? 1 : 0;
    return Ok();
  });
}

int perimeter_identity_public_key(const perimeter_identity_t* identity, uint8_t out32[32]) {
  return Guard([&] {
    if (identity == nullptr || out32 == nullptr) {
      return Bad("client.null_argument", "client: identity and out32 are required");
    }
    perimeter::ByteView pub = identity->key->public_key();
    std::memcpy(out32, pub.data(), 32);
    return Ok();
  });
}

void perimeter_identity_destroy(perimeter_identity_t* identity) { delete identity; }

int perimeter_known_servers_open(const char* path, perimeter_known_servers_t** out) {
  return Guard([&] {
    if (path == nullptr || out == nullptr) return Bad("client.null_argument", "client: path and out are required");
    auto known = perimeter::client::KnownServers::Open(path);
    if (!known.has_value()) return Report(known.error());
    auto handle = std::make_unique<perimeter_known_servers_t>();
    handle->known = std::shared_ptr<perimeter::client::KnownServers>(std::move(known).value());
    *out = handle.release();
    return Ok();
  });
}

void perimeter_known_servers_destroy(perimeter_known_servers_t* known) { delete known; }

int perimeter_connect(const char* endpoint, const perimeter_trust_t* trust, const perimeter_identity_t* identity,
                      perimeter_known_servers_t* known, const perimeter_connect_options_t* options,
                      perimeter_session_t** out, char** verdict_json) {
  if (verdict_json != nullptr) *verdict_json = nullptr;
  return Guard([&] {
    if (endpoint == nullptr || trust == nullptr || identity == nullptr || out == nullptr) {
      return Bad("client.null_argument", "client: endpoint, trust, identity and out are required");
    }
    perimeter::client::ClientOptions o;
    o.trust = trust->trust;
    o.identity = identity->key;
    if (known != nullptr) o.known_servers = known->known;
    if (options != nullptr) {
      using ms = std::chrono::milliseconds;
      if (options->connect_timeout_ms != 0) o.connect_timeout = ms(options->connect_timeout_ms);
      if (options->handshake_timeout_ms != 0) o.handshake_timeout = ms(options->handshake_timeout_ms);
      if (options->request_timeout_ms != 0) o.request_timeout = ms(options->request_timeout_ms);
      o.at_unix_seconds = options->at_unix_seconds;
    }
    perimeter::client::ConnectResult r = perimeter::client::Connect(endpoint, o);
    if (verdict_json != nullptr && r.verdict.has_value()) *verdict_json = CopyString(r.verdict->ToJson());
    if (!r.status.ok()) return Report(r.status);
    auto handle = std::make_unique<perimeter_session_t>();
    handle->session = std::move(r.session);
    *out = handle.release();
    return Ok();
  });
}

int perimeter_session_pattern(const perimeter_session_t* session) {
  if (session == nullptr) return -1;
  return static_cast<int>(session->session->pattern());
}

void perimeter_session_destroy(perimeter_session_t* session) { delete session; }

int perimeter_whoami(perimeter_session_t* session, char** user_id) {
  return Guard([&] {
    if (session == nullptr || user_id == nullptr) {
      return Bad("client.null_argument", "client: session and user_id are required");
    }
    auto id = session->session->Whoami();
    if (!id.has_value()) return Report(id.error());
    *user_id = CopyString(*id);
    return Ok();
  });
}

int perimeter_put(perimeter_session_t* session, const char* key, size_t key_len, const uint8_t* value,
                  size_t value_len) {
  return Guard([&] {
    if (session == nullptr || (key == nullptr && key_len != 0) || (value == nullptr && value_len != 0)) {
      return Bad("client.null_argument", "client: session, key and value are required");
    }
    perimeter::ByteView v = value_len == 0 ? perimeter::ByteView() : perimeter::ByteView(value, value_len);
    Status s = session->session->Put(View(key, key_len), v);
    if (!s.ok()) return Report(s);
    return Ok();
  });
}

int perimeter_get(perimeter_session_t* session, const char* key, size_t key_len, uint8_t** value, size_t* value_len) {
  return Guard([&] {
    if (session == nullptr || (key == nullptr && key_len != 0) || value == nullptr || value_len == nullptr) {
      return Bad("client.null_argument", "client: session, key, value and value_len are required");
    }
    auto got = session->session->Get(View(key, key_len));
    if (!got.has_value()) return Report(got.error());
    std::uint8_t* p = nullptr;
    if (!got->empty()) {
      p = static_cast<std::uint8_t*>(std::malloc(got->size()));
      if (p == nullptr) throw std::bad_alloc();
      std::memcpy(p, got->data(), got->size());
    }
    *value = p;
    *value_len = got->size();
    return Ok();
  });
}

int perimeter_delete(perimeter_session_t* session, const char* key, size_t key_len) {
  return Guard([&] {
    if (session == nullptr || (key == nullptr && key_len != 0)) {
      return Bad("client.null_argument", "client: session and key are required");
    }
    Status s = session->session->Delete(View(key, key_len));
    if (!s.ok()) return Report(s);
    return Ok();
  });
}

int perimeter_list(perimeter_session_t* session, const char* prefix, size_t prefix_len, const uint8_t* page_token,
                   size_t page_token_len, uint16_t limit, perimeter_key_list_t** out) {
  return Guard([&] {
    if (session == nullptr || out == nullptr || (prefix == nullptr && prefix_len != 0) ||
        (page_token == nullptr && page_token_len != 0)) {
      return Bad("client.null_argument", "client: session and out are required");
    }
    perimeter::ByteView token =
        page_token_len == 0 ? perimeter::ByteView() : perimeter::ByteView(page_token, page_token_len);
    auto page = session->session->List(View(prefix, prefix_len), token, limit);
    if (!page.has_value()) return Report(page.error());
    auto handle = std::make_unique<perimeter_key_list_t>();
    handle->page = std::move(page).value();
    *out = handle.release();
    return Ok();
  });
}

size_t perimeter_key_list_count(const perimeter_key_list_t* list) {
  return list == nullptr ? 0 : list->page.keys.size();
}

const char* perimeter_key_list_key(const perimeter_key_list_t* list, size_t i, size_t* key_len) {
  if (list == nullptr || i >= list->page.keys.size()) return nullptr;
  if (key_len != nullptr) *key_len = list->page.keys[i].size();
  return list->page.keys[i].data();
}

const uint8_t* perimeter_key_list_next_token(const perimeter_key_list_t* list, size_t* token_len) {
  if (list == nullptr) return nullptr;
  if (token_len != nullptr) *token_len = list->page.next_page_token.size();
  return list->page.next_page_token.data();
}

void perimeter_key_list_destroy(perimeter_key_list_t* list) { delete list; }

}  // extern "C"
