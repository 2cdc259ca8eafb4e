/*
 * Creating and opening repositories; the config.
 *
 * init writes the key file first and the config last: the config's
 * presence is what makes a repository exist, so an interrupted init leaves
 * nothing that looks like a repository (at worst an orphan key file, which
 * open skips because the config does not authenticate under its keys).
 * The config is sealed: format version, repository id, chunker seed and
 * sizes, compression level and pack size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/chunker.h>
#include <gfsbackup/compress.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/repo.h>

#include "repo_internal.h"

void
gfsb_repo_params_default(struct gfsb_repo_params *p)
{
	memset(p, 0, sizeof(*p));
	p->chunk.min = GFSB_CHUNK_MIN_DEFAULT;
	p->chunk.avg = GFSB_CHUNK_AVG_DEFAULT;
	p->chunk.max = GFSB_CHUNK_MAX_DEFAULT;
	p->pack_size = GFSB_PACK_SIZE_DEFAULT;
	p->compression = GFSB_COMPRESS_LEVEL_DEFAULT;
	p->kdf_ops = GFSB_KDF_OPS_DEFAULT;
	p->kdf_mem = GFSB_KDF_MEM_DEFAULT;
}

static gfsb_err
params_check(struct gfsb_ctx *ctx, const struct gfsb_repo_params *p)
{
	if (gfsb_chunker_params_check(&p->chunk) != GFSB_OK)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "invalid chunk sizes %u/%u/%u: need %u <= min < avg < "
		    "max <= %u with avg a power of two", p->chunk.min,
		    p->chunk.avg, p->chunk.max, GFSB_CHUNK_MIN_LIMIT,
		    GFSB_CHUNK_MAX_LIMIT);
	if (p->pack_size < GFSB_PACK_SIZE_MIN ||
	    p->pack_size > GFSB_PACK_SIZE_MAX)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "invalid pack size %u: must be 1 MiB to 1 GiB",
		    p->pack_size);
	if (p->compression < 0 || p->compression > GFSB_COMPRESS_LEVEL_MAX)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "invalid compression level %d: must be 0 to %d",
		    p->compression, GFSB_COMPRESS_LEVEL_MAX);
	return GFSB_OK;
}

static gfsb_err
repo_alloc(struct gfsb_ctx *ctx, struct gfsb_backend *be,
    struct gfsb_repo **out)
{
	struct gfsb_repo *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return GFSB_ENOMEM;
	r->ctx = ctx;
	r->be = be;
	if (rindex_init(&r->idx) != GFSB_OK) {
		free(r);
		return GFSB_ENOMEM;
	}
	if (gfsb_pool_new(1, SIZE_MAX, 0, &r->packbufs) != GFSB_OK) {
		rindex_fini(&r->idx);
		free(r);
		return GFSB_ENOMEM;
	}
	pthread_mutex_init(&r->pack_lock, NULL);
	pthread_cond_init(&r->pack_cond, NULL);
	*out = r;
	return GFSB_OK;
}

static gfsb_err
make_chunker(struct gfsb_repo *r, const uint8_t seed[GFSB_KEY_LEN])
{
	uint64_t gear[256];
	gfsb_err e;

	gfsb_crypto_expand(seed, gear, sizeof(gear));
	e = gfsb_chunker_new(&r->params.chunk, gear, &r->chunker);
	sodium_memzero(gear, sizeof(gear));
	return e;
}

static gfsb_err
config_write(struct gfsb_repo *r, const uint8_t seed[GFSB_KEY_LEN])
{
	char seedhex[2 * GFSB_KEY_LEN + 1], name[GFSB_ID_HEX];
	json_t *o = NULL;
	char *text = NULL;
	gfsb_err e = GFSB_ENOMEM;

	gfsb_hex_encode(seed, GFSB_KEY_LEN, seedhex);
	o = json_pack("{s:i, s:s, s:{s:i, s:i, s:i, s:s}, s:i, s:i}",
	    "version", GFSB_FORMAT_VERSION, "id", r->id, "chunker", "min",
	    (int)r->params.chunk.min, "avg", (int)r->params.chunk.avg, "max",
	    (int)r->params.chunk.max, "seed", seedhex, "compression",
	    r->params.compression, "pack_size", (int)r->params.pack_size);
	/* Older readers ignore the field: they never delete from a bucket
	 * they do not know is locked, and S3 refuses what the lock holds. */
	if (o != NULL && r->params.lock_mode != GFSB_LOCK_NONE &&
	    json_object_set_new(o, "object_lock",
	    json_string(gfsb_lock_mode_name(r->params.lock_mode))) != 0) {
		json_decref(o);
		o = NULL;
	}
	if (o != NULL && (text = json_dumps(o, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) != NULL)
		e = repo_obj_store(r, GFSB_OBJ_CONFIG, ENV_CONFIG,
		    (const uint8_t *)text, strlen(text), name);
	if (text != NULL)
		sodium_memzero(text, strlen(text));
	sodium_memzero(seedhex, sizeof(seedhex));
	free(text);
	json_decref(o);
	return e;
}

gfsb_err
repo_config_decode(struct gfsb_ctx *ctx, const uint8_t *p, size_t n,
    char idout[GFSB_ID_HEX], struct gfsb_repo_params *params,
    uint8_t seed[GFSB_KEY_LEN])
{
	json_int_t version = 0, min = 0, avg = 0, max = 0, comp = 0,
	    packsize = 0;
	const char *id = NULL, *seedhex = NULL;
	uint8_t idbin[GFSB_ID_LEN];
	struct gfsb_repo_params pp;
	json_error_t jerr;
	json_t *o = NULL, *lock, *reader;
	gfsb_err e = GFSB_ECORRUPT;

	if ((o = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL ||
	    json_unpack(o, "{s:I, s:s, s:{s:I, s:I, s:I, s:s}, s:I, s:I}",
	    "version", &version, "id", &id, "chunker", "min", &min, "avg", &avg,
	    "max", &max, "seed", &seedhex, "compression", &comp, "pack_size",
	    &packsize) != 0) {
		gfsb_ctx_seterr(ctx, e, "config is malformed");
		goto out;
	}
	if (version != GFSB_FORMAT_VERSION && version != 2) {
		e = gfsb_ctx_seterr(ctx, GFSB_EUNSUPPORTED,
		    "repository format version %lld is not supported",
		    (long long)version);
		goto out;
	}
	/* Version 2: the reader keys of write-only keys (config_reader). */
	reader = json_object_get(o, "reader");
	if (version == 2 && (!json_is_string(reader) ||
	    strlen(json_string_value(reader)) != 2 * GFSB_READER_KEYS_LEN)) {
		gfsb_ctx_seterr(ctx, e, "config is malformed");
		goto out;
	}
	if (gfsb_hex_decode(id, idbin, sizeof(idbin)) != GFSB_OK ||
	    gfsb_hex_decode(seedhex, seed, GFSB_KEY_LEN) != GFSB_OK ||
	    min < 0 || avg < 0 || max < 0 || min > UINT32_MAX ||
	    avg > UINT32_MAX || max > UINT32_MAX || packsize < 0 ||
	    packsize > UINT32_MAX || comp < 0 || comp > 100) {
		gfsb_ctx_seterr(ctx, e, "config has invalid values");
		goto out;
	}
	pp = *params;
	pp.lock_mode = GFSB_LOCK_NONE;
	lock = json_object_get(o, "object_lock");
	if (lock != NULL && (!json_is_string(lock) ||
	    gfsb_lock_mode_parse(json_string_value(lock), &pp.lock_mode) !=
	    GFSB_OK || pp.lock_mode == GFSB_LOCK_NONE)) {
		e = gfsb_ctx_seterr(ctx, GFSB_EUNSUPPORTED, "config names an "
		    "Object Lock mode this version does not know");
		goto out;
	}
	pp.chunk.min = (uint32_t)min;
	pp.chunk.avg = (uint32_t)avg;
	pp.chunk.max = (uint32_t)max;
	pp.pack_size = (uint32_t)packsize;
	pp.compression = (int)comp;
	if (params_check(ctx, &pp) != GFSB_OK)
		goto out;
	snprintf(idout, GFSB_ID_HEX, "%s", id);
	*params = pp;
	e = GFSB_OK;
out:
	if (e != GFSB_OK)
		sodium_memzero(seed, GFSB_KEY_LEN);
	json_decref(o);
	return e;
}

/* A version 2 config's reader keys (the plaintext p, decoded once
 * already) into r->reader; none in version 1. */
static gfsb_err
config_reader(struct gfsb_repo *r, const uint8_t *p, size_t n)
{
	json_t *o, *hex;
	uint8_t *raw;
	gfsb_err e = GFSB_OK;

	if ((o = json_loadb((const char *)p, n, 0, NULL)) == NULL)
		return GFSB_ENOMEM;
	hex = json_object_get(o, "reader");
	if (json_integer_value(json_object_get(o, "version")) == 2) {
		if ((raw = gfsb_crypto_secure_alloc(GFSB_READER_KEYS_LEN)) ==
		    NULL)
			e = GFSB_ENOMEM;
		else if (gfsb_hex_decode(json_string_value(hex), raw,
		    GFSB_READER_KEYS_LEN) != GFSB_OK ||
		    gfsb_crypto_reader_keys_import(raw, &r->reader) != GFSB_OK)
			e = gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT, "config's "
			    "reader keys are damaged");
		gfsb_crypto_secure_free(raw);
	}
	json_decref(o);
	return e;
}

/* The config's plaintext, decoded: r's id and parameters, the chunker
 * seed (the caller wipes it); the plaintext into plain. */
static gfsb_err
config_load(struct gfsb_repo *r, struct gfsb_buf *plain,
    uint8_t seed[GFSB_KEY_LEN])
{
	gfsb_err e;

	if ((e = repo_obj_load(r, GFSB_OBJ_CONFIG, ENV_CONFIG, "config",
	    MAX_CONFIG, plain)) != GFSB_OK)
		return e;
	return repo_config_decode(r->ctx, plain->data, plain->len, r->id,
	    &r->params, seed);
}

static gfsb_err
config_read(struct gfsb_repo *r)
{
	uint8_t seed[GFSB_KEY_LEN];
	struct gfsb_buf plain;
	gfsb_err e;

	gfsb_buf_init(&plain);
	if ((e = config_load(r, &plain, seed)) != GFSB_OK ||
	    (e = config_reader(r, plain.data, plain.len)) != GFSB_OK)
		goto out;
	e = make_chunker(r, seed);
out:
	sodium_memzero(seed, sizeof(seed));
	gfsb_buf_wipe(&plain);
	return e;
}

gfsb_err
repo_config_seed(struct gfsb_repo *r, uint8_t seed[GFSB_KEY_LEN])
{
	struct gfsb_buf plain;
	gfsb_err e;

	gfsb_buf_init(&plain);
	e = config_load(r, &plain, seed);
	gfsb_buf_wipe(&plain);
	return e;
}

/*
 * The config as it is, but version 2 with new reader keys: every other
 * field (known to this version or not) kept.  r->reader on success.
 */
gfsb_err
repo_config_upgrade(struct gfsb_repo *r)
{
	struct gfsb_reader_keys *k = NULL;
	char *hex = NULL, *text = NULL, name[GFSB_ID_HEX];
	uint8_t *raw = NULL;
	struct gfsb_buf plain;
	json_t *o = NULL;
	gfsb_err e = GFSB_ENOMEM;

	gfsb_buf_init(&plain);
	if ((e = repo_obj_load(r, GFSB_OBJ_CONFIG, ENV_CONFIG, "config",
	    MAX_CONFIG, &plain)) != GFSB_OK)
		goto out;
	e = GFSB_ENOMEM;
	if ((o = json_loadb((const char *)plain.data, plain.len, 0, NULL)) ==
	    NULL || gfsb_crypto_reader_keys_new(&k) != GFSB_OK ||
	    (raw = gfsb_crypto_secure_alloc(GFSB_READER_KEYS_LEN)) == NULL ||
	    (hex = gfsb_crypto_secure_alloc(2 * GFSB_READER_KEYS_LEN + 1)) ==
	    NULL)
		goto out;
	gfsb_crypto_reader_keys_export(k, raw);
	gfsb_hex_encode(raw, GFSB_READER_KEYS_LEN, hex);
	if (json_object_set_new(o, "version", json_integer(2)) != 0 ||
	    json_object_set_new(o, "reader", json_string(hex)) != 0 ||
	    (text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		goto out;
	if ((e = repo_obj_store(r, GFSB_OBJ_CONFIG, ENV_CONFIG,
	    (const uint8_t *)text, strlen(text), name)) != GFSB_OK)
		goto out;
	r->reader = k;
	k = NULL;
out:
	if (text != NULL)
		sodium_memzero(text, strlen(text));
	free(text);
	json_decref(o);
	gfsb_crypto_secure_free(hex);
	gfsb_crypto_secure_free(raw);
	gfsb_crypto_reader_keys_free(k);
	gfsb_buf_wipe(&plain);
	return e;
}

const char *
gfsb_lock_mode_name(enum gfsb_lock_mode m)
{
	switch (m) {
	case GFSB_LOCK_GOVERNANCE: return "governance";
	case GFSB_LOCK_COMPLIANCE: return "compliance";
	default: return "none";
	}
}

gfsb_err
gfsb_lock_mode_parse(const char *s, enum gfsb_lock_mode *m)
{
	if (strcmp(s, "none") == 0)
		*m = GFSB_LOCK_NONE;
	else if (strcmp(s, "governance") == 0)
		*m = GFSB_LOCK_GOVERNANCE;
	else if (strcmp(s, "compliance") == 0)
		*m = GFSB_LOCK_COMPLIANCE;
	else
		return GFSB_EINVAL;
	return GFSB_OK;
}

enum gfsb_lock_mode
gfsb_repo_lock_mode(const struct gfsb_repo *r)
{
	return r->params.lock_mode;
}

int
gfsb_repo_lock_held(struct gfsb_repo *r, enum gfsb_obj type,
    const char *name, int64_t *until)
{
	struct gfsb_retention ret;

	*until = 0;
	if (r->params.lock_mode == GFSB_LOCK_NONE)
		return 0;
	if (gfsb_backend_retention_get(r->be, type, name, &ret) != GFSB_OK) {
		/* Nothing is deleted on a guess. */
		gfsb_ctx_clearerr(r->ctx);
		return 1;
	}
	*until = ret.mode != GFSB_LOCK_NONE ? ret.until : 0;
	return *until > gfsb_backend_clock(r->be);
}

/* A locked repository needs a bucket with Object Lock enabled; S3 turns
 * it on only when a bucket is created, so gfsbackup never creates one. */
static gfsb_err
lock_check(struct gfsb_ctx *ctx, struct gfsb_backend *be)
{
	int enabled = 0;
	gfsb_err e;

	if ((e = gfsb_backend_lock_enabled(be, &enabled)) != GFSB_OK)
		return e;
	if (enabled)
		return GFSB_OK;
	if (!gfsb_backend_is_remote(be))
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "Object Lock needs an "
		    "S3 bucket: %s is a directory (for a directory, sync "
		    "--delete never keeps an append-only copy)",
		    gfsb_backend_location(be));
	return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "the bucket of %s does not "
	    "have Object Lock enabled: create the bucket with Object Lock "
	    "(docs/OFFSITE-SECURITY.md)", gfsb_backend_location(be));
}

/* Every object a locked repository stores is retained at least
 * GFSB_LOCK_MARGIN_DEFAULT, whoever writes it; a writer that knows the
 * policy asks for more (gfsb_backend_set_put_retention). */
static void
lock_default(struct gfsb_repo *r)
{
	struct gfsb_retention ret;
	struct gfsb_time now;

	if (r->params.lock_mode == GFSB_LOCK_NONE)
		return;
	gfsb_time_now(&now);
	ret.mode = r->params.lock_mode;
	ret.until = now.sec + GFSB_LOCK_MARGIN_DEFAULT;
	gfsb_backend_set_put_retention(r->be, &ret);
}

/*
 * No config in a view of the past: say when the bucket's history of the
 * config starts, so that the operator knows which moment to ask for
 * instead (the listing was made by the stat: it costs nothing more).
 */
static gfsb_err
probe_past(struct gfsb_ctx *ctx, struct gfsb_backend *be)
{
	struct gfsb_time at, first;
	char s_at[32], s_first[32];
	int64_t t = 0;

	at.sec = gfsb_backend_as_of(be);
	at.nsec = 0;
	gfsb_time_format_local(&at, s_at, sizeof(s_at));
	if (gfsb_backend_oldest_version(be, GFSB_OBJ_CONFIG, &t) != GFSB_OK ||
	    t == 0)
		return gfsb_ctx_seterr(ctx, GFSB_ENOREPO, "there is no "
		    "repository at %s as of %s", gfsb_backend_location(be),
		    s_at);
	first.sec = t;
	first.nsec = 0;
	gfsb_time_format_local(&first, s_first, sizeof(s_first));
	if (t > at.sec)
		return gfsb_ctx_seterr(ctx, GFSB_ENOREPO, "there is no "
		    "repository at %s as of %s; its first config version is "
		    "from %s", gfsb_backend_location(be), s_at, s_first);
	return gfsb_ctx_seterr(ctx, GFSB_ENOREPO, "there is no repository at "
	    "%s as of %s: its config had been deleted by then (its first "
	    "version is from %s)", gfsb_backend_location(be), s_at, s_first);
}

gfsb_err
gfsb_repo_probe(struct gfsb_ctx *ctx, struct gfsb_backend *be)
{
	uint64_t size;
	gfsb_err e;

	e = gfsb_backend_stat(be, GFSB_OBJ_CONFIG, "config", &size);
	if (e == GFSB_ENOTFOUND && gfsb_backend_as_of(be) != 0)
		return probe_past(ctx, be);
	if (e == GFSB_ENOTFOUND)
		return gfsb_ctx_seterr(ctx, GFSB_ENOREPO,
		    "there is no repository at %s",
		    gfsb_backend_location(be));
	return e;
}

gfsb_err
gfsb_repo_init(struct gfsb_ctx *ctx, struct gfsb_backend *be,
    const char *pass, size_t passlen, const struct gfsb_repo_params *params,
    struct gfsb_repo **out)
{
	uint8_t seed[GFSB_KEY_LEN], id[GFSB_ID_LEN];
	struct gfsb_repo *r = NULL;
	gfsb_err e;

	if ((e = params_check(ctx, params)) != GFSB_OK)
		return e;
	if (params->lock_mode != GFSB_LOCK_NONE &&
	    (e = lock_check(ctx, be)) != GFSB_OK)
		return e;
	if ((e = gfsb_backend_create(be)) != GFSB_OK) {
		if (e == GFSB_EEXIST)
			gfsb_ctx_seterr(ctx, e,
			    "a repository already exists at %s",
			    gfsb_backend_location(be));
		return e;
	}
	if ((e = repo_alloc(ctx, be, &r)) != GFSB_OK)
		return e;
	r->params = *params;
	r->index_loaded = 1; /* a new repository has an empty index */
	lock_default(r);
	if ((e = gfsb_crypto_keys_new(&r->keys)) != GFSB_OK)
		goto fail;
	if ((e = repo_key_write(ctx, be, r->keys, pass, passlen,
	    params->kdf_ops, params->kdf_mem, r->key_id)) != GFSB_OK)
		goto fail;
	gfsb_crypto_random(id, sizeof(id));
	gfsb_hex_encode(id, sizeof(id), r->id);
	gfsb_crypto_random(seed, sizeof(seed));
	if ((e = make_chunker(r, seed)) != GFSB_OK)
		goto fail;
	e = config_write(r, seed);
	sodium_memzero(seed, sizeof(seed));
	if (e != GFSB_OK)
		goto fail;
	if (gfsb_backend_is_remote(be) && (e = gfsb_repo_set_cache(r, "")) !=
	    GFSB_OK)
		goto fail;
	*out = r;
	return GFSB_OK;
fail:
	sodium_memzero(seed, sizeof(seed));
	gfsb_repo_close(r);
	return e;
}

/* Opened with a write-only key: its keys, and the id and parameters its
 * key file carries instead of the config's. */
static gfsb_err
open_writer(struct gfsb_repo *r, struct repo_wo *wo)
{
	gfsb_err e;

	r->writer = wo->keys;
	wo->keys = NULL;
	snprintf(r->id, sizeof(r->id), "%s", wo->id);
	r->params = wo->params;
	if (params_check(r->ctx, &r->params) != GFSB_OK)
		e = gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT, "write-only key "
		    "%.8s holds invalid parameters", r->key_id);
	else if ((e = make_chunker(r, wo->seed)) == GFSB_OK &&
	    gfsb_crypto_session_new(r->writer->rpk, &r->session) != GFSB_OK)
		e = gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT, "write-only key "
		    "%.8s holds an unusable reader key", r->key_id);
	sodium_memzero(wo->seed, sizeof(wo->seed));
	return e;
}

gfsb_err
gfsb_repo_open(struct gfsb_ctx *ctx, struct gfsb_backend *be,
    const char *pass, size_t passlen, struct gfsb_repo **out)
{
	struct gfsb_repo *r = NULL;
	struct repo_wo wo;
	int opened_any = 0;
	gfsb_err e;

	memset(&wo, 0, sizeof(wo));
	if ((e = gfsb_repo_probe(ctx, be)) != GFSB_OK)
		return e;
	if ((e = repo_alloc(ctx, be, &r)) != GFSB_OK)
		return e;
	/* Every key the passphrase opens is tried against the config: an
	 * interrupted init may have left a key for other master keys. */
	for (;;) {
		e = repo_key_find(ctx, be, pass, passlen, &r->keys, &wo,
		    r->key_id);
		if (e == GFSB_EAUTH && opened_any) {
			e = gfsb_ctx_seterr(ctx, GFSB_ECORRUPT,
			    "config does not authenticate under any key: "
			    "damaged, or not of this repository");
			goto fail;
		}
		if (e == GFSB_EAUTH) {
			gfsb_ctx_seterr(ctx, e, "wrong passphrase: no key in "
			    "%s opens with it", gfsb_backend_location(be));
			goto fail;
		}
		if (e != GFSB_OK)
			goto fail;
		opened_any = 1;
		if (wo.keys != NULL) {
			/* A write-only key: the config is not its to read. */
			e = open_writer(r, &wo);
			break;
		}
		e = config_read(r);
		if (e == GFSB_OK)
			break;
		if (e != GFSB_ECORRUPT)
			goto fail;
		gfsb_ctx_clearerr(ctx);
		gfsb_crypto_keys_free(r->keys);
		gfsb_crypto_reader_keys_free(r->reader);
		r->keys = NULL;
		r->reader = NULL;
	}
	if (e != GFSB_OK)
		goto fail;
	if (gfsb_backend_is_remote(be) && (e = gfsb_repo_set_cache(r, "")) !=
	    GFSB_OK)
		goto fail;
	lock_default(r);
	*out = r;
	return GFSB_OK;
fail:
	gfsb_crypto_writer_keys_free(wo.keys);
	gfsb_repo_close(r);
	return e;
}

/*
 * A write-only key cannot read the mirror's config; it tells whose
 * repository the mirror is by its own key file there.  A full key's sync
 * copies key files byte for byte (each is named by its hash) and gives
 * the mirror the reader keys first (gfsb_repo_mirror_upgrade), so a
 * mirror holding this key's file is a copy of this repository that can
 * read what the key writes.  Its Object Lock mode is that key file's.
 */
static gfsb_err
open_mirror_writer(const struct gfsb_repo *src, struct gfsb_backend *be,
    struct gfsb_repo **out)
{
	struct gfsb_retention ret;
	struct gfsb_repo *r = NULL;
	uint8_t *raw = NULL;
	uint64_t size;
	gfsb_err e;

	if ((e = gfsb_repo_probe(src->ctx, be)) != GFSB_OK)
		return e;
	if ((e = gfsb_backend_stat(be, GFSB_OBJ_KEY, src->key_id, &size)) ==
	    GFSB_ENOTFOUND) {
		gfsb_ctx_clearerr(src->ctx);
		return gfsb_ctx_seterr(src->ctx, GFSB_EAUTH, "%s does not hold "
		    "write-only key %.8s: sync it once with a full key since "
		    "the key was added", gfsb_backend_location(be),
		    src->key_id);
	}
	if (e != GFSB_OK ||
	    (e = gfsb_backend_retention_get(be, GFSB_OBJ_KEY, src->key_id,
	    &ret)) != GFSB_OK ||
	    (e = repo_alloc(src->ctx, be, &r)) != GFSB_OK)
		return e;
	e = GFSB_ENOMEM;
	if ((raw = gfsb_crypto_secure_alloc(GFSB_WRITER_KEYS_LEN)) == NULL)
		goto fail;
	gfsb_crypto_writer_keys_export(src->writer, raw);
	e = gfsb_crypto_writer_keys_import(raw, &r->writer);
	gfsb_crypto_secure_free(raw);
	if (e != GFSB_OK)
		goto fail;
	memcpy(r->id, src->id, sizeof(r->id));
	memcpy(r->key_id, src->key_id, sizeof(r->key_id));
	r->params = src->params;
	r->params.lock_mode = ret.mode;
	lock_default(r);
	*out = r;
	return GFSB_OK;
fail:
	gfsb_repo_close(r);
	return e;
}

gfsb_err
gfsb_repo_open_mirror(const struct gfsb_repo *src, struct gfsb_backend *be,
    struct gfsb_repo **out)
{
	struct gfsb_repo *r = NULL;
	uint8_t *raw = NULL;
	gfsb_err e;

	if (src->keys == NULL)
		return open_mirror_writer(src, be, out);
	if ((e = gfsb_repo_probe(src->ctx, be)) != GFSB_OK)
		return e;
	if ((e = repo_alloc(src->ctx, be, &r)) != GFSB_OK)
		return e;
	if ((raw = gfsb_crypto_secure_alloc(GFSB_MASTER_LEN)) == NULL) {
		e = GFSB_ENOMEM;
		goto fail;
	}
	gfsb_crypto_keys_export(src->keys, raw);
	e = gfsb_crypto_keys_import(raw, &r->keys);
	gfsb_crypto_secure_free(raw);
	if (e != GFSB_OK)
		goto fail;
	/* Only a config that was read tells whose repository it is. */
	if ((e = config_read(r)) != GFSB_OK && !gfsb_err_is_damage(e))
		goto fail;
	if (e != GFSB_OK || strcmp(r->id, src->id) != 0) {
		gfsb_ctx_clearerr(src->ctx);
		e = gfsb_ctx_seterr(src->ctx, GFSB_EINVAL, "%s holds another "
		    "repository, not a copy of %.8s", gfsb_backend_location(be),
		    src->id);
		goto fail;
	}
	lock_default(r);
	*out = r;
	return GFSB_OK;
fail:
	gfsb_repo_close(r);
	return e;
}

void
gfsb_repo_close(struct gfsb_repo *r)
{
	if (r == NULL)
		return;
	repo_cache_close(r);
	repo_pack_free_all(r);
	free(r->index_names);
	gfsb_pool_free(r->packbufs);
	rindex_fini(&r->idx);
	gfsb_chunker_free(r->chunker);
	gfsb_crypto_keys_free(r->keys);
	gfsb_crypto_reader_keys_free(r->reader);
	gfsb_crypto_writer_keys_free(r->writer);
	gfsb_crypto_session_free(r->session);
	repo_session_keys_free(r);
	gfsb_strv_free(r->wpks, r->nwpks);
	pthread_mutex_destroy(&r->pack_lock);
	pthread_cond_destroy(&r->pack_cond);
	free(r);
}

struct gfsb_ctx *
gfsb_repo_ctx(const struct gfsb_repo *r)
{
	return r->ctx;
}

struct gfsb_backend *
gfsb_repo_backend(const struct gfsb_repo *r)
{
	return r->be;
}

const char *
gfsb_repo_id(const struct gfsb_repo *r)
{
	return r->id;
}

const struct gfsb_chunker *
gfsb_repo_chunker(const struct gfsb_repo *r)
{
	return r->chunker;
}

const struct gfsb_repo_params *
gfsb_repo_params(const struct gfsb_repo *r)
{
	return &r->params;
}

gfsb_err
gfsb_repo_set_compression(struct gfsb_repo *r, int level)
{
	if (level < 0 || level > GFSB_COMPRESS_LEVEL_MAX)
		return gfsb_ctx_seterr(r->ctx, GFSB_EINVAL,
		    "invalid compression level %d: must be 0 to %d", level,
		    GFSB_COMPRESS_LEVEL_MAX);
	r->params.compression = level;
	return GFSB_OK;
}

gfsb_err
gfsb_repo_set_pack_size(struct gfsb_repo *r, uint32_t n)
{
	if (n < GFSB_PACK_SIZE_MIN || n > GFSB_PACK_SIZE_MAX)
		return gfsb_ctx_seterr(r->ctx, GFSB_EINVAL,
		    "invalid pack size %u: must be 1 MiB to 1 GiB", n);
	r->params.pack_size = n;
	return GFSB_OK;
}

void
gfsb_repo_blob_id(const struct gfsb_repo *r, const void *p, size_t n,
    uint8_t id[GFSB_ID_LEN])
{
	if (r->keys != NULL)
		gfsb_crypto_blob_id(r->keys, p, n, id);
	else
		gfsb_crypto_writer_blob_id(r->writer, p, n, id);
}

/* Copy src's key files to be, each checked against its name. */
static gfsb_err
copy_keys(const struct gfsb_repo *src, struct gfsb_backend *be,
    const struct gfsb_retention *keep, uint64_t *n)
{
	struct gfsb_objlist keys;
	struct gfsb_buf b;
	char hex[GFSB_ID_HEX];
	size_t i;
	gfsb_err e;

	gfsb_buf_init(&b);
	if ((e = gfsb_backend_list_all(src->be, GFSB_OBJ_KEY, &keys)) !=
	    GFSB_OK)
		return e;
	for (i = 0; i < keys.n && e == GFSB_OK; i++) {
		b.len = 0;
		if ((e = gfsb_backend_get(src->be, GFSB_OBJ_KEY, keys.v[i].name,
		    &b)) != GFSB_OK)
			break;
		gfsb_crypto_sha256_hex(b.data, b.len, hex);
		if (strcmp(hex, keys.v[i].name) != 0) {
			e = gfsb_ctx_seterr(src->ctx, GFSB_ECORRUPT, "keys/%s "
			    "in the source is damaged: not copied",
			    keys.v[i].name);
			break;
		}
		if ((e = gfsb_backend_put_locked(be, GFSB_OBJ_KEY,
		    keys.v[i].name, b.data, b.len, keep)) == GFSB_OK)
			(*n)++;
	}
	gfsb_buf_fini(&b);
	gfsb_objlist_fini(&keys);
	return e;
}

/* The config's plaintext parsed (the caller wipes nothing: jansson's
 * copies are its own). */
static gfsb_err
config_json(struct gfsb_repo *r, json_t **out)
{
	struct gfsb_buf plain;
	gfsb_err e;

	*out = NULL;
	gfsb_buf_init(&plain);
	if ((e = repo_obj_load(r, GFSB_OBJ_CONFIG, ENV_CONFIG, "config",
	    MAX_CONFIG, &plain)) == GFSB_OK && (*out = json_loadb((const char *)
	    plain.data, plain.len, 0, NULL)) == NULL)
		e = gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT, "config is "
		    "malformed");
	gfsb_buf_wipe(&plain);
	return e;
}

/*
 * src's config at be: as it is, but for the lock mode (keep's), sealed
 * with the same keys, so the copy is the same repository.
 */
static gfsb_err
mirror_config_put(const struct gfsb_repo *src, struct gfsb_backend *be,
    const struct gfsb_retention *keep)
{
	struct gfsb_repo *r = NULL;
	struct gfsb_buf sealed;
	json_t *o = NULL;
	char *text = NULL;
	gfsb_err e;

	gfsb_buf_init(&sealed);
	if ((e = repo_alloc(src->ctx, src->be, &r)) != GFSB_OK)
		return e;
	r->keys = src->keys;
	r->params = src->params;
	if ((e = config_json(r, &o)) != GFSB_OK)
		goto out;
	e = GFSB_ENOMEM;
	json_object_del(o, "object_lock");
	if (keep != NULL && keep->mode != GFSB_LOCK_NONE &&
	    json_object_set_new(o, "object_lock",
	    json_string(gfsb_lock_mode_name(keep->mode))) != 0)
		goto out;
	if ((text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL)
		goto out;
	if ((e = repo_obj_seal(r, ENV_CONFIG, (const uint8_t *)text,
	    strlen(text), &sealed)) != GFSB_OK)
		goto out;
	e = gfsb_backend_put_locked(be, GFSB_OBJ_CONFIG, "config", sealed.data,
	    sealed.len, keep);
out:
	if (text != NULL)
		sodium_memzero(text, strlen(text));
	free(text);
	json_decref(o);
	gfsb_buf_fini(&sealed);
	r->keys = NULL; /* src's */
	gfsb_repo_close(r);
	return e;
}

gfsb_err
gfsb_repo_mirror_create(const struct gfsb_repo *src, struct gfsb_backend *be,
    const struct gfsb_retention *keep, uint64_t *keys)
{
	gfsb_err e;

	*keys = 0;
	if (keep != NULL && keep->mode != GFSB_LOCK_NONE &&
	    (e = lock_check(src->ctx, be)) != GFSB_OK)
		return e;
	if ((e = gfsb_backend_create(be)) != GFSB_OK ||
	    (e = copy_keys(src, be, keep, keys)) != GFSB_OK)
		return e;
	/* The config last: its presence is what makes a repository. */
	return mirror_config_put(src, be, keep);
}

/* Do the two configs agree in everything but what a mirror may differ
 * in (its lock mode) and what the upgrade adds (version, reader)? */
static int
configs_agree(json_t *a, json_t *b)
{
	static const char *const differ[] = { "version", "reader",
		"object_lock", NULL };
	size_t i;

	for (i = 0; differ[i] != NULL; i++) {
		json_object_del(a, differ[i]);
		json_object_del(b, differ[i]);
	}
	return json_equal(a, b);
}

gfsb_err
gfsb_repo_mirror_upgrade(const struct gfsb_repo *src,
    struct gfsb_repo *mirror, const struct gfsb_retention *keep,
    int dry_run, int *done)
{
	struct gfsb_repo *r = NULL;
	json_t *a = NULL, *b = NULL;
	uint8_t *raw = NULL;
	gfsb_err e;

	*done = 0;
	if (src->keys == NULL || src->reader == NULL || mirror->reader !=
	    NULL)
		return GFSB_OK;
	if ((e = repo_alloc(src->ctx, src->be, &r)) != GFSB_OK)
		return e;
	r->keys = src->keys;
	if ((e = config_json(r, &a)) != GFSB_OK ||
	    (e = config_json(mirror, &b)) != GFSB_OK)
		goto out;
	if (!configs_agree(a, b)) {
		e = gfsb_ctx_seterr(src->ctx, GFSB_EINVAL, "the config at %s "
		    "differs from the source's beyond its lock mode: not "
		    "given the reader keys", gfsb_backend_location(mirror->be));
		goto out;
	}
	*done = 1;
	if (dry_run || (e = mirror_config_put(src, mirror->be, keep)) !=
	    GFSB_OK)
		goto out;
	/* This handle reads and writes as version 2 from now on. */
	e = GFSB_ENOMEM;
	if ((raw = gfsb_crypto_secure_alloc(GFSB_READER_KEYS_LEN)) == NULL)
		goto out;
	gfsb_crypto_reader_keys_export(src->reader, raw);
	e = gfsb_crypto_reader_keys_import(raw, &mirror->reader);
out:
	gfsb_crypto_secure_free(raw);
	json_decref(a);
	json_decref(b);
	if (r != NULL)
		r->keys = NULL; /* src's */
	gfsb_repo_close(r);
	return e;
}
