/*
 * Backup's snapshot: the parent it compares with (the newest of this
 * host with the same paths, or the one named), the parent's root tree,
 * and the record the backup writes last (who, when, what, the summary).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

static int
same_paths(const struct gfsb_snapshot *s, char *const *paths, size_t n)
{
	size_t i, j;

	if (s->npaths != n)
		return 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(s->paths[j], paths[i]) == 0)
				break;
		if (j == n)
			return 0;
	}
	return 1;
}

/*
 * The parent: the newest snapshot of this host with the same paths.  A
 * write-only key reads no snapshot in the repository: it looks among its
 * own, in its cache on this machine (none there: it reads every file;
 * what is stored already, the index says, is not stored again).
 */
gfsb_err
bk_find_parent(struct bk *b, const char *host, char *const *paths, size_t n,
    struct gfsb_snapshot **out)
{
	struct gfsb_snapshot **list = NULL;
	size_t cnt = 0, i;
	gfsb_err e;

	*out = NULL;
	if (b->o->parent != NULL && !gfsb_repo_write_only(b->r))
		return gfsb_repo_snapshot_find(b->r, b->o->parent, NULL, out);
	if ((e = gfsb_repo_write_only(b->r) ? gfsb_repo_writer_snapshots(b->r,
	    &list, &cnt) : gfsb_repo_snapshot_list(b->r, &list, &cnt)) !=
	    GFSB_OK)
		return e;
	for (i = cnt; i-- > 0;) {
		if (strcmp(list[i]->hostname, host) == 0 &&
		    same_paths(list[i], paths, n)) {
			*out = list[i];
			list[i] = NULL;
			break;
		}
	}
	gfsb_repo_snapshot_list_free(list, cnt);
	return GFSB_OK;
}

static gfsb_err
strv_dup(const char *const *v, size_t n, char ***out)
{
	char **c;
	size_t i;

	*out = NULL;
	if (n == 0)
		return GFSB_OK;
	if ((c = calloc(n, sizeof(*c))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < n; i++)
		if ((c[i] = strdup(v[i])) == NULL) {
			while (i > 0)
				free(c[--i]);
			free(c);
			return GFSB_ENOMEM;
		}
	*out = c;
	return GFSB_OK;
}

/* The parent snapshot's root tree, when it can be read: a damaged one
 * means reading every file (said); an outage stops the backup. */
gfsb_err
bk_parent_tree(struct bk *b, const struct gfsb_snapshot *parent,
    struct gfsb_tree *root, int *have)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(b->r);
	gfsb_err e;

	*have = 0;
	if (parent == NULL || b->o->force)
		return GFSB_OK;
	if ((e = gfsb_repo_tree_load(b->prod_io, parent->tree, root)) ==
	    GFSB_OK) {
		*have = 1;
		return GFSB_OK;
	}
	if (!gfsb_err_is_damage(e))
		return e; /* the storage failed, not the parent */
	gfsb_ctx_log(ctx, GFSB_LOG_WARN, "parent snapshot %.8s unreadable "
	    "(%s); reading all files", parent->id, gfsb_ctx_errmsg(ctx));
	gfsb_ctx_clearerr(ctx);
	return GFSB_OK;
}

/* The snapshot's record: who, when, what, and the summary's counts (the
 * repository's stats before and after the backup). */
gfsb_err
bk_snapshot_fill(struct bk *b, const char *host, char **paths, size_t npaths,
    const struct gfsb_snapshot *parent, const struct gfsb_repo_stats *before,
    double t0, struct gfsb_snapshot *snap)
{
	const struct gfsb_backup_opts *o = b->o;
	struct gfsb_snapshot_summary *m = &snap->summary;
	struct gfsb_repo_stats after;
	char user[64], ver[64];

	gfsb_repo_stats_get(b->r, &after);
	gfsb_sys_username(user, sizeof(user));
	if (o->has_time)
		snap->time = o->time;
	else
		gfsb_time_now(&snap->time);
	snprintf(ver, sizeof(ver), "gfsbackup %s", GFSB_VERSION);
	if ((snap->hostname = strdup(host)) == NULL ||
	    (snap->username = strdup(user)) == NULL ||
	    (snap->program_version = strdup(ver)) == NULL ||
	    strv_dup((const char *const *)paths, npaths, &snap->paths) !=
	    GFSB_OK || strv_dup(o->tags, o->ntags, &snap->tags) != GFSB_OK ||
	    strv_dup(b->excl_v, b->excl_n, &snap->excludes) != GFSB_OK)
		return GFSB_ENOMEM;
	snap->npaths = npaths;
	snap->ntags = o->ntags;
	snap->nexcludes = b->excl_n;
	snap->uid = (uint32_t)getuid();
	snap->gid = (uint32_t)getgid();
	memcpy(snap->tree, b->root, GFSB_ID_LEN);
	if (parent != NULL)
		snprintf(snap->parent, sizeof(snap->parent), "%s", parent->id);
	snap->has_summary = 1;
	m->files_new = b->files_new;
	m->files_changed = b->files_changed;
	m->files_unmodified = b->files_unmodified;
	m->dirs_new = b->dirs_new;
	m->dirs_changed = b->dirs_changed;
	m->dirs_unmodified = b->dirs_unmodified;
	m->data_blobs = after.blobs_added[GFSB_BLOB_DATA] -
	    before->blobs_added[GFSB_BLOB_DATA];
	m->tree_blobs = after.blobs_added[GFSB_BLOB_TREE] -
	    before->blobs_added[GFSB_BLOB_TREE];
	m->data_added = after.raw_added[0] + after.raw_added[1] -
	    before->raw_added[0] - before->raw_added[1];
	m->data_added_packed = after.stored_added[0] + after.stored_added[1] -
	    before->stored_added[0] - before->stored_added[1];
	m->total_files_processed = b->total_files;
	m->total_bytes_processed = b->total_bytes;
	m->warnings = atomic_load(&b->warnings);
	gfsb_time_now(&m->backup_end);
	m->backup_start = m->backup_end;
	m->backup_start.sec -= (int64_t)(gfsb_monotonic_seconds() - t0);
	return GFSB_OK;
}

void
bk_snapshot_fields_free(struct gfsb_snapshot *snap)
{
	size_t i;

	free(snap->hostname);
	free(snap->username);
	free(snap->program_version);
	for (i = 0; i < snap->npaths; i++)
		free(snap->paths[i]);
	free(snap->paths);
	for (i = 0; i < snap->ntags; i++)
		free(snap->tags[i]);
	free(snap->tags);
	for (i = 0; i < snap->nexcludes; i++)
		free(snap->excludes[i]);
	free(snap->excludes);
}
