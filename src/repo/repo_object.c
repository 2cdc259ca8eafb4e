/*
 * Sealed objects: the envelope shared by config, index, snapshots, locks
 * and pack headers, and hash-named storage.
 *
 * Envelope: "GFSB", version, kind, flags, reserved, then nonce, ciphertext
 * and tag.  The 8-byte header is the associated data, so an index cannot be
 * passed off as a snapshot and the compression flag cannot be flipped.
 * Version 1 is sealed under the full keys' enc.  Version 2 (a repository
 * with write-only keys) is sealed under mkey (index files, pack headers,
 * locks: what writers must read) or, by a writer, to the reader (its
 * snapshots: the session's epk follows the header and is associated data
 * too); full keys keep sealing config and snapshots under enc.
 * With the zstd flag the plaintext is a u32 raw length and one zstd frame,
 * so decompression is bounded before it starts.  Objects other than the
 * config are named by the SHA-256 of their stored bytes, and every get
 * checks that name before anything else looks at the bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/compress.h>
#include <gfsbackup/crypto.h>

#include "repo_internal.h"

static const char *
kind_name(enum env_kind kind)
{
	switch (kind) {
	case ENV_CONFIG: return "config";
	case ENV_INDEX: return "index";
	case ENV_SNAPSHOT: return "snapshot";
	case ENV_LOCK: return "lock";
	case ENV_PACKHDR: return "pack header";
	}
	return "object";
}

/* Session keys derived so far: a few, replaced in turn (a backup seals
 * with one session; a restore meets a handful). */
#define SESSKEYS 16
struct sesskeys {
	pthread_mutex_t lock;
	size_t n, next;
	uint8_t epk[SESSKEYS][ENV_EPK_LEN];
	uint8_t *key;	/* SESSKEYS keys, secure memory */
};

gfsb_err
repo_session_key(struct gfsb_repo *r, const uint8_t epk[ENV_EPK_LEN],
    uint8_t key[GFSB_KEY_LEN])
{
	struct sesskeys *c;
	size_t i;
	gfsb_err e;

	if (r->reader == NULL)
		return repo_need_full(r, "read what was sealed to the reader") ?
		    GFSB_EAUTH : gfsb_ctx_seterr(r->ctx, GFSB_EAUTH, "this "
		    "repository's config has no reader keys");
	pthread_mutex_lock(&r->pack_lock);
	if (r->sesskeys == NULL && (r->sesskeys = calloc(1,
	    sizeof(*r->sesskeys))) != NULL) {
		pthread_mutex_init(&r->sesskeys->lock, NULL);
		r->sesskeys->key = gfsb_crypto_secure_alloc(SESSKEYS *
		    GFSB_KEY_LEN);
	}
	c = r->sesskeys;
	pthread_mutex_unlock(&r->pack_lock);
	if (c == NULL || c->key == NULL)
		return GFSB_ENOMEM;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->n; i++)
		if (memcmp(c->epk[i], epk, ENV_EPK_LEN) == 0)
			break;
	e = GFSB_OK;
	if (i == c->n) {
		i = c->next;
		if ((e = gfsb_crypto_session_key(r->reader->rsk, epk,
		    c->key + i * GFSB_KEY_LEN)) == GFSB_OK) {
			memcpy(c->epk[i], epk, ENV_EPK_LEN);
			c->next = (c->next + 1) % SESSKEYS;
			if (c->n < SESSKEYS)
				c->n++;
		}
	}
	if (e == GFSB_OK)
		memcpy(key, c->key + i * GFSB_KEY_LEN, GFSB_KEY_LEN);
	pthread_mutex_unlock(&c->lock);
	if (e == GFSB_ECORRUPT)
		gfsb_ctx_seterr(r->ctx, e, "a session public key of low order: "
		    "damaged, or forged");
	return e;
}

void
repo_session_keys_free(struct gfsb_repo *r)
{
	if (r->sesskeys == NULL)
		return;
	gfsb_crypto_secure_free(r->sesskeys->key);
	pthread_mutex_destroy(&r->sesskeys->lock);
	free(r->sesskeys);
	r->sesskeys = NULL;
}

gfsb_err
gfsb_repo_need_full(struct gfsb_repo *r, const char *what)
{
	return repo_need_full(r, what);
}

gfsb_err
repo_need_full(struct gfsb_repo *r, const char *what)
{
	if (r->keys != NULL)
		return GFSB_OK;
	return gfsb_ctx_seterr(r->ctx, GFSB_EAUTH, "a write-only key cannot "
	    "%s: use a full key", what);
}

/* How r seals an object of kind: 0 under enc (version 1), else the
 * version 2 flag (ENV_F_MKEY, ENV_F_READER); -1 when it cannot. */
static int
seal_mode(const struct gfsb_repo *r, enum env_kind kind)
{
	int shared = kind == ENV_INDEX || kind == ENV_PACKHDR ||
	    kind == ENV_LOCK;

	if (r->keys != NULL)
		return r->reader != NULL && shared ? ENV_F_MKEY : 0;
	if (shared)
		return ENV_F_MKEY;
	return kind == ENV_SNAPSHOT && r->session != NULL ? ENV_F_READER : -1;
}

/* Seal src[0..n) after the header hdr (hlen bytes, its associated data)
 * into out: under the key mode says. */
static void
seal_body(const struct gfsb_repo *r, int mode, uint8_t *out,
    const uint8_t *src, size_t n, const uint8_t *hdr, size_t hlen)
{
	const uint8_t *mkey;

	if (mode == 0) {
		gfsb_crypto_seal(r->keys, out, src, n, hdr, hlen);
	} else if (mode == ENV_F_READER) {
		gfsb_crypto_session_seal(r->session, out, src, n, hdr, hlen);
	} else {
		mkey = r->reader != NULL ? r->reader->mkey : r->writer->mkey;
		gfsb_crypto_seal_with(mkey, out, src, n, hdr, hlen);
	}
}

gfsb_err
repo_obj_seal(struct gfsb_repo *r, enum env_kind kind, const uint8_t *plain,
    size_t n, struct gfsb_buf *out)
{
	struct gfsb_compress *z = NULL;
	struct gfsb_buf tmp;
	const uint8_t *src = plain;
	size_t srclen = n, clen = 0, hlen = ENV_HDR_LEN;
	uint8_t hdr[ENV_HDR_LEN + ENV_EPK_LEN];
	int mode = seal_mode(r, kind);
	gfsb_err e;

	if (mode < 0 && (e = repo_need_full(r, "write this")) != GFSB_OK)
		return e;
	gfsb_buf_init(&tmp);
	memcpy(hdr, ENV_MAGIC, 4);
	hdr[4] = mode == 0 ? GFSB_FORMAT_VERSION : 2;
	hdr[5] = (uint8_t)kind;
	hdr[6] = 0;
	hdr[7] = 0;
	/* Compress what is worth it; small objects and pack headers (ids,
	 * which do not compress) are sealed as they are. */
	if (n >= 512 && kind != ENV_PACKHDR && r->params.compression > 0) {
		if ((e = gfsb_compress_new(r->params.compression, &z)) !=
		    GFSB_OK)
			goto out;
		if ((e = gfsb_buf_reserve(&tmp, 4 + gfsb_compress_bound(n))) !=
		    GFSB_OK)
			goto out;
		gfsb_le32_put(tmp.data, (uint32_t)n);
		if ((e = gfsb_compress_blob(z, plain, n, tmp.data + 4,
		    tmp.cap - 4, &clen)) != GFSB_OK)
			goto out;
		if (clen > 0 && n <= UINT32_MAX) {
			hdr[6] = ENV_F_ZSTD;
			src = tmp.data;
			srclen = 4 + clen;
		}
	}
	hdr[6] |= (uint8_t)mode;
	if (mode == ENV_F_READER) {
		gfsb_crypto_session_epk(r->session, hdr + ENV_HDR_LEN);
		hlen += ENV_EPK_LEN;
	}
	if ((e = gfsb_buf_reserve(out, hlen + GFSB_SEAL_OVERHEAD + srclen)) !=
	    GFSB_OK)
		goto out;
	memcpy(out->data + out->len, hdr, hlen);
	seal_body(r, mode, out->data + out->len + hlen, src, srclen, hdr, hlen);
	out->len += hlen + GFSB_SEAL_OVERHEAD + srclen;
out:
	gfsb_compress_free(z);
	gfsb_buf_wipe(&tmp);
	return e;
}

/*
 * The key of a version 2 envelope whose header is p (checked) into key,
 * for gfsb_crypto_open_with: mkey, or the session key of its epk.
 * GFSB_EAUTH when r holds no such key.
 */
static gfsb_err
open_key(struct gfsb_repo *r, const uint8_t *p, uint8_t key[GFSB_KEY_LEN])
{
	if (p[6] & ENV_F_MKEY) {
		if (r->reader == NULL && r->writer == NULL)
			return gfsb_ctx_seterr(r->ctx, GFSB_EAUTH, "this "
			    "repository's config has no reader keys");
		memcpy(key, r->reader != NULL ? r->reader->mkey :
		    r->writer->mkey, GFSB_KEY_LEN);
		return GFSB_OK;
	}
	return repo_session_key(r, p + ENV_HDR_LEN, key);
}

gfsb_err
repo_obj_open(struct gfsb_repo *r, enum env_kind kind, const char *name,
    const uint8_t *p, size_t n, size_t maxplain, struct gfsb_buf *plain)
{
	struct gfsb_compress *z = NULL;
	struct gfsb_buf tmp;
	uint8_t *key = NULL;
	size_t len, raw, hlen = ENV_HDR_LEN;
	unsigned keyflags;
	gfsb_err e;

	gfsb_buf_init(&tmp);
	if (n < ENV_OVERHEAD || memcmp(p, ENV_MAGIC, 4) != 0)
		return gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT,
		    "%s %s is not a gfsbackup object", kind_name(kind), name);
	if (p[4] != GFSB_FORMAT_VERSION && p[4] != 2)
		return gfsb_ctx_seterr(r->ctx, GFSB_EUNSUPPORTED,
		    "%s %s has format version %u; this gfsbackup reads 1 and 2",
		    kind_name(kind), name, p[4]);
	/* Version 1: under enc, no key flag; version 2: exactly one. */
	keyflags = p[6] & (ENV_F_MKEY | ENV_F_READER);
	if (keyflags == ENV_F_READER)
		hlen += ENV_EPK_LEN;
	if (p[5] != kind || (p[6] & ~(ENV_F_ZSTD | ENV_F_MKEY |
	    ENV_F_READER)) != 0 || p[7] != 0 || (p[4] == 2) != (keyflags ==
	    ENV_F_MKEY || keyflags == ENV_F_READER) || n < hlen +
	    GFSB_SEAL_OVERHEAD)
		return gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT,
		    "%s %s has a bad header", kind_name(kind), name);
	len = n - hlen - GFSB_SEAL_OVERHEAD;
	if (len > maxplain + 4)
		return gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT,
		    "%s %s is too large (%zu bytes)", kind_name(kind), name,
		    n);
	if (p[4] == GFSB_FORMAT_VERSION &&
	    (e = repo_need_full(r, "read what is stored")) != GFSB_OK)
		return e;
	if ((key = gfsb_crypto_secure_alloc(GFSB_KEY_LEN)) == NULL)
		return GFSB_ENOMEM;
	if ((p[4] == 2 && (e = open_key(r, p, key)) != GFSB_OK) ||
	    (e = gfsb_buf_reserve(&tmp, len + 1)) != GFSB_OK)
		goto out;
	if ((p[4] == GFSB_FORMAT_VERSION ? gfsb_crypto_open(r->keys, tmp.data,
	    p + hlen, n - hlen, p, hlen) : gfsb_crypto_open_with(key, tmp.data,
	    p + hlen, n - hlen, p, hlen)) != GFSB_OK) {
		e = gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT,
		    "%s %s fails authentication (damaged or not of this "
		    "repository)", kind_name(kind), name);
		goto out;
	}
	tmp.len = len;
	plain->len = 0;
	if (!(p[6] & ENV_F_ZSTD)) {
		if (len > maxplain) {
			e = gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT,
			    "%s %s is too large", kind_name(kind), name);
			goto out;
		}
		e = gfsb_buf_append(plain, tmp.data, len);
		goto out;
	}
	if (len < 4 || (raw = gfsb_le32_get(tmp.data)) > maxplain) {
		e = gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT,
		    "%s %s has a bad compressed size", kind_name(kind),
		    name);
		goto out;
	}
	if ((e = gfsb_compress_new(0, &z)) != GFSB_OK ||
	    (e = gfsb_buf_reserve(plain, raw + 1)) != GFSB_OK)
		goto out;
	if (gfsb_compress_unblob(z, tmp.data + 4, len - 4, plain->data,
	    raw) != GFSB_OK) {
		e = gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT,
		    "%s %s does not decompress", kind_name(kind), name);
		goto out;
	}
	plain->len = raw;
out:
	gfsb_crypto_secure_free(key);
	gfsb_compress_free(z);
	gfsb_buf_wipe(&tmp);
	return e;
}

gfsb_err
repo_obj_put(struct gfsb_repo *r, enum gfsb_obj type, const uint8_t *p,
    size_t n, char name[GFSB_ID_HEX])
{

	gfsb_err e;

	gfsb_crypto_sha256_hex(p, n, name);
	if ((e = gfsb_backend_put(r->be, type, name, p, n)) == GFSB_OK)
		repo_cache_put(r, type, name, p, n);
	return e;
}

gfsb_err
repo_obj_get(struct gfsb_repo *r, enum gfsb_obj type, const char *name,
    size_t maxlen, struct gfsb_buf *out)
{
	char hex[GFSB_ID_HEX];
	gfsb_err e;

	if ((e = repo_cache_get(r, type, name, maxlen, out)) != GFSB_ENOTFOUND)
		return e;
	/* One GET, no HEAD first: the limit is the backend's. */
	out->len = 0;
	if ((e = gfsb_backend_get_max(r->be, type, name, maxlen, out)) !=
	    GFSB_OK) {
		if (e == GFSB_ENOTFOUND)
			return gfsb_ctx_seterr(r->ctx, e, "%s/%s not found",
			    gfsb_backend_type_name(type), name);
		return e;
	}
	if (type == GFSB_OBJ_CONFIG)
		return GFSB_OK;
	gfsb_crypto_sha256_hex(out->data, out->len, hex);
	if (strcmp(hex, name) != 0)
		return gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT,
		    "%s/%s is damaged: its contents hash to %.16s...",
		    gfsb_backend_type_name(type), name, hex);
	repo_cache_put(r, type, name, out->data, out->len);
	return GFSB_OK;
}

gfsb_err
repo_obj_load_v(struct gfsb_repo *r, enum gfsb_obj type, enum env_kind kind,
    const char *name, size_t maxplain, struct gfsb_buf *plain, int *version)
{
	struct gfsb_buf raw;
	gfsb_err e;

	gfsb_buf_init(&raw);
	e = repo_obj_get(r, type, name, maxplain + ENV_OVERHEAD + ENV_EPK_LEN +
	    4, &raw);
	if (e == GFSB_OK)
		e = repo_obj_open(r, kind, name, raw.data, raw.len, maxplain,
		    plain);
	if (e == GFSB_OK)
		*version = raw.data[4];
	gfsb_buf_fini(&raw);
	return e;
}

gfsb_err
repo_obj_load(struct gfsb_repo *r, enum gfsb_obj type, enum env_kind kind,
    const char *name, size_t maxplain, struct gfsb_buf *plain)
{
	int version;

	return repo_obj_load_v(r, type, kind, name, maxplain, plain,
	    &version);
}

gfsb_err
repo_obj_store(struct gfsb_repo *r, enum gfsb_obj type, enum env_kind kind,
    const uint8_t *plain, size_t n, char name[GFSB_ID_HEX])
{
	struct gfsb_buf sealed;
	gfsb_err e;

	gfsb_buf_init(&sealed);
	if ((e = repo_obj_seal(r, kind, plain, n, &sealed)) == GFSB_OK) {
		if (type == GFSB_OBJ_CONFIG) {
			strcpy(name, "config");
			e = gfsb_backend_put(r->be, type, name, sealed.data,
			    sealed.len);
		} else {
			e = repo_obj_put(r, type, sealed.data, sealed.len,
			    name);
		}
	}
	gfsb_buf_fini(&sealed);
	return e;
}
