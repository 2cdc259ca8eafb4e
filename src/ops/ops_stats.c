/*
 * stats: what snapshots hold and what they cost.  Each snapshot's trees
 * are walked for what a restore would write (files, directories, other
 * entries, bytes); the blobs they use are counted once however many
 * files, snapshots and trees share them (their plaintext and stored
 * bytes, and the packs holding them), so the ratio of the two is the
 * deduplication, and plaintext over stored the compression.  The whole
 * repository's packs are counted from the index.
 */
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define STATS_MAX_DEPTH 65536

struct stats {
	struct gfsb_repo *r;
	struct gfsb_repo_io *io;
	struct gfsb_stats *st;
	struct ops_idset data, trees, packs;
};

/* A blob used: counted the first time it is met. */
static gfsb_err
blob(struct stats *s, enum gfsb_blob_type type, const uint8_t *id)
{
	struct gfsb_blob_loc loc;
	int added;
	gfsb_err e;

	if ((e = ops_idset_add(type == GFSB_BLOB_DATA ? &s->data : &s->trees,
	    id, &added)) != GFSB_OK || !added)
		return e;
	if ((e = gfsb_repo_index_lookup(s->r, type, id, &loc)) != GFSB_OK)
		return e;
	if (type == GFSB_BLOB_DATA) {
		s->st->data_blobs++;
		s->st->data_raw += loc.raw_length;
		s->st->data_stored += loc.length;
	} else {
		s->st->tree_blobs++;
		s->st->tree_stored += loc.length;
	}
	if ((e = ops_idset_add(&s->packs, loc.pack, &added)) == GFSB_OK &&
	    added)
		s->st->packs++;
	return e;
}

static gfsb_err
walk(struct stats *s, const uint8_t id[GFSB_ID_LEN], int depth)
{
	struct gfsb_tree t;
	size_t i, k;
	gfsb_err e;

	if (depth > STATS_MAX_DEPTH)
		return GFSB_ECORRUPT;
	if ((e = blob(s, GFSB_BLOB_TREE, id)) != GFSB_OK ||
	    (e = gfsb_repo_tree_load(s->io, id, &t)) != GFSB_OK)
		return e;
	for (i = 0; i < t.n && e == GFSB_OK; i++) {
		const struct gfsb_node *n = &t.nodes[i];

		if (n->kind == GFSB_NODE_FILE) {
			s->st->files++;
			s->st->restore_bytes += n->size;
		} else if (n->kind == GFSB_NODE_DIR) {
			s->st->dirs++;
		} else {
			s->st->others++;
		}
		for (k = 0; k < n->nextents && e == GFSB_OK; k++)
			if (!n->extents[k].hole)
				e = blob(s, GFSB_BLOB_DATA, n->extents[k].id);
		if (e == GFSB_OK && n->kind == GFSB_NODE_DIR)
			e = walk(s, n->subtree, depth + 1);
	}
	gfsb_repo_tree_fini(&t);
	return e;
}

/* The repository's packs, used or not. */
static gfsb_err
repo_packs(struct stats *s)
{
	struct gfsb_pack_blobs *v;
	size_t n, i, blobs, bytes;
	gfsb_err e;

	if ((e = gfsb_repo_index_packs(s->r, &v, &n)) != GFSB_OK)
		return e;
	s->st->repo_packs = n;
	for (i = 0; i < n; i++) {
		s->st->repo_pack_bytes += v[i].size;
		s->st->repo_blobs += v[i].n;
	}
	gfsb_repo_index_packs_free(v, n);
	gfsb_repo_index_memory(s->r, &blobs, &bytes);
	s->st->index_blobs = blobs;
	s->st->index_bytes = bytes;
	return GFSB_OK;
}

gfsb_err
gfsb_ops_stats(struct gfsb_repo *r, const char *const *snapshots, size_t n,
    struct gfsb_stats *st)
{
	struct gfsb_snapshot **v = NULL;
	size_t nv = 0, i;
	struct stats s;
	gfsb_err e;

	memset(st, 0, sizeof(*st));
	memset(&s, 0, sizeof(s));
	s.r = r;
	s.st = st;
	if ((e = ops_snapshots_pick(r, snapshots, n, NULL, &v, &nv)) !=
	    GFSB_OK || (e = gfsb_repo_index_load(r)) != GFSB_OK ||
	    (e = gfsb_repo_io_new(r, &s.io)) != GFSB_OK)
		goto out;
	for (i = 0; i < nv && e == GFSB_OK; i++) {
		st->snapshots++;
		e = walk(&s, v[i]->tree, 0);
	}
	if (e == GFSB_OK)
		e = repo_packs(&s);
out:
	gfsb_repo_snapshot_list_free(v, nv);
	ops_idset_fini(&s.data);
	ops_idset_fini(&s.trees);
	ops_idset_fini(&s.packs);
	gfsb_repo_io_free(s.io);
	return e;
}
