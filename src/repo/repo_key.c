/*
 * Key files: the master keys sealed under a key derived from a passphrase.
 *
 * A key file is plain JSON (so that its KDF parameters can be read before
 * the passphrase is known) holding an Argon2id salt and parameters and the
 * sealed master keys.  The associated data binds the parameters, so they
 * cannot be altered to weaken the derivation without the open failing.
 * Key files are named by the SHA-256 of their bytes like every object;
 * changing a passphrase writes a new file, then removes the old one.
 * Parameters read from a key file are capped, so a planted key file cannot
 * make us allocate unbounded memory or spin for hours.
 *
 * A write-only key file (version 2, "kind": "write-only") seals instead
 * the writer's keys and what it needs of the config (repository id,
 * chunker sizes and seed, compression, pack size, Object Lock mode); its
 * associated data binds its public signing key (wpk) too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <jansson.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/repo.h>

#include "repo_internal.h"

#define KEY_AD_PREFIX "gfsb-key-v1"
#define KEY_WO_AD_PREFIX "gfsb-key-v2-write-only"
/* A write-only key's plaintext: the writer's keys, the repository id,
 * the chunker seed, then six little-endian u32: chunk min, avg, max,
 * pack size, compression level, Object Lock mode. */
#define WO_PLAIN (GFSB_WRITER_KEYS_LEN + GFSB_ID_LEN + GFSB_KEY_LEN + 6 * 4)
#define KDF_OPS_CAP 64
#define KDF_MEM_CAP (4ULL << 30)

/* AD = prefix || salt || ops (LE64) || mem (LE64), then for a write-only
 * key (wpk not NULL) its wpk; the prefix names the kind.  ad holds
 * KEY_AD_MAX bytes. */
#define KEY_AD_MAX 128
static size_t
key_ad(uint8_t *ad, const uint8_t salt[GFSB_SALT_LEN], uint64_t ops,
    uint64_t mem, const uint8_t *wpk)
{
	const char *prefix = wpk != NULL ? KEY_WO_AD_PREFIX : KEY_AD_PREFIX;
	size_t n = strlen(prefix);
	int i;

	memcpy(ad, prefix, n);
	memcpy(ad + n, salt, GFSB_SALT_LEN);
	n += GFSB_SALT_LEN;
	for (i = 0; i < 8; i++)
		ad[n + (size_t)i] = (uint8_t)(ops >> (8 * i));
	n += 8;
	for (i = 0; i < 8; i++)
		ad[n + (size_t)i] = (uint8_t)(mem >> (8 * i));
	n += 8;
	if (wpk != NULL) {
		memcpy(ad + n, wpk, GFSB_SIGN_PK_LEN);
		n += GFSB_SIGN_PK_LEN;
	}
	return n;
}

/*
 * Write a key file sealing plain[0..n) under a key derived from pass:
 * a full key's (wpk NULL: version 1), or a write-only key's (version 2,
 * its wpk in the clear and bound by the associated data).
 */
static gfsb_err
keyfile_write(struct gfsb_ctx *ctx, struct gfsb_backend *be,
    const uint8_t *plain, size_t n, const uint8_t *wpk, const char *pass,
    size_t passlen, uint64_t ops, uint64_t mem, char idhex[GFSB_ID_HEX])
{
	uint8_t salt[GFSB_SALT_LEN], ad[KEY_AD_MAX], *derived = NULL,
	    *sealed = NULL;
	char salthex[2 * GFSB_SALT_LEN + 1], *datahex = NULL,
	    wpkhex[2 * GFSB_SIGN_PK_LEN + 1];
	char created[48], host[256], user[64], *text = NULL;
	struct gfsb_time now;
	json_t *o = NULL;
	gfsb_err e = GFSB_ENOMEM;

	if (ops == 0)
		ops = GFSB_KDF_OPS_DEFAULT;
	if (mem == 0)
		mem = GFSB_KDF_MEM_DEFAULT;
	if (ops > KDF_OPS_CAP || mem > KDF_MEM_CAP)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "key derivation parameters too large");
	if ((derived = gfsb_crypto_secure_alloc(GFSB_KEY_LEN)) == NULL ||
	    (sealed = malloc(n + GFSB_SEAL_OVERHEAD)) == NULL ||
	    (datahex = malloc(2 * (n + GFSB_SEAL_OVERHEAD) + 1)) == NULL)
		goto out;
	gfsb_crypto_random(salt, sizeof(salt));
	if ((e = gfsb_crypto_pwhash(derived, pass, passlen, salt, ops, mem)) !=
	    GFSB_OK) {
		gfsb_ctx_seterr(ctx, e, "cannot derive key (Argon2id t=%llu "
		    "m=%llu): %s", (unsigned long long)ops,
		    (unsigned long long)mem, gfsb_strerror(e));
		goto out;
	}
	gfsb_crypto_seal_with(derived, sealed, plain, n, ad, key_ad(ad, salt,
	    ops, mem, wpk));
	gfsb_hex_encode(salt, sizeof(salt), salthex);
	gfsb_hex_encode(sealed, n + GFSB_SEAL_OVERHEAD, datahex);
	gfsb_time_now(&now);
	gfsb_time_format_rfc3339(&now, created, sizeof(created));
	gfsb_sys_hostname(host, sizeof(host));
	gfsb_sys_username(user, sizeof(user));
	e = GFSB_ENOMEM;
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:s}",
	    "version", wpk != NULL ? 2 : 1, "created", created, "hostname",
	    host, "username", user, "kdf", "argon2id", "opslimit",
	    (json_int_t)ops, "memlimit", (json_int_t)mem, "salt", salthex);
	if (o != NULL && wpk != NULL) {
		gfsb_hex_encode(wpk, GFSB_SIGN_PK_LEN, wpkhex);
		if (json_object_set_new(o, "kind", json_string("write-only")) ||
		    json_object_set_new(o, "wpk", json_string(wpkhex)))
			goto out;
	}
	if (o == NULL || json_object_set_new(o, "data", json_string(datahex)) ||
	    (text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) ==
	    NULL)
		goto out;
	gfsb_crypto_sha256_hex(text, strlen(text), idhex);
	e = gfsb_backend_put(be, GFSB_OBJ_KEY, idhex, (const uint8_t *)text,
	    strlen(text));
out:
	free(text);
	json_decref(o);
	free(datahex);
	free(sealed);
	gfsb_crypto_secure_free(derived);
	return e;
}

gfsb_err
repo_key_write(struct gfsb_ctx *ctx, struct gfsb_backend *be,
    const struct gfsb_keys *keys, const char *pass, size_t passlen,
    uint64_t ops, uint64_t mem, char idhex[GFSB_ID_HEX])
{
	uint8_t *raw;
	gfsb_err e;

	if ((raw = gfsb_crypto_secure_alloc(GFSB_MASTER_LEN)) == NULL)
		return GFSB_ENOMEM;
	gfsb_crypto_keys_export(keys, raw);
	e = keyfile_write(ctx, be, raw, GFSB_MASTER_LEN, NULL, pass, passlen,
	    ops, mem, idhex);
	gfsb_crypto_secure_free(raw);
	return e;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	gfsb_le32_put(p, v);
}

/* A write-only key file for wo's writer keys and parameters. */
static gfsb_err
wo_write(struct gfsb_ctx *ctx, struct gfsb_backend *be,
    const struct repo_wo *wo, const char *pass, size_t passlen,
    uint64_t ops, uint64_t mem, char idhex[GFSB_ID_HEX])
{
	uint8_t *plain, *p;
	gfsb_err e;

	if ((plain = gfsb_crypto_secure_alloc(WO_PLAIN)) == NULL)
		return GFSB_ENOMEM;
	gfsb_crypto_writer_keys_export(wo->keys, plain);
	p = plain + GFSB_WRITER_KEYS_LEN;
	if (gfsb_hex_decode(wo->id, p, GFSB_ID_LEN) != GFSB_OK) {
		gfsb_crypto_secure_free(plain);
		return gfsb_ctx_seterr(ctx, GFSB_ECORRUPT, "repository id %s "
		    "is not hex", wo->id);
	}
	p += GFSB_ID_LEN;
	memcpy(p, wo->seed, GFSB_KEY_LEN);
	p += GFSB_KEY_LEN;
	put_u32(p, wo->params.chunk.min);
	put_u32(p + 4, wo->params.chunk.avg);
	put_u32(p + 8, wo->params.chunk.max);
	put_u32(p + 12, wo->params.pack_size);
	put_u32(p + 16, (uint32_t)wo->params.compression);
	put_u32(p + 20, (uint32_t)wo->params.lock_mode);
	e = keyfile_write(ctx, be, plain, WO_PLAIN, wo->keys->wpk, pass,
	    passlen, ops, mem, idhex);
	gfsb_crypto_secure_free(plain);
	return e;
}

/* A parsed key file. */
struct keyfile {
	uint64_t ops, mem;
	uint8_t salt[GFSB_SALT_LEN];
	int write_only;
	uint8_t wpk[GFSB_SIGN_PK_LEN];		/* write_only */
	size_t sealedlen;			/* of sealed[] */
	uint8_t sealed[WO_PLAIN + GFSB_SEAL_OVERHEAD];
	struct gfsb_time created;
	char hostname[256];
	char username[64];
};

static gfsb_err
keyfile_parse(const uint8_t *p, size_t n, struct keyfile *kf)
{
	const char *kdf = NULL, *salt = NULL, *data = NULL, *created = NULL;
	const char *host = "", *user = "", *kind = NULL, *wpk = NULL;
	json_int_t version = 0, ops = 0, mem = 0;
	json_error_t jerr;
	json_t *o;
	gfsb_err e = GFSB_ECORRUPT;

	if ((o = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL)
		return GFSB_ECORRUPT;
	if (json_unpack(o, "{s:I, s:s, s:s, s:I, s:I, s:s, s:s, s?s, s?s, s?s, "
	    "s?s}", "version", &version, "created", &created, "kdf", &kdf,
	    "opslimit", &ops, "memlimit", &mem, "salt", &salt, "data", &data,
	    "hostname", &host, "username", &user, "kind", &kind, "wpk",
	    &wpk) != 0)
		goto out;
	/* Version 1: a full key; version 2: a write-only key. */
	if (version != 1 && (version != 2 || kind == NULL ||
	    strcmp(kind, "write-only") != 0)) {
		e = GFSB_EUNSUPPORTED;
		goto out;
	}
	kf->write_only = version == 2;
	kf->sealedlen = (kf->write_only ? WO_PLAIN : GFSB_MASTER_LEN) +
	    GFSB_SEAL_OVERHEAD;
	if (strcmp(kdf, "argon2id") != 0 || ops < 1 || ops > KDF_OPS_CAP ||
	    mem < 8192 || (uint64_t)mem > KDF_MEM_CAP)
		goto out;
	if (gfsb_hex_decode(salt, kf->salt, sizeof(kf->salt)) != GFSB_OK ||
	    gfsb_hex_decode(data, kf->sealed, kf->sealedlen) != GFSB_OK ||
	    (kf->write_only && (wpk == NULL || gfsb_hex_decode(wpk, kf->wpk,
	    sizeof(kf->wpk)) != GFSB_OK)))
		goto out;
	if (gfsb_time_parse_rfc3339(created, &kf->created) != GFSB_OK)
		kf->created.sec = kf->created.nsec = 0;
	kf->ops = (uint64_t)ops;
	kf->mem = (uint64_t)mem;
	snprintf(kf->hostname, sizeof(kf->hostname), "%s", host);
	snprintf(kf->username, sizeof(kf->username), "%s", user);
	e = GFSB_OK;
out:
	json_decref(o);
	return e;
}

gfsb_err
repo_keyfile_decode(const uint8_t *p, size_t n, uint64_t *ops, uint64_t *mem)
{
	struct keyfile kf;
	gfsb_err e;

	if ((e = keyfile_parse(p, n, &kf)) == GFSB_OK) {
		*ops = kf.ops;
		*mem = kf.mem;
	}
	return e;
}

/* Fetch and parse key file `name`, checking its name. */
static gfsb_err
keyfile_load(struct gfsb_backend *be, const char *name, struct keyfile *kf)
{
	char hex[GFSB_ID_HEX];
	struct gfsb_buf b;
	gfsb_err e;

	gfsb_buf_init(&b);
	if ((e = gfsb_backend_get_max(be, GFSB_OBJ_KEY, name, MAX_KEYFILE,
	    &b)) != GFSB_OK)
		goto out;
	gfsb_crypto_sha256_hex(b.data, b.len, hex);
	if (strcmp(hex, name) != 0) {
		e = GFSB_ECORRUPT;
		goto out;
	}
	e = keyfile_parse(b.data, b.len, kf);
out:
	gfsb_buf_fini(&b);
	return e;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return gfsb_le32_get(p);
}

/* A write-only key's plaintext into wo. */
static gfsb_err
wo_decode(const uint8_t *plain, struct repo_wo *wo)
{
	const uint8_t *p = plain + GFSB_WRITER_KEYS_LEN;
	gfsb_err e;

	if ((e = gfsb_crypto_writer_keys_import(plain, &wo->keys)) != GFSB_OK)
		return e;
	gfsb_hex_encode(p, GFSB_ID_LEN, wo->id);
	p += GFSB_ID_LEN;
	memcpy(wo->seed, p, GFSB_KEY_LEN);
	p += GFSB_KEY_LEN;
	gfsb_repo_params_default(&wo->params);
	wo->params.chunk.min = get_u32(p);
	wo->params.chunk.avg = get_u32(p + 4);
	wo->params.chunk.max = get_u32(p + 8);
	wo->params.pack_size = get_u32(p + 12);
	wo->params.compression = (int)get_u32(p + 16);
	wo->params.lock_mode = (enum gfsb_lock_mode)get_u32(p + 20);
	return GFSB_OK;
}

/*
 * Try to open key file kf with pass: a full key's master keys into
 * *keys, a write-only key's into wo (*keys left NULL); GFSB_EAUTH if
 * pass does not open it.
 */
static gfsb_err
keyfile_open(const struct keyfile *kf, const char *pass, size_t passlen,
    struct gfsb_keys **keys, struct repo_wo *wo)
{
	uint8_t *derived, *raw, ad[KEY_AD_MAX];
	size_t adlen;
	gfsb_err e;

	derived = gfsb_crypto_secure_alloc(GFSB_KEY_LEN);
	raw = gfsb_crypto_secure_alloc(WO_PLAIN);
	if (derived == NULL || raw == NULL) {
		e = GFSB_ENOMEM;
		goto out;
	}
	if ((e = gfsb_crypto_pwhash(derived, pass, passlen, kf->salt, kf->ops,
	    kf->mem)) != GFSB_OK)
		goto out;
	adlen = key_ad(ad, kf->salt, kf->ops, kf->mem, kf->write_only ?
	    kf->wpk : NULL);
	if (gfsb_crypto_open_with(derived, raw, kf->sealed, kf->sealedlen, ad,
	    adlen) != GFSB_OK) {
		e = GFSB_EAUTH;
		goto out;
	}
	if (!kf->write_only)
		e = gfsb_crypto_keys_import(raw, keys);
	else if ((e = wo_decode(raw, wo)) == GFSB_OK &&
	    sodium_memcmp(wo->keys->wpk, kf->wpk, sizeof(kf->wpk)) != 0) {
		/* Sealed for another wpk than the file shows: refuse. */
		gfsb_crypto_writer_keys_free(wo->keys);
		wo->keys = NULL;
		e = GFSB_ECORRUPT;
	}
out:
	gfsb_crypto_secure_free(derived);
	gfsb_crypto_secure_free(raw);
	return e;
}

/* A key file, for ordering the attempts. */
struct keytry {
	char name[GFSB_ID_HEX];
	struct keyfile kf;
};

/* Cheapest key derivation first, then by name: a planted key file that
 * asks Argon2id for gigabytes must not delay (or, under a memory limit,
 * prevent) trying the real one, and the order stays stable. */
static int
keytrycmp(const void *a, const void *b)
{
	const struct keytry *x = a, *y = b;

	if (x->kf.mem != y->kf.mem)
		return x->kf.mem < y->kf.mem ? -1 : 1;
	if (x->kf.ops != y->kf.ops)
		return x->kf.ops < y->kf.ops ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Read and parse every listed key file into *out (*nout of them, sorted
 * as above).  A damaged one is skipped with a warning.  One gone since
 * the listing was removed meanwhile (a passphrase change writes the new
 * file, then removes the old): the files are listed and read once more,
 * so the new one is found.  Any other failure to read one (the storage
 * unreachable after its retries, access denied) is returned as it is:
 * it says nothing about the key file, and skipping the file could end
 * in "wrong passphrase".
 */
static gfsb_err
keys_load(struct gfsb_ctx *ctx, struct gfsb_backend *be,
    struct keytry **out, size_t *nout)
{
	struct keytry *v = NULL;
	struct gfsb_objlist ns = { NULL, 0, 0 };
	size_t i, n = 0, cap = 0, vanished;
	int round;
	gfsb_err e = GFSB_OK;

	for (round = 0; round < 2; round++) {
		if ((e = gfsb_backend_list_all(be, GFSB_OBJ_KEY, &ns)) !=
		    GFSB_OK)
			goto out;
		if (ns.n > 0 && (v = calloc(ns.n, sizeof(*v))) == NULL) {
			e = GFSB_ENOMEM;
			goto out;
		}
		cap = ns.n;
		for (i = 0, n = 0, vanished = 0; i < ns.n; i++) {
			e = keyfile_load(be, ns.v[i].name, &v[n].kf);
			if (e == GFSB_OK) {
				snprintf(v[n++].name, GFSB_ID_HEX, "%s",
				    ns.v[i].name);
				continue;
			}
			if (!gfsb_err_is_damage(e))
				goto out;
			if (e == GFSB_ENOTFOUND && round == 0)
				vanished++;
			else if (e == GFSB_ENOTFOUND)
				gfsb_ctx_log(ctx, GFSB_LOG_WARN, "key file %s "
				    "was listed but is gone; skipped",
				    ns.v[i].name);
			else
				gfsb_ctx_log(ctx, GFSB_LOG_WARN, "key file %s "
				    "is damaged; skipped", ns.v[i].name);
			gfsb_ctx_clearerr(ctx);
		}
		gfsb_objlist_fini(&ns);
		e = GFSB_OK;
		if (vanished == 0)
			break;
		sodium_memzero(v, cap * sizeof(*v));
		free(v);
		v = NULL;
		cap = n = 0;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), keytrycmp);
	*out = v;
	*nout = n;
	v = NULL;
out:
	gfsb_objlist_fini(&ns);
	if (v != NULL)
		sodium_memzero(v, cap * sizeof(*v));
	free(v);
	return e;
}

/*
 * Try the key files, in the order above, starting after the one named
 * `after` (NULL: from the first), until one opens with pass.  A key file
 * that is damaged, or whose derivation cannot get its memory, is skipped
 * with a warning; one that cannot be read fails the search (keys_load).
 * GFSB_EAUTH if none opens (GFSB_ENOMEM when the only ones left untried
 * were those too big for this process).
 */
static gfsb_err
key_find_after(struct gfsb_ctx *ctx, struct gfsb_backend *be,
    const char *pass, size_t passlen, const char *after,
    struct gfsb_keys **keys, struct repo_wo *wo, char idhex[GFSB_ID_HEX])
{
	struct keytry *v = NULL;
	size_t i, n = 0, start = 0, readable = 0, toobig = 0;
	gfsb_err e;

	if ((e = keys_load(ctx, be, &v, &n)) != GFSB_OK)
		return e;
	if (after != NULL)
		for (i = 0; i < n; i++)
			if (strcmp(v[i].name, after) == 0)
				start = i + 1;
	e = GFSB_EAUTH;
	for (i = start; i < n; i++) {
		readable++;
		e = keyfile_open(&v[i].kf, pass, passlen, keys, wo);
		if (e == GFSB_OK) {
			snprintf(idhex, GFSB_ID_HEX, "%s", v[i].name);
			break;
		}
		if (e == GFSB_ENOMEM) {
			gfsb_ctx_log(ctx, GFSB_LOG_WARN, "key file %.16s asks "
			    "for %llu MiB for its key derivation, more than "
			    "this process can get; skipped", v[i].name,
			    (unsigned long long)(v[i].kf.mem >> 20));
			toobig++;
			e = GFSB_EAUTH;
			continue;
		}
		if (e != GFSB_EAUTH)
			break;
	}
	if (e == GFSB_EAUTH && toobig > 0)
		e = gfsb_ctx_seterr(ctx, GFSB_ENOMEM, "no key file opens with "
		    "this passphrase within the memory this process can get "
		    "(%zu skipped as too big)", toobig);
	else if (e == GFSB_EAUTH && after == NULL && readable == 0)
		e = gfsb_ctx_seterr(ctx, GFSB_ECORRUPT,
		    "repository has no readable key file");
	if (v != NULL)
		sodium_memzero(v, n * sizeof(*v));
	free(v);
	return e;
}

gfsb_err
repo_key_find(struct gfsb_ctx *ctx, struct gfsb_backend *be, const char *pass,
    size_t passlen, struct gfsb_keys **keys, struct repo_wo *wo,
    char idhex[GFSB_ID_HEX])
{
	char after[GFSB_ID_HEX];
	int first = idhex[0] == '\0';

	*keys = NULL;
	wo->keys = NULL;
	if (first)
		return key_find_after(ctx, be, pass, passlen, NULL, keys, wo,
		    idhex);
	snprintf(after, sizeof(after), "%s", idhex);
	return key_find_after(ctx, be, pass, passlen, after, keys, wo,
	    idhex);
}

/* Key management needs a full key. */
static gfsb_err
need_full(struct gfsb_repo *r)
{
	if (r->keys != NULL)
		return GFSB_OK;
	return gfsb_ctx_seterr(r->ctx, GFSB_EAUTH, "a write-only key cannot "
	    "add, change or remove keys: use a full key");
}

gfsb_err
gfsb_repo_key_add_write_only(struct gfsb_repo *r, const char *pass,
    size_t passlen, uint64_t ops, uint64_t mem, char *idhex)
{
	struct repo_wo wo;
	char id[GFSB_ID_HEX];
	gfsb_err e;

	if ((e = need_full(r)) != GFSB_OK)
		return e;
	/* Version 2 first: a crash after it leaves a repository that full
	 * keys open as before and that no write-only key names yet. */
	if (r->reader == NULL && (e = repo_config_upgrade(r)) != GFSB_OK)
		return e;
	memset(&wo, 0, sizeof(wo));
	if ((e = repo_config_seed(r, wo.seed)) != GFSB_OK)
		goto out;
	snprintf(wo.id, sizeof(wo.id), "%s", r->id);
	wo.params = r->params;
	if ((e = gfsb_crypto_writer_keys_new(r->keys, r->reader, &wo.keys)) !=
	    GFSB_OK)
		goto out;
	if ((e = wo_write(r->ctx, r->be, &wo, pass, passlen, ops, mem, id)) ==
	    GFSB_OK && idhex != NULL)
		snprintf(idhex, GFSB_ID_HEX, "%s", id);
out:
	gfsb_crypto_writer_keys_free(wo.keys);
	sodium_memzero(&wo, sizeof(wo));
	return e;
}

int
gfsb_repo_write_only(const struct gfsb_repo *r)
{
	return r->keys == NULL;
}

gfsb_err
gfsb_repo_key_add(struct gfsb_repo *r, const char *pass, size_t passlen,
    uint64_t ops, uint64_t mem, char *idhex)
{
	char id[GFSB_ID_HEX];
	gfsb_err e;

	if ((e = need_full(r)) != GFSB_OK)
		return e;
	e = repo_key_write(r->ctx, r->be, r->keys, pass, passlen, ops, mem,
	    id);
	if (e == GFSB_OK && idhex != NULL)
		snprintf(idhex, GFSB_ID_HEX, "%s", id);
	return e;
}

gfsb_err
gfsb_repo_key_passwd(struct gfsb_repo *r, const char *pass, size_t passlen)
{
	struct keyfile kf;
	char id[GFSB_ID_HEX];
	gfsb_err e;

	if ((e = need_full(r)) != GFSB_OK)
		return e;
	/* Keep the current key's cost parameters. */
	if ((e = keyfile_load(r->be, r->key_id, &kf)) != GFSB_OK)
		return gfsb_ctx_seterr(r->ctx, e, "cannot read key file %s",
		    r->key_id);
	if ((e = repo_key_write(r->ctx, r->be, r->keys, pass, passlen, kf.ops,
	    kf.mem, id)) != GFSB_OK)
		return e;
	if (strcmp(id, r->key_id) != 0 &&
	    (e = gfsb_backend_remove(r->be, GFSB_OBJ_KEY, r->key_id)) !=
	    GFSB_OK)
		return e;
	snprintf(r->key_id, sizeof(r->key_id), "%s", id);
	return GFSB_OK;
}

gfsb_err
gfsb_repo_key_remove(struct gfsb_repo *r, const char *prefix, char *idhex)
{
	struct gfsb_key_info *keys = NULL;
	size_t n, i, plen = strlen(prefix), match = 0, which = 0, whole = 0;
	gfsb_err e;

	if ((e = need_full(r)) != GFSB_OK)
		return e;
	if (plen == 0 || plen > 64 ||
	    strspn(prefix, "0123456789abcdef") != plen)
		return gfsb_ctx_seterr(r->ctx, GFSB_EINVAL, "invalid key id "
		    "%s: give its id, or a prefix of it", prefix);
	if ((e = gfsb_repo_key_list(r, &keys, &n)) != GFSB_OK)
		return e;
	for (i = 0; i < n; i++) {
		if (strncmp(keys[i].id, prefix, plen) == 0) {
			match++;
			which = i;
		}
		/* Only a full key opens the data: never remove the last. */
		whole += !keys[i].damaged && !keys[i].write_only;
	}
	if (match == 0)
		e = gfsb_ctx_seterr(r->ctx, GFSB_ENOTFOUND, "no key %s",
		    prefix);
	else if (match > 1)
		e = gfsb_ctx_seterr(r->ctx, GFSB_EINVAL, "key prefix %s "
		    "matches %zu keys: give more of the id", prefix, match);
	else if (keys[which].current)
		e = gfsb_ctx_seterr(r->ctx, GFSB_EINVAL, "key %.8s is the one "
		    "in use: open the repository with another passphrase to "
		    "remove it", keys[which].id);
	else if (!keys[which].damaged && !keys[which].write_only &&
	    whole <= 1)
		e = gfsb_ctx_seterr(r->ctx, GFSB_EINVAL, "key %.8s is the last "
		    "full key: without it nothing stored can be read",
		    keys[which].id);
	else if ((e = gfsb_backend_remove(r->be, GFSB_OBJ_KEY,
	    keys[which].id)) == GFSB_OK && idhex != NULL)
		snprintf(idhex, GFSB_ID_HEX, "%s", keys[which].id);
	free(keys);
	return e;
}

gfsb_err
gfsb_repo_key_list(struct gfsb_repo *r, struct gfsb_key_info **out, size_t *n)
{
	struct gfsb_key_info *v = NULL;
	struct keyfile kf;
	struct gfsb_objlist ns;
	size_t i, k;
	gfsb_err e;

	if ((e = gfsb_backend_list_all(r->be, GFSB_OBJ_KEY, &ns)) != GFSB_OK)
		return e;
	if (ns.n > 0 && (v = calloc(ns.n, sizeof(*v))) == NULL) {
		gfsb_objlist_fini(&ns);
		return GFSB_ENOMEM;
	}
	for (i = 0, k = 0; i < ns.n; i++) {
		e = keyfile_load(r->be, ns.v[i].name, &kf);
		if (e == GFSB_ENOTFOUND) {
			/* Removed since the listing (a passphrase change). */
			gfsb_ctx_clearerr(r->ctx);
			continue;
		}
		if (e != GFSB_OK && !gfsb_err_is_damage(e)) {
			/* Not read, so not known to be damaged: fail. */
			free(v);
			gfsb_objlist_fini(&ns);
			return e;
		}
		snprintf(v[k].id, sizeof(v[k].id), "%s", ns.v[i].name);
		v[k].current = strcmp(ns.v[i].name, r->key_id) == 0;
		if (e != GFSB_OK) {
			snprintf(v[k].hostname, sizeof(v[k].hostname),
			    "(damaged)");
			v[k++].damaged = 1;
			gfsb_ctx_clearerr(r->ctx);
			continue;
		}
		v[k].created = kf.created;
		v[k].write_only = kf.write_only;
		if (kf.write_only)
			gfsb_hex_encode(kf.wpk, sizeof(kf.wpk), v[k].wpk_hex);
		snprintf(v[k].hostname, sizeof(v[k].hostname), "%s",
		    kf.hostname);
		snprintf(v[k].username, sizeof(v[k].username), "%s",
		    kf.username);
		k++;
	}
	*out = v;
	*n = k;
	gfsb_objlist_fini(&ns);
	return GFSB_OK;
}
