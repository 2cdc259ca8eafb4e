/*
 * The index: which pack holds each blob.
 *
 * In memory it is a dense array of 52-byte entries with an open-addressing
 * table of 32-bit slots over it (load factor <= 3/4), about 60 bytes a
 * blob.  Blob ids are keyed hashes, so their first bytes are already
 * uniformly distributed and serve as the hash.  Entries for blobs still
 * being packed carry PACK_NONE or a pack not yet stored: they count for
 * deduplication but are not found by lookups.
 *
 * On disk an index file lists packs and their blobs, and may name older
 * index files it supersedes (prune writes the replacement before deleting
 * what it replaces, so after a crash both may exist: the superseded ones
 * are ignored).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/repo.h>

#include "repo_internal.h"

#define INDEX_VERSION 1
#define INDEX_VERSION_DOOMED 2 /* with packs to delete */

static size_t
hash_id(const uint8_t id[GFSB_ID_LEN])
{
	uint64_t h = 0;
	int i;

	for (i = 7; i >= 0; i--)
		h = h << 8 | id[i];
	return (size_t)h;
}

gfsb_err
rindex_init(struct rindex *x)
{
	memset(x, 0, sizeof(*x));
	if (pthread_mutex_init(&x->lock, NULL) != 0)
		return GFSB_ENOMEM;
	return GFSB_OK;
}

void
rindex_fini(struct rindex *x)
{
	free(x->e);
	free(x->slots);
	free(x->packs);
	pthread_mutex_destroy(&x->lock);
}

/* Loaded: the entries' array to their number (a smaller array, or the
 * same if that fails). */
static void
rindex_trim(struct rindex *x)
{
	struct ientry *e;

	pthread_mutex_lock(&x->lock);
	if (x->n > 0 && x->n < x->cap &&
	    (e = realloc(x->e, x->n * sizeof(*e))) != NULL) {
		x->e = e;
		x->cap = x->n;
	}
	pthread_mutex_unlock(&x->lock);
}

void
gfsb_repo_index_memory(struct gfsb_repo *r, size_t *blobs, size_t *bytes)
{
	struct rindex *x = &r->idx;

	pthread_mutex_lock(&x->lock);
	*blobs = x->n;
	*bytes = x->cap * sizeof(*x->e) + x->nslots * sizeof(*x->slots) +
	    x->packcap * sizeof(*x->packs);
	pthread_mutex_unlock(&x->lock);
}

static gfsb_err
grow_slots(struct rindex *x)
{
	size_t nslots = x->nslots ? 2 * x->nslots : 1024, i, j;
	uint32_t *s;

	if ((s = calloc(nslots, sizeof(*s))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < x->n; i++) {
		j = hash_id(x->e[i].id) & (nslots - 1);
		while (s[j] != 0)
			j = (j + 1) & (nslots - 1);
		s[j] = (uint32_t)(i + 1);
	}
	free(x->slots);
	x->slots = s;
	x->nslots = nslots;
	return GFSB_OK;
}

struct ientry *
rindex_find_locked(struct rindex *x, const uint8_t id[GFSB_ID_LEN],
    uint8_t type)
{
	size_t j;
	struct ientry *e;

	if (x->nslots == 0)
		return NULL;
	j = hash_id(id) & (x->nslots - 1);
	while (x->slots[j] != 0) {
		e = &x->e[x->slots[j] - 1];
		if (e->type == type && memcmp(e->id, id, GFSB_ID_LEN) == 0)
			return e;
		j = (j + 1) & (x->nslots - 1);
	}
	return NULL;
}

/* Room for one more entry in the dense array. */
static gfsb_err
grow_entries(struct rindex *x)
{
	struct ientry *grown;
	size_t ncap;

	if (x->n >= UINT32_MAX - 1)
		return GFSB_ENOMEM;
	if (x->n < x->cap)
		return GFSB_OK;
	/* Doubling up to a million entries; then a quarter more at a time,
	 * so that a large index holds little slack (glibc moves arrays this
	 * large with mremap: growing copies nothing). */
	ncap = x->cap == 0 ? 1024 : x->cap < (1u << 20) ? 2 * x->cap :
	    x->cap + x->cap / 4;
	if ((grown = realloc(x->e, ncap * sizeof(*grown))) == NULL)
		return GFSB_ENOMEM;
	x->e = grown;
	x->cap = ncap;
	return GFSB_OK;
}

gfsb_err
rindex_add_locked(struct rindex *x, const struct ientry *ne)
{
	size_t j;
	gfsb_err err;

	if (rindex_find_locked(x, ne->id, ne->type) != NULL)
		return GFSB_EEXIST;
	if ((x->n + 1) * 4 > x->nslots * 3 &&
	    (err = grow_slots(x)) != GFSB_OK)
		return err;
	if ((err = grow_entries(x)) != GFSB_OK)
		return err;
	x->e[x->n] = *ne;
	j = hash_id(ne->id) & (x->nslots - 1);
	while (x->slots[j] != 0)
		j = (j + 1) & (x->nslots - 1);
	x->slots[j] = (uint32_t)(++x->n);
	return GFSB_OK;
}

gfsb_err
rindex_append_dup_locked(struct rindex *x, const struct ientry *ne)
{
	gfsb_err err;

	if ((err = grow_entries(x)) != GFSB_OK)
		return err;
	x->e[x->n] = *ne;
	x->e[x->n].dup = 1;
	x->n++;
	/* A copy in a pack marked for deletion is going anyway. */
	if (ne->pack == PACK_NONE || !x->packs[ne->pack].doomed)
		x->duplicates++;
	return GFSB_OK;
}

gfsb_err
rindex_claim_locked(struct rindex *x, const struct ientry *ne)
{
	struct ientry *old = rindex_find_locked(x, ne->id, ne->type), keep;
	size_t at;
	gfsb_err err;

	if (old == NULL)
		return rindex_add_locked(x, ne);
	if (old->pack == PACK_NONE || !x->packs[old->pack].doomed)
		return GFSB_EEXIST;
	/* Never deduplicate against a marked pack: a prune may delete it
	 * before this blob's snapshot is saved.  The slot's entry becomes
	 * the new one; the marked copy stays, as a duplicate. */
	at = (size_t)(old - x->e);
	keep = *old;
	if ((err = rindex_append_dup_locked(x, &keep)) != GFSB_OK)
		return err;
	x->e[at] = *ne;
	return GFSB_OK;
}

gfsb_err
rindex_pack_add_locked(struct rindex *x, const uint8_t *id, uint32_t *slot)
{
	struct ipack *grown;

	if (x->npacks >= UINT32_MAX - 1)
		return GFSB_ENOMEM;
	if (x->npacks == x->packcap) {
		size_t ncap = x->packcap ? 2 * x->packcap : 256;

		if ((grown = realloc(x->packs, ncap * sizeof(*grown))) == NULL)
			return GFSB_ENOMEM;
		x->packs = grown;
		x->packcap = ncap;
	}
	memset(&x->packs[x->npacks], 0, sizeof(x->packs[0]));
	if (id != NULL) {
		memcpy(x->packs[x->npacks].id, id, GFSB_ID_LEN);
		x->packs[x->npacks].stored = 1;
	}
	*slot = (uint32_t)x->npacks++;
	return GFSB_OK;
}

static int
idcmp(const void *a, const void *b)
{
	return memcmp(a, b, GFSB_ID_LEN);
}

gfsb_err
repo_index_pack_ids(struct gfsb_repo *r, struct packids *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&r->idx.lock);
	if (r->idx.npacks > 0 && (out->v = malloc(r->idx.npacks *
	    sizeof(*out->v))) == NULL) {
		pthread_mutex_unlock(&r->idx.lock);
		return GFSB_ENOMEM;
	}
	for (i = 0; i < r->idx.npacks; i++)
		if (r->idx.packs[i].stored)
			memcpy(out->v[out->n++], r->idx.packs[i].id,
			    GFSB_ID_LEN);
	pthread_mutex_unlock(&r->idx.lock);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), idcmp);
	return GFSB_OK;
}

gfsb_err
repo_packids_add(struct packids *p, const uint8_t id[GFSB_ID_LEN])
{
	uint8_t (*grown)[GFSB_ID_LEN];

	/* Room for 16, then doubled each time it fills. */
	if (p->n == 0 || (p->n >= 16 && (p->n & (p->n - 1)) == 0)) {
		grown = realloc(p->v, (p->n < 16 ? 16 : 2 * p->n) *
		    sizeof(*p->v));
		if (grown == NULL)
			return GFSB_ENOMEM;
		p->v = grown;
	}
	memcpy(p->v[p->n++], id, GFSB_ID_LEN);
	return GFSB_OK;
}

void
repo_packids_sort(struct packids *p)
{
	if (p->n > 1)
		qsort(p->v, p->n, sizeof(*p->v), idcmp);
}

int
repo_index_pack_doomed(struct gfsb_repo *r, const uint8_t id[GFSB_ID_LEN])
{
	size_t i;
	int doomed = 0;

	pthread_mutex_lock(&r->idx.lock);
	for (i = 0; i < r->idx.npacks && !doomed; i++)
		doomed = r->idx.packs[i].doomed &&
		    memcmp(r->idx.packs[i].id, id, GFSB_ID_LEN) == 0;
	pthread_mutex_unlock(&r->idx.lock);
	return doomed;
}

int
repo_packids_has(const struct packids *p, const uint8_t id[GFSB_ID_LEN])
{
	return p->n > 0 && bsearch(id, p->v, p->n, sizeof(*p->v), idcmp) !=
	    NULL;
}

gfsb_err
rindex_add_pack(struct rindex *x, const uint8_t id[GFSB_ID_LEN],
    const struct hdrent *ents, size_t n, int64_t doomed_at)
{
	struct ientry ne;
	uint32_t slot;
	size_t i;
	gfsb_err e;

	pthread_mutex_lock(&x->lock);
	if ((e = rindex_pack_add_locked(x, id, &slot)) != GFSB_OK)
		goto out;
	if (doomed_at > 0) {
		x->packs[slot].doomed = 1;
		x->packs[slot].doomed_at = doomed_at;
	}
	memset(&ne, 0, sizeof(ne));
	for (i = 0; i < n; i++) {
		memcpy(ne.id, ents[i].id, GFSB_ID_LEN);
		ne.pack = slot;
		ne.offset = ents[i].offset;
		ne.length = ents[i].length;
		ne.raw_length = ents[i].raw_length;
		ne.type = ents[i].type;
		ne.flags = ents[i].flags;
		e = rindex_add_locked(x, &ne);
		/* The same blob in two packs (after a crash): lookups find the
		 * first; prune sees the second and drops it. */
		if (e == GFSB_EEXIST)
			e = rindex_append_dup_locked(x, &ne);
		if (e != GFSB_OK)
			goto out;
	}
out:
	pthread_mutex_unlock(&x->lock);
	return e;
}

gfsb_err
gfsb_repo_index_lookup(struct gfsb_repo *r, enum gfsb_blob_type type,
    const uint8_t id[GFSB_ID_LEN], struct gfsb_blob_loc *loc)
{
	struct ientry *e;
	gfsb_err err = GFSB_ENOTFOUND;

	pthread_mutex_lock(&r->idx.lock);
	e = rindex_find_locked(&r->idx, id, (uint8_t)type);
	if (e != NULL && e->pack != PACK_NONE &&
	    r->idx.packs[e->pack].stored) {
		if (loc != NULL) {
			memcpy(loc->pack, r->idx.packs[e->pack].id,
			    GFSB_ID_LEN);
			loc->offset = e->offset;
			loc->length = e->length;
			loc->raw_length = e->raw_length;
			loc->type = e->type;
			loc->flags = e->flags;
		}
		err = GFSB_OK;
	}
	pthread_mutex_unlock(&r->idx.lock);
	return err;
}

int
gfsb_repo_index_live(struct gfsb_repo *r, enum gfsb_blob_type type,
    const uint8_t id[GFSB_ID_LEN])
{
	struct ientry *e;
	int live;

	pthread_mutex_lock(&r->idx.lock);
	e = rindex_find_locked(&r->idx, id, (uint8_t)type);
	live = e != NULL && e->pack != PACK_NONE &&
	    r->idx.packs[e->pack].stored && !r->idx.packs[e->pack].doomed;
	pthread_mutex_unlock(&r->idx.lock);
	return live;
}

size_t
gfsb_repo_index_count(struct gfsb_repo *r)
{
	size_t n;

	pthread_mutex_lock(&r->idx.lock);
	n = r->idx.n;
	pthread_mutex_unlock(&r->idx.lock);
	return n;
}

/* ---- index files ---- */

static gfsb_err
put_entry(struct gfsb_buf *b, const struct hdrent *h)
{
	gfsb_err e;

	if ((e = gfsb_buf_append(b, h->id, GFSB_ID_LEN)) != GFSB_OK ||
	    (e = gfsb_buf_put_u8(b, h->type)) != GFSB_OK ||
	    (e = gfsb_buf_put_u8(b, h->flags)) != GFSB_OK ||
	    (e = gfsb_buf_put_u16(b, 0)) != GFSB_OK ||
	    (e = gfsb_buf_put_u32(b, h->offset)) != GFSB_OK ||
	    (e = gfsb_buf_put_u32(b, h->length)) != GFSB_OK)
		return e;
	return gfsb_buf_put_u32(b, h->raw_length);
}

gfsb_err
repo_index_write(struct gfsb_repo *r, const struct donepack *packs,
    size_t npacks, const uint8_t (*supersedes)[GFSB_ID_LEN], size_t nsup)
{
	char name[GFSB_ID_HEX];

	return repo_index_write_named(r, packs, npacks, NULL, 0, supersedes,
	    nsup, name);
}

/* n packs: each its id, (with at) its time, its count and entries. */
static gfsb_err
put_packs(struct gfsb_buf *b, const struct donepack *packs, size_t n,
    int with_at)
{
	size_t i, j;
	gfsb_err e;

	if ((e = gfsb_buf_put_u32(b, (uint32_t)n)) != GFSB_OK)
		return e;
	for (i = 0; i < n; i++) {
		if ((e = gfsb_buf_append(b, packs[i].id, GFSB_ID_LEN)) !=
		    GFSB_OK || (with_at && (e = gfsb_buf_put_u64(b,
		    (uint64_t)packs[i].at)) != GFSB_OK) ||
		    (e = gfsb_buf_put_u32(b, (uint32_t)packs[i].n)) != GFSB_OK)
			return e;
		for (j = 0; j < packs[i].n; j++)
			if ((e = put_entry(b, &packs[i].ents[j])) != GFSB_OK)
				return e;
	}
	return GFSB_OK;
}

gfsb_err
repo_index_write_named(struct gfsb_repo *r, const struct donepack *packs,
    size_t npacks, const struct donepack *doomed, size_t ndoomed,
    const uint8_t (*supersedes)[GFSB_ID_LEN], size_t nsup,
    char name[GFSB_ID_HEX])
{
	struct gfsb_buf b;
	size_t i;
	gfsb_err e;

	gfsb_buf_init(&b);
	/* Version 1 unless there are packs to delete: what older readers
	 * read stays readable by them. */
	if ((e = gfsb_buf_put_u8(&b, ndoomed > 0 ? INDEX_VERSION_DOOMED :
	    INDEX_VERSION)) != GFSB_OK ||
	    (e = gfsb_buf_put_u32(&b, (uint32_t)nsup)) != GFSB_OK)
		goto out;
	for (i = 0; i < nsup; i++)
		if ((e = gfsb_buf_append(&b, supersedes[i], GFSB_ID_LEN)) !=
		    GFSB_OK)
			goto out;
	if ((e = put_packs(&b, packs, npacks, 0)) != GFSB_OK ||
	    (ndoomed > 0 && (e = put_packs(&b, doomed, ndoomed, 1)) !=
	    GFSB_OK))
		goto out;
	if ((e = repo_isign_append(r, &b)) != GFSB_OK ||
	    (e = repo_obj_store(r, GFSB_OBJ_INDEX, ENV_INDEX, b.data, b.len,
	    name)) != GFSB_OK)
		goto out;
	pthread_mutex_lock(&r->pack_lock);
	r->stats.index_files++;
	pthread_mutex_unlock(&r->pack_lock);
out:
	gfsb_buf_fini(&b);
	return e;
}

/*
 * Write packs[0..n) as new index files of about ENTRIES_PER_INDEX blobs;
 * the last one names every index file loaded (r->index_names) as
 * superseded, so that from the moment it is stored the old files no
 * longer count, even before they are deleted.  *files counts the files.
 */
gfsb_err
repo_index_replace(struct gfsb_repo *r, const struct donepack *packs,
    size_t n, const struct donepack *doomed, size_t nd, uint64_t *files)
{
	uint8_t (*sup)[GFSB_ID_LEN] = NULL;
	char name[GFSB_ID_HEX];
	size_t i, k, total = 0, nsup = 0, all = n + nd, dk, dn;
	const struct donepack *p;
	gfsb_err e;

	if (r->nindex_names > 0 &&
	    (sup = malloc(r->nindex_names * sizeof(*sup))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < r->nindex_names; i++)
		if (gfsb_hex_decode(r->index_names[i], sup[nsup],
		    GFSB_ID_LEN) == GFSB_OK)
			nsup++;
	/* Packs, then packs to delete, about ENTRIES_PER_INDEX blobs a
	 * file: a file holds packs[k..min(i, n)) and doomed[dk..dk + dn). */
	for (i = k = 0; i <= all; i++) {
		p = i < n ? &packs[i] : i < all ? &doomed[i - n] : NULL;
		if (p != NULL && (total == 0 || total + p->n <=
		    ENTRIES_PER_INDEX)) {
			total += p->n;
			continue;
		}
		dk = k > n ? k - n : 0;
		dn = i > n ? i - n - dk : 0;
		/* The last file supersedes every old one. */
		if ((e = repo_index_write_named(r, packs + (k < n ? k : n),
		    (k < n ? (i < n ? i : n) - k : 0), doomed + dk, dn,
		    p == NULL ? (const uint8_t (*)[GFSB_ID_LEN])sup : NULL,
		    p == NULL ? nsup : 0, name)) != GFSB_OK)
			goto out;
		(*files)++;
		k = i;
		total = p != NULL ? p->n : 0;
	}
	e = GFSB_OK;
out:
	free(sup);
	return e;
}

/*
 * Delete the index files loaded (after repo_index_replace superseded
 * them).  One already gone is fine.  *removed counts the files deleted.
 */
gfsb_err
repo_index_remove_old(struct gfsb_repo *r, uint64_t *removed)
{
	size_t i;
	gfsb_err e;

	int64_t until;

	for (i = 0; i < r->nindex_names; i++) {
		/* A locked one stays until its date, superseded (the next
		 * replacement supersedes it again). */
		if (gfsb_repo_lock_held(r, GFSB_OBJ_INDEX, r->index_names[i],
		    &until))
			continue;
		repo_cache_remove(r, GFSB_OBJ_INDEX, r->index_names[i]);
		e = gfsb_backend_remove(r->be, GFSB_OBJ_INDEX,
		    r->index_names[i]);
		/* Refused by the storage: it stays, superseded. */
		if (e != GFSB_OK && e != GFSB_ENOTFOUND && e != GFSB_EDENIED)
			return e;
		*removed += e == GFSB_OK;
		gfsb_ctx_clearerr(r->ctx);
	}
	return GFSB_OK;
}

int
repo_ifile_is_mirror_own(const struct ifile *f)
{
	size_t i;

	for (i = 0; i < f->nsup; i++)
		if (memcmp(f->sup[i], MIRROR_OWN_MARK, GFSB_ID_LEN) == 0)
			return 1;
	return 0;
}

void
repo_ifile_fini(struct ifile *f)
{
	size_t i;

	for (i = 0; i < f->npacks; i++)
		free(f->packs[i].ents);
	for (i = 0; i < f->ndoomed; i++)
		free(f->doomed[i].ents);
	free(f->packs);
	free(f->doomed);
	free(f->sup);
	f->packs = f->doomed = NULL;
	f->sup = NULL;
	f->npacks = f->ndoomed = f->nsup = 0;
}

/* n packs (each with its time if with_at) into *out; counts checked
 * against the bytes left before anything is allocated. */
static gfsb_err
get_packs(struct gfsb_rd *rd, struct donepack **out, size_t *nout,
    int with_at)
{
	struct donepack *v;
	struct hdrent *h;
	uint32_t npacks, cnt;
	size_t i, j;
	const uint8_t *b;

	npacks = gfsb_rd_u32(rd);
	if (rd->bad || npacks > gfsb_rd_left(rd) / (GFSB_ID_LEN + 4))
		return GFSB_ECORRUPT;
	if (npacks > 0 && (*out = calloc(npacks, sizeof(**out))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0, v = *out; i < npacks; i++) {
		if ((b = gfsb_rd_bytes(rd, GFSB_ID_LEN)) == NULL)
			return GFSB_ECORRUPT;
		memcpy(v[i].id, b, GFSB_ID_LEN);
		if (with_at && ((v[i].at = (int64_t)gfsb_rd_u64(rd)) <= 0 ||
		    rd->bad))
			return GFSB_ECORRUPT;
		cnt = gfsb_rd_u32(rd);
		if (rd->bad || cnt > gfsb_rd_left(rd) / INDEX_ENTRY_LEN)
			return GFSB_ECORRUPT;
		*nout = i + 1;
		if (cnt > 0 && (v[i].ents = malloc(cnt *
		    sizeof(struct hdrent))) == NULL)
			return GFSB_ENOMEM;
		v[i].n = cnt;
		for (j = 0; j < cnt; j++) {
			h = &v[i].ents[j];
			memcpy(h->id, gfsb_rd_bytes(rd, GFSB_ID_LEN),
			    GFSB_ID_LEN);
			h->type = gfsb_rd_u8(rd);
			h->flags = gfsb_rd_u8(rd);
			(void)gfsb_rd_u16(rd);
			h->offset = gfsb_rd_u32(rd);
			h->length = gfsb_rd_u32(rd);
			h->raw_length = gfsb_rd_u32(rd);
			if (h->type > GFSB_BLOB_TREE || (h->flags &
			    ~(GFSB_BLOB_F_ZSTD | GFSB_BLOB_F_READER)) != 0 ||
			    h->length < GFSB_SEAL_OVERHEAD ||
			    h->raw_length > MAX_BLOB_RAW ||
			    (uint64_t)h->offset + h->length > UINT32_MAX)
				return GFSB_ECORRUPT;
		}
	}
	*nout = npacks;
	return rd->bad ? GFSB_ECORRUPT : GFSB_OK;
}

/*
 * Decode an index plaintext.  Every count is checked against the bytes
 * that remain before anything is allocated for it.
 */
gfsb_err
repo_ifile_decode(const uint8_t *p, size_t n, struct ifile *f)
{
	struct gfsb_rd rd;
	uint32_t nsup;
	uint8_t version;
	size_t i;
	gfsb_err e;

	gfsb_rd_init(&rd, p, n);
	version = gfsb_rd_u8(&rd);
	if (version != INDEX_VERSION && version != INDEX_VERSION_DOOMED)
		return GFSB_ECORRUPT;
	nsup = gfsb_rd_u32(&rd);
	if (rd.bad || nsup > gfsb_rd_left(&rd) / GFSB_ID_LEN)
		return GFSB_ECORRUPT;
	if (nsup > 0 && (f->sup = malloc(nsup * sizeof(*f->sup))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < nsup; i++)
		memcpy(f->sup[i], gfsb_rd_bytes(&rd, GFSB_ID_LEN),
		    GFSB_ID_LEN);
	f->nsup = nsup;
	if ((e = get_packs(&rd, &f->packs, &f->npacks, 0)) != GFSB_OK ||
	    (version == INDEX_VERSION_DOOMED && (e = get_packs(&rd,
	    &f->doomed, &f->ndoomed, 1)) != GFSB_OK))
		return e;
	/* Version 2 is written only when there are packs to delete. */
	if (rd.bad || gfsb_rd_left(&rd) != 0 ||
	    (version == INDEX_VERSION_DOOMED && f->ndoomed == 0))
		return GFSB_ECORRUPT;
	return GFSB_OK;
}

gfsb_err
repo_index_decode(const uint8_t *p, size_t n, size_t *nsup, size_t *npacks,
    size_t *nblobs, size_t *ndoomed, size_t *ndblobs)
{
	struct ifile f;
	size_t i, blobs = 0, dblobs = 0;
	gfsb_err e;

	memset(&f, 0, sizeof(f));
	if ((e = repo_ifile_decode(p, n, &f)) == GFSB_OK) {
		for (i = 0; i < f.npacks; i++)
			blobs += f.packs[i].n;
		for (i = 0; i < f.ndoomed; i++)
			dblobs += f.doomed[i].n;
		if (nsup != NULL)
			*nsup = f.nsup;
		if (npacks != NULL)
			*npacks = f.npacks;
		if (nblobs != NULL)
			*nblobs = blobs;
		if (ndoomed != NULL)
			*ndoomed = f.ndoomed;
		if (ndblobs != NULL)
			*ndblobs = dblobs;
	}
	repo_ifile_fini(&f);
	return e;
}

struct ilist {
	struct ifile *v;
	size_t n;
	size_t kept;	/* entries kept, while below the bound */
	int dropping;	/* past it: entries dropped once decoded */
};

struct packref {
	const uint8_t *id;
	struct donepack *dp;
};

static int
packrefcmp(const void *a, const void *b)
{
	const struct packref *x = a, *y = b;
	int c = memcmp(x->id, y->id, GFSB_ID_LEN);

	if (c != 0)
		return c;
	return x->dp < y->dp ? -1 : x->dp > y->dp;
}

/* Mark every repetition of a pack after its first (n = -1). */
static gfsb_err
mark_repeated_packs(struct ilist *l)
{
	struct packref *v;
	size_t n = 0, i, j;

	for (i = 0; i < l->n; i++)
		if (!l->v[i].superseded)
			n += l->v[i].npacks;
	if (n < 2)
		return GFSB_OK;
	if ((v = malloc(n * sizeof(*v))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0, n = 0; i < l->n; i++) {
		if (l->v[i].superseded)
			continue;
		for (j = 0; j < l->v[i].npacks; j++) {
			v[n].id = l->v[i].packs[j].id;
			v[n++].dp = &l->v[i].packs[j];
		}
	}
	qsort(v, n, sizeof(*v), packrefcmp);
	for (i = 1; i < n; i++)
		if (memcmp(v[i].id, v[i - 1].id, GFSB_ID_LEN) == 0)
			v[i].dp->n = (size_t)-1;
	free(v);
	return GFSB_OK;
}

/*
 * The packs to delete that the files in force list, once each, after the
 * packs they name: a pack some file names as a pack (a backup indexed
 * it again, or a prune was interrupted before its old files went) is
 * not marked.
 */
static gfsb_err
add_doomed(struct gfsb_repo *r, struct ilist *l)
{
	struct packids live;
	struct packref *v = NULL;
	size_t n = 0, i, j;
	gfsb_err e;

	for (i = 0; i < l->n; i++)
		if (!l->v[i].superseded)
			n += l->v[i].ndoomed;
	if (n == 0)
		return GFSB_OK;
	if ((e = repo_index_pack_ids(r, &live)) != GFSB_OK)
		return e;
	if ((v = malloc(n * sizeof(*v))) == NULL) {
		free(live.v);
		return GFSB_ENOMEM;
	}
	for (i = 0, n = 0; i < l->n; i++)
		for (j = 0; j < l->v[i].ndoomed && !l->v[i].superseded; j++) {
			v[n].id = l->v[i].doomed[j].id;
			v[n++].dp = &l->v[i].doomed[j];
		}
	qsort(v, n, sizeof(*v), packrefcmp);
	for (i = 0; i < n && e == GFSB_OK; i++) {
		if ((i > 0 && memcmp(v[i].id, v[i - 1].id, GFSB_ID_LEN) == 0) ||
		    repo_packids_has(&live, v[i].id))
			continue;
		e = rindex_add_pack(&r->idx, v[i].id, v[i].dp->ents,
		    v[i].dp->n, v[i].dp->at);
	}
	free(v);
	free(live.v);
	return e;
}

/* Cache sweeps: keep copies of the index files and packs in use. */
static int
keep_index(void *cookie, const char *name)
{
	struct gfsb_repo *r = cookie;
	size_t i;

	for (i = 0; i < r->nindex_names; i++)
		if (strcmp(r->index_names[i], name) == 0)
			return 1;
	return 0;
}

static int
keep_pack(void *cookie, const char *name)
{
	uint8_t id[GFSB_ID_LEN];

	return gfsb_hex_decode(name, id, sizeof(id)) == GFSB_OK &&
	    repo_packids_has(cookie, id);
}

/* The ilist's files, freed. */
static void
ilist_fini(struct ilist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		repo_ifile_fini(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
	l->kept = 0;
	l->dropping = 0;
}

/*
 * Past repo_index_keep_entries blobs (two million: 96 MB of decoded
 * entries), the files' entries are dropped once decoded and read again
 * when they are added (add_file): the index is then loaded with one
 * file's entries beside it, not every file's (48 bytes a blob: 480 MB for
 * a repository of 10 million, on top of the index's 600).  Below it,
 * nothing is read twice (reading again cost a million-blob backup 0.3 s
 * in 4).
 */
size_t repo_index_keep_entries = 2000000;

static void
drop_entries(struct ifile *f)
{
	size_t j;

	for (j = 0; j < f->npacks; j++) {
		free(f->packs[j].ents);
		f->packs[j].ents = NULL;
	}
	f->dropped = 1;
}

/* File i is decoded: keep its entries, or drop them (and, the first
 * time the bound is passed, those of the files before it). */
static void
keep_or_drop(struct ilist *l, size_t i)
{
	size_t j;

	for (j = 0; j < l->v[i].npacks && !l->dropping; j++)
		l->kept += l->v[i].packs[j].n;
	if (!l->dropping && l->kept <= repo_index_keep_entries)
		return;
	if (!l->dropping)
		for (j = 0; j < i; j++)
			drop_entries(&l->v[j]);
	l->dropping = 1;
	drop_entries(&l->v[i]);
}

/* A write-only key's file: its packs count, not what it supersedes nor
 * the packs it marks for deletion (repo_isign.c). */
static void
untrusted_marks(struct ifile *f)
{
	size_t i;

	if (f->trust != ITRUST_WRITER)
		return;
	free(f->sup);
	f->sup = NULL;
	f->nsup = 0;
	for (i = 0; i < f->ndoomed; i++)
		free(f->doomed[i].ents);
	free(f->doomed);
	f->doomed = NULL;
	f->ndoomed = 0;
}

/*
 * List the index files and read every one into l.  A file listed, then
 * gone was replaced by a prune meanwhile (backups run while it does):
 * the listing again names its replacement (a storage may go on listing
 * a deleted object for a moment: a little longer each time); a few
 * tries, then it is lost.  A damaged or lost file fails the load (bad
 * NULL) or is handed to bad and left out.
 */
static gfsb_err
read_files(struct gfsb_repo *r, struct ilist *l, void (*bad)(void *cookie,
    const char *name, gfsb_err e, const char *detail), void *cookie)
{
	struct gfsb_objlist names;
	struct gfsb_buf plain;
	char msg[512];
	size_t i, unreadable = 0;
	int vanished = 0;
	gfsb_err e;

	gfsb_buf_init(&plain);
again:
	r->index_enc = 0;
	if ((e = gfsb_backend_list_all(r->be, GFSB_OBJ_INDEX, &names)) !=
	    GFSB_OK)
		goto out;
	if (names.n > 0 && (l->v = calloc(names.n, sizeof(*l->v))) == NULL) {
		gfsb_objlist_fini(&names);
		e = GFSB_ENOMEM;
		goto out;
	}
	for (l->n = 0; l->n < names.n; l->n++)
		memcpy(l->v[l->n].name, names.v[l->n].name, GFSB_ID_HEX);
	gfsb_objlist_fini(&names);
	for (i = 0; i < l->n; i++) {
		e = repo_index_obj_load(r, l->v[i].name, &plain,
		    &l->v[i].trust);
		if (e == GFSB_OK &&
		    (e = repo_ifile_decode(plain.data, plain.len, &l->v[i])) !=
		    GFSB_OK && e != GFSB_ENOMEM)
			e = gfsb_ctx_seterr(r->ctx, e,
			    "index/%s is malformed", l->v[i].name);
		if (e == GFSB_OK) {
			r->index_enc += l->v[i].trust == ITRUST_ENC;
			untrusted_marks(&l->v[i]);
			keep_or_drop(l, i);
			continue;
		}
		if (e == GFSB_EAUTH) {
			/* Not to be trusted (repo_isign.c), or, by a
			 * write-only key, not its to read: written under
			 * enc before it existed, or by another one (it
			 * stores their blobs again if it meets them:
			 * slower, never wrong). */
			if (r->keys != NULL)
				gfsb_ctx_log(r->ctx, GFSB_LOG_WARN, "%s; "
				    "left out", gfsb_ctx_errmsg(r->ctx));
			gfsb_ctx_clearerr(r->ctx);
			repo_ifile_fini(&l->v[i]);
			l->v[i].superseded = 1;
			unreadable += r->keys == NULL;
			e = GFSB_OK;
			continue;
		}
		if (e == GFSB_ENOTFOUND && ++vanished <= 5) {
			struct timespec ts = { 0, 100000000L * vanished };

			nanosleep(&ts, NULL);
			gfsb_ctx_clearerr(r->ctx);
			ilist_fini(l);
			goto again;
		}
		/* Any other failure is the storage's, and says nothing about
		 * the file: stop with it. */
		if (!gfsb_err_is_damage(e))
			goto out;
		if (bad == NULL) {
			/* Say the way out: the packs hold what it held. */
			snprintf(msg, sizeof(msg), "%s",
			    gfsb_ctx_errmsg(r->ctx));
			gfsb_ctx_clearerr(r->ctx);
			e = gfsb_ctx_seterr(r->ctx, e, "%s (`gfsbackup repair "
			    "index` rebuilds the index from the packs)", msg);
			goto out;
		}
		bad(cookie, l->v[i].name, e, gfsb_ctx_errmsg(r->ctx));
		gfsb_ctx_clearerr(r->ctx);
		repo_ifile_fini(&l->v[i]);
		l->v[i].superseded = 1; /* nothing of it is used */
		e = GFSB_OK;
	}
	if (unreadable > 0)
		gfsb_ctx_log(r->ctx, GFSB_LOG_INFO, "%zu index files are not "
		    "this write-only key's to read: their blobs are stored "
		    "again if met", unreadable);
out:
	gfsb_buf_fini(&plain);
	return e;
}

/* Add file f's packs (those mark_repeated_packs left) to the index; its
 * entries read again if they were dropped. */
static gfsb_err
add_file(struct gfsb_repo *r, const struct ifile *f)
{
	const struct ifile *from = f;
	struct gfsb_buf plain;
	struct ifile again;
	size_t j;
	int trust;
	gfsb_err e = GFSB_OK;

	memset(&again, 0, sizeof(again));
	gfsb_buf_init(&plain);
	if (f->dropped) {
		/* The same name, so the same bytes (or none: a prune
		 * replaced it meanwhile, and the load starts over). */
		if ((e = repo_index_obj_load(r, f->name, &plain, &trust)) !=
		    GFSB_OK ||
		    (e = repo_ifile_decode(plain.data, plain.len, &again)) !=
		    GFSB_OK)
			goto out;
		gfsb_buf_fini(&plain); /* not beside the index it grows */
		if (again.npacks != f->npacks) {
			e = gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT, "index/%s "
			    "changed while it was read", f->name);
			goto out;
		}
		from = &again;
	}
	for (j = 0; j < f->npacks && e == GFSB_OK; j++)
		if (f->packs[j].n != (size_t)-1)
			e = rindex_add_pack(&r->idx, from->packs[j].id,
			    from->packs[j].ents, from->packs[j].n, 0);
out:
	repo_ifile_fini(&again);
	gfsb_buf_fini(&plain);
	return e;
}

/* In which pass load_once adds f: the trusted files, a write-only key's,
 * a mirror's own. */
static int
load_pass(const struct ifile *f)
{
	if (repo_ifile_is_mirror_own(f))
		return 2;
	return f->trust != ITRUST_WRITER ? 0 : 1;
}

/* One try at loading the index (index_load); *again: a file went. */
static gfsb_err
load_once(struct gfsb_repo *r, void (*bad)(void *cookie, const char *name,
    gfsb_err e, const char *detail), void *cookie, int *again)
{
	struct ilist l = { NULL, 0, 0, 0 };
	char hex[GFSB_ID_HEX];
	size_t i, j, k;
	int pass;
	gfsb_err e;

	if ((e = read_files(r, &l, bad, cookie)) != GFSB_OK)
		goto out;
	/* Ignore index files that a newer one replaced. */
	for (i = 0; i < l.n; i++)
		for (j = 0; j < l.v[i].nsup; j++) {
			gfsb_hex_encode(l.v[i].sup[j], GFSB_ID_LEN, hex);
			for (k = 0; k < l.n; k++)
				if (strcmp(l.v[k].name, hex) == 0)
					l.v[k].superseded = 1;
		}
	/* A pack named by two index files (a prune interrupted while it
	 * wrote its new index) is added once. */
	if ((e = mark_repeated_packs(&l)) != GFSB_OK)
		goto out;
	/* A mirror's own files last: of a blob stored twice (the source
	 * repacked it, the mirror keeps the old pack under its lock), the
	 * copy the source's index names is the one found, the one its
	 * locks follow.  Before them, a write-only key's files: of a blob
	 * named twice, the entry the full keys wrote wins. */
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < l.n; i++) {
			if (l.v[i].superseded || pass != load_pass(&l.v[i]))
				continue;
			if ((e = add_file(r, &l.v[i])) != GFSB_OK) {
				*again = e == GFSB_ENOTFOUND;
				goto out;
			}
		}
	if ((e = add_doomed(r, &l)) != GFSB_OK)
		goto out;
	/* Prune replaces all of them, superseded ones included. */
	free(r->index_names);
	r->nindex_names = 0;
	if (l.n > 0 && (r->index_names = malloc(l.n *
	    sizeof(*r->index_names))) == NULL) {
		e = GFSB_ENOMEM;
		goto out;
	}
	for (i = 0; i < l.n; i++)
		memcpy(r->index_names[r->nindex_names++], l.v[i].name,
		    GFSB_ID_HEX);
	r->index_loaded = 1;
	rindex_trim(&r->idx);
	repo_cache_sweep(r, GFSB_OBJ_INDEX, keep_index, r);
	if (r->cache != NULL) {
		struct packids ids;

		if (repo_index_pack_ids(r, &ids) == GFSB_OK)
			repo_cache_sweep(r, GFSB_OBJ_PACK, keep_pack, &ids);
		free(ids.v);
	}
out:
	ilist_fini(&l);
	return e;
}

/*
 * Load the index.  With bad NULL, a damaged index file fails the load;
 * otherwise it is handed to bad and skipped.  A file read once and gone
 * when read again (a prune replaced it meanwhile) starts the load over,
 * a few times.
 */
static gfsb_err
index_load(struct gfsb_repo *r, void (*bad)(void *cookie, const char *name,
    gfsb_err e, const char *detail), void *cookie)
{
	int again, tries = 0;
	gfsb_err e;

	if (r->index_loaded)
		return GFSB_OK;
	for (;;) {
		again = 0;
		if ((e = load_once(r, bad, cookie, &again)) == GFSB_OK ||
		    !again || ++tries > 5)
			return e;
		gfsb_ctx_clearerr(r->ctx);
		rindex_fini(&r->idx);
		if ((e = rindex_init(&r->idx)) != GFSB_OK)
			return e;
	}
}

gfsb_err
gfsb_repo_index_load(struct gfsb_repo *r)
{
	return index_load(r, NULL, NULL);
}

gfsb_err
gfsb_repo_index_reload(struct gfsb_repo *r)
{
	gfsb_err e;

	if ((e = gfsb_repo_flush(r)) != GFSB_OK)
		return e;
	if (!r->index_loaded)
		return index_load(r, NULL, NULL);
	rindex_fini(&r->idx);
	r->index_loaded = 0;
	if ((e = rindex_init(&r->idx)) != GFSB_OK)
		return e;
	return index_load(r, NULL, NULL);
}

gfsb_err
gfsb_repo_index_load_check(struct gfsb_repo *r, void (*bad)(void *cookie,
    const char *name, gfsb_err e, const char *detail), void *cookie)
{
	gfsb_err e;

	if (r->index_loaded) {
		if ((e = gfsb_repo_flush(r)) != GFSB_OK)
			return e;
		rindex_fini(&r->idx);
		r->index_loaded = 0;
		if ((e = rindex_init(&r->idx)) != GFSB_OK)
			return e;
	}
	return index_load(r, bad, cookie);
}

uint64_t
gfsb_repo_index_duplicates(struct gfsb_repo *r)
{
	uint64_t n;

	pthread_mutex_lock(&r->idx.lock);
	n = r->idx.duplicates;
	pthread_mutex_unlock(&r->idx.lock);
	return n;
}
