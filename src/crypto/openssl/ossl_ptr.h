// OsslPtr<T>: std::unique_ptr with a stateless deleter for each OpenSSL type
// we hold (Tink's SslUniquePtr pattern). Private to the crypto module.
#ifndef PERIMETER_CRYPTO_OPENSSL_OSSL_PTR_H_
#define PERIMETER_CRYPTO_OPENSSL_OSSL_PTR_H_

#include <memory>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

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
PERIMETER_OSSL_DELETER_(X509, X509_free);
PERIMETER_OSSL_DELETER_(X509_CRL, X509_CRL_free);
PERIMETER_OSSL_DELETER_(X509_STORE, X509_STORE_free);
PERIMETER_OSSL_DELETER_(X509_STORE_CTX, X509_STORE_CTX_free);
PERIMETER_OSSL_DELETER_(ASN1_TIME, ASN1_TIME_free);
PERIMETER_OSSL_DELETER_(ASN1_OBJECT, ASN1_OBJECT_free);
#undef PERIMETER_OSSL_DELETER_

template <typename T>
using OsslPtr = std::unique_ptr<T, OsslDeleter<T>>;

}  // namespace perimeter::crypto::internal

#endif  // PERIMETER_CRYPTO_OPENSSL_OSSL_PTR_H_
