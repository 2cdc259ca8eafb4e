/*
 * ls: walk a snapshot's trees depth first, in name order.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define LS_MAX_DEPTH 65536

static gfsb_err
ls_tree(struct gfsb_repo_io *io, const uint8_t id[GFSB_ID_LEN],
    const char *prefix, gfsb_ls_fn *fn, void *cookie, int depth)
{
	struct gfsb_tree t;
	char *path;
	size_t i, plen = strlen(prefix);
	gfsb_err e;

	if (depth > LS_MAX_DEPTH)
		return GFSB_ECORRUPT;
	if ((e = gfsb_repo_tree_load(io, id, &t)) != GFSB_OK)
		return e;
	for (i = 0; i < t.n && e == GFSB_OK; i++) {
		const struct gfsb_node *n = &t.nodes[i];

		if ((path = malloc(plen + strlen(n->name) + 2)) == NULL) {
			e = GFSB_ENOMEM;
			break;
		}
		sprintf(path, "%s/%s", strcmp(prefix, "/") == 0 ? "" : prefix,
		    n->name);
		e = fn(cookie, path, n);
		if (e == GFSB_OK && n->kind == GFSB_NODE_DIR)
			e = ls_tree(io, n->subtree, path, fn, cookie,
			    depth + 1);
		free(path);
	}
	gfsb_repo_tree_fini(&t);
	return e;
}

gfsb_err
gfsb_ops_ls(struct gfsb_repo *r, const char *snapshot, const char *host,
    const char *path, gfsb_ls_fn *fn, void *cookie, struct gfsb_snapshot **out)
{
	struct gfsb_snapshot *s = NULL;
	struct gfsb_repo_io *io = NULL;
	struct gfsb_node node;
	char clean[PATH_MAX];
	int is_root;
	gfsb_err e;

	memset(&node, 0, sizeof(node));
	if (path == NULL)
		path = "/";
	if (gfsb_ops_path_clean(path, clean, sizeof(clean)) != GFSB_OK)
		return gfsb_ctx_seterr(gfsb_repo_ctx(r), GFSB_EINVAL,
		    "invalid path %s", path);
	if ((e = gfsb_repo_snapshot_find(r, snapshot, host, &s)) != GFSB_OK)
		return e;
	if ((e = gfsb_repo_index_load(r)) != GFSB_OK ||
	    (e = gfsb_repo_io_new(r, &io)) != GFSB_OK)
		goto out;
	if ((e = ops_find_path(io, s->tree, clean, &node, &is_root)) !=
	    GFSB_OK) {
		if (e == GFSB_ENOTFOUND)
			gfsb_ctx_seterr(gfsb_repo_ctx(r), e,
			    "%s: not in snapshot %.8s", clean, s->id);
		goto out;
	}
	if (!is_root && (e = fn(cookie, clean, &node)) != GFSB_OK)
		goto out;
	if (node.kind == GFSB_NODE_DIR)
		e = ls_tree(io, node.subtree, clean, fn, cookie, 0);
out:
	gfsb_repo_node_fini(&node);
	gfsb_repo_io_free(io);
	if (e == GFSB_OK && out != NULL)
		*out = s;
	else
		gfsb_repo_snapshot_free(s);
	return e;
}
