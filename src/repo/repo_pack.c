/*
 * Packs: many sealed blobs in one object, so that a repository of millions
 * of chunks is thousands of objects, not millions.
 *
 * Layout: sealed blobs back to back, then the sealed header (an envelope
 * listing each blob's id, type, flags, sealed and plain lengths, in order),
 * then the header's length as a little-endian u32.  The header at the end
 * lets the index be rebuilt from the packs alone.
 *
 * Writing: one pack is filled per blob type (data and trees apart, so tree
 * packs stay small and cacheable).  A writer reserves a region under the
 * pack lock and seals into it without the lock, so all workers fill one
 * pack at once.  When a blob does not fit, the pack is closed; the last
 * writer out of a closed pack finalizes it: appends the header, hashes the
 * whole pack (its name), stores it, and marks its blobs stored.  Stored
 * packs wait in `done` until an index file names them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/repo.h>

#include "repo_internal.h"

#define PACKHDR_VERSION 1

/* Give a pack's buffer back and let a writer waiting for one go on. */
static void
pack_drop_buf(struct gfsb_repo *r, struct pack *pk)
{
	if (pk->buf == NULL)
		return;
	gfsb_pool_put(r->packbufs, pk->buf, pk->cap);
	pk->buf = NULL;
	pthread_mutex_lock(&r->pack_lock);
	r->live[pk->type]--;
	pthread_cond_broadcast(&r->pack_cond);
	pthread_mutex_unlock(&r->pack_lock);
}

static void
pack_free(struct gfsb_repo *r, struct pack *pk)
{
	if (pk == NULL)
		return;
	pack_drop_buf(r, pk);
	free(pk->ents);
	free(pk);
}

void
repo_pack_free_all(struct gfsb_repo *r)
{
	size_t i;

	pack_free(r, r->cur[0]);
	pack_free(r, r->cur[1]);
	r->cur[0] = r->cur[1] = NULL;
	for (i = 0; i < r->ndone; i++)
		free(r->done[i].ents);
	free(r->done);
	r->done = NULL;
	r->ndone = r->capdone = 0;
	r->ndone_blobs = 0;
}

/* Start a pack able to hold at least `need` bytes of blobs.  Pack lock. */
static gfsb_err
pack_new_locked(struct gfsb_repo *r, uint8_t type, size_t need,
    struct pack **out)
{
	struct pack *pk;
	size_t cap = r->params.pack_size;
	gfsb_err e;

	if (need > cap)
		cap = need;
	if ((pk = calloc(1, sizeof(*pk))) == NULL)
		return GFSB_ENOMEM;
	/* The header is appended at the end: leave it room. */
	if ((pk->buf = gfsb_pool_get(r->packbufs, cap + cap / 64 + 4096,
	    &pk->cap)) == NULL) {
		free(pk);
		return GFSB_ENOMEM;
	}
	pk->type = type;
	pthread_mutex_lock(&r->idx.lock);
	e = rindex_pack_add_locked(&r->idx, NULL, &pk->slot);
	pthread_mutex_unlock(&r->idx.lock);
	if (e != GFSB_OK) {
		gfsb_pool_put(r->packbufs, pk->buf, pk->cap);
		free(pk);
		return e;
	}
	r->live[type]++;
	*out = pk;
	return GFSB_OK;
}

static gfsb_err
header_encode(const struct pack *pk, struct gfsb_buf *b)
{
	const struct hdrent *h;
	size_t i;
	gfsb_err e;

	if ((e = gfsb_buf_put_u8(b, PACKHDR_VERSION)) != GFSB_OK ||
	    (e = gfsb_buf_put_u32(b, (uint32_t)pk->nents)) != GFSB_OK)
		return e;
	for (i = 0; i < pk->nents; i++) {
		h = &pk->ents[i];
		if ((e = gfsb_buf_put_u8(b, h->type)) != GFSB_OK ||
		    (e = gfsb_buf_put_u8(b, h->flags)) != GFSB_OK ||
		    (e = gfsb_buf_put_u16(b, 0)) != GFSB_OK ||
		    (e = gfsb_buf_put_u32(b, h->length)) != GFSB_OK ||
		    (e = gfsb_buf_put_u32(b, h->raw_length)) != GFSB_OK ||
		    (e = gfsb_buf_append(b, h->id, GFSB_ID_LEN)) != GFSB_OK)
			return e;
	}
	return GFSB_OK;
}

static gfsb_err
done_add_locked(struct gfsb_repo *r, const uint8_t id[GFSB_ID_LEN],
    struct hdrent *ents, size_t n)
{
	struct donepack *grown;

	if (r->ndone == r->capdone) {
		size_t ncap = r->capdone ? 2 * r->capdone : 16;

		if ((grown = realloc(r->done, ncap * sizeof(*grown))) == NULL)
			return GFSB_ENOMEM;
		r->done = grown;
		r->capdone = ncap;
	}
	memcpy(r->done[r->ndone].id, id, GFSB_ID_LEN);
	r->done[r->ndone].ents = ents;
	r->done[r->ndone].n = n;
	r->ndone++;
	r->ndone_blobs += n;
	return GFSB_OK;
}

struct donepack *
repo_take_done_locked(struct gfsb_repo *r, size_t *n)
{
	struct donepack *list = r->done;

	*n = r->ndone;
	r->done = NULL;
	r->ndone = r->capdone = 0;
	r->ndone_blobs = 0;
	return list;
}

/* Write an index file for the stored packs no index names yet. */
static gfsb_err
write_done(struct gfsb_repo *r)
{
	struct donepack *list;
	size_t n, i;
	gfsb_err e;

	pthread_mutex_lock(&r->pack_lock);
	list = repo_take_done_locked(r, &n);
	pthread_mutex_unlock(&r->pack_lock);
	if (n == 0)
		return GFSB_OK;
	e = repo_index_write(r, list, n, NULL, 0);
	if (e != GFSB_OK) {
		/* Put them back: a later flush may still name them. */
		pthread_mutex_lock(&r->pack_lock);
		for (i = 0; i < n; i++) {
			if (done_add_locked(r, list[i].id, list[i].ents,
			    list[i].n) != GFSB_OK)
				free(list[i].ents);
		}
		pthread_mutex_unlock(&r->pack_lock);
		free(list);
		return e;
	}
	for (i = 0; i < n; i++)
		free(list[i].ents);
	free(list);
	return GFSB_OK;
}

/*
 * Finalize a closed pack with no writers left: header, hash, store, mark
 * its blobs stored.  Called without the pack lock; the pack is ours.
 */
static gfsb_err
pack_finalize(struct gfsb_repo *r, struct pack *pk)
{
	struct gfsb_buf hdr, sealed;
	uint8_t id[GFSB_ID_LEN];
	char name[GFSB_ID_HEX];
	size_t total, ndone, nblobs;
	uint8_t *grown;
	gfsb_err e;

	gfsb_buf_init(&hdr);
	gfsb_buf_init(&sealed);
	if (pk->nents == 0) {
		pack_free(r, pk);
		return GFSB_OK;
	}
	if ((e = header_encode(pk, &hdr)) != GFSB_OK ||
	    (e = repo_obj_seal(r, ENV_PACKHDR, hdr.data, hdr.len, &sealed)) !=
	    GFSB_OK)
		goto out;
	total = pk->used + sealed.len + 4;
	if (total > pk->cap) {
		if ((grown = realloc(pk->buf, total)) == NULL) {
			e = GFSB_ENOMEM;
			goto out;
		}
		pk->buf = grown;
		pk->cap = total;
	}
	memcpy(pk->buf + pk->used, sealed.data, sealed.len);
	gfsb_le32_put(pk->buf + pk->used + sealed.len, (uint32_t)sealed.len);
	gfsb_crypto_sha256(pk->buf, total, id);
	gfsb_hex_encode(id, sizeof(id), name);
	if ((e = gfsb_backend_put(r->be, GFSB_OBJ_PACK, name, pk->buf,
	    total)) != GFSB_OK)
		goto out;
	/* Trees are read again by the next backup and every restore. */
	if (pk->type == GFSB_BLOB_TREE)
		repo_cache_put(r, GFSB_OBJ_PACK, name, pk->buf, total);
	/* Recycle the pack's memory first: it is stored. */
	pack_drop_buf(r, pk);
	pthread_mutex_lock(&r->idx.lock);
	memcpy(r->idx.packs[pk->slot].id, id, GFSB_ID_LEN);
	r->idx.packs[pk->slot].stored = 1;
	pthread_mutex_unlock(&r->idx.lock);
	pthread_mutex_lock(&r->pack_lock);
	r->stats.packs_written++;
	r->stats.pack_bytes += total;
	e = done_add_locked(r, id, pk->ents, pk->nents);
	if (e == GFSB_OK)
		pk->ents = NULL;
	ndone = r->ndone;
	nblobs = r->ndone_blobs;
	pthread_mutex_unlock(&r->pack_lock);
	if (e == GFSB_OK && (ndone >= PACKS_PER_INDEX ||
	    nblobs >= BLOBS_PER_INDEX) && !r->no_auto_index)
		e = write_done(r);
out:
	pack_free(r, pk);
	gfsb_buf_fini(&hdr);
	gfsb_buf_fini(&sealed);
	return e;
}

/*
 * Reserve room for a sealed blob of h->length bytes in the current pack of
 * `type`, recording its header entry.  Returns the pack and the offset; the
 * caller seals into pk->buf + off and then calls pack_release.  If the
 * current pack had to be closed and nobody is writing into it, *pkp is
 * NULL and *fin is set: the caller finalizes it and tries again.  Waits
 * while too many pack buffers are alive (those are being stored).
 */
static gfsb_err
pack_reserve(struct gfsb_repo *r, uint8_t type, const struct hdrent *h,
    int index_it, struct pack **pkp, uint32_t *off, struct pack **fin)
{
	unsigned limit = type == GFSB_BLOB_TREE ? LIVE_TREE_PACKS :
	    LIVE_DATA_PACKS;
	struct pack *pk;
	struct hdrent *grown;
	struct ientry *ie;
	gfsb_err e = GFSB_OK;

	*fin = NULL;
	*pkp = NULL;
	pthread_mutex_lock(&r->pack_lock);
	pk = r->cur[type];
	if (pk != NULL && pk->used > 0 &&
	    pk->used + h->length > r->params.pack_size) {
		pk->closed = 1;
		r->cur[type] = NULL;
		if (pk->writers == 0) {
			*fin = pk;
			goto out;
		}
		pk = NULL;
	}
	while ((pk = r->cur[type]) == NULL && r->live[type] >= limit)
		pthread_cond_wait(&r->pack_cond, &r->pack_lock);
	if (pk != NULL && pk->used > 0 &&
	    pk->used + h->length > r->params.pack_size) {
		/* Another writer opened it meanwhile and it filled: retry. */
		goto out;
	}
	if (pk == NULL) {
		if ((e = pack_new_locked(r, type, h->length, &pk)) != GFSB_OK)
			goto out;
		r->cur[type] = pk;
	}
	if (pk->nents == pk->entcap) {
		size_t ncap = pk->entcap ? 2 * pk->entcap : 64;

		if ((grown = realloc(pk->ents, ncap * sizeof(*grown))) ==
		    NULL) {
			e = GFSB_ENOMEM;
			goto out;
		}
		pk->ents = grown;
		pk->entcap = ncap;
	}
	pk->ents[pk->nents] = *h;
	pk->ents[pk->nents].offset = (uint32_t)pk->used;
	pk->nents++;
	*off = (uint32_t)pk->used;
	pk->used += h->length;
	pk->writers++;
	*pkp = pk;
	/* Point the index entry at its pack (not yet findable: not stored). */
	pthread_mutex_lock(&r->idx.lock);
	if (index_it && (ie = rindex_find_locked(&r->idx, h->id, type)) !=
	    NULL) {
		ie->pack = pk->slot;
		ie->offset = *off;
		ie->length = h->length;
		ie->raw_length = h->raw_length;
		ie->flags = h->flags;
	}
	pthread_mutex_unlock(&r->idx.lock);
out:
	pthread_mutex_unlock(&r->pack_lock);
	return e;
}

/* Done sealing into pk; returns pk if the caller must finalize it. */
static struct pack *
pack_release(struct gfsb_repo *r, struct pack *pk)
{
	struct pack *fin = NULL;

	pthread_mutex_lock(&r->pack_lock);
	pk->writers--;
	if (pk->closed && pk->writers == 0)
		fin = pk;
	if (pk->writers == 0)
		pthread_cond_broadcast(&r->pack_cond);
	pthread_mutex_unlock(&r->pack_lock);
	return fin;
}

gfsb_err
repo_pack_add(struct gfsb_repo *r, const struct hdrent *h,
    void (*seal)(void *cookie, uint8_t *dst), void *cookie, int index_it)
{
	struct pack *pk, *fin, *fin2;
	uint32_t off;
	gfsb_err e, e2 = GFSB_OK;

	for (;;) {
		if ((e = pack_reserve(r, h->type, h, index_it, &pk, &off,
		    &fin)) != GFSB_OK)
			return e;
		if (pk != NULL)
			break;
		if (fin != NULL && (e = pack_finalize(r, fin)) != GFSB_OK)
			return e;
	}
	seal(cookie, pk->buf + off);
	fin2 = pack_release(r, pk);
	if (fin2 != NULL)
		e2 = pack_finalize(r, fin2);
	pthread_mutex_lock(&r->pack_lock);
	r->stats.blobs_added[h->type]++;
	r->stats.raw_added[h->type] += h->raw_length;
	r->stats.stored_added[h->type] += h->length;
	pthread_mutex_unlock(&r->pack_lock);
	return e != GFSB_OK ? e : e2;
}

void
gfsb_repo_set_dry_run(struct gfsb_repo *r, int on)
{
	r->dry_run = on;
}

gfsb_err
gfsb_repo_flush(struct gfsb_repo *r)
{
	gfsb_err e;

	if (r->dry_run)
		return GFSB_OK;	/* nothing was packed */

	if ((e = repo_flush_packs(r)) != GFSB_OK)
		return e;
	return write_done(r);
}

gfsb_err
repo_flush_packs(struct gfsb_repo *r)
{
	struct pack *pk;
	gfsb_err e = GFSB_OK, e2;
	int t;

	for (t = 0; t < 2; t++) {
		pthread_mutex_lock(&r->pack_lock);
		pk = r->cur[t];
		r->cur[t] = NULL;
		if (pk != NULL) {
			pk->closed = 1;
			/* Flushing while other threads still write would race;
			 * wait for them to leave the pack. */
			while (pk->writers > 0)
				pthread_cond_wait(&r->pack_cond,
				    &r->pack_lock);
		}
		pthread_mutex_unlock(&r->pack_lock);
		if (pk != NULL && (e2 = pack_finalize(r, pk)) != GFSB_OK &&
		    e == GFSB_OK)
			e = e2;
	}
	return e;
}

void
gfsb_repo_stats_get(struct gfsb_repo *r, struct gfsb_repo_stats *out)
{
	pthread_mutex_lock(&r->pack_lock);
	*out = r->stats;
	pthread_mutex_unlock(&r->pack_lock);
}

/* ---- reading pack headers ---- */

gfsb_err
repo_pack_header_decode(struct gfsb_repo *r, const uint8_t *p, size_t n,
    uint64_t packsize, struct hdrent **entsp, size_t *nentsp)
{
	struct hdrent *ents = NULL, *h;
	struct gfsb_rd rd;
	uint64_t off = 0;
	uint32_t cnt;
	size_t i;

	(void)r;
	gfsb_rd_init(&rd, p, n);
	if (gfsb_rd_u8(&rd) != PACKHDR_VERSION)
		return GFSB_ECORRUPT;
	cnt = gfsb_rd_u32(&rd);
	if (rd.bad || cnt == 0 || cnt != gfsb_rd_left(&rd) / PACKHDR_ENTRY_LEN ||
	    gfsb_rd_left(&rd) % PACKHDR_ENTRY_LEN != 0)
		return GFSB_ECORRUPT;
	if ((ents = malloc(cnt * sizeof(*ents))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < cnt; i++) {
		h = &ents[i];
		h->type = gfsb_rd_u8(&rd);
		h->flags = gfsb_rd_u8(&rd);
		(void)gfsb_rd_u16(&rd);
		h->length = gfsb_rd_u32(&rd);
		h->raw_length = gfsb_rd_u32(&rd);
		memcpy(h->id, gfsb_rd_bytes(&rd, GFSB_ID_LEN), GFSB_ID_LEN);
		h->offset = (uint32_t)off;
		off += h->length;
		if (h->type > GFSB_BLOB_TREE || (h->flags &
		    ~(GFSB_BLOB_F_ZSTD | GFSB_BLOB_F_READER)) != 0 ||
		    h->length < GFSB_SEAL_OVERHEAD ||
		    h->raw_length > MAX_BLOB_RAW || off > packsize ||
		    off > UINT32_MAX) {
			free(ents);
			return GFSB_ECORRUPT;
		}
	}
	/* The blobs must fill the pack exactly up to the header. */
	if (off + n + ENV_OVERHEAD + 4 != packsize) {
		free(ents);
		return GFSB_ECORRUPT;
	}
	*entsp = ents;
	*nentsp = cnt;
	return GFSB_OK;
}

/* n bytes at off of pack `name`: from `whole` when the caller holds the
 * whole pack, else from storage.  The caller checked the bounds. */
static gfsb_err
pack_bytes(struct gfsb_repo *r, const char *name, const uint8_t *whole,
    uint64_t off, uint8_t *dst, size_t n)
{
	if (whole != NULL) {
		memcpy(dst, whole + off, n);
		return GFSB_OK;
	}
	return gfsb_backend_read(r->be, GFSB_OBJ_PACK, name, off, dst, n);
}

static gfsb_err
pack_header(struct gfsb_repo *r, const char *name, const uint8_t *whole,
    uint64_t size, struct hdrent **ents, size_t *nents)
{
	struct gfsb_buf sealed, plain;
	uint8_t tail[4];
	uint32_t hlen;
	gfsb_err e;

	gfsb_buf_init(&sealed);
	gfsb_buf_init(&plain);
	if (size < 4 + ENV_OVERHEAD) {
		e = GFSB_ECORRUPT;
		goto bad;
	}
	if ((e = pack_bytes(r, name, whole, size - 4, tail, 4)) != GFSB_OK)
		goto out;
	hlen = gfsb_le32_get(tail);
	if (hlen < ENV_OVERHEAD || hlen > size - 4 ||
	    hlen > MAX_PACKHDR + ENV_OVERHEAD) {
		e = GFSB_ECORRUPT;
		goto bad;
	}
	if ((e = gfsb_buf_reserve(&sealed, hlen)) != GFSB_OK ||
	    (e = pack_bytes(r, name, whole, size - 4 - hlen, sealed.data,
	    hlen)) != GFSB_OK)
		goto out;
	sealed.len = hlen;
	if ((e = repo_obj_open(r, ENV_PACKHDR, name, sealed.data, sealed.len,
	    MAX_PACKHDR, &plain)) != GFSB_OK)
		goto out;
	e = repo_pack_header_decode(r, plain.data, plain.len, size, ents,
	    nents);
bad:
	if (e == GFSB_ECORRUPT)
		gfsb_ctx_seterr(r->ctx, e, "pack %s has a damaged header",
		    name);
out:
	gfsb_buf_fini(&sealed);
	gfsb_buf_fini(&plain);
	return e;
}

gfsb_err
repo_pack_read_header(struct gfsb_repo *r, const char *name, uint64_t size,
    struct hdrent **ents, size_t *nents)
{
	return pack_header(r, name, NULL, size, ents, nents);
}

gfsb_err
repo_pack_header_in(struct gfsb_repo *r, const char *name,
    const uint8_t *pack, uint64_t size, struct hdrent **ents, size_t *nents)
{
	return pack_header(r, name, pack, size, ents, nents);
}

/* What seal_copy writes: a blob sealed elsewhere, as it is. */
struct sealed_copy {
	struct hdrent h;
	const uint8_t *p; /* h.length sealed bytes */
};

static void
seal_copy(void *cookie, uint8_t *dst)
{
	const struct sealed_copy *c = cookie;

	memcpy(dst, c->p, c->h.length);
}

gfsb_err
repo_pack_copy(struct gfsb_repo *r, const struct hdrent *from,
    const uint8_t *sealed)
{
	struct sealed_copy c;

	c.h = *from;
	c.h.offset = 0; /* the new pack places it */
	c.p = sealed;
	return repo_pack_add(r, &c.h, seal_copy, &c, 0);
}

/* ---- recovering unindexed packs ---- */

gfsb_err
gfsb_repo_pack_recover(struct gfsb_repo *r, size_t *count)
{
	struct gfsb_objlist l = { NULL, 0, 0 };
	struct packids known = { NULL, 0 };
	struct hdrent *ents;
	size_t i, nents, found = 0;
	gfsb_err e;

	*count = 0;
	/* A write-only key does not see the packs of index files it cannot
	 * read, so every older pack would look unindexed, and each costs a
	 * read of its header: it recovers nothing (an interrupted backup of
	 * its own is stored again; prune removes what no snapshot uses). */
	if (r->keys == NULL)
		return GFSB_OK;
	if ((e = gfsb_backend_list_all(r->be, GFSB_OBJ_PACK, &l)) != GFSB_OK ||
	    (e = repo_index_pack_ids(r, &known)) != GFSB_OK)
		goto out;
	for (i = 0; i < l.n; i++) {
		if (repo_packids_has(&known, l.v[i].id))
			continue;
		e = repo_pack_read_header(r, l.v[i].name, l.v[i].size, &ents,
		    &nents);
		if (e == GFSB_ECORRUPT || e == GFSB_ENOTFOUND) {
			gfsb_ctx_log(r->ctx, GFSB_LOG_WARN,
			    "unindexed pack %s is unreadable (%s); not reused",
			    l.v[i].name, gfsb_strerror(e));
			gfsb_ctx_clearerr(r->ctx);
			e = GFSB_OK; /* not ours to fail on: prune removes it */
			continue;
		}
		if (e != GFSB_OK)
			goto out;
		if ((e = rindex_add_pack(&r->idx, l.v[i].id, ents, nents,
		    0)) != GFSB_OK) {
			free(ents);
			goto out;
		}
		pthread_mutex_lock(&r->pack_lock);
		e = done_add_locked(r, l.v[i].id, ents, nents);
		pthread_mutex_unlock(&r->pack_lock);
		if (e != GFSB_OK) {
			free(ents);
			goto out;
		}
		found++;
	}
	*count = found;
out:
	free(known.v);
	gfsb_objlist_fini(&l);
	return e;
}
