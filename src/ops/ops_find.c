/*
 * find: which snapshots hold a path matching some pattern (the exclude
 * patterns' syntax, gfsb_ops_patterns_new).  Each snapshot's trees are
 * walked, a directory only when some pattern could match below it; a
 * subtree already searched at the same path in an earlier snapshot with
 * nothing found (the common case: most of the tree unchanged from night
 * to night) is not read again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/crypto.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define FIND_MAX_DEPTH 65536

struct find {
	struct gfsb_repo_io *io;
	struct gfsb_patterns *pats;
	const struct gfsb_snapshot *snap;
	gfsb_find_fn *fn;
	void *cookie;
	struct gfsb_find_result *res;
	struct ops_idset barren;	/* (tree, path) with no match below */
};

/* The key of tree id at path. */
static void
key_of(const uint8_t id[GFSB_ID_LEN], const char *path, uint8_t *key)
{
	size_t n = strlen(path);
	uint8_t *buf = malloc(GFSB_ID_LEN + n);

	if (buf == NULL) {	/* a key no tree has: searched again */
		memset(key, 0, GFSB_ID_LEN);
		return;
	}
	memcpy(buf, id, GFSB_ID_LEN);
	memcpy(buf + GFSB_ID_LEN, path, n);
	gfsb_crypto_sha256(buf, GFSB_ID_LEN + n, key);
	free(buf);
}

/* Search tree id, at path; *found: matches below. */
static gfsb_err
search(struct find *f, const uint8_t id[GFSB_ID_LEN], const char *path,
    int depth, uint64_t *found)
{
	uint8_t key[GFSB_ID_LEN];
	struct gfsb_tree t;
	uint64_t below = 0;
	char *p = NULL;
	size_t i, plen = strlen(path);
	int added;
	gfsb_err e;

	if (depth > FIND_MAX_DEPTH)
		return GFSB_ECORRUPT;
	key_of(id, path, key);
	if (ops_idset_has(&f->barren, key)) {
		f->res->trees_skipped++;
		return GFSB_OK;
	}
	if ((e = gfsb_repo_tree_load(f->io, id, &t)) != GFSB_OK)
		return e;
	f->res->trees_read++;
	for (i = 0; i < t.n && e == GFSB_OK; i++) {
		const struct gfsb_node *n = &t.nodes[i];

		free(p);
		if ((p = malloc(plen + strlen(n->name) + 2)) == NULL) {
			e = GFSB_ENOMEM;
			break;
		}
		sprintf(p, "%s/%s", strcmp(path, "/") == 0 ? "" : path,
		    n->name);
		if (gfsb_ops_patterns_match(f->pats, p)) {
			below++;
			f->res->matches++;
			e = f->fn(f->cookie, f->snap, p, n);
		}
		if (e == GFSB_OK && n->kind == GFSB_NODE_DIR &&
		    gfsb_ops_patterns_may_match_below(f->pats, p))
			e = search(f, n->subtree, p, depth + 1, &below);
	}
	free(p);
	gfsb_repo_tree_fini(&t);
	if (e == GFSB_OK && below == 0)
		e = ops_idset_add(&f->barren, key, &added);
	*found += below;
	return e;
}

gfsb_err
gfsb_ops_find(struct gfsb_repo *r, const struct gfsb_find_opts *o,
    gfsb_find_fn *fn, void *cookie, struct gfsb_find_result *res)
{
	struct gfsb_snapshot **v = NULL;
	size_t n = 0, i;
	uint64_t found;
	struct find f;
	gfsb_err e;

	memset(res, 0, sizeof(*res));
	memset(&f, 0, sizeof(f));
	f.fn = fn;
	f.cookie = cookie;
	f.res = res;
	if (o->npatterns == 0)
		return gfsb_ctx_seterr(gfsb_repo_ctx(r), GFSB_EINVAL,
		    "nothing to find: give a pattern");
	if ((e = gfsb_ops_patterns_new(o->patterns, o->npatterns,
	    &f.pats)) != GFSB_OK) {
		gfsb_ctx_seterr(gfsb_repo_ctx(r), e, "invalid pattern");
		return e;
	}
	if ((e = ops_snapshots_pick(r, o->snapshots, o->nsnapshots, o->host,
	    &v, &n)) != GFSB_OK ||
	    (e = gfsb_repo_index_load(r)) != GFSB_OK ||
	    (e = gfsb_repo_io_new(r, &f.io)) != GFSB_OK)
		goto out;
	for (i = 0; i < n && e == GFSB_OK; i++) {
		f.snap = v[i];
		found = 0;
		res->snapshots++;
		if (gfsb_ops_patterns_may_match_below(f.pats, "/"))
			e = search(&f, v[i]->tree, "/", 0, &found);
		res->snapshots_matched += found > 0;
	}
out:
	gfsb_repo_snapshot_list_free(v, n);
	gfsb_repo_io_free(f.io);
	gfsb_ops_patterns_free(f.pats);
	ops_idset_fini(&f.barren);
	return e;
}
