/*
 * Master keys and passphrase derivation.
 *
 * Master keys live only in sodium_malloc memory (guard pages, mlock'd,
 * excluded from core dumps where the kernel supports MADV_DONTDUMP) and are
 * made read-only once built; they are wiped by sodium_free.
 */
#include <string.h>

#include <sodium.h>

#include <gfsbackup/crypto.h>

#include "crypto_internal.h"

static gfsb_err
keys_alloc(struct gfsb_keys **out)
{
	struct gfsb_keys *k;

	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		return GFSB_ENOMEM;
	*out = k;
	return GFSB_OK;
}

gfsb_err
gfsb_crypto_keys_new(struct gfsb_keys **out)
{
	struct gfsb_keys *k;
	gfsb_err e;

	if ((e = keys_alloc(&k)) != GFSB_OK)
		return e;
	randombytes_buf(k->enc, sizeof(k->enc));
	randombytes_buf(k->idkey, sizeof(k->idkey));
	sodium_mprotect_readonly(k);
	*out = k;
	return GFSB_OK;
}

gfsb_err
gfsb_crypto_keys_import(const uint8_t raw[GFSB_MASTER_LEN],
    struct gfsb_keys **out)
{
	struct gfsb_keys *k;
	gfsb_err e;

	if ((e = keys_alloc(&k)) != GFSB_OK)
		return e;
	memcpy(k->enc, raw, GFSB_KEY_LEN);
	memcpy(k->idkey, raw + GFSB_KEY_LEN, GFSB_KEY_LEN);
	sodium_mprotect_readonly(k);
	*out = k;
	return GFSB_OK;
}

void
gfsb_crypto_keys_export(const struct gfsb_keys *k,
    uint8_t raw[GFSB_MASTER_LEN])
{
	memcpy(raw, k->enc, GFSB_KEY_LEN);
	memcpy(raw + GFSB_KEY_LEN, k->idkey, GFSB_KEY_LEN);
}

void
gfsb_crypto_keys_free(struct gfsb_keys *k)
{
	sodium_free(k);
}

gfsb_err
gfsb_crypto_pwhash(uint8_t key[GFSB_KEY_LEN], const char *pass,
    size_t passlen, const uint8_t salt[GFSB_SALT_LEN], uint64_t opslimit,
    uint64_t memlimit)
{
	if (opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
	    opslimit > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
	    memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
	    memlimit > crypto_pwhash_argon2id_MEMLIMIT_MAX)
		return GFSB_EINVAL;
	if (crypto_pwhash(key, GFSB_KEY_LEN, pass, passlen, salt,
	    (unsigned long long)opslimit, (size_t)memlimit,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		return GFSB_ENOMEM;
	return GFSB_OK;
}

void *
gfsb_crypto_secure_alloc(size_t n)
{
	return sodium_malloc(n);
}

void
gfsb_crypto_secure_free(void *p)
{
	sodium_free(p);
}
