/*
 * Blobs: deduplicate, compress, seal and pack on the way in; fetch,
 * authenticate, decompress and check the id on the way out.
 *
 * A blob's associated data is its id, type, compression flag and plain
 * length, so a blob cannot be moved under another id, turned from data into
 * a tree, or made to decompress to a different size without failing
 * authentication.  Reading also recomputes the id from the plaintext.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/compress.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/repo.h>

#include "repo_internal.h"

void
repo_blob_ad(uint8_t ad[BLOB_AD_LEN], const uint8_t id[GFSB_ID_LEN],
    uint8_t type, uint8_t flags, uint32_t raw_length)
{
	memcpy(ad, id, GFSB_ID_LEN);
	ad[GFSB_ID_LEN] = type;
	ad[GFSB_ID_LEN + 1] = flags;
	gfsb_le32_put(ad + GFSB_ID_LEN + 2, raw_length);
}

gfsb_err
gfsb_repo_io_new(struct gfsb_repo *r, struct gfsb_repo_io **out)
{
	struct gfsb_repo_io *io;
	gfsb_err e;

	if ((io = calloc(1, sizeof(*io))) == NULL)
		return GFSB_ENOMEM;
	io->r = r;
	gfsb_buf_init(&io->a);
	gfsb_buf_init(&io->b);
	if ((e = gfsb_compress_new(r->params.compression, &io->z)) !=
	    GFSB_OK) {
		free(io);
		return e;
	}
	*out = io;
	return GFSB_OK;
}

void
gfsb_repo_io_free(struct gfsb_repo_io *io)
{
	if (io == NULL)
		return;
	gfsb_compress_free(io->z);
	gfsb_buf_wipe(&io->a);
	gfsb_buf_wipe(&io->b);
	free(io);
}

static gfsb_err
blob_bad(struct gfsb_repo *r, const struct gfsb_blob_loc *loc,
    const uint8_t id[GFSB_ID_LEN], const char *why)
{
	char idhex[GFSB_ID_HEX], packhex[GFSB_ID_HEX];

	gfsb_hex_encode(id, GFSB_ID_LEN, idhex);
	gfsb_hex_encode(loc->pack, GFSB_ID_LEN, packhex);
	return gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT,
	    "blob %.16s in pack %s is damaged: %s", idhex, packhex, why);
}

/*
 * A blob sealed to the reader: its key (the session of the epk it starts
 * with) into key, which becomes secure memory; *sealed and *length past
 * the epk; the associated data, which binds the epk too, into ad.
 */
static gfsb_err
open_key(struct gfsb_repo *r, const struct gfsb_blob_loc *loc,
    const uint8_t id[GFSB_ID_LEN], const uint8_t **sealed, size_t *length,
    uint8_t *ad, size_t *adlen, uint8_t **key)
{
	if (*length < ENV_EPK_LEN + GFSB_SEAL_OVERHEAD)
		return blob_bad(r, loc, id, "impossible size");
	if ((*key = gfsb_crypto_secure_alloc(GFSB_KEY_LEN)) == NULL)
		return GFSB_ENOMEM;
	memcpy(ad + BLOB_AD_LEN, *sealed, ENV_EPK_LEN);
	*adlen = BLOB_AD_LEN + ENV_EPK_LEN;
	*sealed += ENV_EPK_LEN;
	*length -= ENV_EPK_LEN;
	return repo_session_key(r, ad + BLOB_AD_LEN, *key);
}

/* Open a sealed blob: under key when it was sealed to the reader, else
 * under the full keys' enc. */
static gfsb_err
open_blob(struct gfsb_repo *r, const uint8_t *key, uint8_t *out,
    const uint8_t *sealed, size_t n, const uint8_t *ad, size_t adlen)
{
	if (key != NULL)
		return gfsb_crypto_open_with(key, out, sealed, n, ad, adlen);
	return gfsb_crypto_open(r->keys, out, sealed, n, ad, adlen);
}

gfsb_err
gfsb_repo_blob_open(struct gfsb_repo_io *io, const struct gfsb_blob_loc *loc,
    const uint8_t id[GFSB_ID_LEN], const uint8_t *sealed,
    struct gfsb_buf *out)
{
	struct gfsb_repo *r = io->r;
	uint8_t ad[BLOB_AD_LEN + ENV_EPK_LEN], check[GFSB_ID_LEN];
	uint8_t *key = NULL;
	size_t clen, length = loc->length, adlen = BLOB_AD_LEN;
	gfsb_err e;

	out->len = 0;
	repo_blob_ad(ad, id, loc->type, loc->flags, loc->raw_length);
	if (loc->flags & GFSB_BLOB_F_READER)
		e = open_key(r, loc, id, &sealed, &length, ad, &adlen, &key);
	else
		e = repo_need_full(r, "read what is stored");
	if (e != GFSB_OK)
		goto out;
	if (length < GFSB_SEAL_OVERHEAD || loc->raw_length > MAX_BLOB_RAW) {
		e = blob_bad(r, loc, id, "impossible size");
		goto out;
	}
	clen = length - GFSB_SEAL_OVERHEAD;
	if (!(loc->flags & GFSB_BLOB_F_ZSTD) && clen != loc->raw_length) {
		e = blob_bad(r, loc, id, "size mismatch");
		goto out;
	}
	if (loc->flags & GFSB_BLOB_F_ZSTD) {
		/* Authenticate before making room for the raw length: the
		 * MAC binds it (it is in the associated data), so a blob
		 * whose sizes are forged costs no more memory than its own
		 * bytes (found by tests/fuzz: fuzz_sealed_object reserved
		 * up to 256 MiB for every forged blob). */
		io->b.len = 0;
		if ((e = gfsb_buf_reserve(&io->b, clen + 1)) != GFSB_OK)
			goto out;
		if (open_blob(r, key, io->b.data, sealed, length, ad, adlen) !=
		    GFSB_OK) {
			e = blob_bad(r, loc, id, "authentication failed");
			goto out;
		}
		if ((e = gfsb_buf_reserve(out, (size_t)loc->raw_length + 1)) !=
		    GFSB_OK)
			goto out;
		if (gfsb_compress_unblob(io->z, io->b.data, clen, out->data,
		    loc->raw_length) != GFSB_OK) {
			e = blob_bad(r, loc, id, "does not decompress");
			goto out;
		}
	} else {
		if ((e = gfsb_buf_reserve(out, (size_t)loc->raw_length + 1)) !=
		    GFSB_OK)
			goto out;
		if (open_blob(r, key, out->data, sealed, length, ad, adlen) !=
		    GFSB_OK) {
			e = blob_bad(r, loc, id, "authentication failed");
			goto out;
		}
	}
	e = GFSB_OK;
out:
	gfsb_crypto_secure_free(key);
	if (e != GFSB_OK)
		return e;
	out->len = loc->raw_length;
	gfsb_repo_blob_id(r, out->data, out->len, check);
	if (sodium_memcmp(check, id, GFSB_ID_LEN) != 0) {
		out->len = 0;
		return blob_bad(r, loc, id, "content does not match its id");
	}
	return GFSB_OK;
}

gfsb_err
gfsb_repo_pack_read(struct gfsb_repo *r, const uint8_t pack[GFSB_ID_LEN],
    uint64_t off, uint8_t *dst, size_t n)
{
	char packhex[GFSB_ID_HEX];
	gfsb_err e;

	gfsb_hex_encode(pack, GFSB_ID_LEN, packhex);
	if ((e = gfsb_backend_read(r->be, GFSB_OBJ_PACK, packhex, off, dst,
	    n)) == GFSB_OK)
		return GFSB_OK;
	if (e == GFSB_ENOTFOUND && repo_index_pack_doomed(r, pack)) {
		/* Gone on purpose: no snapshot needed it when it was marked
		 * (one replayed since, say, does). */
		gfsb_ctx_clearerr(r->ctx);
		return gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT, "pack %s was "
		    "deleted by a prune (no snapshot used it)", packhex);
	}
	if (e == GFSB_ENOTFOUND)
		e = GFSB_ECORRUPT; /* the index names a missing pack */
	return gfsb_ctx_seterr(r->ctx, e, "cannot read bytes %llu-%llu of "
	    "pack %s", (unsigned long long)off, (unsigned long long)(off + n),
	    packhex);
}

gfsb_err
gfsb_repo_blob_read(struct gfsb_repo_io *io, enum gfsb_blob_type type,
    const uint8_t id[GFSB_ID_LEN], struct gfsb_buf *out)
{
	struct gfsb_repo *r = io->r;
	struct gfsb_blob_loc loc;
	char idhex[GFSB_ID_HEX], packhex[GFSB_ID_HEX];
	uint8_t check[GFSB_ID_LEN];
	gfsb_err e;

	/* A write-only key's own trees: from its cache, checked. */
	if (r->writer != NULL && type == GFSB_BLOB_TREE) {
		gfsb_hex_encode(id, GFSB_ID_LEN, idhex);
		if (repo_wcache_get(r, "trees", idhex, MAX_BLOB_RAW, out) ==
		    GFSB_OK) {
			gfsb_repo_blob_id(r, out->data, out->len, check);
			if (sodium_memcmp(check, id, GFSB_ID_LEN) == 0)
				return GFSB_OK;
		}
		/* Not there, or damaged: like a tree the index lacks, so a
		 * backup reads those files again. */
		out->len = 0;
		return gfsb_ctx_seterr(r->ctx, GFSB_ENOTFOUND, "tree %.16s is "
		    "not in this write-only key's cache", idhex);
	}
	if ((e = gfsb_repo_index_lookup(r, type, id, &loc)) != GFSB_OK) {
		gfsb_hex_encode(id, GFSB_ID_LEN, idhex);
		return gfsb_ctx_seterr(r->ctx, e, "%s blob %.16s is not in "
		    "the index", type == GFSB_BLOB_TREE ? "tree" : "data",
		    idhex);
	}
	io->a.len = 0;
	if ((e = gfsb_buf_reserve(&io->a, loc.length)) != GFSB_OK)
		return e;
	gfsb_hex_encode(loc.pack, GFSB_ID_LEN, packhex);
	/* Trees from the cached copy of their pack when there is one; a
	 * copy that fails the blob's checks is dropped and the repository
	 * read instead.  A pack the storage failed to give stops here. */
	if (type == GFSB_BLOB_TREE && r->cache != NULL) {
		e = repo_cache_pack_read(r, packhex, loc.offset, io->a.data,
		    loc.length);
		if (e != GFSB_OK && e != GFSB_ENOTFOUND)
			return e;
		if (e == GFSB_OK && (e = gfsb_repo_blob_open(io, &loc, id,
		    io->a.data, out)) == GFSB_OK)
			return GFSB_OK;
		if (e != GFSB_ENOTFOUND) {
			gfsb_ctx_clearerr(r->ctx);
			repo_cache_remove(r, GFSB_OBJ_PACK, packhex);
		}
	}
	if ((e = gfsb_repo_pack_read(r, loc.pack, loc.offset, io->a.data,
	    loc.length)) != GFSB_OK && repo_index_pack_doomed(r, loc.pack) &&
	    strstr(gfsb_ctx_errmsg(r->ctx), "deleted by a prune") != NULL) {
		gfsb_hex_encode(id, GFSB_ID_LEN, idhex);
		gfsb_ctx_clearerr(r->ctx);
		return gfsb_ctx_seterr(r->ctx, e, "%s blob %.16s is not in "
		    "the index: its pack %.16s was deleted by a prune",
		    type == GFSB_BLOB_TREE ? "tree" : "data", idhex, packhex);
	}
	if (e != GFSB_OK)
		return e;
	return gfsb_repo_blob_open(io, &loc, id, io->a.data, out);
}

struct sealjob {
	struct gfsb_repo *r;
	const uint8_t *src;
	size_t n;
	uint8_t ad[BLOB_AD_LEN + ENV_EPK_LEN];
};

/* Under the full keys' enc; or, by a writer, to the reader: the session's
 * epk first, and in the associated data. */
static void
seal_into(void *cookie, uint8_t *dst)
{
	struct sealjob *j = cookie;
	struct gfsb_repo *r = j->r;

	if (r->keys != NULL) {
		gfsb_crypto_seal(r->keys, dst, j->src, j->n, j->ad,
		    BLOB_AD_LEN);
		return;
	}
	gfsb_crypto_session_epk(r->session, dst);
	memcpy(j->ad + BLOB_AD_LEN, dst, ENV_EPK_LEN);
	gfsb_crypto_session_seal(r->session, dst + ENV_EPK_LEN, j->src, j->n,
	    j->ad, sizeof(j->ad));
}

gfsb_err
gfsb_repo_blob_write(struct gfsb_repo_io *io, enum gfsb_blob_type type,
    const uint8_t *p, size_t n, uint8_t id[GFSB_ID_LEN], int id_known,
    int *added)
{
	struct gfsb_repo *r = io->r;
	struct ientry ne;
	struct hdrent h;
	struct sealjob job;
	size_t clen = 0;
	gfsb_err e;

	*added = 0;
	if (r->keys == NULL && r->session == NULL)
		return repo_need_full(r, "write blobs");
	if (n > MAX_BLOB_RAW)
		return gfsb_ctx_seterr(r->ctx, GFSB_EINVAL,
		    "blob of %zu bytes is too large", n);
	if (!id_known)
		gfsb_repo_blob_id(r, p, n, id);
	if (r->writer != NULL && type == GFSB_BLOB_TREE && !r->dry_run) {
		/* Its own trees it cannot read back from the repository. */
		char idhex[GFSB_ID_HEX];

		gfsb_hex_encode(id, GFSB_ID_LEN, idhex);
		repo_wcache_put(r, "trees", idhex, p, n);
	}
	/* Claim the id: from now on other writers treat it as stored. */
	memset(&ne, 0, sizeof(ne));
	memcpy(ne.id, id, GFSB_ID_LEN);
	ne.type = (uint8_t)type;
	ne.pack = PACK_NONE;
	pthread_mutex_lock(&r->idx.lock);
	e = rindex_claim_locked(&r->idx, &ne);
	pthread_mutex_unlock(&r->idx.lock);
	if (e == GFSB_EEXIST)
		return GFSB_OK;
	if (e != GFSB_OK)
		return e;

	io->a.len = 0;
	if ((e = gfsb_buf_reserve(&io->a, gfsb_compress_bound(n))) != GFSB_OK)
		return e;
	if ((e = gfsb_compress_blob(io->z, p, n, io->a.data, io->a.cap,
	    &clen)) != GFSB_OK)
		return e;
	memset(&h, 0, sizeof(h));
	memcpy(h.id, id, GFSB_ID_LEN);
	h.type = (uint8_t)type;
	h.flags = clen > 0 ? GFSB_BLOB_F_ZSTD : 0;
	h.raw_length = (uint32_t)n;
	job.r = r;
	job.src = clen > 0 ? io->a.data : p;
	job.n = clen > 0 ? clen : n;
	h.length = (uint32_t)(job.n + GFSB_SEAL_OVERHEAD);
	if (r->keys == NULL) {
		h.flags |= GFSB_BLOB_F_READER;
		h.length += ENV_EPK_LEN;
	}
	if (r->dry_run) {
		/* Counted as repo_pack_add counts it; nothing stored. */
		pthread_mutex_lock(&r->pack_lock);
		r->stats.blobs_added[h.type]++;
		r->stats.raw_added[h.type] += h.raw_length;
		r->stats.stored_added[h.type] += h.length;
		pthread_mutex_unlock(&r->pack_lock);
		*added = 1;
		return GFSB_OK;
	}
	repo_blob_ad(job.ad, id, h.type, h.flags, h.raw_length);
	if ((e = repo_pack_add(r, &h, seal_into, &job, 1)) != GFSB_OK)
		return e;
	*added = 1;
	return GFSB_OK;
}
