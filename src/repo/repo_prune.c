/*
 * Compaction: reclaim the space of blobs no snapshot uses.
 *
 * The caller marks every blob the remaining snapshots use
 * (gfsb_repo_index_mark).  Then each pack is: kept (all or nearly all of it
 * used), deleted (nothing used), or repacked (more than max_unused of it
 * unused: its used blobs are copied into new packs).  Sealed blobs are
 * copied as they are: their associated data does not depend on the pack,
 * so nothing is decrypted except to check it first.
 *
 * Order, so that a kill -9 at any instant loses nothing:
 *   1. new packs (copies) are written;
 *   2. the new index is written: every file but the last plain, the last
 *      one naming all the old index files as superseded;
 *   3. the old index files are deleted;
 *   4. the packs no longer needed are deleted.
 * Until 2 completes the old index rules and the new packs are merely
 * unindexed; after it, the old packs are unindexed.  Unindexed packs are
 * what the next compaction deletes first, so it finishes the job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/repo.h>

#include "repo_internal.h"

gfsb_err
gfsb_repo_index_mark(struct gfsb_repo *r, enum gfsb_blob_type type,
    const uint8_t id[GFSB_ID_LEN])
{
	struct ientry *e;
	gfsb_err err;

	pthread_mutex_lock(&r->idx.lock);
	e = rindex_find_locked(&r->idx, id, (uint8_t)type);
	if (e == NULL || e->pack == PACK_NONE ||
	    !r->idx.packs[e->pack].stored) {
		err = GFSB_ENOTFOUND;
	} else if (e->mark) {
		err = GFSB_EEXIST;
	} else {
		e->mark = 1;
		err = GFSB_OK;
	}
	pthread_mutex_unlock(&r->idx.lock);
	return err;
}

/* What compaction knows of each pack slot. */
struct pinfo {
	uint64_t bytes, used_bytes; /* sealed bytes of its blobs */
	uint32_t blobs, used;
	uint64_t size;		    /* in the backend */
	int present;
	int doomed;		    /* marked for deletion by an earlier prune */
	int64_t at;		    /* when marked (by this one: now) */
	enum {
		P_KEEP,		/* in the new index (a marked pack: again) */
		P_DELETE,	/* nothing used: marked, deleted when safe */
		P_REPACK,	/* used blobs copied; then as P_DELETE */
		P_DOOM,		/* marked before, still unused: as P_DELETE */
		P_DROP		/* marked before and gone: forgotten */
	} fate;
};

/* What the second phase reads of the first. */
struct reap_in {
	size_t np;			/* pack slots before the copies */
	const struct gfsb_objlist *bl;	/* packs stored */
	const char *indexed;		/* bl[i] named by the index */
	const uint32_t *order;		/* entries by pack (group_by_pack) */
	const size_t *start;
	int64_t now;
};

/* A marked pack may go once the grace has passed and no other process
 * that may have begun before then, by any clock within the margin,
 * still holds a lock: whatever such a process read of the old index,
 * it has finished using. */
#define CLOCK_MARGIN 3600

static int
deletable(const struct gfsb_compact_opts *o, int64_t at, int64_t now,
    int64_t oldest)
{
	int64_t after = at + (o->grace > 0 ? o->grace : 0);

	return now >= after && (oldest == INT64_MAX ||
	    oldest >= after + CLOCK_MARGIN);
}

/* Delete a pack nothing needs.  Gone already: fine.  Refused by the
 * storage (a lock this repository did not know of, a policy that allows
 * no deletes): it stays, counted as waiting, and the compaction goes on
 * (everything that named it is gone already). */
static gfsb_err
remove_pack(struct gfsb_repo *r, const char *name,
    struct gfsb_compact_stats *st)
{
	gfsb_err e = gfsb_backend_remove(r->be, GFSB_OBJ_PACK, name);

	if (e == GFSB_ENOTFOUND || e == GFSB_EDENIED) {
		if (e == GFSB_EDENIED)
			st->waiting++;
		gfsb_ctx_clearerr(r->ctx);
		return GFSB_OK;
	}
	return e;
}

/* Is a locked repository's object still held by its date?  Counted. */
static int
held(struct gfsb_repo *r, enum gfsb_obj type, const char *name,
    struct gfsb_compact_stats *st)
{
	int64_t until;

	if (!gfsb_repo_lock_held(r, type, name, &until))
		return 0;
	st->waiting++;
	if (until > st->waiting_until)
		st->waiting_until = until;
	return 1;
}

/* Copy the used blobs of pack `slot` into new packs, checking each. */
static gfsb_err
repack(struct gfsb_repo *r, struct gfsb_repo_io *io, uint32_t slot,
    const uint32_t *ents, size_t n, uint64_t *copied)
{
	struct gfsb_buf pack, plain;
	struct gfsb_blob_loc loc;
	const struct ientry *e;
	struct hdrent h;
	char name[GFSB_ID_HEX];
	size_t i;
	gfsb_err err;

	gfsb_buf_init(&pack);
	gfsb_buf_init(&plain);
	gfsb_hex_encode(r->idx.packs[slot].id, GFSB_ID_LEN, name);
	if ((err = repo_obj_get(r, GFSB_OBJ_PACK, name, (size_t)1 << 31,
	    &pack)) != GFSB_OK)
		goto out;
	for (i = 0; i < n; i++) {
		e = &r->idx.e[ents[i]];
		if (!e->mark || e->dup)
			continue;
		if ((uint64_t)e->offset + e->length > pack.len) {
			err = gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT,
			    "pack %s is shorter than its index says", name);
			goto out;
		}
		memcpy(loc.pack, r->idx.packs[slot].id, GFSB_ID_LEN);
		loc.offset = e->offset;
		loc.length = e->length;
		loc.raw_length = e->raw_length;
		loc.type = e->type;
		loc.flags = e->flags;
		/* Never carry damage forward: check before copying. */
		if ((err = gfsb_repo_blob_open(io, &loc, e->id,
		    pack.data + e->offset, &plain)) != GFSB_OK)
			goto out;
		memset(&h, 0, sizeof(h));
		memcpy(h.id, e->id, GFSB_ID_LEN);
		h.type = e->type;
		h.flags = e->flags;
		h.length = e->length;
		h.raw_length = e->raw_length;
		if ((err = repo_pack_copy(r, &h, pack.data + e->offset)) !=
		    GFSB_OK)
			goto out;
		*copied += e->length;
	}
out:
	gfsb_buf_fini(&pack);
	gfsb_buf_wipe(&plain);
	return err;
}

/* Pack s's entries (order[start[s] .. start[s + 1]]) into ents. */
static size_t
pack_entries(struct gfsb_repo *r, size_t s, const uint32_t *order,
    const size_t *start, struct hdrent *ents)
{
	const struct ientry *e;
	size_t k, n = 0;

	for (k = start[s]; k < start[s + 1]; k++) {
		e = &r->idx.e[order[k]];
		memcpy(ents[n].id, e->id, GFSB_ID_LEN);
		ents[n].offset = e->offset;
		ents[n].length = e->length;
		ents[n].raw_length = e->raw_length;
		ents[n].type = e->type;
		ents[n].flags = e->flags;
		n++;
	}
	return n;
}

/*
 * Write the new index: kept packs and the new ones; then the packs to
 * delete (each with when it was marked, and its blobs, so that a
 * snapshot found to need one brings it back); the last file supersedes
 * every index file that was there.  Packs stored that no index named
 * (unnamed[i] == 0) are marked too, with no blobs.
 */
static gfsb_err
write_new_index(struct gfsb_repo *r, const struct pinfo *pi, size_t np,
    const uint32_t *order, const size_t *start, struct donepack *fresh,
    size_t nfresh, const struct gfsb_objlist *bl, const char *indexed,
    int64_t now, uint64_t *files)
{
	struct donepack *batch = NULL, *doomed = NULL;
	struct hdrent *ents = NULL;
	size_t nb = 0, nd = 0, ne = 0, s, i, cap;
	gfsb_err err = GFSB_ENOMEM;

	cap = r->idx.npacks + nfresh;
	if ((batch = calloc(cap ? cap : 1, sizeof(*batch))) == NULL ||
	    (doomed = calloc(np + bl->n + 1, sizeof(*doomed))) == NULL)
		goto out;
	if ((ents = malloc((r->idx.n ? r->idx.n : 1) * sizeof(*ents))) ==
	    NULL)
		goto out;
	/* Kept packs, with every entry (duplicates included).  The copies
	 * added pack slots after the first np: those are in `fresh`. */
	for (s = 0; s < np; s++) {
		struct donepack *d;

		if (!r->idx.packs[s].stored || pi[s].fate == P_DROP ||
		    (pi[s].fate != P_KEEP && !pi[s].present))
			continue;
		d = pi[s].fate == P_KEEP ? &batch[nb++] : &doomed[nd++];
		memcpy(d->id, r->idx.packs[s].id, GFSB_ID_LEN);
		d->at = pi[s].fate == P_KEEP ? 0 : pi[s].at;
		d->ents = ents + ne;
		d->n = pack_entries(r, s, order, start, ents + ne);
		ne += d->n;
		if (d->n == 0 && pi[s].fate == P_KEEP)
			nb--;
	}
	for (i = 0; i < nfresh; i++)
		batch[nb++] = fresh[i];
	for (i = 0; i < bl->n; i++)
		if (!indexed[i]) {
			memcpy(doomed[nd].id, bl->v[i].id, GFSB_ID_LEN);
			doomed[nd++].at = now;
		}
	err = repo_index_replace(r, batch, nb, doomed, nd, files);
out:
	free(batch);
	free(doomed);
	free(ents);
	return err;
}

/* The index's entries grouped by pack (a counting sort: pack s's are
 * order[start[s] .. start[s + 1]]), and what each pack holds and uses. */
static gfsb_err
group_by_pack(struct gfsb_repo *r, struct pinfo *pi, size_t *start,
    uint32_t *order, struct gfsb_compact_stats *st)
{
	size_t i, s, np = r->idx.npacks, *fill;
	const struct ientry *e;

	for (i = 0; i < r->idx.n; i++) {
		e = &r->idx.e[i];
		if (e->pack == PACK_NONE)
			continue;
		start[e->pack + 1]++;
		pi[e->pack].blobs++;
		pi[e->pack].bytes += e->length;
		if (e->mark && !e->dup) {
			pi[e->pack].used++;
			pi[e->pack].used_bytes += e->length;
		}
		/* A marked pack's blobs were counted when it was marked. */
		if (pi[e->pack].doomed)
			continue;
		st->blobs++;
		if (!e->mark || e->dup) {
			st->blobs_unused++;
			st->unused_bytes += e->length;
		}
	}
	for (s = 0; s < np; s++)
		start[s + 1] += start[s];
	if ((fill = calloc(np + 1, sizeof(*fill))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < r->idx.n; i++) {
		e = &r->idx.e[i];
		if (e->pack != PACK_NONE)
			order[start[e->pack] + fill[e->pack]++] = (uint32_t)i;
	}
	free(fill);
	return GFSB_OK;
}

/* A pack marked by an earlier prune: brought back if a snapshot uses it
 * now (a backup that began before the mark found its blobs), kept
 * marked otherwise, forgotten once gone. */
static gfsb_err
decide_doomed(struct gfsb_repo *r, struct pinfo *p, const char *name,
    struct gfsb_compact_stats *st)
{
	if (!p->present && p->used > 0)
		return gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT, "pack %s, "
		    "deleted by a prune, holds %u blobs that snapshots use: "
		    "prune refused, nothing deleted", name, p->used);
	if (!p->present) {
		p->fate = P_DROP;
	} else if (p->used > 0) {
		p->fate = P_KEEP;
		st->packs_recovered++;
		st->packs++;
		st->pack_bytes += p->size;
		st->unused_bytes_after += p->bytes - p->used_bytes;
	} else {
		p->fate = P_DOOM;
	}
	return GFSB_OK;
}

/* Each pack's fate: marked for deletion when nothing uses it, repacked
 * when more of it is unused than o allows (then marked), else kept; a
 * pack its Object Lock holds is not repacked. */
static gfsb_err
decide(struct gfsb_repo *r, const struct gfsb_compact_opts *o,
    struct pinfo *pi, struct gfsb_compact_stats *st, int64_t now)
{
	char name[GFSB_ID_HEX];
	size_t s, np = r->idx.npacks;
	gfsb_err e;

	for (s = 0; s < np; s++) {
		if (!r->idx.packs[s].stored)
			continue;
		gfsb_hex_encode(r->idx.packs[s].id, GFSB_ID_LEN, name);
		if (pi[s].doomed) {
			if ((e = decide_doomed(r, &pi[s], name, st)) != GFSB_OK)
				return e;
			continue;
		}
		if (!pi[s].present && pi[s].used > 0)
			return gfsb_ctx_seterr(r->ctx, GFSB_ECORRUPT,
			    "pack %s is missing but holds %u blobs that "
			    "snapshots use: prune refused, nothing deleted",
			    name, pi[s].used);
		st->packs++;
		st->pack_bytes += pi[s].size;
		pi[s].at = now;
		if (pi[s].used == 0)
			pi[s].fate = P_DELETE;
		else if ((double)(pi[s].bytes - pi[s].used_bytes) >
		    o->max_unused * (double)pi[s].bytes)
			pi[s].fate = P_REPACK;
		else
			pi[s].fate = P_KEEP;
		/* A locked pack stays until its date: copying what it holds
		 * would only store it twice. */
		if (pi[s].fate == P_REPACK && pi[s].present &&
		    held(r, GFSB_OBJ_PACK, name, st))
			pi[s].fate = P_KEEP;
		if (pi[s].fate == P_REPACK) {
			st->packs_repacked++;
			st->bytes_repacked += pi[s].used_bytes;
		} else if (pi[s].fate == P_KEEP) {
			st->unused_bytes_after += pi[s].bytes -
			    pi[s].used_bytes;
		}
	}
	return GFSB_OK;
}

/* Delete one marked pack if it may go now; else count it as waiting.
 * *gone: deleted (or would be, in a dry run). */
static gfsb_err
reap_one(struct gfsb_repo *r, const struct gfsb_compact_opts *o,
    const char *name, uint64_t size, int64_t at, int64_t now, int64_t oldest,
    struct gfsb_compact_stats *st, int *gone)
{
	gfsb_err e;

	*gone = 0;
	if (held(r, GFSB_OBJ_PACK, name, st))
		return GFSB_OK;
	if (!deletable(o, at, now, oldest)) {
		st->packs_deferred++;
		st->bytes_deferred += size;
		return GFSB_OK;
	}
	if (!o->dry_run) {
		repo_cache_remove(r, GFSB_OBJ_PACK, name);
		if ((e = remove_pack(r, name, st)) != GFSB_OK)
			return e;
	}
	st->bytes_freed += size;
	*gone = 1;
	return GFSB_OK;
}

/* What happened since the first phase, which the second must not undo. */
struct since {
	struct packids named;	/* packs index files written since name */
	int checked;		/* the look was taken */
};

/*
 * Index files written since ours were loaded (by backups that ran
 * meanwhile): the packs they name stay, and their blobs join the index so
 * that the snapshots saved since can be walked (o->recheck marks what
 * they use).  Locks first, then this: a backup whose lock is gone wrote
 * its index and its snapshot before it let go.
 */
static gfsb_err
look_since(struct gfsb_repo *r, const struct gfsb_compact_opts *o,
    struct since *sn)
{
	struct gfsb_objlist names = { NULL, 0, 0 };
	struct gfsb_index_file f;
	struct hdrent *ents = NULL;
	size_t i, j, k, cap = 0;
	gfsb_err e;

	if ((e = gfsb_backend_list_all(r->be, GFSB_OBJ_INDEX, &names)) !=
	    GFSB_OK)
		return e;
	for (i = 0; i < names.n && e == GFSB_OK; i++) {
		for (j = 0; j < r->nindex_names; j++)
			if (strcmp(r->index_names[j], names.v[i].name) == 0)
				break;
		if (j < r->nindex_names)
			continue;
		if ((e = gfsb_repo_index_file_read(r, names.v[i].name, &f)) !=
		    GFSB_OK)
			break;
		for (j = 0; j < f.npacks && e == GFSB_OK; j++) {
			const struct gfsb_pack_blobs *pb = &f.packs[j];

			if (pb->n > cap) {
				free(ents);
				cap = pb->n;
				ents = malloc(cap * sizeof(*ents));
				if (ents == NULL) {
					e = GFSB_ENOMEM;
					break;
				}
			}
			for (k = 0; k < pb->n; k++) {
				memcpy(ents[k].id, pb->ids[k], GFSB_ID_LEN);
				ents[k].offset = pb->locs[k].offset;
				ents[k].length = pb->locs[k].length;
				ents[k].raw_length = pb->locs[k].raw_length;
				ents[k].type = pb->locs[k].type;
				ents[k].flags = pb->locs[k].flags;
			}
			e = repo_packids_add(&sn->named, pb->id);
			if (e == GFSB_OK)
				e = rindex_add_pack(&r->idx, pb->id, ents,
				    pb->n, 0);
		}
		gfsb_repo_index_file_fini(&f);
	}
	free(ents);
	gfsb_objlist_fini(&names);
	if (e == GFSB_OK && sn->named.n > 1)
		repo_packids_sort(&sn->named);
	if (e == GFSB_OK && o->recheck != NULL)
		e = o->recheck(o->cookie, r);
	sn->checked = e == GFSB_OK;
	return e;
}

/* Has pack s gained a use since it was marked (more of its blobs marked
 * than when decided)? */
static int
used_since(struct gfsb_repo *r, const struct pinfo *p, const uint32_t *order,
    const size_t *start, size_t s)
{
	const struct ientry *e;
	uint32_t used = 0;
	size_t k;

	for (k = start[s]; k < start[s + 1]; k++) {
		e = &r->idx.e[order[k]];
		used += e->mark && !e->dup;
	}
	return used > p->used;
}

/*
 * The second phase: delete the marked packs (those marked now and
 * before, and the packs no index names) whose grace has passed and that
 * no process's lock taken before then may still need (deletable), unless
 * what happened since the first phase (look_since) needs them; the
 * others wait for a later prune.  A dry run only counts.
 */
static gfsb_err
reap(struct gfsb_repo *r, const struct gfsb_compact_opts *o,
    const struct pinfo *pi, const struct reap_in *in,
    struct gfsb_compact_stats *st)
{
	struct since sn;
	char name[GFSB_ID_HEX];
	int64_t oldest;
	size_t i, s;
	int gone, any = 0;
	gfsb_err e;

	memset(&sn, 0, sizeof(sn));
	if ((e = gfsb_repo_lock_oldest_other(r, &oldest)) != GFSB_OK)
		return e;
	st->others_locked = oldest != INT64_MAX;
	for (s = 0; s < in->np; s++)
		any |= r->idx.packs[s].stored && pi[s].present &&
		    pi[s].fate != P_KEEP && pi[s].fate != P_DROP &&
		    deletable(o, pi[s].at, in->now, oldest);
	for (i = 0; i < in->bl->n; i++)
		any |= !in->indexed[i] && deletable(o, in->now, in->now,
		    oldest);
	if (any && !o->dry_run && (e = look_since(r, o, &sn)) != GFSB_OK)
		goto out;
	/* (The copies took slots after the first np: they are kept.) */
	for (s = 0; s < in->np; s++) {
		if (!r->idx.packs[s].stored || !pi[s].present ||
		    pi[s].fate == P_KEEP || pi[s].fate == P_DROP)
			continue;
		gfsb_hex_encode(r->idx.packs[s].id, GFSB_ID_LEN, name);
		if (sn.checked && (repo_packids_has(&sn.named,
		    r->idx.packs[s].id) || used_since(r, &pi[s], in->order,
		    in->start, s))) {
			st->packs_used_since++;
			continue;
		}
		if ((e = reap_one(r, o, name, pi[s].size, pi[s].at, in->now,
		    oldest, st, &gone)) != GFSB_OK)
			goto out;
		if (gone && pi[s].fate != P_REPACK)
			st->packs_deleted++;
	}
	for (i = 0; i < in->bl->n; i++) {
		if (in->indexed[i])
			continue;
		if (sn.checked && repo_packids_has(&sn.named,
		    in->bl->v[i].id)) {
			st->packs_used_since++;
			continue;
		}
		if ((e = reap_one(r, o, in->bl->v[i].name, in->bl->v[i].size,
		    in->now, in->now, oldest, st, &gone)) != GFSB_OK)
			goto out;
		st->unindexed_deleted += gone;
	}
out:
	free(sn.named.v);
	return e;
}

/* Copy the used blobs of the packs to repack into new packs (*fresh,
 * not yet indexed); *written: the bytes they take. */
static gfsb_err
copy_used(struct gfsb_repo *r, const struct pinfo *pi,
    const struct reap_in *in, struct gfsb_compact_stats *st,
    struct donepack **fresh, size_t *nfresh, uint64_t *written)
{
	struct gfsb_repo_io *io = NULL;
	uint64_t before;
	size_t s;
	gfsb_err err;

	pthread_mutex_lock(&r->pack_lock);
	before = r->stats.pack_bytes;
	pthread_mutex_unlock(&r->pack_lock);
	if ((err = gfsb_repo_io_new(r, &io)) != GFSB_OK)
		return err;
	for (s = 0; s < in->np && err == GFSB_OK; s++)
		if (r->idx.packs[s].stored && pi[s].fate == P_REPACK)
			err = repack(r, io, (uint32_t)s, in->order +
			    in->start[s], in->start[s + 1] - in->start[s],
			    &st->bytes_copied);
	gfsb_repo_io_free(io);
	if (err != GFSB_OK || (err = repo_flush_packs(r)) != GFSB_OK)
		return err;
	pthread_mutex_lock(&r->pack_lock);
	*fresh = repo_take_done_locked(r, nfresh);
	st->packs_written = *nfresh;
	*written = r->stats.pack_bytes - before;
	pthread_mutex_unlock(&r->pack_lock);
	return GFSB_OK;
}

gfsb_err
gfsb_repo_compact(struct gfsb_repo *r, const struct gfsb_compact_opts *o,
    struct gfsb_compact_stats *st)
{
	struct gfsb_objlist bl = { NULL, 0, 0 };
	struct pinfo *pi = NULL;
	const struct gfsb_objent *bp;
	char *indexed = NULL;
	uint32_t *order = NULL;
	size_t *start = NULL, i, s, np, nfresh = 0;
	struct donepack *fresh = NULL;
	char name[GFSB_ID_HEX];
	uint64_t written = 0;
	struct gfsb_time tnow;
	struct reap_in in;
	int64_t now;
	gfsb_err err;

	memset(st, 0, sizeof(*st));
	gfsb_time_now(&tnow);
	now = o->now > 0 ? o->now : tnow.sec;
	if (!r->index_loaded)
		return gfsb_ctx_seterr(r->ctx, GFSB_EINVAL,
		    "compaction needs the index loaded and marked");
	if ((err = gfsb_backend_list_all(r->be, GFSB_OBJ_PACK, &bl)) != GFSB_OK)
		goto out;
	np = r->idx.npacks;
	err = GFSB_ENOMEM;
	if ((indexed = calloc(bl.n + 1, 1)) == NULL ||
	    (pi = calloc(np + 1, sizeof(*pi))) == NULL ||
	    (start = calloc(np + 2, sizeof(*start))) == NULL ||
	    (order = malloc((r->idx.n ? r->idx.n : 1) * sizeof(*order))) ==
	    NULL)
		goto out;
	for (s = 0; s < np; s++) {
		if (!r->idx.packs[s].stored)
			continue;
		pi[s].doomed = r->idx.packs[s].doomed;
		pi[s].at = r->idx.packs[s].doomed_at;
		gfsb_hex_encode(r->idx.packs[s].id, GFSB_ID_LEN, name);
		bp = gfsb_objlist_find(&bl, name);
		if (bp != NULL) {
			indexed[bp - bl.v] = 1;
			pi[s].present = 1;
			pi[s].size = bp->size;
		}
	}
	if ((err = group_by_pack(r, pi, start, order, st)) != GFSB_OK ||
	    (err = decide(r, o, pi, st, now)) != GFSB_OK)
		goto out;
	in.np = np;
	in.bl = &bl;
	in.indexed = indexed;
	in.order = order;
	in.start = start;
	in.now = now;
	if (o->dry_run) {
		/* What the second phase would delete now; the copies take
		 * about what they took before. */
		if ((err = reap(r, o, pi, &in, st)) != GFSB_OK)
			goto out;
		written = st->bytes_repacked;
		goto done;
	}

	/* 1. Copies. */
	r->no_auto_index = 1;
	if ((err = copy_used(r, pi, &in, st, &fresh, &nfresh, &written)) !=
	    GFSB_OK)
		goto out;

	/* 2. The new index, superseding every old file: what goes is
	 * marked for deletion (the first phase). */
	if ((err = write_new_index(r, pi, np, order, start, fresh, nfresh,
	    &bl, indexed, now, &st->index_files_written)) != GFSB_OK)
		goto out;
	/* 3. Old index files. */
	if ((err = repo_index_remove_old(r, &st->index_files_removed)) !=
	    GFSB_OK)
		goto out;
	if (o->marked != NULL)
		o->marked(o->marked_cookie);
	/* 4. The marked packs that may go (the second phase). */
	if ((err = reap(r, o, pi, &in, st)) != GFSB_OK)
		goto out;
	gfsb_ctx_clearerr(r->ctx);
	/* The in-memory index described the old packs: read the new one. */
	rindex_fini(&r->idx);
	if ((err = rindex_init(&r->idx)) == GFSB_OK) {
		r->index_loaded = 0;
		err = gfsb_repo_index_load(r);
	}
done:
	st->bytes_freed = st->bytes_freed > written ? st->bytes_freed -
	    written : 0;
out:
	r->no_auto_index = 0;
	for (i = 0; i < nfresh; i++)
		free(fresh[i].ents);
	free(fresh);
	free(pi);
	free(start);
	free(order);
	free(indexed);
	gfsb_objlist_fini(&bl);
	return err;
}
