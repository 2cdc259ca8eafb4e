/*
 * Finding paths inside snapshots.
 */
#include <limits.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

unsigned
ops_ncpus(unsigned cap)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (n > (long)cap ? cap : (unsigned)n);
}

void
ops_run_workers(void *(*fn)(void *), void *arg, unsigned threads,
    size_t jobs)
{
	pthread_t th[OPS_WORKERS_MAX];
	unsigned started, t;

	if (threads == 0)
		threads = 4;
	if (threads > OPS_WORKERS_MAX)
		threads = OPS_WORKERS_MAX;
	for (started = 0; started < threads && started < jobs; started++)
		if (pthread_create(&th[started], NULL, fn, arg) != 0)
			break;
	/* No thread at all: the caller's does the work. */
	if (started == 0)
		fn(arg);
	for (t = 0; t < started; t++)
		pthread_join(th[t], NULL);
}

gfsb_err
ops_xattrs_copy(const struct gfsb_xattr *src, size_t n, struct gfsb_node *dst)
{
	struct gfsb_xattr *x;
	size_t i;

	if (n == 0)
		return GFSB_OK;
	if ((dst->xattrs = calloc(n, sizeof(*dst->xattrs))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < n; i++) {
		x = &dst->xattrs[i];
		dst->nxattrs = i + 1; /* so the node's fini frees what is set */
		x->len = src[i].len;
		if ((x->name = strdup(src[i].name)) == NULL ||
		    (x->value = malloc(x->len ? x->len : 1)) == NULL)
			return GFSB_ENOMEM;
		memcpy(x->value, src[i].value, x->len);
	}
	return GFSB_OK;
}

gfsb_err
ops_extents_copy(const struct gfsb_extent *src, size_t n,
    struct gfsb_node *dst)
{
	if (n == 0)
		return GFSB_OK;
	if ((dst->extents = malloc(n * sizeof(*dst->extents))) == NULL)
		return GFSB_ENOMEM;
	memcpy(dst->extents, src, n * sizeof(*dst->extents));
	dst->nextents = n;
	return GFSB_OK;
}

gfsb_err
ops_node_copy(const struct gfsb_node *src, struct gfsb_node *dst)
{
	*dst = *src;
	dst->name = NULL;
	dst->user = dst->group = dst->target = NULL;
	dst->xattrs = NULL;
	dst->extents = NULL;
	dst->nxattrs = dst->nextents = 0;
	if ((src->name && (dst->name = strdup(src->name)) == NULL) ||
	    (src->user && (dst->user = strdup(src->user)) == NULL) ||
	    (src->group && (dst->group = strdup(src->group)) == NULL) ||
	    (src->target && (dst->target = strdup(src->target)) == NULL) ||
	    ops_extents_copy(src->extents, src->nextents, dst) != GFSB_OK ||
	    ops_xattrs_copy(src->xattrs, src->nxattrs, dst) != GFSB_OK) {
		gfsb_repo_node_fini(dst);
		return GFSB_ENOMEM;
	}
	return GFSB_OK;
}

gfsb_err
ops_find_path(struct gfsb_repo_io *io, const uint8_t root[GFSB_ID_LEN],
    const char *path, struct gfsb_node *node, int *is_root)
{
	char buf[PATH_MAX], *comp, *save = NULL;
	uint8_t cur[GFSB_ID_LEN];
	const struct gfsb_node *n = NULL;
	struct gfsb_tree t;
	gfsb_err e;

	*is_root = 0;
	memset(node, 0, sizeof(*node));
	if (gfsb_ops_path_clean(path, buf, sizeof(buf)) != GFSB_OK)
		return GFSB_EINVAL;
	if (strcmp(buf, "/") == 0) {
		*is_root = 1;
		node->kind = GFSB_NODE_DIR;
		node->mode = S_IFDIR | 0755;
		memcpy(node->subtree, root, GFSB_ID_LEN);
		return GFSB_OK;
	}
	memcpy(cur, root, GFSB_ID_LEN);
	gfsb_repo_tree_init(&t);
	for (comp = strtok_r(buf, "/", &save); comp != NULL;
	    comp = strtok_r(NULL, "/", &save)) {
		if (n != NULL && n->kind != GFSB_NODE_DIR) {
			e = GFSB_ENOTFOUND;
			goto out;
		}
		gfsb_repo_tree_fini(&t);
		if ((e = gfsb_repo_tree_load(io, cur, &t)) != GFSB_OK)
			goto out;
		if ((n = gfsb_repo_tree_find(&t, comp)) == NULL) {
			e = GFSB_ENOTFOUND;
			goto out;
		}
		if (n->kind == GFSB_NODE_DIR)
			memcpy(cur, n->subtree, GFSB_ID_LEN);
	}
	e = ops_node_copy(n, node);
out:
	gfsb_repo_tree_fini(&t);
	return e;
}

/* ---- hard links ---- */

static size_t
link_hash(uint64_t dev, uint64_t ino)
{
	uint64_t h = ino * 0x9E3779B97F4A7C15ULL ^ dev;

	return (size_t)(h ^ (h >> 29));
}

void
ops_linkmap_fini(struct linkmap *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}

void *
ops_linkmap_find(const struct linkmap *m, uint64_t dev, uint64_t ino)
{
	size_t j;

	if (m->cap == 0)
		return NULL;
	for (j = link_hash(dev, ino) & (m->cap - 1); m->v[j].val != NULL;
	    j = (j + 1) & (m->cap - 1))
		if (m->v[j].dev == dev && m->v[j].ino == ino)
			return m->v[j].val;
	return NULL;
}

gfsb_err
ops_linkmap_add(struct linkmap *m, uint64_t dev, uint64_t ino, void *val)
{
	struct linkslot *old = m->v, *v;
	size_t oldcap = m->cap, i, j;

	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? 2 * m->cap : 64;

		if ((v = calloc(ncap, sizeof(*v))) == NULL)
			return GFSB_ENOMEM;
		m->v = v;
		m->cap = ncap;
		m->n = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].val != NULL)
				(void)ops_linkmap_add(m, old[i].dev,
				    old[i].ino, old[i].val);
		free(old);
	}
	for (j = link_hash(dev, ino) & (m->cap - 1); m->v[j].val != NULL;
	    j = (j + 1) & (m->cap - 1))
		;
	m->v[j].dev = dev;
	m->v[j].ino = ino;
	m->v[j].val = val;
	m->n++;
	return GFSB_OK;
}

gfsb_err
ops_snapshots_pick(struct gfsb_repo *r, const char *const *names,
    size_t nnames, const char *host, struct gfsb_snapshot ***out, size_t *n)
{
	struct gfsb_snapshot **v;
	size_t i, k = 0;
	gfsb_err e = GFSB_OK;

	*out = NULL;
	*n = 0;
	if (nnames == 0) {
		if ((e = gfsb_repo_snapshot_list(r, &v, n)) != GFSB_OK)
			return e;
		for (i = 0; i < *n; i++) {
			if (host != NULL &&
			    strcmp(v[i]->hostname, host) != 0)
				gfsb_repo_snapshot_free(v[i]);
			else
				v[k++] = v[i];
		}
		*n = k;
		*out = v;
		return GFSB_OK;
	}
	if ((v = calloc(nnames, sizeof(*v))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < nnames && e == GFSB_OK; i++)
		e = gfsb_repo_snapshot_find(r, names[i], host, &v[i]);
	if (e != GFSB_OK) {
		gfsb_repo_snapshot_list_free(v, nnames);
		return e;
	}
	*out = v;
	*n = nnames;
	return GFSB_OK;
}
