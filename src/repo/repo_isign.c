/*
 * Signed index files.  In a repository with write-only keys every holder
 * of mkey can write an index file, so one proves nothing by being there:
 * a write-only key's entries could name data that is not where they say
 * ("blob X is in pack P"), and a file of its own could supersede others
 * or mark packs for deletion.  So each index file sealed under mkey ends
 * with a signature over the rest of its plaintext: by the full keys' ssk,
 * or by the write-only key's wsk that wrote it.  What a reader trusts:
 *
 * - a file under enc (version 1, written by a full key before the
 *   repository had write-only keys), or one signed by the full keys: all
 *   of it;
 * - one signed by a write-only key of this repository (its wpk in a key
 *   file) read with a full key, or by the reading writer itself: its
 *   packs, found after those of the trusted files (of a blob named twice
 *   the trusted entry wins), but neither what it supersedes nor the
 *   packs it marks for deletion;
 * - anything else (no signature, a bad one, another writer's file read
 *   by a writer): nothing; it is skipped, and said (GFSB_EAUTH: the
 *   envelope opened under mkey, so no bit rot did this).
 *
 * Trailer: "GFSBSIG1", signer kind (u8: 1 full keys, 2 write-only key),
 * signer's Ed25519 public key (32), signature (64) over every plaintext
 * byte before the trailer.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <gfsbackup/crypto.h>
#include <gfsbackup/repo.h>

#include "repo_internal.h"

#define ISIG_MAGIC "GFSBSIG1"
#define ISIG_MAGIC_LEN 8
#define ISIG_LEN (ISIG_MAGIC_LEN + 1 + GFSB_SIGN_PK_LEN + GFSB_SIG_LEN)
#define ISIG_FULL 1
#define ISIG_WRITER 2

gfsb_err
repo_isign_append(struct gfsb_repo *r, struct gfsb_buf *b)
{
	uint8_t sig[GFSB_SIG_LEN], kind;
	const uint8_t *pk, *sk;
	gfsb_err e;

	if (r->reader == NULL && r->writer == NULL)
		return GFSB_OK; /* version 1: sealed under enc, unsigned */
	kind = r->reader != NULL ? ISIG_FULL : ISIG_WRITER;
	pk = r->reader != NULL ? r->reader->spk : r->writer->wpk;
	sk = r->reader != NULL ? r->reader->ssk : r->writer->wsk;
	gfsb_crypto_sign(sk, b->data, b->len, sig);
	if ((e = gfsb_buf_append(b, ISIG_MAGIC, ISIG_MAGIC_LEN)) != GFSB_OK ||
	    (e = gfsb_buf_put_u8(b, kind)) != GFSB_OK ||
	    (e = gfsb_buf_append(b, pk, GFSB_SIGN_PK_LEN)) != GFSB_OK)
		return e;
	return gfsb_buf_append(b, sig, GFSB_SIG_LEN);
}

/* Is pk the wpk of one of this repository's write-only key files?  The
 * list is read once per handle. */
static int
known_writer(struct gfsb_repo *r, const uint8_t pk[GFSB_SIGN_PK_LEN])
{
	struct gfsb_key_info *keys;
	size_t n, i;

	pthread_mutex_lock(&r->pack_lock);
	if (!r->wpks_loaded && gfsb_repo_key_list(r, &keys, &n) == GFSB_OK) {
		for (i = 0; i < n; i++)
			if (keys[i].write_only && gfsb_strv_addf(&r->wpks,
			    &r->nwpks, "%.64s", keys[i].wpk_hex) != GFSB_OK)
				break;
		free(keys);
		r->wpks_loaded = 1;
	}
	pthread_mutex_unlock(&r->pack_lock);
	gfsb_ctx_clearerr(r->ctx);
	for (i = 0; i < r->nwpks; i++) {
		uint8_t k[GFSB_SIGN_PK_LEN];

		if (gfsb_hex_decode(r->wpks[i], k, sizeof(k)) == GFSB_OK &&
		    sodium_memcmp(k, pk, sizeof(k)) == 0)
			return 1;
	}
	return 0;
}

gfsb_err
repo_isign_check(struct gfsb_repo *r, const char *name, int version,
    struct gfsb_buf *plain, int *trust)
{
	const uint8_t *t;
	size_t body;
	uint8_t kind;

	*trust = ITRUST_FULL;
	if (version == GFSB_FORMAT_VERSION) {
		*trust = ITRUST_ENC; /* a full key wrote it */
		return GFSB_OK;
	}
	if (plain->len < ISIG_LEN)
		goto unsigned_file;
	body = plain->len - ISIG_LEN;
	t = plain->data + body;
	kind = t[ISIG_MAGIC_LEN];
	if (memcmp(t, ISIG_MAGIC, ISIG_MAGIC_LEN) != 0 ||
	    (kind != ISIG_FULL && kind != ISIG_WRITER))
		goto unsigned_file;
	if (gfsb_crypto_sign_verify(t + ISIG_MAGIC_LEN + 1, plain->data, body,
	    t + ISIG_MAGIC_LEN + 1 + GFSB_SIGN_PK_LEN) != GFSB_OK)
		return gfsb_ctx_seterr(r->ctx, GFSB_EAUTH, "index/%s has a "
		    "signature that does not verify", name);
	if (kind == ISIG_FULL) {
		const uint8_t *spk = r->reader != NULL ? r->reader->spk :
		    r->writer != NULL ? r->writer->spk : NULL;

		if (spk == NULL || sodium_memcmp(spk, t + ISIG_MAGIC_LEN + 1,
		    GFSB_SIGN_PK_LEN) != 0)
			return gfsb_ctx_seterr(r->ctx, GFSB_EAUTH, "index/%s "
			    "is signed by keys not of this repository", name);
	} else if (r->writer != NULL) {
		if (sodium_memcmp(r->writer->wpk, t + ISIG_MAGIC_LEN + 1,
		    GFSB_SIGN_PK_LEN) != 0)
			return gfsb_ctx_seterr(r->ctx, GFSB_EAUTH, "index/%s "
			    "was written by another write-only key", name);
		*trust = ITRUST_WRITER;
	} else {
		if (!known_writer(r, t + ISIG_MAGIC_LEN + 1))
			return gfsb_ctx_seterr(r->ctx, GFSB_EAUTH, "index/%s "
			    "is signed by no key of this repository", name);
		*trust = ITRUST_WRITER;
	}
	plain->len = body;
	return GFSB_OK;
unsigned_file:
	return gfsb_ctx_seterr(r->ctx, GFSB_EAUTH, "index/%s is not "
	    "signed", name);
}

gfsb_err
repo_index_obj_load(struct gfsb_repo *r, const char *name,
    struct gfsb_buf *plain, int *trust)
{
	int version;
	gfsb_err e;

	if ((e = repo_obj_load_v(r, GFSB_OBJ_INDEX, ENV_INDEX, name, MAX_INDEX,
	    plain, &version)) != GFSB_OK)
		return e;
	return repo_isign_check(r, name, version, plain, trust);
}
