// OsslPtr<T>: std::unique_ptr with a stateless deleter for each OpenSSL type
// we hold (Tink's SslUniquePtr pattern). Private to the crypto module.
#ifndef PERIMETER_CRYPTO_OPENSSL_OSSL_PTR_H_
#define PERIMETER_CRYPTO_OPENSSL_OSSL_PTR_H_

#include <memory>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "perimeter/crypto/hash.h"

namespace perimeter::crypto::internal {

template <typename T>
struct OsslDeleter;

#define PERIMETER_OSSL_DELETER_(Type, FreeFn)         \
  template <>                                          \
  struct OsslDeleter<Type> {                           \
    void operator()(Type* p) const noexcept { FreeFn(p); } \
  }

PERIMETER_OSSL_DELETER_(BIO, BIO_free_all);
PERIMETER_OSSL_DELETER_(BIGNUM, BN_clear_free);
PERIMETER_OSSL_DELETER_(BN_CTX, BN_CTX_free);
PERIMETER_OSSL_DELETER_(ECDSA_SIG, ECDSA_SIG_free);
PERIMETER_OSSL_DELETER_(EVP_CIPHER, EVP_CIPHER_free);
PERIMETER_OSSL_DELETER_(EVP_CIPHER_CTX, EVP_CIPHER_CTX_free);
PERIMETER_OSSL_DELETER_(EVP_KDF, EVP_KDF_free);
PERIMETER_OSSL_DELETER_(EVP_KDF_CTX, EVP_KDF_CTX_free);
PERIMETER_OSSL_DELETER_(EVP_MAC, EVP_MAC_free);
PERIMETER_OSSL_DELETER_(EVP_MAC_CTX, EVP_MAC_CTX_free);
PERIMETER_OSSL_DELETER_(EVP_MD, EVP_MD_free);
PERIMETER_OSSL_DELETER_(EVP_MD_CTX, EVP_MD_CTX_free);
PERIMETER_OSSL_DELETER_(EVP_PKEY, EVP_PKEY_free);
PERIMETER_OSSL_DELETER_(EVP_PKEY_CTX, EVP_PKEY_CTX_free);
PERIMETER_OSSL_DELETER_(OSSL_PARAM, OSSL_PARAM_free);
PERIMETER_OSSL_DELETER_(OSSL_PARAM_BLD, OSSL_PARAM_BLD_free);
PERIMETER_OSSL_DELETER_(PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free);
PERIMETER_OSSL_DELETER_(X509, X509_free);
PERIMETER_OSSL_DELETER_(X509_CRL, X509_CRL_free);
PERIMETER_OSSL_DELETER_(X509_STORE, X509_STORE_free);
PERIMETER_OSSL_DELETER_(X509_STORE_CTX, X509_STORE_CTX_free);
PERIMETER_OSSL_DELETER_(ASN1_TIME, ASN1_TIME_free);
PERIMETER_OSSL_DELETER_(ASN1_OBJECT, ASN1_OBJECT_free);
// X.509 layer (x509.cc and its test).
// (ASN1_INTEGER is the same C type as ASN1_TIME, so OsslPtr<ASN1_INTEGER>
// already works through the ASN1_TIME deleter: both free an ASN1_STRING.)
PERIMETER_OSSL_DELETER_(RSA_PSS_PARAMS, RSA_PSS_PARAMS_free);
PERIMETER_OSSL_DELETER_(X509_REVOKED, X509_REVOKED_free);
PERIMETER_OSSL_DELETER_(X509_EXTENSION, X509_EXTENSION_free);
PERIMETER_OSSL_DELETER_(X509_ALGOR, X509_ALGOR_free);
// An owning stack: frees the stack and drops one reference on each element.
template <>
struct OsslDeleter<STACK_OF(X509)> {
  void operator()(STACK_OF(X509)* p) const noexcept { sk_X509_pop_free(p, X509_free); }
};
// Certificate/CRL building (x509_builder.cc).
PERIMETER_OSSL_DELETER_(X509_NAME, X509_NAME_free);
PERIMETER_OSSL_DELETER_(X509_PUBKEY, X509_PUBKEY_free);
PERIMETER_OSSL_DELETER_(BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free);
PERIMETER_OSSL_DELETER_(AUTHORITY_KEYID, AUTHORITY_KEYID_free);
template <>
struct OsslDeleter<STACK_OF(X509_EXTENSION)> {
  void operator()(STACK_OF(X509_EXTENSION)* p) const noexcept {
    sk_X509_EXTENSION_pop_free(p, X509_EXTENSION_free);
  }
};
#undef PERIMETER_OSSL_DELETER_

template <typename T>
using OsslPtr = std::unique_ptr<T, OsslDeleter<T>>;

// The EVP_MD for `alg`, fetched once per process (thread-safe static
// initialisation) and never freed; nullptr only if the provider lacks it.
// Defined in hash.cc. The pointer must not be freed by the caller.
const EVP_MD* CachedMd(HashAlg alg);

}  // namespace perimeter::crypto::internal

#endif  // PERIMETER_CRYPTO_OPENSSL_OSSL_PTR_H_
