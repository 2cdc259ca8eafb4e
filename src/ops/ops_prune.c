/*
 * prune: find what the remaining snapshots use, then let the repository
 * drop the rest (gfsb_repo_compact).
 *
 * The walk is iterative (a work list of tree ids), so a very deep snapshot
 * cannot exhaust the stack, and each tree is read once however many
 * snapshots share it: marking a tree that is already marked says so.  A
 * blob a snapshot needs but no index names means the repository is damaged:
 * prune stops before deleting anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

/* How much older than the moment no lock was seen a leftover must be:
 * the clocks of the hosts sharing a repository and of the storage differ
 * by some seconds. */
#define LEFTOVER_MARGIN 30

struct work {
	uint8_t id[GFSB_ID_LEN];
	const char *snap; /* which snapshot led here, for messages */
};

struct worklist {
	struct work *v;
	size_t n, cap;
};

static gfsb_err
push(struct worklist *w, const uint8_t id[GFSB_ID_LEN], const char *snap)
{
	struct work *grown;

	if (w->n == w->cap) {
		size_t ncap = w->cap ? 2 * w->cap : 256;

		if ((grown = realloc(w->v, ncap * sizeof(*grown))) == NULL)
			return GFSB_ENOMEM;
		w->v = grown;
		w->cap = ncap;
	}
	memcpy(w->v[w->n].id, id, GFSB_ID_LEN);
	w->v[w->n++].snap = snap;
	return GFSB_OK;
}

static gfsb_err
missing(struct gfsb_repo *r, const char *snap, const char *what,
    const uint8_t id[GFSB_ID_LEN])
{
	char hex[GFSB_ID_HEX];

	gfsb_hex_encode(id, GFSB_ID_LEN, hex);
	return gfsb_ctx_seterr(gfsb_repo_ctx(r), GFSB_ECORRUPT,
	    "snapshot %.8s needs %s blob %.16s, which no index names: the "
	    "repository is damaged; prune refused, nothing deleted", snap,
	    what, hex);
}

/* Mark everything reachable from the snapshots' root trees.  lenient:
 * a blob the index does not know is passed over (the second phase's
 * look at snapshots saved meanwhile: their new packs are not ours to
 * delete, and trees no index file names yet cannot be walked). */
static gfsb_err
mark_all(struct gfsb_repo *r, struct gfsb_snapshot **snaps, size_t n,
    size_t *trees, int lenient)
{
	struct worklist w = { NULL, 0, 0 };
	struct gfsb_repo_io *io = NULL;
	struct gfsb_tree t;
	struct work cur;
	size_t i, j, k;
	gfsb_err e;

	gfsb_repo_tree_init(&t);
	if ((e = gfsb_repo_io_new(r, &io)) != GFSB_OK)
		return e;
	for (i = 0; i < n && e == GFSB_OK; i++)
		e = push(&w, snaps[i]->tree, snaps[i]->id);
	while (e == GFSB_OK && w.n > 0) {
		cur = w.v[--w.n];
		e = gfsb_repo_index_mark(r, GFSB_BLOB_TREE, cur.id);
		if (e == GFSB_EEXIST) {
			e = GFSB_OK;
			continue;
		}
		if (e == GFSB_ENOTFOUND && lenient) {
			e = GFSB_OK;
			continue;
		}
		if (e == GFSB_ENOTFOUND) {
			e = missing(r, cur.snap, "tree", cur.id);
			break;
		}
		if (e != GFSB_OK ||
		    (e = gfsb_repo_tree_load(io, cur.id, &t)) != GFSB_OK)
			break;
		(*trees)++;
		for (j = 0; j < t.n && e == GFSB_OK; j++) {
			const struct gfsb_node *nd = &t.nodes[j];

			if (nd->kind == GFSB_NODE_DIR) {
				e = push(&w, nd->subtree, cur.snap);
				continue;
			}
			for (k = 0; k < nd->nextents && e == GFSB_OK; k++) {
				if (nd->extents[k].hole)
					continue;
				e = gfsb_repo_index_mark(r, GFSB_BLOB_DATA,
				    nd->extents[k].id);
				if (e == GFSB_EEXIST ||
				    (e == GFSB_ENOTFOUND && lenient))
					e = GFSB_OK;
				else if (e == GFSB_ENOTFOUND)
					e = missing(r, cur.snap, "data",
					    nd->extents[k].id);
			}
		}
		gfsb_repo_tree_fini(&t);
	}
	gfsb_repo_tree_fini(&t);
	gfsb_repo_io_free(io);
	free(w.v);
	return e;
}

/* The snapshots the first phase walked. */
struct walked {
	struct gfsb_snapshot **snaps;
	size_t n;
	size_t *trees;
};

/* Before the second phase: mark what the snapshots saved since use. */
static gfsb_err
recheck(void *cookie, struct gfsb_repo *r)
{
	struct walked *w = cookie;
	struct gfsb_snapshot **now = NULL, **fresh = NULL;
	size_t n = 0, nf = 0, i, j;
	gfsb_err e;

	if ((e = gfsb_repo_snapshot_list(r, &now, &n)) != GFSB_OK)
		return e;
	if (n > 0 && (fresh = malloc(n * sizeof(*fresh))) == NULL) {
		e = GFSB_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < w->n; j++)
			if (strcmp(now[i]->id, w->snaps[j]->id) == 0)
				break;
		if (j == w->n)
			fresh[nf++] = now[i];
	}
	e = mark_all(r, fresh, nf, w->trees, 1);
out:
	free(fresh);
	gfsb_repo_snapshot_list_free(now, n);
	return e;
}

/*
 * Temporary files and unfinished uploads look like another process's work
 * in progress.  Looked for only when no other process holds a lock, once
 * more right now (a backup may have begun since the prune looked), and
 * only those older than this moment, less a margin: a process that takes
 * its first lock after this look writes its lock, then its packs and
 * index files, all newer.  (Before, a backup that began while the prune
 * ran had its index file's temporary file removed under it, and failed:
 * tests/e2e/49-dir-fleet.sh, one run in four.)
 */
static gfsb_err
cleanup(struct gfsb_repo *r, uint64_t *removed)
{
	int64_t oldest;
	gfsb_err e;

	*removed = 0;
	if ((e = gfsb_repo_lock_oldest_other(r, &oldest)) != GFSB_OK)
		return e;
	if (oldest != INT64_MAX)
		return GFSB_OK;
	return gfsb_backend_cleanup(gfsb_repo_backend(r),
	    gfsb_backend_clock(gfsb_repo_backend(r)) - LEFTOVER_MARGIN,
	    removed);
}

gfsb_err
gfsb_ops_prune(struct gfsb_repo *r, const struct gfsb_prune_opts *o,
    struct gfsb_prune_result *res)
{
	struct walked w;
	struct gfsb_snapshot **snaps = NULL;
	struct gfsb_compact_opts co;
	struct gfsb_lock *lock = NULL;
	double t0 = gfsb_monotonic_seconds();
	size_t n = 0;
	gfsb_err e;

	memset(res, 0, sizeof(*res));
	if ((e = gfsb_repo_need_full(r, "prune")) != GFSB_OK)
		return e;
	/* A dry run changes nothing: it needs no lock.  A prune lock
	 * leaves backups free to run meanwhile: what they may use is only
	 * marked for deletion, and deleted once they have finished. */
	if (!o->locked && !o->dry_run &&
	    (e = gfsb_repo_lock(r, GFSB_REPO_LOCK_PRUNE, &lock)) != GFSB_OK)
		return e;
	/* The snapshots first, then every index file stored now: a
	 * snapshot is saved only after the index files naming its blobs,
	 * so a backup ending meanwhile cannot leave one of them unknown.
	 * (An index loaded earlier in this process, by tonight's backup in
	 * the daily job, misses the files written since.) */
	if ((e = gfsb_repo_snapshot_list(r, &snaps, &n)) != GFSB_OK ||
	    (e = gfsb_repo_index_reload(r)) != GFSB_OK)
		goto out;
	res->snapshots = n;
	if ((e = mark_all(r, snaps, n, &res->trees, 0)) != GFSB_OK)
		goto out;
	memset(&co, 0, sizeof(co));
	co.max_unused = o->max_unused;
	co.dry_run = o->dry_run;
	co.grace = o->grace;
	w.snaps = snaps;
	w.n = n;
	w.trees = &res->trees;
	co.recheck = recheck;
	co.cookie = &w;
	co.marked = o->marked;
	co.marked_cookie = o->marked_cookie;
	e = gfsb_repo_compact(r, &co, &res->st);
	if (e == GFSB_OK && !o->dry_run && !res->st.others_locked)
		e = cleanup(r, &res->leftovers);
out:
	gfsb_repo_snapshot_list_free(snaps, n);
	gfsb_repo_unlock(lock);
	res->seconds = gfsb_monotonic_seconds() - t0;
	return e;
}
