/*
 * The key sets of write-only keys: the reader's (in a version 2 config,
 * for the full keys) and a writer's (in its key file).  Each lives in
 * sodium_malloc memory, read-only once built, wiped when freed; the
 * serializations are the fields in the order the structs declare them.
 * An imported set is checked for consistency (each public key is its
 * secret key's), so a key file or config put together from mismatched
 * halves is refused rather than used.
 */
#include <string.h>

#include <sodium.h>

#include <gfsbackup/crypto.h>

#include "crypto_internal.h"

_Static_assert(sizeof(struct gfsb_reader_keys) == GFSB_READER_KEYS_LEN,
    "reader keys: no padding");
_Static_assert(sizeof(struct gfsb_writer_keys) == GFSB_WRITER_KEYS_LEN,
    "writer keys: no padding");

static void *
secure_new(size_t n)
{
	void *p = sodium_malloc(n);

	if (p != NULL)
		memset(p, 0, n);
	return p;
}

gfsb_err
gfsb_crypto_reader_keys_new(struct gfsb_reader_keys **out)
{
	struct gfsb_reader_keys *k;

	if ((k = secure_new(sizeof(*k))) == NULL)
		return GFSB_ENOMEM;
	gfsb_crypto_reader_keypair(k->rpk, k->rsk);
	randombytes_buf(k->mkey, sizeof(k->mkey));
	gfsb_crypto_sign_keypair(k->spk, k->ssk);
	sodium_mprotect_readonly(k);
	*out = k;
	return GFSB_OK;
}

gfsb_err
gfsb_crypto_reader_keys_import(const uint8_t raw[GFSB_READER_KEYS_LEN],
    struct gfsb_reader_keys **out)
{
	struct gfsb_reader_keys *k;
	uint8_t pk[GFSB_PK_LEN];

	if ((k = secure_new(sizeof(*k))) == NULL)
		return GFSB_ENOMEM;
	memcpy(k, raw, sizeof(*k));
	if (crypto_scalarmult_base(pk, k->rsk) != 0 ||
	    sodium_memcmp(pk, k->rpk, sizeof(pk)) != 0 ||
	    sodium_memcmp(k->ssk + 32, k->spk, GFSB_SIGN_PK_LEN) != 0) {
		sodium_free(k);
		return GFSB_ECORRUPT;
	}
	sodium_mprotect_readonly(k);
	*out = k;
	return GFSB_OK;
}

void
gfsb_crypto_reader_keys_export(const struct gfsb_reader_keys *k,
    uint8_t raw[GFSB_READER_KEYS_LEN])
{
	memcpy(raw, k, sizeof(*k));
}

void
gfsb_crypto_reader_keys_free(struct gfsb_reader_keys *k)
{
	sodium_free(k);
}

gfsb_err
gfsb_crypto_writer_keys_new(const struct gfsb_keys *full,
    const struct gfsb_reader_keys *reader, struct gfsb_writer_keys **out)
{
	struct gfsb_writer_keys *w;

	if ((w = secure_new(sizeof(*w))) == NULL)
		return GFSB_ENOMEM;
	memcpy(w->idkey, full->idkey, sizeof(w->idkey));
	memcpy(w->mkey, reader->mkey, sizeof(w->mkey));
	randombytes_buf(w->wkey, sizeof(w->wkey));
	gfsb_crypto_sign_keypair(w->wpk, w->wsk);
	memcpy(w->rpk, reader->rpk, sizeof(w->rpk));
	memcpy(w->spk, reader->spk, sizeof(w->spk));
	sodium_mprotect_readonly(w);
	*out = w;
	return GFSB_OK;
}

gfsb_err
gfsb_crypto_writer_keys_import(const uint8_t raw[GFSB_WRITER_KEYS_LEN],
    struct gfsb_writer_keys **out)
{
	struct gfsb_writer_keys *w;

	if ((w = secure_new(sizeof(*w))) == NULL)
		return GFSB_ENOMEM;
	memcpy(w, raw, sizeof(*w));
	/* libsodium's Ed25519 secret key ends with its public key. */
	if (sodium_memcmp(w->wsk + 32, w->wpk, GFSB_SIGN_PK_LEN) != 0) {
		sodium_free(w);
		return GFSB_ECORRUPT;
	}
	sodium_mprotect_readonly(w);
	*out = w;
	return GFSB_OK;
}

void
gfsb_crypto_writer_keys_export(const struct gfsb_writer_keys *w,
    uint8_t raw[GFSB_WRITER_KEYS_LEN])
{
	memcpy(raw, w, sizeof(*w));
}

void
gfsb_crypto_writer_blob_id(const struct gfsb_writer_keys *w, const void *p,
    size_t n, uint8_t id[GFSB_ID_LEN])
{
	struct gfsb_keys k;

	/* The full keys' function, with the one key the writer holds. */
	memcpy(k.idkey, w->idkey, sizeof(k.idkey));
	memset(k.enc, 0, sizeof(k.enc));
	gfsb_crypto_blob_id(&k, p, n, id);
	sodium_memzero(&k, sizeof(k));
}

void
gfsb_crypto_writer_keys_free(struct gfsb_writer_keys *w)
{
	sodium_free(w);
}
