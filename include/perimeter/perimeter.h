/* Secure Perimeter client, C API (for the iOS and Android bindings).
 *
 * Connects to a workload server, verifies its SEV-SNP attestation evidence
 * against a trust file before sending anything further, and uses the
 * encrypted session for the user's own records (docs/wire-protocol.md). The
 * C++ API behind it is include/perimeter/client/client.h.
 *
 * Errors. Every function that can fail returns an int status code: 0
 * (PERIMETER_OK) on success, else one of the PERIMETER_* codes below, whose
 * numbers are the project's StatusCode values and never change. The failing
 * call also records, for the calling thread, a stable dotted reason (e.g.
 * "workload.not_found", "snp.ark_untrusted", "channel.binding_mismatch") and a
 * human message, read with perimeter_last_error_reason() and
 * perimeter_last_error_message(). Those strings belong to the library and
 * stay valid until the next perimeter_* call on the same thread; a
 * successful call sets the reason to "ok" and the message to "".
 *
 * Memory. Objects are opaque handles, created by a function that writes them
 * to an out-parameter and released with the matching _destroy function
 * (NULL is accepted and ignored). Buffers and strings the library returns
 * (values, user ids, verdicts, keys of a list) are owned by the caller and
 * released with perimeter_free(). Lengths always travel next to pointers;
 * keys are UTF-8 without a terminator. Output parameters are written only on
 * success.
 *
 * Thread-safety. perimeter_trust_t and perimeter_identity_t are immutable
 * and may be shared by any number of threads and sessions. A
 * perimeter_known_servers_t is thread-safe. A perimeter_session_t may be used
 * by one thread at a time (calls block until the server answers). The
 * last-error strings are per thread.
 *
 * No exception or C++ type crosses this interface.
 */
#ifndef PERIMETER_PERIMETER_H_
#define PERIMETER_PERIMETER_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (the project's StatusCode numbers). */
#define PERIMETER_OK 0
#define PERIMETER_INVALID_ARGUMENT 1
#define PERIMETER_NOT_FOUND 2
#define PERIMETER_ALREADY_EXISTS 3
#define PERIMETER_PERMISSION_DENIED 4
#define PERIMETER_UNAUTHENTICATED 5 /* e.g. the server's evidence was rejected */
#define PERIMETER_FAILED_PRECONDITION 6
#define PERIMETER_RESOURCE_EXHAUSTED 7
#define PERIMETER_DATA_LOSS 8
#define PERIMETER_UNAVAILABLE 9 /* e.g. cannot connect, connection closed */
#define PERIMETER_INTERNAL 10
#define PERIMETER_UNIMPLEMENTED 11

typedef struct perimeter_trust_t perimeter_trust_t;
typedef struct perimeter_identity_t perimeter_identity_t;
typedef struct perimeter_known_servers_t perimeter_known_servers_t;
typedef struct perimeter_session_t perimeter_session_t;
typedef struct perimeter_key_list_t perimeter_key_list_t;

/* The reason and message of the calling thread's last failed call. */
const char* perimeter_last_error_reason(void);
const char* perimeter_last_error_message(void);

/* Releases a buffer or string returned by the library. NULL is ignored. */
void perimeter_free(void* p);

/* --- trust ------------------------------------------------------------ */

/* Loads a trust file (YAML; include/perimeter/client/trust_config.h). */
int perimeter_trust_load(const char* path, perimeter_trust_t** out);
void perimeter_trust_destroy(perimeter_trust_t* trust);

/* --- identity --------------------------------------------------------- */

/* Loads the client's static key from `path` (the format of `perimeter noise
 * keygen`, mode 0600), creating a fresh one there if the file does not
 * exist. `*created` (may be NULL) is set to 1 if it was created. */
int perimeter_identity_load_or_create(const char* path, perimeter_identity_t** out, int* created);
/* Writes the 32-byte public key to `out32`. */
int perimeter_identity_public_key(const perimeter_identity_t* identity, uint8_t out32[32]);
void perimeter_identity_destroy(perimeter_identity_t* identity);

/* --- known servers (IK resumption) ------------------------------------ */

/* Opens the cache of verified server keys at `path` (created on first
 * use, mode 0600). Each key is bound to the trust configuration that
 * verified it: perimeter_connect offers IK only with a key cached under the
 * same trust (include/perimeter/client/known_servers.h). */
int perimeter_known_servers_open(const char* path, perimeter_known_servers_t** out);
void perimeter_known_servers_destroy(perimeter_known_servers_t* known);

/* --- connecting ------------------------------------------------------- */

typedef struct perimeter_connect_options_t {
  /* Milliseconds; 0 = the default (10 s connect, 15 s handshake, 60 s per
   * request). The connect timeout covers name resolution too: a stalled DNS
   * lookup is abandoned when it expires (it never blocks the caller longer). */
  uint32_t connect_timeout_ms;
  uint32_t handshake_timeout_ms;
  uint32_t request_timeout_ms;
  /* Verification time, Unix seconds; 0 = now. */
  int64_t at_unix_seconds;
} perimeter_connect_options_t;

/* Connects to `endpoint` ("HOST:PORT" or "ws://HOST:PORT/v1/noise") and runs
 * the attested handshake. `known` and `options` may be NULL.
 * On PERIMETER_OK, `*out` is the session. If `verdict_json` is not NULL, it
 * receives the verdict on the server's evidence as JSON (every check, its
 * result and reason; free with perimeter_free) whenever the evidence arrived,
 * also when the connection fails; otherwise it is set to NULL. A rejected
 * server yields PERIMETER_UNAUTHENTICATED with the first failed check's
 * reason. */
int perimeter_connect(const char* endpoint, const perimeter_trust_t* trust, const perimeter_identity_t* identity,
                      perimeter_known_servers_t* known, const perimeter_connect_options_t* options,
                      perimeter_session_t** out, char** verdict_json);

/* 0 = XX, 1 = IK, 2 = XXfallback: the handshake pattern that completed. */
int perimeter_session_pattern(const perimeter_session_t* session);
/* Closes the connection and frees the session. NULL is ignored. */
void perimeter_session_destroy(perimeter_session_t* session);

/* --- operations (docs/wire-protocol.md section 7.7) ------------------- */

/* The user id (64 lower-case hex characters, NUL-terminated). */
int perimeter_whoami(perimeter_session_t* session, char** user_id);
/* Creates or replaces `key` (1..1024 bytes UTF-8) with `value` (0..1 MiB;
 * `value` may be NULL when `value_len` is 0). */
int perimeter_put(perimeter_session_t* session, const char* key, size_t key_len, const uint8_t* value,
                  size_t value_len);
/* The value of `key`: `*value` (free with perimeter_free; may be NULL for an
 * empty value) and `*value_len`. PERIMETER_NOT_FOUND if there is none. */
int perimeter_get(perimeter_session_t* session, const char* key, size_t key_len, uint8_t** value,
                  size_t* value_len);
/* PERIMETER_NOT_FOUND if there was no such key. */
int perimeter_delete(perimeter_session_t* session, const char* key, size_t key_len);
/* One page of the keys starting with `prefix` (may be empty), after
 * `page_token` (may be empty), at most `limit` (1..1000). */
int perimeter_list(perimeter_session_t* session, const char* prefix, size_t prefix_len, const uint8_t* page_token,
                   size_t page_token_len, uint16_t limit, perimeter_key_list_t** out);
size_t perimeter_key_list_count(const perimeter_key_list_t* list);
/* The i-th key (not NUL-terminated; valid while the list lives), or NULL if
 * i is out of range. */
const char* perimeter_key_list_key(const perimeter_key_list_t* list, size_t i, size_t* key_len);
/* The token for the next page (empty = no more pages; valid while the list
 * lives). */
const uint8_t* perimeter_key_list_next_token(const perimeter_key_list_t* list, size_t* token_len);
void perimeter_key_list_destroy(perimeter_key_list_t* list);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* PERIMETER_PERIMETER_H_ */
