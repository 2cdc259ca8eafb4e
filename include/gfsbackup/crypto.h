/*
 * crypto: hashes, authenticated encryption, master keys and passphrase
 * derivation.
 *
 * SHA-256 (OpenSSL's libcrypto, which uses SHA-NI) names stored objects;
 * keyed BLAKE2b-256 names blobs; XChaCha20-Poly1305 with a random 24-byte
 * nonce seals everything; Argon2id turns a passphrase into a key that seals
 * the master keys.  All from libsodium except SHA-256.
 */
#ifndef GFSBACKUP_CRYPTO_H
#define GFSBACKUP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <gfsbackup/util.h>

#define GFSB_KEY_LEN 32	   /* every symmetric key */
#define GFSB_ID_LEN 32	   /* blob ids and object names (binary) */
#define GFSB_ID_HEX 65	   /* hex id plus NUL */
#define GFSB_NONCE_LEN 24  /* XChaCha20-Poly1305 nonce */
#define GFSB_TAG_LEN 16	   /* Poly1305 tag */
#define GFSB_SEAL_OVERHEAD (GFSB_NONCE_LEN + GFSB_TAG_LEN)
#define GFSB_SALT_LEN 16   /* Argon2id salt */
#define GFSB_MASTER_LEN 64 /* serialized master keys */
#define GFSB_PK_LEN 32	   /* X25519 public key (a reader's, a session's) */
#define GFSB_SK_LEN 32	   /* X25519 secret key */
#define GFSB_SIGN_PK_LEN 32 /* Ed25519 public key */
#define GFSB_SIGN_SK_LEN 64 /* Ed25519 secret key (libsodium's form) */
#define GFSB_SIG_LEN 64	   /* Ed25519 signature */

/*
 * gfsb_crypto_sha256(p, n, out):
 * out = SHA-256(p[0..n)).  Thread-safe.
 */
void gfsb_crypto_sha256(const void *p, size_t n, uint8_t out[GFSB_ID_LEN]);

/*
 * gfsb_crypto_sha256_hex(p, n, out):
 * The same digest in lowercase hex: an object's name.  Thread-safe.
 */
void gfsb_crypto_sha256_hex(const void *p, size_t n, char out[GFSB_ID_HEX]);

struct gfsb_sha256;

/*
 * gfsb_crypto_sha256_new(out), _feed(h, p, n), _finish(h, digest),
 * _free(h):
 * Streaming SHA-256.  _new returns GFSB_ENOMEM on failure; _finish may be
 * called once; _free accepts NULL.  A state is used by one thread at once.
 */
gfsb_err gfsb_crypto_sha256_new(struct gfsb_sha256 **out) GFSB_WUR;
void gfsb_crypto_sha256_feed(struct gfsb_sha256 *h, const void *p, size_t n);
void gfsb_crypto_sha256_finish(struct gfsb_sha256 *h,
    uint8_t out[GFSB_ID_LEN]);
void gfsb_crypto_sha256_free(struct gfsb_sha256 *h);

/*
 * Master keys: an encryption key and a blob-id (MAC) key, held in
 * sodium_malloc'd memory (guard pages, locked, never swapped, wiped on
 * free) and read-only once created.
 */
struct gfsb_keys;

/*
 * gfsb_crypto_keys_new(out):
 * Generate fresh random master keys.  GFSB_ENOMEM on failure.  Free with
 * gfsb_crypto_keys_free.
 */
gfsb_err gfsb_crypto_keys_new(struct gfsb_keys **out) GFSB_WUR;

/*
 * gfsb_crypto_keys_import(raw, out):
 * Build master keys from their GFSB_MASTER_LEN-byte serialization.
 */
gfsb_err gfsb_crypto_keys_import(const uint8_t raw[GFSB_MASTER_LEN],
    struct gfsb_keys **out) GFSB_WUR;

/*
 * gfsb_crypto_keys_export(k, raw):
 * Write the serialization of k to raw, which should itself be secure
 * memory (gfsb_crypto_secure_alloc).
 */
void gfsb_crypto_keys_export(const struct gfsb_keys *k,
    uint8_t raw[GFSB_MASTER_LEN]);

/*
 * gfsb_crypto_keys_free(k):
 * Wipe and free k.  NULL is allowed.
 */
void gfsb_crypto_keys_free(struct gfsb_keys *k);

/*
 * gfsb_crypto_blob_id(k, p, n, id):
 * id = BLAKE2b-256 keyed with the id key over p[0..n).  Without the key an
 * observer cannot test whether a known file is in the repository.
 * Thread-safe.
 */
void gfsb_crypto_blob_id(const struct gfsb_keys *k, const void *p, size_t n,
    uint8_t id[GFSB_ID_LEN]);

/*
 * gfsb_crypto_seal(k, out, in, n, ad, adlen):
 * Encrypt and authenticate in[0..n) under a fresh random nonce, binding
 * ad[0..adlen).  Writes n + GFSB_SEAL_OVERHEAD bytes to out: nonce,
 * ciphertext, tag.  out and in must not overlap.  Thread-safe.
 */
void gfsb_crypto_seal(const struct gfsb_keys *k, uint8_t *out,
    const uint8_t *in, size_t n, const uint8_t *ad, size_t adlen);

/*
 * gfsb_crypto_open(k, out, in, n, ad, adlen):
 * Check and decrypt a sealed item of n bytes into out (n -
 * GFSB_SEAL_OVERHEAD bytes).  GFSB_ECORRUPT if it is too short or fails
 * authentication (out is then zeroed).  Thread-safe.
 */
gfsb_err gfsb_crypto_open(const struct gfsb_keys *k, uint8_t *out,
    const uint8_t *in, size_t n, const uint8_t *ad, size_t adlen) GFSB_WUR;

/*
 * gfsb_crypto_seal_with(key, ...), gfsb_crypto_open_with(key, ...):
 * The same with an explicit key (for key files, sealed under a key derived
 * from a passphrase).
 */
void gfsb_crypto_seal_with(const uint8_t key[GFSB_KEY_LEN], uint8_t *out,
    const uint8_t *in, size_t n, const uint8_t *ad, size_t adlen);
gfsb_err gfsb_crypto_open_with(const uint8_t key[GFSB_KEY_LEN], uint8_t *out,
    const uint8_t *in, size_t n, const uint8_t *ad, size_t adlen) GFSB_WUR;

/*
 * gfsb_crypto_pwhash(key, pass, passlen, salt, opslimit, memlimit):
 * Derive a GFSB_KEY_LEN-byte key from a passphrase with Argon2id.
 * GFSB_ENOMEM if the memory limit cannot be allocated, GFSB_EINVAL if the
 * parameters are out of libsodium's range.
 */
gfsb_err gfsb_crypto_pwhash(uint8_t key[GFSB_KEY_LEN], const char *pass,
    size_t passlen, const uint8_t salt[GFSB_SALT_LEN], uint64_t opslimit,
    uint64_t memlimit) GFSB_WUR;

/*
 * gfsb_crypto_expand(seed, out, n):
 * Fill out with n pseudo-random bytes determined by the secret seed
 * (XChaCha20 keystream).  Used to derive the chunker's gear table.
 */
void gfsb_crypto_expand(const uint8_t seed[GFSB_KEY_LEN], void *out, size_t n);

/*
 * gfsb_crypto_random(p, n):
 * Fill p with n bytes from the system CSPRNG.
 */
void gfsb_crypto_random(void *p, size_t n);

/*
 * Sealing to a reader, for write-only keys (docs/WRITE-ONLY-KEYS.md).
 *
 * gfsb_crypto_reader_keypair(pk, sk):
 * A new X25519 pair: the reader's (or, inside a session, an ephemeral
 * one).  Keep sk in secure memory.
 *
 * gfsb_crypto_reader_public(sk, pk):
 * The public key of sk.  GFSB_EINVAL if libsodium refuses it.
 */
void gfsb_crypto_reader_keypair(uint8_t pk[GFSB_PK_LEN],
    uint8_t sk[GFSB_SK_LEN]);
gfsb_err gfsb_crypto_reader_public(const uint8_t sk[GFSB_SK_LEN],
    uint8_t pk[GFSB_PK_LEN]) GFSB_WUR;

struct gfsb_session;

/*
 * gfsb_crypto_session_new(rpk, out):
 * A writer's session sealing to the reader whose public key is rpk: an
 * ephemeral pair is drawn, the session key derived and the ephemeral
 * secret wiped, so that once the session is freed only the reader's
 * secret key can derive the key again.  GFSB_EINVAL when rpk is a point of
 * low order (the shared secret would be zero), GFSB_ENOMEM.
 *
 * gfsb_crypto_session_epk(s, epk):
 * The session's public key, stored with everything it seals.
 *
 * gfsb_crypto_session_seal(s, out, in, n, ad, adlen):
 * gfsb_crypto_seal_with under the session key.  Thread-safe.
 *
 * gfsb_crypto_session_free(s):
 * Wipe and free the session (NULL allowed).
 */
gfsb_err gfsb_crypto_session_new(const uint8_t rpk[GFSB_PK_LEN],
    struct gfsb_session **out) GFSB_WUR;
void gfsb_crypto_session_epk(const struct gfsb_session *s,
    uint8_t epk[GFSB_PK_LEN]);
void gfsb_crypto_session_seal(const struct gfsb_session *s, uint8_t *out,
    const uint8_t *in, size_t n, const uint8_t *ad, size_t adlen);
void gfsb_crypto_session_free(struct gfsb_session *s);

/*
 * gfsb_crypto_session_key(rsk, epk, key):
 * The reader's side: the key of the session whose public key is epk, for
 * gfsb_crypto_open_with.  GFSB_ECORRUPT when epk is a point of low order.
 * Keep key in secure memory.
 */
gfsb_err gfsb_crypto_session_key(const uint8_t rsk[GFSB_SK_LEN],
    const uint8_t epk[GFSB_PK_LEN], uint8_t key[GFSB_KEY_LEN]) GFSB_WUR;

/*
 * Ed25519 signatures (which key wrote an object).
 * gfsb_crypto_sign_keypair(pk, sk): a new pair.
 * gfsb_crypto_sign(sk, m, n, sig): sign m[0..n).
 * gfsb_crypto_sign_verify(pk, m, n, sig): GFSB_OK, or GFSB_ECORRUPT when
 * sig is not pk's signature of exactly m[0..n).
 */
void gfsb_crypto_sign_keypair(uint8_t pk[GFSB_SIGN_PK_LEN],
    uint8_t sk[GFSB_SIGN_SK_LEN]);
void gfsb_crypto_sign(const uint8_t sk[GFSB_SIGN_SK_LEN], const void *m,
    size_t n, uint8_t sig[GFSB_SIG_LEN]);
gfsb_err gfsb_crypto_sign_verify(const uint8_t pk[GFSB_SIGN_PK_LEN],
    const void *m, size_t n, const uint8_t sig[GFSB_SIG_LEN]) GFSB_WUR;

/*
 * The keys of write-only keys (docs/WRITE-ONLY-KEYS.md), each set in
 * secure memory, read-only once made.
 *
 * struct gfsb_reader_keys: what a repository of version 2 adds to its
 * config, for the full keys: the reader's X25519 pair (rsk, rpk), mkey
 * (index files, pack headers, locks: readable by writers), the full
 * keys' Ed25519 pair (ssk, spk).
 *
 * struct gfsb_writer_keys: what one write-only key file holds: idkey
 * (blob ids, the full keys' own), mkey, the writer's own wkey (its local
 * cache) and Ed25519 pair (wsk, wpk), and the public keys it writes to
 * and trusts (rpk, spk).  Nothing here opens what the full keys' enc
 * sealed, nor what a session sealed to rpk.
 */
#define GFSB_READER_KEYS_LEN (GFSB_SK_LEN + GFSB_PK_LEN + GFSB_KEY_LEN + \
	GFSB_SIGN_SK_LEN + GFSB_SIGN_PK_LEN)
#define GFSB_WRITER_KEYS_LEN (3 * GFSB_KEY_LEN + GFSB_SIGN_SK_LEN +        \
	GFSB_SIGN_PK_LEN + GFSB_PK_LEN + GFSB_SIGN_PK_LEN)

struct gfsb_reader_keys {
	uint8_t rsk[GFSB_SK_LEN], rpk[GFSB_PK_LEN];
	uint8_t mkey[GFSB_KEY_LEN];
	uint8_t ssk[GFSB_SIGN_SK_LEN], spk[GFSB_SIGN_PK_LEN];
};

struct gfsb_writer_keys {
	uint8_t idkey[GFSB_KEY_LEN], mkey[GFSB_KEY_LEN], wkey[GFSB_KEY_LEN];
	uint8_t wsk[GFSB_SIGN_SK_LEN], wpk[GFSB_SIGN_PK_LEN];
	uint8_t rpk[GFSB_PK_LEN], spk[GFSB_SIGN_PK_LEN];
};

/*
 * gfsb_crypto_reader_keys_new(out):
 * A fresh reader set.  GFSB_ENOMEM.
 *
 * gfsb_crypto_reader_keys_import(raw, out):
 * A reader set from its GFSB_READER_KEYS_LEN-byte serialization (the
 * fields in order); GFSB_ECORRUPT when rpk is not rsk's or spk not
 * ssk's, GFSB_ENOMEM.  gfsb_crypto_reader_keys_export writes it.
 *
 * gfsb_crypto_writer_keys_new(full, reader, out):
 * A new writer's set: full's idkey, reader's mkey, rpk and spk, its own
 * wkey and signing pair.  GFSB_ENOMEM.
 *
 * gfsb_crypto_writer_keys_import(raw, out):
 * A writer set from its GFSB_WRITER_KEYS_LEN-byte serialization (the
 * fields in order); GFSB_ECORRUPT when wpk is not wsk's.
 * gfsb_crypto_writer_keys_export writes it.
 *
 * gfsb_crypto_writer_blob_id(w, p, n, id): as gfsb_crypto_blob_id.
 *
 * _free: wipe and free (NULL allowed).
 */
gfsb_err gfsb_crypto_reader_keys_new(struct gfsb_reader_keys **out)
    GFSB_WUR;
gfsb_err gfsb_crypto_reader_keys_import(
    const uint8_t raw[GFSB_READER_KEYS_LEN], struct gfsb_reader_keys **out)
    GFSB_WUR;
void gfsb_crypto_reader_keys_export(const struct gfsb_reader_keys *k,
    uint8_t raw[GFSB_READER_KEYS_LEN]);
void gfsb_crypto_reader_keys_free(struct gfsb_reader_keys *k);
gfsb_err gfsb_crypto_writer_keys_new(const struct gfsb_keys *full,
    const struct gfsb_reader_keys *reader, struct gfsb_writer_keys **out)
    GFSB_WUR;
gfsb_err gfsb_crypto_writer_keys_import(
    const uint8_t raw[GFSB_WRITER_KEYS_LEN], struct gfsb_writer_keys **out)
    GFSB_WUR;
void gfsb_crypto_writer_keys_export(const struct gfsb_writer_keys *k,
    uint8_t raw[GFSB_WRITER_KEYS_LEN]);
void gfsb_crypto_writer_blob_id(const struct gfsb_writer_keys *w,
    const void *p, size_t n, uint8_t id[GFSB_ID_LEN]);
void gfsb_crypto_writer_keys_free(struct gfsb_writer_keys *k);

/*
 * gfsb_crypto_secure_alloc(n), gfsb_crypto_secure_free(p):
 * Memory for secrets (passphrases, derived keys): guarded, locked and wiped
 * on free.  _alloc returns NULL on failure; _free accepts NULL.
 */
void *gfsb_crypto_secure_alloc(size_t n);
void gfsb_crypto_secure_free(void *p);

#endif /* !GFSBACKUP_CRYPTO_H */
