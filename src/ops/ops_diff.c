/*
 * diff: what changed from one snapshot to another.  Both trees are walked
 * at once in name order (trees are sorted by name); a subtree with the
 * same id on both sides is the same and is skipped.  Each difference is
 * handed to the caller with restic's modifiers: + added, - removed,
 * M content changed, T type changed, U metadata only.  The statistics
 * (added and removed entries, and the blobs only one side uses, with
 * their stored bytes) come from each snapshot's set of blobs, so a blob
 * moved from one file to another is neither added nor removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define DIFF_MAX_DEPTH 65536

struct diff {
	struct gfsb_repo *r;
	struct gfsb_repo_io *io;
	gfsb_diff_fn *fn;
	void *cookie;
	struct gfsb_diff_result *res;
	struct ops_idset data[2], trees[2];	/* each side's blobs */
};

/* ---- each side's blobs ---- */

static gfsb_err
collect(struct diff *d, int side, const uint8_t id[GFSB_ID_LEN], int depth)
{
	struct gfsb_tree t;
	size_t i, k;
	int added;
	gfsb_err e;

	if (depth > DIFF_MAX_DEPTH)
		return GFSB_ECORRUPT;
	if ((e = ops_idset_add(&d->trees[side], id, &added)) != GFSB_OK ||
	    !added)
		return e;
	if ((e = gfsb_repo_tree_load(d->io, id, &t)) != GFSB_OK)
		return e;
	for (i = 0; i < t.n && e == GFSB_OK; i++) {
		const struct gfsb_node *n = &t.nodes[i];

		for (k = 0; k < n->nextents && e == GFSB_OK; k++)
			if (!n->extents[k].hole)
				e = ops_idset_add(&d->data[side],
				    n->extents[k].id, &added);
		if (e == GFSB_OK && n->kind == GFSB_NODE_DIR)
			e = collect(d, side, n->subtree, depth + 1);
	}
	gfsb_repo_tree_fini(&t);
	return e;
}

/* The blobs of set a that b lacks, counted into side. */
static gfsb_err
only_in(struct diff *d, const struct ops_idset *a, const struct ops_idset *b,
    enum gfsb_blob_type type, struct gfsb_diff_side *side)
{
	struct gfsb_blob_loc loc;
	size_t i;
	gfsb_err e;

	for (i = 0; i < a->cap; i++) {
		if (!a->v[i].used || ops_idset_has(b, a->v[i].id))
			continue;
		if ((e = gfsb_repo_index_lookup(d->r, type, a->v[i].id,
		    &loc)) != GFSB_OK)
			return e;
		if (type == GFSB_BLOB_DATA)
			side->data_blobs++;
		else
			side->tree_blobs++;
		side->bytes += loc.length;
	}
	return GFSB_OK;
}

/* ---- the walk ---- */

static int
same_extents(const struct gfsb_node *a, const struct gfsb_node *b)
{
	size_t i;

	if (a->nextents != b->nextents || a->size != b->size)
		return 0;
	for (i = 0; i < a->nextents; i++)
		if (a->extents[i].hole != b->extents[i].hole ||
		    a->extents[i].len != b->extents[i].len ||
		    memcmp(a->extents[i].id, b->extents[i].id,
		    GFSB_ID_LEN) != 0)
			return 0;
	return 1;
}

static int
same_meta(const struct gfsb_node *a, const struct gfsb_node *b)
{
	size_t i;

	if (a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
	    a->mtime.sec != b->mtime.sec || a->mtime.nsec != b->mtime.nsec ||
	    a->rdev != b->rdev || a->nxattrs != b->nxattrs)
		return 0;
	for (i = 0; i < a->nxattrs; i++)
		if (strcmp(a->xattrs[i].name, b->xattrs[i].name) != 0 ||
		    a->xattrs[i].len != b->xattrs[i].len ||
		    memcmp(a->xattrs[i].value, b->xattrs[i].value,
		    a->xattrs[i].len) != 0)
			return 0;
	return 1;
}

static void
count(struct gfsb_diff_side *s, const struct gfsb_node *n)
{
	if (n->kind == GFSB_NODE_FILE)
		s->files++;
	else if (n->kind == GFSB_NODE_DIR)
		s->dirs++;
	else
		s->others++;
}

static gfsb_err walk(struct diff *d, const uint8_t *a, const uint8_t *b,
    const char *prefix, int depth);

/* n, and all under it, only on one side: '+' (to) or '-' (from). */
static gfsb_err
one_side(struct diff *d, char mod, const char *path,
    const struct gfsb_node *n, int depth)
{
	gfsb_err e;

	count(mod == '+' ? &d->res->added : &d->res->removed, n);
	if ((e = d->fn(d->cookie, mod, path, mod == '-' ? n : NULL,
	    mod == '+' ? n : NULL)) != GFSB_OK || n->kind != GFSB_NODE_DIR)
		return e;
	return walk(d, mod == '-' ? n->subtree : NULL,
	    mod == '+' ? n->subtree : NULL, path, depth + 1);
}

/* The same name on both sides. */
static gfsb_err
both(struct diff *d, const char *path, const struct gfsb_node *a,
    const struct gfsb_node *b, int depth)
{
	char mod = 0;
	gfsb_err e;

	if (a->kind != b->kind) {
		/* Another kind of thing: what was under it went, what is
		 * under it came. */
		if ((e = d->fn(d->cookie, 'T', path, a, b)) != GFSB_OK)
			return e;
		d->res->changed_files++;
		return walk(d, a->kind == GFSB_NODE_DIR ? a->subtree : NULL,
		    b->kind == GFSB_NODE_DIR ? b->subtree : NULL, path,
		    depth + 1);
	}
	if ((a->kind == GFSB_NODE_FILE && !same_extents(a, b)) ||
	    (a->kind == GFSB_NODE_SYMLINK && strcmp(a->target ? a->target :
	    "", b->target ? b->target : "") != 0))
		mod = 'M';
	else if (!same_meta(a, b))
		mod = 'U';
	if (mod == 'M')
		d->res->changed_files++;
	if (mod != 0 && (e = d->fn(d->cookie, mod, path, a, b)) != GFSB_OK)
		return e;
	if (a->kind == GFSB_NODE_DIR &&
	    memcmp(a->subtree, b->subtree, GFSB_ID_LEN) != 0)
		return walk(d, a->subtree, b->subtree, path, depth + 1);
	return GFSB_OK;
}

/* The entries of trees a and b (either may be NULL: none) in name
 * order, paired by name. */
static gfsb_err
walk(struct diff *d, const uint8_t *a, const uint8_t *b, const char *prefix,
    int depth)
{
	struct gfsb_tree ta, tb;
	size_t i = 0, j = 0, plen = strlen(prefix);
	char *path = NULL;
	gfsb_err e = GFSB_OK;
	int c;

	if (depth > DIFF_MAX_DEPTH)
		return GFSB_ECORRUPT;
	gfsb_repo_tree_init(&ta);
	gfsb_repo_tree_init(&tb);
	if ((a != NULL && (e = gfsb_repo_tree_load(d->io, a, &ta)) !=
	    GFSB_OK) || (b != NULL && (e = gfsb_repo_tree_load(d->io, b,
	    &tb)) != GFSB_OK))
		goto out;
	while (e == GFSB_OK && (i < ta.n || j < tb.n)) {
		const struct gfsb_node *na = i < ta.n ? &ta.nodes[i] : NULL;
		const struct gfsb_node *nb = j < tb.n ? &tb.nodes[j] : NULL;

		c = na == NULL ? 1 : nb == NULL ? -1 :
		    strcmp(na->name, nb->name);
		free(path);
		if ((path = malloc(plen + strlen(c <= 0 ? na->name :
		    nb->name) + 2)) == NULL) {
			e = GFSB_ENOMEM;
			break;
		}
		sprintf(path, "%s/%s", strcmp(prefix, "/") == 0 ? "" : prefix,
		    c <= 0 ? na->name : nb->name);
		if (c < 0)
			e = one_side(d, '-', path, &ta.nodes[i++], depth);
		else if (c > 0)
			e = one_side(d, '+', path, &tb.nodes[j++], depth);
		else
			e = both(d, path, &ta.nodes[i++], &tb.nodes[j++],
			    depth);
	}
out:
	free(path);
	gfsb_repo_tree_fini(&ta);
	gfsb_repo_tree_fini(&tb);
	return e;
}

/* Both snapshots' blobs, and what only one side uses. */
static gfsb_err
blob_stats(struct diff *d, const struct gfsb_snapshot *a,
    const struct gfsb_snapshot *b)
{
	struct gfsb_diff_result *res = d->res;
	gfsb_err e;

	if ((e = collect(d, 0, a->tree, 0)) != GFSB_OK ||
	    (e = collect(d, 1, b->tree, 0)) != GFSB_OK ||
	    (e = only_in(d, &d->data[1], &d->data[0], GFSB_BLOB_DATA,
	    &res->added)) != GFSB_OK ||
	    (e = only_in(d, &d->trees[1], &d->trees[0], GFSB_BLOB_TREE,
	    &res->added)) != GFSB_OK ||
	    (e = only_in(d, &d->data[0], &d->data[1], GFSB_BLOB_DATA,
	    &res->removed)) != GFSB_OK)
		return e;
	return only_in(d, &d->trees[0], &d->trees[1], GFSB_BLOB_TREE,
	    &res->removed);
}

gfsb_err
gfsb_ops_diff(struct gfsb_repo *r, const char *from, const char *to,
    gfsb_diff_fn *fn, void *cookie, struct gfsb_diff_result *res)
{
	struct gfsb_snapshot *a = NULL, *b = NULL;
	struct diff d;
	int i;
	gfsb_err e;

	memset(res, 0, sizeof(*res));
	memset(&d, 0, sizeof(d));
	d.r = r;
	d.fn = fn;
	d.cookie = cookie;
	d.res = res;
	if ((e = gfsb_repo_snapshot_find(r, from, NULL, &a)) != GFSB_OK ||
	    (e = gfsb_repo_snapshot_find(r, to, NULL, &b)) != GFSB_OK ||
	    (e = gfsb_repo_index_load(r)) != GFSB_OK ||
	    (e = gfsb_repo_io_new(r, &d.io)) != GFSB_OK)
		goto out;
	snprintf(res->from, sizeof(res->from), "%s", a->id);
	snprintf(res->to, sizeof(res->to), "%s", b->id);
	if (memcmp(a->tree, b->tree, GFSB_ID_LEN) != 0 &&
	    (e = walk(&d, a->tree, b->tree, "/", 0)) != GFSB_OK)
		goto out;
	e = blob_stats(&d, a, b);
out:
	for (i = 0; i < 2; i++) {
		ops_idset_fini(&d.data[i]);
		ops_idset_fini(&d.trees[i]);
	}
	gfsb_repo_io_free(d.io);
	gfsb_repo_snapshot_free(a);
	gfsb_repo_snapshot_free(b);
	return e;
}
