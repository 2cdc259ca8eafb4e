/*
 * Backup: the session (its paths, its own directories kept out, its
 * state) and the whole, in order: lock, index, the parent, the store
 * pipeline (ops_backup_pipeline.c), the snapshot (ops_backup_snapshot.c).
 *
 * Order of durable writes: packs (as they fill), the index naming them
 * (gfsb_repo_flush), and only then the snapshot.  A backup interrupted at
 * any point leaves no snapshot; the packs it stored are named by an index
 * (after SIGINT/SIGTERM, which flush) or recovered from their headers by
 * the next backup (after kill -9), so their data is not uploaded twice.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define EVENT_LIMIT 4096
#define INFLIGHT_MIN (16U << 20)

static int
strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What the snapshot records as text must be UTF-8 (it is JSON): refused
 * before anything is stored. */
static gfsb_err
text_check(struct gfsb_ctx *ctx, const char *host,
    const struct gfsb_backup_opts *o)
{
	const char *what = NULL, *bad = NULL;
	size_t i;

	if (!gfsb_utf8_valid(host))
		what = "host name", bad = host;
	for (i = 0; i < o->ntags && what == NULL; i++)
		if (!gfsb_utf8_valid(o->tags[i]))
			what = "tag", bad = o->tags[i];
	for (i = 0; i < o->nexcludes && what == NULL; i++)
		if (!gfsb_utf8_valid(o->excludes[i]))
			what = "exclude pattern", bad = o->excludes[i];
	if (what == NULL)
		return GFSB_OK;
	return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%s %s is not UTF-8", what,
	    bad);
}

/* Clean, deduplicate and sort the paths; count those that exist. */
static gfsb_err
prepare_paths(struct bk *b, char ***out, size_t *nout)
{
	char **v, buf[PATH_MAX];
	struct stat st;
	size_t i, n = 0, exist = 0;
	gfsb_err e;

	if (b->o->npaths == 0)
		return gfsb_ctx_seterr(b->ctx, GFSB_EINVAL,
		    "nothing to back up: give at least one path");
	if ((v = calloc(b->o->npaths, sizeof(*v))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < b->o->npaths; i++) {
		if ((e = gfsb_ops_path_clean(b->o->paths[i], buf,
		    sizeof(buf))) != GFSB_OK) {
			gfsb_ctx_seterr(b->ctx, GFSB_EINVAL,
			    "invalid path %s", b->o->paths[i]);
			goto fail;
		}
		/* The snapshot records it as JSON text; the names below
		 * it are kept as bytes. */
		if (!gfsb_utf8_valid(buf)) {
			e = gfsb_ctx_seterr(b->ctx, GFSB_EINVAL, "path %s is "
			    "not UTF-8: give a directory above it (the names "
			    "inside are kept as they are)", buf);
			goto fail;
		}
		if ((v[n] = strdup(buf)) == NULL) {
			e = GFSB_ENOMEM;
			goto fail;
		}
		n++;
	}
	qsort(v, n, sizeof(*v), strcmp_p);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		if (lstat(v[i], &st) == 0)
			exist++;
	}
	/* Drop duplicates in place. */
	for (i = 1; i < n;) {
		if (strcmp(v[i], v[i - 1]) == 0) {
			free(v[i]);
			memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof(*v));
			n--;
		} else {
			i++;
		}
	}
	if (exist == 0) {
		e = gfsb_ctx_seterr(b->ctx, GFSB_ENOTFOUND,
		    "%s: no such file or directory%s", v[0],
		    n > 1 ? " (nor any other path given)" : "");
		goto fail;
	}
	*out = v;
	*nout = n;
	return GFSB_OK;
fail:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return e;
}

/* Directory path (if it is one) as one of gfsbackup's own. */
static void
own_dir(struct bk *b, const char *path, const char *what)
{
	struct stat st;

	if (path != NULL && *path != '\0' && stat(path, &st) == 0 &&
	    S_ISDIR(st.st_mode) && b->nown < (int)(sizeof(b->own) /
	    sizeof(b->own[0])))
		b->own[b->nown++] = (struct owndir){ st.st_dev, st.st_ino,
		    what };
}

/* gfsbackup's own directories: the repository, when it is a directory,
 * its cache, and the daily job's state and offsite copy (a backup of /var
 * would store the repository inside itself, growing with every backup,
 * and a cache of it). */
static void
own_dirs(struct bk *b)
{
	struct gfsb_backend *be = gfsb_repo_backend(b->r);

	if (!gfsb_backend_is_remote(be))
		own_dir(b, gfsb_backend_location(be), "the repository");
	own_dir(b, gfsb_repo_cache_path(b->r), "the repository's cache");
	own_dir(b, b->o->state_dir, "the daily job's state directory");
	own_dir(b, b->o->mirror_dir, "the offsite copy");
}

/* The exclude patterns: the options', then those of each file. */
static gfsb_err
exclude_list(struct bk *b)
{
	const struct gfsb_backup_opts *o = b->o;
	char **from, **grown;
	size_t nfrom, i;
	gfsb_err e;

	for (i = 0; i < o->nexclude_files; i++) {
		if ((e = gfsb_ops_patterns_read_file(b->ctx,
		    o->exclude_files[i], &from, &nfrom)) != GFSB_OK)
			return e;
		if ((grown = realloc(b->excl_read, (b->excl_nread + nfrom +
		    1) * sizeof(*grown))) == NULL) {
			while (nfrom > 0)
				free(from[--nfrom]);
			free(from);
			return GFSB_ENOMEM;
		}
		b->excl_read = grown;
		memcpy(b->excl_read + b->excl_nread, from, nfrom *
		    sizeof(*from));
		b->excl_nread += nfrom;
		free(from);
	}
	if ((b->excl_v = calloc(o->nexcludes + b->excl_nread + 1,
	    sizeof(*b->excl_v))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < o->nexcludes; i++)
		b->excl_v[b->excl_n++] = o->excludes[i];
	for (i = 0; i < b->excl_nread; i++)
		b->excl_v[b->excl_n++] = b->excl_read[i];
	return GFSB_OK;
}

static gfsb_err
bk_init(struct bk *b, struct gfsb_repo *r, const struct gfsb_backup_opts *o)
{
	const struct gfsb_chunker_params *cp;
	gfsb_err e;

	memset(b, 0, sizeof(*b));
	b->r = r;
	b->ctx = gfsb_repo_ctx(r);
	b->o = o;
	b->ck = gfsb_repo_chunker(r);
	cp = gfsb_chunker_get_params(b->ck);
	b->chunk_min = cp->min;
	b->chunk_avg = cp->avg;
	b->chunk_max = cp->max;
	b->inflight_limit = INFLIGHT_MIN;
	if (b->inflight_limit < 2 * (size_t)cp->max)
		b->inflight_limit = 2 * (size_t)cp->max;
	b->ev_limit = EVENT_LIMIT;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv_work, NULL);
	pthread_cond_init(&b->cv_space, NULL);
	pthread_cond_init(&b->cv_done, NULL);
	pthread_cond_init(&b->cv_ev, NULL);
	pthread_cond_init(&b->cv_evspace, NULL);
	atomic_init(&b->warnings, 0);
	atomic_init(&b->files_done, 0);
	atomic_init(&b->bytes_done, 0);
	atomic_init(&b->scan_files, 0);
	atomic_init(&b->scan_bytes, 0);
	atomic_init(&b->scan_done, 0);
	if ((e = exclude_list(b)) != GFSB_OK)
		return e;
	if ((e = gfsb_ops_patterns_new(b->excl_v, b->excl_n, &b->excl)) !=
	    GFSB_OK)
		return gfsb_ctx_seterr(b->ctx, e, "invalid exclude pattern");
	own_dirs(b);
	/* Idle chunk buffers for every chunk that can be in flight, within
	 * the in-flight bytes: a chunk is read into pages already mapped,
	 * huge pages (gfsb_pool_get).  Smaller files' buffers are malloc's.
	 * (Four idle buffers of any size left a 1 GiB backup 130,000 page
	 * faults; 4 KiB pages, 70,000; huge pages, 25,000.) */
	if ((e = gfsb_pool_new(b->inflight_limit / b->chunk_min + 4,
	    b->inflight_limit, bk_chunk_cap(b), &b->bufs)) != GFSB_OK ||
	    (e = gfsb_repo_io_new(r, &b->prod_io)) != GFSB_OK ||
	    (e = gfsb_repo_io_new(r, &b->comp_io)) != GFSB_OK)
		return e;
	return GFSB_OK;
}

static void
bk_fini(struct bk *b)
{
	size_t i;
	int k;

	for (i = 0; i < b->links.cap; i++)
		if (b->links.v[i].val != NULL)
			bk_fjob_release(b, b->links.v[i].val);
	ops_linkmap_fini(&b->links);
	for (k = 0; k < b->users.used; k++)
		free(b->users.name[k]);
	for (k = 0; k < b->groups.used; k++)
		free(b->groups.name[k]);
	gfsb_ops_patterns_free(b->excl);
	for (i = 0; i < b->excl_nread; i++)
		free(b->excl_read[i]);
	free(b->excl_read);
	free(b->excl_v);
	gfsb_pool_free(b->bufs);
	gfsb_repo_io_free(b->prod_io);
	gfsb_repo_io_free(b->comp_io);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv_work);
	pthread_cond_destroy(&b->cv_space);
	pthread_cond_destroy(&b->cv_done);
	pthread_cond_destroy(&b->cv_ev);
	pthread_cond_destroy(&b->cv_evspace);
}

gfsb_err
gfsb_ops_backup(struct gfsb_repo *r, const struct gfsb_backup_opts *o,
    struct gfsb_backup_result *res)
{
	struct gfsb_snapshot *parent = NULL, snap;
	struct gfsb_tree parent_root;
	struct gfsb_repo_stats before;
	struct gfsb_lock *lock = NULL;
	struct gfsb_ctx *ctx = gfsb_repo_ctx(r);
	char host[256], **paths = NULL;
	size_t npaths = 0, i;
	int have_root = 0;
	double t0 = gfsb_monotonic_seconds();
	struct bk b;
	gfsb_err e;

	memset(res, 0, sizeof(*res));
	memset(&snap, 0, sizeof(snap));
	gfsb_repo_tree_init(&parent_root);
	if ((e = bk_init(&b, r, o)) != GFSB_OK)
		goto out;
	if (o->host != NULL)
		snprintf(host, sizeof(host), "%s", o->host);
	else
		gfsb_sys_hostname(host, sizeof(host));
	/* A dry run writes nothing: no lock, no recovered packs indexed. */
	if ((e = text_check(ctx, host, o)) != GFSB_OK ||
	    (e = prepare_paths(&b, &paths, &npaths)) != GFSB_OK ||
	    (!o->dry_run && (e = gfsb_repo_lock(r, 0, &lock)) != GFSB_OK) ||
	    (e = gfsb_repo_index_load(r)) != GFSB_OK || (!o->dry_run &&
	    (e = gfsb_repo_pack_recover(r, &res->recovered_packs)) !=
	    GFSB_OK))
		goto out;
	if (o->dry_run)
		gfsb_repo_set_dry_run(r, 1);
	if (res->recovered_packs > 0)
		gfsb_ctx_log(ctx, GFSB_LOG_INFO,
		    "reusing %zu packs left by an interrupted backup",
		    res->recovered_packs);
	if ((e = bk_find_parent(&b, host, paths, npaths, &parent)) != GFSB_OK ||
	    (e = bk_parent_tree(&b, parent, &parent_root, &have_root)) != GFSB_OK)
		goto out;
	gfsb_repo_stats_get(r, &before);
	bk_pipeline(&b, paths, npaths, have_root ? &parent_root : NULL, t0);
	res->inflight_peak = b.inflight_peak;
	res->inflight_bound = bk_inflight_bound(&b);
	if ((e = bk_pipeline_end(&b)) != GFSB_OK ||
	    (e = bk_snapshot_fill(&b, host, paths, npaths, parent, &before, t0,
	    &snap)) != GFSB_OK || (!o->dry_run &&
	    (e = gfsb_repo_snapshot_save(r, &snap)) != GFSB_OK))
		goto out;
	res->dry_run = o->dry_run;
	memcpy(res->snapshot_id, snap.id, sizeof(res->snapshot_id));
	memcpy(res->parent, snap.parent, sizeof(res->parent));
	res->summary = snap.summary;
out:
	res->seconds = gfsb_monotonic_seconds() - t0;
	if (e != GFSB_OK)
		res->summary.warnings = atomic_load(&b.warnings);
	gfsb_repo_unlock(lock);
	for (i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	bk_snapshot_fields_free(&snap);
	gfsb_repo_tree_fini(&parent_root);
	gfsb_repo_snapshot_free(parent);
	bk_fini(&b);
	return e;
}
