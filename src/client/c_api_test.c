/* The C API (perimeter.h) from real C.
 *
 *   c_api_test                                  checks that need no server
 *   c_api_test ENDPOINT TRUST_FILE [WORKDIR] [AT_UNIX]
 *                                               also talks to a server: XX
 *                                               then IK, every operation, a
 *                                               chunked 1 MiB value, errors
 *
 * Exit status 0 when every check passed; each failure is printed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perimeter/perimeter.h"

static int failures = 0;

#define CHECK(cond)                                                                            \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s: %s)\n", __FILE__, __LINE__, #cond, \
              perimeter_last_error_reason(), perimeter_last_error_message());                  \
      ++failures;                                                                              \
    }                                                                                          \
  } while (0)

#define CHECK_REASON(expr, code, reason)                                  \
  do {                                                                    \
    int rc_ = (expr);                                                     \
    CHECK(rc_ == (code));                                                 \
    CHECK(strcmp(perimeter_last_error_reason(), (reason)) == 0);          \
  } while (0)

static void OfflineChecks(const char* workdir) {
  char path[4096];
  perimeter_trust_t* trust = NULL;
  perimeter_identity_t* identity = NULL;
  perimeter_session_t* session = NULL;
  char* verdict = NULL;
  uint8_t pub[32];
  int created = -1;

  /* Arguments and missing files. */
  CHECK_REASON(perimeter_trust_load(NULL, &trust), PERIMETER_INVALID_ARGUMENT, "client.null_argument");
  CHECK_REASON(perimeter_trust_load("/nonexistent/trust.yaml", &trust), PERIMETER_NOT_FOUND, "trust.file_missing");
  CHECK(trust == NULL);
  CHECK(strlen(perimeter_last_error_message()) > 0);

  /* A bad trust file. */
  snprintf(path, sizeof(path), "%s/bad-trust.yaml", workdir);
  {
    FILE* f = fopen(path, "w");
    CHECK(f != NULL);
    if (f != NULL) {
      fputs("version: 1\nsurprise: true\n", f);
      fclose(f);
    }
  }
  CHECK_REASON(perimeter_trust_load(path, &trust), PERIMETER_INVALID_ARGUMENT, "trust.unknown_key");

  /* A good one (AMD roots only, any measurement): enough to try connecting. */
  snprintf(path, sizeof(path), "%s/amd-trust.yaml", workdir);
  {
    FILE* f = fopen(path, "w");
    CHECK(f != NULL);
    if (f != NULL) {
      fputs("version: 1\npolicy:\n  allow_any_measurement: true\n", f);
      fclose(f);
    }
  }
  CHECK(perimeter_trust_load(path, &trust) == PERIMETER_OK);
  CHECK(strcmp(perimeter_last_error_reason(), "ok") == 0);

  /* Identity: created once, then loaded. */
  snprintf(path, sizeof(path), "%s/offline.key", workdir);
  unlink(path);
  CHECK(perimeter_identity_load_or_create(path, &identity, &created) == PERIMETER_OK);
  CHECK(created == 1);
  CHECK(perimeter_identity_public_key(identity, pub) == PERIMETER_OK);
  perimeter_identity_destroy(identity);
  identity = NULL;
  CHECK(perimeter_identity_load_or_create(path, &identity, &created) == PERIMETER_OK);
  CHECK(created == 0);
  {
    uint8_t again[32];
    CHECK(perimeter_identity_public_key(identity, again) == PERIMETER_OK);
    CHECK(memcmp(pub, again, 32) == 0);
  }

  /* Endpoints that cannot work. */
  CHECK_REASON(perimeter_connect("not an endpoint", trust, identity, NULL, NULL, &session, &verdict),
               PERIMETER_INVALID_ARGUMENT, "client.bad_endpoint");
  CHECK(session == NULL);
  CHECK(verdict == NULL);
  CHECK_REASON(perimeter_connect("wss://example.org:443/v1/noise", trust, identity, NULL, NULL, &session, &verdict),
               PERIMETER_UNIMPLEMENTED, "client.unsupported_scheme");
  {
    perimeter_connect_options_t o;
    memset(&o, 0, sizeof(o));
    o.connect_timeout_ms = 2000;
    /* Port 1 on loopback: nothing listens there. */
    CHECK_REASON(perimeter_connect("127.0.0.1:1", trust, identity, NULL, &o, &session, &verdict),
                 PERIMETER_UNAVAILABLE, "client.connect_failed");
    CHECK(verdict == NULL);
  }
  CHECK_REASON(perimeter_connect("127.0.0.1:1", NULL, identity, NULL, NULL, &session, NULL),
               PERIMETER_INVALID_ARGUMENT, "client.null_argument");

  /* NULL is accepted by every destroy function and perimeter_free. */
  perimeter_free(NULL);
  perimeter_session_destroy(NULL);
  perimeter_key_list_destroy(NULL);
  perimeter_known_servers_destroy(NULL);
  CHECK(perimeter_key_list_count(NULL) == 0);
  CHECK(perimeter_key_list_key(NULL, 0, NULL) == NULL);

  perimeter_identity_destroy(identity);
  perimeter_trust_destroy(trust);
}

static int Connect(const char* endpoint, perimeter_trust_t* trust, perimeter_identity_t* identity,
                   perimeter_known_servers_t* known, int64_t at, perimeter_session_t** session) {
  perimeter_connect_options_t o;
  char* verdict = NULL;
  int rc;
  memset(&o, 0, sizeof(o));
  o.at_unix_seconds = at;
  rc = perimeter_connect(endpoint, trust, identity, known, &o, session, &verdict);
  CHECK(verdict != NULL);
  if (verdict != NULL) {
    CHECK(strstr(verdict, "\"accepted\": true") != NULL);
    CHECK(strstr(verdict, "channel.binding") != NULL);
  }
  perimeter_free(verdict);
  return rc;
}

static void ServerChecks(const char* endpoint, const char* trust_file, const char* workdir, int64_t at) {
  char path[4096];
  perimeter_trust_t* trust = NULL;
  perimeter_identity_t* identity = NULL;
  perimeter_known_servers_t* known = NULL;
  perimeter_session_t* session = NULL;
  char* user = NULL;
  uint8_t* value = NULL;
  size_t value_len = 0;
  perimeter_key_list_t* list = NULL;
  const size_t big_len = 1024 * 1024;
  uint8_t* big = (uint8_t*)malloc(big_len);
  size_t i;

  CHECK(big != NULL);
  if (big == NULL) return;
  for (i = 0; i < big_len; ++i) big[i] = (uint8_t)(i % 241);

  CHECK(perimeter_trust_load(trust_file, &trust) == PERIMETER_OK);
  snprintf(path, sizeof(path), "%s/c-user.key", workdir);
  CHECK(perimeter_identity_load_or_create(path, &identity, NULL) == PERIMETER_OK);
  snprintf(path, sizeof(path), "%s/c-known.json", workdir);
  unlink(path);
  CHECK(perimeter_known_servers_open(path, &known) == PERIMETER_OK);
  if (trust == NULL || identity == NULL || known == NULL) goto done;

  /* First contact: XX. */
  CHECK(Connect(endpoint, trust, identity, known, at, &session) == PERIMETER_OK);
  if (session == NULL) goto done;
  CHECK(perimeter_session_pattern(session) == 0);
  CHECK(perimeter_whoami(session, &user) == PERIMETER_OK);
  CHECK(user != NULL && strlen(user) == 64);
  perimeter_free(user);
  user = NULL;

  CHECK(perimeter_put(session, "c/small", 7, (const uint8_t*)"hello", 5) == PERIMETER_OK);
  CHECK(perimeter_put(session, "c/big", 5, big, big_len) == PERIMETER_OK);
  CHECK(perimeter_put(session, "c/empty", 7, NULL, 0) == PERIMETER_OK);
  CHECK(perimeter_get(session, "c/small", 7, &value, &value_len) == PERIMETER_OK);
  CHECK(value_len == 5 && value != NULL && memcmp(value, "hello", 5) == 0);
  perimeter_free(value);
  value = NULL;
  CHECK(perimeter_get(session, "c/big", 5, &value, &value_len) == PERIMETER_OK);
  CHECK(value_len == big_len && value != NULL && memcmp(value, big, big_len) == 0);
  perimeter_free(value);
  value = NULL;
  CHECK(perimeter_get(session, "c/empty", 7, &value, &value_len) == PERIMETER_OK);
  CHECK(value_len == 0);
  perimeter_free(value);
  value = NULL;
  CHECK_REASON(perimeter_get(session, "c/none", 6, &value, &value_len), PERIMETER_NOT_FOUND, "workload.not_found");
  CHECK_REASON(perimeter_put(session, "", 0, (const uint8_t*)"x", 1), PERIMETER_INVALID_ARGUMENT, "session.empty_key");

  /* List with paging: c/big, c/empty | c/small. */
  CHECK(perimeter_list(session, "c/", 2, NULL, 0, 2, &list) == PERIMETER_OK);
  if (list != NULL) {
    size_t n = 0, token_len = 0;
    const char* k = perimeter_key_list_key(list, 0, &n);
    const uint8_t* token = perimeter_key_list_next_token(list, &token_len);
    CHECK(perimeter_key_list_count(list) == 2);
    CHECK(k != NULL && n == 5 && memcmp(k, "c/big", 5) == 0);
    CHECK(perimeter_key_list_key(list, 2, &n) == NULL);
    CHECK(token_len > 0);
    if (token_len > 0) {
      perimeter_key_list_t* rest = NULL;
      CHECK(perimeter_list(session, "c/", 2, token, token_len, 2, &rest) == PERIMETER_OK);
      CHECK(perimeter_key_list_count(rest) == 1);
      k = perimeter_key_list_key(rest, 0, &n);
      CHECK(k != NULL && n == 7 && memcmp(k, "c/small", 7) == 0);
      perimeter_key_list_next_token(rest, &token_len);
      CHECK(token_len == 0);
      perimeter_key_list_destroy(rest);
    }
    perimeter_key_list_destroy(list);
  }
  CHECK(perimeter_delete(session, "c/small", 7) == PERIMETER_OK);
  CHECK_REASON(perimeter_delete(session, "c/small", 7), PERIMETER_NOT_FOUND, "workload.not_found");
  perimeter_session_destroy(session);
  session = NULL;

  /* Again: the cached key gives IK, and the data is still there. */
  CHECK(Connect(endpoint, trust, identity, known, at, &session) == PERIMETER_OK);
  if (session != NULL) {
    CHECK(perimeter_session_pattern(session) == 1);
    CHECK(perimeter_get(session, "c/big", 5, &value, &value_len) == PERIMETER_OK);
    CHECK(value_len == big_len);
    perimeter_free(value);
    value = NULL;
    CHECK(perimeter_delete(session, "c/big", 5) == PERIMETER_OK);
    CHECK(perimeter_delete(session, "c/empty", 7) == PERIMETER_OK);
    perimeter_session_destroy(session);
  }

done:
  perimeter_known_servers_destroy(known);
  perimeter_identity_destroy(identity);
  perimeter_trust_destroy(trust);
  free(big);
}

int main(int argc, char** argv) {
  char tmpl[] = "/tmp/perimeter_c_api_test.XXXXXX";
  const char* workdir = argc > 3 ? argv[3] : mkdtemp(tmpl);
  if (workdir == NULL) {
    fprintf(stderr, "cannot create a temporary directory\n");
    return 2;
  }
  OfflineChecks(workdir);
  if (argc > 2) {
    const int64_t at = argc > 4 ? (int64_t)strtoll(argv[4], NULL, 10) : 0;
    ServerChecks(argv[1], argv[2], workdir, at);
  }
  if (argc <= 3) {
    /* Our own temporary directory: remove what OfflineChecks wrote. */
    const char* names[] = {"bad-trust.yaml", "amd-trust.yaml", "offline.key", "c-user.key", "c-known.json"};
    char path[4096];
    size_t i;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
      snprintf(path, sizeof(path), "%s/%s", workdir, names[i]);
      unlink(path);
    }
    rmdir(workdir);
  }
  if (failures != 0) {
    fprintf(stderr, "c_api_test: %d check(s) failed\n", failures);
    return 1;
  }
  printf("c_api_test: all checks passed%s\n", argc > 2 ? " (with a server)" : " (offline)");
  return 0;
}
