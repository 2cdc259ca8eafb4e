/*
 * verify, phase 4: when anything is damaged, a second walk maps the
 * damaged blobs to the snapshots and files they break (a tree is looked
 * into only if something below it is damaged, remembered per tree).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include <gfsbackup/ops.h>

#include "ops_internal.h"

#include "ops_verify.h"

gfsb_err
vf_broken_add(struct gfsb_verify_result *res, const struct gfsb_verify_opts *o,
    const char *snap, const char *path, const char *why)
{
	struct gfsb_verify_broken *nv;
	size_t max = o->max_files ? o->max_files : 1000, i;
	char (*bs)[GFSB_ID_HEX];

	for (i = 0; i < res->nbroken_snapshots; i++)
		if (strcmp(res->broken_snapshots[i], snap) == 0)
			break;
	if (i == res->nbroken_snapshots) {
		if ((bs = realloc(res->broken_snapshots, (i + 1) *
		    sizeof(*bs))) == NULL)
			return GFSB_ENOMEM;
		res->broken_snapshots = bs;
		snprintf(bs[res->nbroken_snapshots++], GFSB_ID_HEX, "%s", snap);
	}
	res->broken_total++;
	if (res->nbroken >= max)
		return GFSB_OK;
	if ((nv = realloc(res->broken, (res->nbroken + 1) * sizeof(*nv))) ==
	    NULL)
		return GFSB_ENOMEM;
	res->broken = nv;
	nv += res->nbroken;
	memset(nv, 0, sizeof(*nv));
	snprintf(nv->snapshot, sizeof(nv->snapshot), "%s", snap);
	if ((nv->path = strdup(path)) == NULL ||
	    (nv->why = strdup(why)) == NULL) {
		free(nv->path);
		return GFSB_ENOMEM;
	}
	res->nbroken++;
	return GFSB_OK;
}

/* The first damaged blob of a file, or NULL. */
static const struct idslot *
file_damage(const struct verify *v, const struct gfsb_node *nd)
{
	const struct idslot *s;
	size_t k;

	for (k = 0; k < nd->nextents; k++)
		if (!nd->extents[k].hole &&
		    (s = vf_idset_find(&v->bad, nd->extents[k].id)) != NULL)
			return s;
	return NULL;
}

/*
 * Is anything under tree id damaged?  Memoized per tree, so each tree is
 * read at most once however many snapshots share it.  Recursion depth is
 * the directory depth.
 */
static gfsb_err
tree_damaged(struct verify *v, const uint8_t *id, int *out)
{
	struct gfsb_tree t;
	struct idslot *m;
	size_t j;
	int d = 0, sub;
	gfsb_err e;

	if (vf_idset_find(&v->bad, id) != NULL) {
		*out = 1;
		return GFSB_OK;
	}
	if ((m = vf_idset_find(&v->memo, id)) != NULL && m->state != 0) {
		*out = m->state == 2;
		return GFSB_OK;
	}
	gfsb_repo_tree_init(&t);
	if ((e = gfsb_repo_tree_load(v->io, id, &t)) != GFSB_OK) {
		if (!gfsb_err_is_damage(e))
			return e;
		gfsb_ctx_clearerr(v->ctx);
		*out = 1;
		return vf_mark_bad(v, id, GFSB_BLOB_TREE, "tree does not open");
	}
	for (j = 0; j < t.n && !d; j++) {
		if (t.nodes[j].kind == GFSB_NODE_DIR) {
			if ((e = tree_damaged(v, t.nodes[j].subtree, &sub)) !=
			    GFSB_OK)
				goto out;
			d = sub;
		} else if (file_damage(v, &t.nodes[j]) != NULL) {
			d = 1;
		}
	}
	if ((e = vf_idset_add(&v->memo, id, &m)) != GFSB_OK)
		goto out;
	m->state = d ? 2 : 1;
	*out = d;
out:
	gfsb_repo_tree_fini(&t);
	return e;
}

/* List the broken files below tree id (known to be damaged). */
static gfsb_err
list_broken(struct verify *v, const char *snap, const uint8_t *id,
    const char *dir)
{
	const struct idslot *s;
	struct gfsb_tree t;
	char *path = NULL, why[160];
	size_t j;
	int d;
	gfsb_err e = GFSB_OK;

	if ((s = vf_idset_find(&v->bad, id)) != NULL) {
		snprintf(why, sizeof(why), "directory lost: %s", s->why);
		return vf_broken_add(v->res, v->o, snap, dir, why);
	}
	gfsb_repo_tree_init(&t);
	if ((e = gfsb_repo_tree_load(v->io, id, &t)) != GFSB_OK)
		return e;
	for (j = 0; j < t.n && e == GFSB_OK; j++) {
		free(path);
		if (asprintf(&path, "%s%s%s", dir, strcmp(dir, "/") == 0 ?
		    "" : "/", t.nodes[j].name) < 0) {
			path = NULL;
			e = GFSB_ENOMEM;
			break;
		}
		if (t.nodes[j].kind == GFSB_NODE_DIR) {
			if ((e = tree_damaged(v, t.nodes[j].subtree, &d)) ==
			    GFSB_OK && d)
				e = list_broken(v, snap, t.nodes[j].subtree,
				    path);
		} else if ((s = file_damage(v, &t.nodes[j])) != NULL) {
			e = vf_broken_add(v->res, v->o, snap, path, s->why);
		}
	}
	free(path);
	gfsb_repo_tree_fini(&t);
	return e;
}

gfsb_err
vf_map_damage(struct verify *v)
{
	size_t i;
	int d;
	gfsb_err e;

	if (v->bad.n == 0)
		return GFSB_OK;
	for (i = 0; i < v->nsnaps; i++) {
		if ((e = tree_damaged(v, v->snaps[i]->tree, &d)) != GFSB_OK)
			return e;
		if (d && (e = list_broken(v, v->snaps[i]->id,
		    v->snaps[i]->tree, "/")) != GFSB_OK)
			return e;
	}
	return GFSB_OK;
}

