/*
 * Rebuilding the index from the packs.
 *
 * The index is a cache of what the packs' own sealed headers say, so it
 * can always be made again from them.  That matters when it is wrong:
 *   - an index file is damaged: every command that needs the index stops
 *     (its packs hold intact data nobody can find);
 *   - a pack is gone or damaged: the index still names its blobs, so every
 *     later backup deduplicates against them and no new snapshot stores
 *     those files again until they change.
 * Repair reads every stored pack's header (with read_data, the whole pack
 * once, every blob checked: the intact blobs of a pack with a damaged one
 * are copied into new packs, as prune copies, and the damaged pack is
 * deleted last), writes a new index naming exactly the blobs that are
 * there and open, superseding every old index file in its last file, and
 * only then deletes the old files.  A kill at any instant leaves either the old
 * index or the new one in force (a pack named by both is counted once;
 * copies not yet indexed are unindexed packs, which backup takes in and
 * prune deletes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/repo.h>

#include "repo_internal.h"

struct repair {
	struct gfsb_repo *r;
	struct gfsb_index_repair_stats *st;
};

static void
damaged_index(void *cookie, const char *name, gfsb_err e, const char *detail)
{
	struct repair *rp = cookie;

	rp->st->index_damaged++;
	if (detail != NULL && *detail != '\0')
		gfsb_ctx_log(rp->r->ctx, GFSB_LOG_WARN,
		    "%s; the packs will say what it held", detail);
	else
		gfsb_ctx_log(rp->r->ctx, GFSB_LOG_WARN, "index/%s: %s; the "
		    "packs will say what it held", name, gfsb_strerror(e));
}

/* Copy the sealed blobs ents[0..n) of a pack read into `pack` into new
 * packs, as they are (each was checked by the caller). */
static gfsb_err
copy_blobs(struct gfsb_repo *r, const struct gfsb_buf *pack,
    const struct hdrent *ents, size_t n)
{
	size_t i;
	gfsb_err e;

	for (i = 0; i < n; i++)
		if ((e = repo_pack_copy(r, &ents[i],
		    pack->data + ents[i].offset)) != GFSB_OK)
			return e;
	return GFSB_OK;
}

/* Read the whole pack p into pack. */
static gfsb_err
read_pack(struct gfsb_repo *r, const struct gfsb_objent *p,
    struct gfsb_buf *pack)
{
	gfsb_err e;

	pack->len = 0;
	if (p->size > (uint64_t)GFSB_PACK_SIZE_MAX * 2)
		return gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT, "%llu bytes, "
		    "more than any pack", (unsigned long long)p->size);
	if ((e = gfsb_buf_reserve(pack, p->size)) != GFSB_OK ||
	    (e = gfsb_backend_read(r->be, GFSB_OBJ_PACK, p->name, 0,
	    pack->data, p->size)) != GFSB_OK)
		return e;
	pack->len = p->size;
	return GFSB_OK;
}

/*
 * Of the pack p read into bufs[0], keep the entries whose blob opens
 * (authenticates, decompresses, hashes to its id); *n is updated.  If some
 * are damaged, the intact ones are copied into new packs (unless dry_run),
 * *n is set to 0 and *drop to 1: the damaged pack is not indexed and is
 * deleted once the new index is in force (left there, the next backup
 * would take it in again from its intact header).
 */
static gfsb_err
keep_good_blobs(struct gfsb_repo *r, struct gfsb_repo_io *io,
    const struct gfsb_objent *p, struct hdrent *ents, size_t *n,
    int dry_run, struct gfsb_index_repair_stats *st, struct gfsb_buf *bufs,
    uint8_t *drop)
{
	struct gfsb_blob_loc loc;
	char hex[GFSB_ID_HEX];
	size_t i, k;
	gfsb_err e;

	memcpy(loc.pack, p->id, GFSB_ID_LEN);
	for (i = k = 0; i < *n; i++) {
		loc.offset = ents[i].offset;
		loc.length = ents[i].length;
		loc.raw_length = ents[i].raw_length;
		loc.type = ents[i].type;
		loc.flags = ents[i].flags;
		e = gfsb_repo_blob_open(io, &loc, ents[i].id,
		    bufs[0].data + ents[i].offset, &bufs[1]);
		if (e == GFSB_ENOMEM)
			return e;
		if (e != GFSB_OK) {
			gfsb_hex_encode(ents[i].id, GFSB_ID_LEN, hex);
			gfsb_ctx_log(r->ctx, GFSB_LOG_WARN,
			    "pack %s: blob %.16s is damaged (%s); left out",
			    p->name, hex, gfsb_ctx_errmsg(r->ctx));
			gfsb_ctx_clearerr(r->ctx);
			st->blobs_damaged++;
			continue;
		}
		ents[k++] = ents[i];
	}
	if (k == *n)
		return GFSB_OK;
	/* The intact blobs move to new packs; this one goes unindexed. */
	if (k == 0) {
		st->packs_unreadable++;
	} else {
		st->packs_salvaged++;
		if (!dry_run && (e = copy_blobs(r, &bufs[0], ents, k)) !=
		    GFSB_OK)
			return e;
	}
	*n = 0;
	*drop = 1;
	return GFSB_OK;
}

/* What repair gathers: every stored pack's blobs worth indexing. */
struct gather {
	struct gfsb_objlist l;		/* the packs stored */
	struct packids known;		/* the packs the old index named */
	struct donepack *packs;		/* to index */
	size_t np, listed_known;
	uint8_t *drop;			/* per listed pack: delete it */
	struct gfsb_repo_io *io;	/* read_data */
	struct gfsb_buf bufs[2];	/* pack, plaintext */
};

/* One stored pack: its header (from the pack itself with read_data, whose
 * blobs are then checked) into g->packs.  A damaged or vanished pack is
 * left out, said; other failures are returned. */
static gfsb_err
gather_pack(struct gfsb_repo *r, const struct gfsb_index_repair_opts *o,
    struct gather *g, size_t i, struct gfsb_index_repair_stats *st)
{
	const struct gfsb_objent *p = &g->l.v[i];
	int was_known = repo_packids_has(&g->known, p->id);
	struct hdrent *ents;
	size_t n;
	gfsb_err e;

	g->listed_known += was_known;
	/* With read_data the header comes from the pack in memory: each
	 * pack is read once. */
	if (!o->read_data)
		e = repo_pack_read_header(r, p->name, p->size, &ents, &n);
	else if ((e = read_pack(r, p, &g->bufs[0])) == GFSB_OK)
		e = repo_pack_header_in(r, p->name, g->bufs[0].data, p->size,
		    &ents, &n);
	if (e == GFSB_ECORRUPT || e == GFSB_ENOTFOUND) {
		gfsb_ctx_log(r->ctx, GFSB_LOG_WARN, "pack %s: %s; its blobs "
		    "are left out of the index", p->name, e == GFSB_ENOTFOUND ?
		    "gone while read" : gfsb_ctx_errmsg(r->ctx));
		gfsb_ctx_clearerr(r->ctx);
		st->packs_unreadable++;
		return GFSB_OK;
	}
	if (e != GFSB_OK)
		return e;
	if (o->read_data && (e = keep_good_blobs(r, g->io, p, ents, &n,
	    o->dry_run, st, g->bufs, &g->drop[i])) != GFSB_OK) {
		free(ents);
		return e;
	}
	if (n == 0) {
		free(ents);
		return GFSB_OK;
	}
	memcpy(g->packs[g->np].id, p->id, GFSB_ID_LEN);
	g->packs[g->np].ents = ents;
	g->packs[g->np++].n = n;
	st->blobs += n;
	st->packs_adopted += !was_known;
	return GFSB_OK;
}

/* The good blobs of damaged packs, copied: written now, indexed with the
 * rest. */
static gfsb_err
gather_copies(struct gfsb_repo *r, struct gather *g,
    struct gfsb_index_repair_stats *st)
{
	struct donepack *fresh, *grown;
	size_t nfresh, i;
	gfsb_err e;

	if ((e = repo_flush_packs(r)) != GFSB_OK)
		return e;
	pthread_mutex_lock(&r->pack_lock);
	fresh = repo_take_done_locked(r, &nfresh);
	pthread_mutex_unlock(&r->pack_lock);
	if (nfresh > 0 && (grown = realloc(g->packs, (g->np + nfresh) *
	    sizeof(*g->packs))) == NULL) {
		for (i = 0; i < nfresh; i++)
			free(fresh[i].ents);
		free(fresh);
		return GFSB_ENOMEM;
	}
	if (nfresh > 0)
		g->packs = grown;
	for (i = 0; i < nfresh; i++) {
		g->packs[g->np++] = fresh[i];
		st->blobs += fresh[i].n;
	}
	free(fresh);
	st->packs_written = nfresh;
	return GFSB_OK;
}

/* The new index first: until its last file is stored, the old one rules;
 * from then on the old files no longer count.  Then the packs whose good
 * blobs were copied go, and the new index is loaded. */
static gfsb_err
repair_commit(struct gfsb_repo *r, struct gather *g,
    struct gfsb_index_repair_stats *st)
{
	size_t i;
	gfsb_err e;

	if ((e = repo_index_replace(r, g->packs, g->np, NULL, 0,
	    &st->index_files_written)) != GFSB_OK ||
	    (e = repo_index_remove_old(r, &st->index_files_removed)) !=
	    GFSB_OK)
		return e;
	for (i = 0; i < g->l.n; i++) {
		if (!g->drop[i])
			continue;
		repo_cache_remove(r, GFSB_OBJ_PACK, g->l.v[i].name);
		if ((e = gfsb_backend_remove(r->be, GFSB_OBJ_PACK,
		    g->l.v[i].name)) != GFSB_OK && e != GFSB_ENOTFOUND)
			return e;
		gfsb_ctx_clearerr(r->ctx);
		st->packs_deleted++;
	}
	return gfsb_repo_index_load(r);
}

gfsb_err
gfsb_repo_index_repair(struct gfsb_repo *r,
    const struct gfsb_index_repair_opts *o,
    struct gfsb_index_repair_stats *st)
{
	struct repair rp = { r, st };
	struct gather g;
	size_t i;
	gfsb_err e;

	memset(st, 0, sizeof(*st));
	if ((e = repo_need_full(r, "repair the index")) != GFSB_OK)
		return e;
	memset(&g, 0, sizeof(g));
	gfsb_buf_init(&g.bufs[0]);
	gfsb_buf_init(&g.bufs[1]);
	if ((e = gfsb_repo_index_load_check(r, damaged_index, &rp)) != GFSB_OK)
		return e;
	st->index_files = r->nindex_names;
	st->blobs_before = gfsb_repo_index_count(r);
	if ((e = repo_index_pack_ids(r, &g.known)) != GFSB_OK)
		goto out;
	/* The old index is not needed any more (only its file names, to
	 * supersede them): free it now rather than hold both at once. */
	rindex_fini(&r->idx);
	r->index_loaded = 0;
	if ((e = rindex_init(&r->idx)) != GFSB_OK ||
	    (e = gfsb_backend_list_all(r->be, GFSB_OBJ_PACK, &g.l)) != GFSB_OK)
		goto out;
	if (o->read_data && (e = gfsb_repo_io_new(r, &g.io)) != GFSB_OK)
		goto out;
	r->no_auto_index = 1; /* copies are indexed with the rest */
	if (g.l.n > 0 && ((g.packs = calloc(g.l.n, sizeof(*g.packs))) ==
	    NULL || (g.drop = calloc(g.l.n, 1)) == NULL)) {
		e = GFSB_ENOMEM;
		goto out;
	}
	st->packs = g.l.n;
	for (i = 0; i < g.l.n; i++)
		if ((e = gather_pack(r, o, &g, i, st)) != GFSB_OK)
			goto out;
	if (st->packs_salvaged > 0 && !o->dry_run &&
	    (e = gather_copies(r, &g, st)) != GFSB_OK)
		goto out;
	st->packs_indexed = g.np;
	st->packs_missing = g.known.n - g.listed_known;
	if (st->packs_missing > 0)
		gfsb_ctx_log(r->ctx, GFSB_LOG_WARN, "%llu pack%s the index "
		    "named %s not stored: %s blobs are left out of the index",
		    (unsigned long long)st->packs_missing,
		    st->packs_missing == 1 ? "" : "s",
		    st->packs_missing == 1 ? "is" : "are",
		    st->packs_missing == 1 ? "its" : "their");
	if (!o->dry_run)
		e = repair_commit(r, &g, st);
out:
	for (i = 0; i < g.np; i++)
		free(g.packs[i].ents);
	free(g.packs);
	free(g.drop);
	free(g.known.v);
	gfsb_objlist_fini(&g.l);
	gfsb_repo_io_free(g.io);
	gfsb_buf_fini(&g.bufs[0]);
	gfsb_buf_wipe(&g.bufs[1]);
	r->no_auto_index = 0;
	return e;
}
