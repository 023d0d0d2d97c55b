#ifndef MINERALSYNC_COPENSSL_SHIM_H
#define MINERALSYNC_COPENSSL_SHIM_H

/*
 * The system OpenSSL (libssl-dev), plus static inline wrappers for what Swift cannot import:
 * function-like macros, stack (sk_*) helpers and option constants built from macros.
 * Every wrapper is named `mshim_*` so a reader can tell at a glance it is ours, not OpenSSL's.
 */

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>

/* ---- memory ---- */
static inline void mshim_OPENSSL_free(void *ptr) { OPENSSL_free(ptr); }

/* ---- BIO ---- */
static inline long mshim_BIO_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

/* ---- SSL_CTX options and protocol versions ---- */
static inline int mshim_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int mshim_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
static inline uint64_t mshim_SSL_OP_NO_RENEGOTIATION(void) { return (uint64_t)SSL_OP_NO_RENEGOTIATION; }
static inline uint64_t mshim_SSL_OP_NO_TICKET(void) { return (uint64_t)SSL_OP_NO_TICKET; }
static inline uint64_t mshim_SSL_OP_NO_COMPRESSION(void) { return (uint64_t)SSL_OP_NO_COMPRESSION; }
static inline uint64_t mshim_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return (uint64_t)SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline uint64_t mshim_SSL_CTX_set_options(SSL_CTX *ctx, uint64_t options) {
    return (uint64_t)SSL_CTX_set_options(ctx, options);
}
static inline long mshim_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline int mshim_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}
static inline long mshim_SSL_CTX_add_extra_chain_cert(SSL_CTX *ctx, X509 *cert) {
    return SSL_CTX_add_extra_chain_cert(ctx, cert);
}
static inline long mshim_SSL_set_mode(SSL *ssl, long mode) { return SSL_set_mode(ssl, mode); }
static inline long mshim_SSL_MODE_ENABLE_PARTIAL_WRITE(void) { return SSL_MODE_ENABLE_PARTIAL_WRITE; }
static inline long mshim_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER(void) { return SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER; }

static inline long mshim_SSL_CTX_add1_chain_cert(SSL_CTX *ctx, X509 *cert) { return SSL_CTX_add1_chain_cert(ctx, cert); }
static inline long mshim_SSL_SESS_CACHE_OFF(void) { return SSL_SESS_CACHE_OFF; }
static inline int mshim_SSL_get_ex_new_index(void) { return SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL); }
static inline int mshim_SSL_AD_REASON_OFFSET(void) { return SSL_AD_REASON_OFFSET; }
static inline int mshim_ERR_LIB_SSL(void) { return ERR_LIB_SSL; }
static inline int mshim_TLS1_2_VERSION(void) { return TLS1_2_VERSION; }
static inline int mshim_TLS1_3_VERSION(void) { return TLS1_3_VERSION; }

/* ---- stacks of X509 ---- */
static inline STACK_OF(X509) *mshim_sk_X509_new_null(void) { return sk_X509_new_null(); }
static inline int mshim_sk_X509_push(STACK_OF(X509) *stack, X509 *cert) { return sk_X509_push(stack, cert); }
static inline int mshim_sk_X509_num(const STACK_OF(X509) *stack) { return sk_X509_num(stack); }
static inline X509 *mshim_sk_X509_value(const STACK_OF(X509) *stack, int i) { return sk_X509_value(stack, i); }
/* Frees the stack only; the certificates stay owned by their Swift wrappers. */
static inline void mshim_sk_X509_free(STACK_OF(X509) *stack) { sk_X509_free(stack); }
/* Frees the stack and drops one reference on every certificate in it. */
static inline void mshim_sk_X509_pop_free(STACK_OF(X509) *stack) { sk_X509_pop_free(stack, X509_free); }

/* ---- stacks of X509_CRL ---- */
static inline STACK_OF(X509_CRL) *mshim_sk_X509_CRL_new_null(void) { return sk_X509_CRL_new_null(); }
static inline int mshim_sk_X509_CRL_push(STACK_OF(X509_CRL) *stack, X509_CRL *crl) { return sk_X509_CRL_push(stack, crl); }
static inline void mshim_sk_X509_CRL_free(STACK_OF(X509_CRL) *stack) { sk_X509_CRL_free(stack); }

/* ---- subject alternative names ---- */
static inline GENERAL_NAMES *mshim_X509_get_subject_alt_names(const X509 *cert) {
    return (GENERAL_NAMES *)X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
}
static inline int mshim_sk_GENERAL_NAME_num(const GENERAL_NAMES *names) { return sk_GENERAL_NAME_num(names); }
static inline GENERAL_NAME *mshim_sk_GENERAL_NAME_value(const GENERAL_NAMES *names, int i) {
    return sk_GENERAL_NAME_value(names, i);
}
static inline void mshim_GENERAL_NAMES_free(GENERAL_NAMES *names) { GENERAL_NAMES_free(names); }
/* The type of a GENERAL_NAME (GEN_URI, GEN_DNS, ...) and, for IA5 types, its bytes. */
static inline int mshim_GENERAL_NAME_type(const GENERAL_NAME *name) { return name->type; }
static inline const unsigned char *mshim_GENERAL_NAME_ia5_data(const GENERAL_NAME *name, int *length) {
    if (name->type != GEN_URI && name->type != GEN_DNS && name->type != GEN_EMAIL) { *length = 0; return NULL; }
    *length = ASN1_STRING_length(name->d.ia5);
    return ASN1_STRING_get0_data(name->d.ia5);
}

static inline unsigned long mshim_XN_FLAG_RFC2253(void) { return XN_FLAG_RFC2253; }

/* ---- error queue ---- */
static inline int mshim_ERR_GET_LIB(unsigned long code) { return ERR_GET_LIB(code); }
static inline int mshim_ERR_GET_REASON(unsigned long code) { return ERR_GET_REASON(code); }

#endif
