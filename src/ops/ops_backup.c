/*
 * Backup: the session, its threads, and the snapshot it writes.
 *
 * Order of durable writes: packs (as they fill), the index naming them
 * (gfsb_repo_flush), and only then the snapshot.  A backup interrupted at
 * any point leaves no snapshot; the packs it stored are named by an index
 * (after SIGINT/SIGTERM, which flush) or recovered from their headers by
 * the next backup (after kill -9), so their data is not uploaded twice.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define EVENT_LIMIT 4096
#define INFLIGHT_MIN (16U << 20)

/* ---- workers ---- */

static void *
worker_main(void *arg)
{
	struct bk *b = arg;
	struct gfsb_repo_io *io = NULL;
	struct cjob *j;
	gfsb_err e;
	int skip;

	if ((e = gfsb_repo_io_new(b->r, &io)) != GFSB_OK)
		bk_fail(b, e);
	for (;;) {
		pthread_mutex_lock(&b->mu);
		while (b->wq_head == NULL && !b->stop_workers)
			pthread_cond_wait(&b->cv_work, &b->mu);
		if ((j = b->wq_head) == NULL) {
			pthread_mutex_unlock(&b->mu);
			break;
		}
		b->wq_head = j->next;
		if (b->wq_head == NULL)
			b->wq_tail = NULL;
		skip = b->err != GFSB_OK || io == NULL;
		pthread_mutex_unlock(&b->mu);
		if (!skip && gfsb_ctx_canceled(b->ctx))
			skip = 1;
		if (skip)
			j->f->failed = j->small ? 1 : j->f->failed;
		else if (j->small)
			bk_read_small(b, io, j->f);
		else
			(void)bk_store_chunk(b, io, j->f, j->idx, j->data,
			    j->len);
		gfsb_pool_put(b->bufs, j->data, j->cap);
		pthread_mutex_lock(&b->mu);
		b->inflight -= j->charge;
		pthread_cond_broadcast(&b->cv_space);
		if (--j->f->pending == 0)
			pthread_cond_broadcast(&b->cv_done);
		pthread_mutex_unlock(&b->mu);
		bk_fjob_release(b, j->f);
		free(j);
	}
	gfsb_repo_io_free(io);
	return NULL;
}

/* ---- completion: events in order, trees bottom-up ---- */

struct level {
	struct gfsb_node dir;
	struct gfsb_tree tree;
	int had_parent;
	uint8_t old[GFSB_ID_LEN];
};

static struct event *
next_event(struct bk *b)
{
	struct event *ev;

	pthread_mutex_lock(&b->mu);
	while (b->ev_head == NULL && b->err == GFSB_OK)
		pthread_cond_wait(&b->cv_ev, &b->mu);
	if ((ev = b->ev_head) != NULL) {
		b->ev_head = ev->next;
		if (b->ev_head == NULL)
			b->ev_tail = NULL;
		b->nev--;
		pthread_cond_signal(&b->cv_evspace);
	}
	pthread_mutex_unlock(&b->mu);
	return ev;
}

static void
event_free(struct bk *b, struct event *ev)
{
	if (ev->job != NULL)
		bk_fjob_release(b, ev->job);
	gfsb_repo_node_fini(&ev->node);
	free(ev);
}

/* Wait for a file's content and move it into node; 0 if it failed. */
static int
take_content(struct bk *b, struct fjob *f, struct gfsb_node *node)
{
	int ok;

	pthread_mutex_lock(&b->mu);
	while (f->pending > 0 && b->err == GFSB_OK)
		pthread_cond_wait(&b->cv_done, &b->mu);
	ok = f->pending == 0 && !f->failed && b->err == GFSB_OK;
	pthread_mutex_unlock(&b->mu);
	if (!ok)
		return 0;
	node->size = f->size;
	/* Copies: a hard-linked file's content serves several nodes. */
	if (ops_extents_copy(f->ext, f->next, node) != GFSB_OK ||
	    ops_xattrs_copy(f->xattrs, f->nxattrs, node) != GFSB_OK)
		return -1;
	return 1;
}

static gfsb_err
store_tree(struct bk *b, struct gfsb_tree *t, uint8_t id[GFSB_ID_LEN])
{
	struct gfsb_buf enc;
	int added;
	gfsb_err e;

	gfsb_buf_init(&enc);
	gfsb_repo_tree_sort(t);
	if ((e = gfsb_repo_tree_encode(t, &enc)) != GFSB_OK)
		gfsb_ctx_seterr(b->ctx, e, "cannot encode a directory tree");
	else
		e = gfsb_repo_blob_write(b->comp_io, GFSB_BLOB_TREE, enc.data,
		    enc.len, id, 0, &added);
	gfsb_buf_fini(&enc);
	return e;
}

static void *
completion_main(void *arg)
{
	struct bk *b = arg;
	struct level *st = NULL, *grown, *top;
	size_t depth = 0, cap = 0;
	struct event *ev;
	gfsb_err e = GFSB_OK;
	int r;

	while ((ev = next_event(b)) != NULL) {
		if (ev->type == EV_END) {
			event_free(b, ev);
			break;
		}
		if (ev->type == EV_ENTER) {
			if (depth == cap) {
				cap = cap ? 2 * cap : 64;
				grown = realloc(st, cap * sizeof(*st));
				if (grown == NULL) {
					e = GFSB_ENOMEM;
					event_free(b, ev);
					break;
				}
				st = grown;
			}
			top = &st[depth++];
			top->dir = ev->node;
			memset(&ev->node, 0, sizeof(ev->node));
			gfsb_repo_tree_init(&top->tree);
			top->had_parent = ev->status;
			memcpy(top->old, ev->old_subtree, GFSB_ID_LEN);
		} else if (ev->type == EV_NODE && depth > 0) {
			top = &st[depth - 1];
			r = 1;
			if (ev->job != NULL)
				r = take_content(b, ev->job, &ev->node);
			if (r < 0) {
				e = GFSB_ENOMEM;
				event_free(b, ev);
				break;
			}
			if (ev->node.kind == GFSB_NODE_FILE && r > 0) {
				b->total_files++;
				b->total_bytes += ev->node.size;
				if (ev->status == ST_NEW)
					b->files_new++;
				else if (ev->status == ST_CHANGED)
					b->files_changed++;
				else
					b->files_unmodified++;
				atomic_fetch_add(&b->files_done, 1);
				if (ev->job == NULL)
					atomic_fetch_add(&b->bytes_done,
					    ev->node.size);
			}
			if (r > 0 && (e = gfsb_repo_tree_add(&top->tree,
			    &ev->node)) != GFSB_OK) {
				event_free(b, ev);
				break;
			}
		} else if (ev->type == EV_LEAVE && depth > 0) {
			top = &st[--depth];
			e = store_tree(b, &top->tree, top->dir.subtree);
			gfsb_repo_tree_fini(&top->tree);
			if (e == GFSB_OK && depth > 0) {
				if (!top->had_parent)
					b->dirs_new++;
				else if (memcmp(top->old, top->dir.subtree,
				    GFSB_ID_LEN) == 0)
					b->dirs_unmodified++;
				else
					b->dirs_changed++;
			}
			if (e == GFSB_OK && depth == 0) {
				memcpy(b->root, top->dir.subtree, GFSB_ID_LEN);
				b->have_root = 1;
				gfsb_repo_node_fini(&top->dir);
			} else if (e == GFSB_OK) {
				e = gfsb_repo_tree_add(&st[depth - 1].tree,
				    &top->dir);
			}
			if (e != GFSB_OK) {
				gfsb_repo_node_fini(&top->dir);
				event_free(b, ev);
				break;
			}
		}
		event_free(b, ev);
	}
	while (depth > 0) {
		top = &st[--depth];
		gfsb_repo_node_fini(&top->dir);
		gfsb_repo_tree_fini(&top->tree);
	}
	free(st);
	if (e != GFSB_OK)
		bk_fail(b, e);
	/* Drain what the producer may still queue after a failure. */
	pthread_mutex_lock(&b->mu);
	while ((ev = b->ev_head) != NULL) {
		b->ev_head = ev->next;
		b->nev--;
		pthread_mutex_unlock(&b->mu);
		event_free(b, ev);
		pthread_mutex_lock(&b->mu);
	}
	b->ev_tail = NULL;
	pthread_cond_broadcast(&b->cv_evspace);
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* ---- progress ---- */

struct ticker {
	struct bk *b;
	double start;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
};

static void
report(struct ticker *t)
{
	struct gfsb_backup_progress p;
	struct bk *b = t->b;

	p.files_done = atomic_load(&b->files_done);
	p.bytes_done = atomic_load(&b->bytes_done);
	p.files_total = atomic_load(&b->scan_files);
	p.bytes_total = atomic_load(&b->scan_bytes);
	p.totals_known = atomic_load(&b->scan_done);
	p.seconds = gfsb_monotonic_seconds() - t->start;
	b->o->progress(b->o->progress_cookie, &p);
}

static void *
ticker_main(void *arg)
{
	struct ticker *t = arg;
	struct timespec until;

	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&t->cv, &t->mu, &until);
		if (!t->stop) {
			pthread_mutex_unlock(&t->mu);
			report(t);
			pthread_mutex_lock(&t->mu);
		}
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

struct scanarg {
	struct bk *b;
	char *const *paths;
	size_t n;
};

static void *
scanner_main(void *arg)
{
	struct scanarg *s = arg;

	bk_scan(s->b, s->paths, s->n);
	atomic_store(&s->b->scan_done, 1);
	return NULL;
}

/* ---- the session ---- */

static int
strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Same paths (as sets)? */
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

/* The parent: the newest snapshot of this host with the same paths. */
static gfsb_err
find_parent(struct bk *b, const char *host, char *const *paths, size_t n,
    struct gfsb_snapshot **out)
{
	struct gfsb_snapshot **list = NULL;
	size_t cnt = 0, i;
	gfsb_err e;

	*out = NULL;
	if (b->o->parent != NULL)
		return gfsb_repo_snapshot_find(b->r, b->o->parent, NULL, out);
	if ((e = gfsb_repo_snapshot_list(b->r, &list, &cnt)) != GFSB_OK)
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

/* gfsbackup's own directories: the repository, when it is a directory,
 * and the cache (a backup of /var would store the repository inside
 * itself, growing with every backup, and a cache of it). */
static void
own_dirs(struct bk *b)
{
	struct gfsb_backend *be = gfsb_repo_backend(b->r);
	const char *cache = gfsb_repo_cache_path(b->r);
	struct stat st;

	if (!gfsb_backend_is_remote(be) &&
	    stat(gfsb_backend_location(be), &st) == 0 && S_ISDIR(st.st_mode))
		b->own[b->nown++] = (struct owndir){ st.st_dev, st.st_ino,
		    "the repository" };
	if (cache != NULL && *cache != '\0' && stat(cache, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		b->own[b->nown++] = (struct owndir){ st.st_dev, st.st_ino,
		    "the repository's cache" };
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
	if ((e = gfsb_ops_patterns_new(o->excludes, o->nexcludes, &b->excl)) !=
	    GFSB_OK)
		return gfsb_ctx_seterr(b->ctx, e, "invalid exclude pattern");
	own_dirs(b);
	if ((e = gfsb_pool_new(4, &b->bufs)) != GFSB_OK ||
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

/* The parent snapshot's root tree, when it can be read: a damaged one
 * means reading every file (said); an outage stops the backup. */
static gfsb_err
parent_tree(struct bk *b, const struct gfsb_snapshot *parent,
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

/* The progress threads: the scanner (totals) and the ticker. */
struct progress_threads {
	pthread_t scan, tick;
	struct scanarg sa;
	struct ticker tk;
	int scan_started, tick_started;
};

static void
progress_start(struct bk *b, struct progress_threads *pt, char **paths,
    size_t npaths, double t0)
{
	memset(pt, 0, sizeof(*pt));
	if (b->o->progress == NULL)
		return;
	pt->sa.b = b;
	pt->sa.paths = paths;
	pt->sa.n = npaths;
	pt->scan_started = pthread_create(&pt->scan, NULL, scanner_main,
	    &pt->sa) == 0;
	pt->tk.b = b;
	pt->tk.start = t0;
	pthread_mutex_init(&pt->tk.mu, NULL);
	pthread_cond_init(&pt->tk.cv, NULL);
	pt->tick_started = pthread_create(&pt->tick, NULL, ticker_main,
	    &pt->tk) == 0;
}

static void
progress_stop(struct bk *b, struct progress_threads *pt)
{
	if (pt->scan_started) {
		atomic_store(&b->scan_done, 1);
		pthread_join(pt->scan, NULL);
	}
	if (b->o->progress == NULL)
		return;
	if (pt->tick_started) {
		pthread_mutex_lock(&pt->tk.mu);
		pt->tk.stop = 1;
		pthread_cond_signal(&pt->tk.cv);
		pthread_mutex_unlock(&pt->tk.mu);
		pthread_join(pt->tick, NULL);
		report(&pt->tk);
	}
	pthread_mutex_destroy(&pt->tk.mu);
	pthread_cond_destroy(&pt->tk.cv);
}

/* The pipeline: workers (chunk, hash, compress, seal), the completion
 * thread (trees, in order), and this thread walking the paths; all
 * joined.  The outcome is in b->err. */
static void
pipeline(struct bk *b, char **paths, size_t npaths,
    const struct gfsb_tree *parent_root, double t0)
{
	struct progress_threads pt;
	pthread_t *workers, comp;
	unsigned nw, started = 0, i;
	int comp_started = 0;
	struct event *end;

	nw = b->o->threads ? b->o->threads : ops_ncpus(64);
	if ((workers = calloc(nw, sizeof(*workers))) == NULL) {
		bk_fail(b, GFSB_ENOMEM);
		return;
	}
	for (started = 0; started < nw; started++)
		if (pthread_create(&workers[started], NULL, worker_main, b) !=
		    0)
			break;
	if (started == 0 || pthread_create(&comp, NULL, completion_main, b) !=
	    0)
		bk_fail(b, GFSB_ENOMEM);
	else
		comp_started = 1;
	progress_start(b, &pt, paths, npaths, t0);
	if (comp_started)
		(void)bk_walk(b, paths, npaths, parent_root);
	if ((end = calloc(1, sizeof(*end))) != NULL) {
		end->type = EV_END;
		(void)bk_emit(b, end);
	} else {
		bk_fail(b, GFSB_ENOMEM);
	}
	if (comp_started)
		pthread_join(comp, NULL);
	pthread_mutex_lock(&b->mu);
	b->stop_workers = 1;
	pthread_cond_broadcast(&b->cv_work);
	pthread_mutex_unlock(&b->mu);
	for (i = 0; i < started; i++)
		pthread_join(workers[i], NULL);
	progress_stop(b, &pt);
	free(workers);
}

/* The snapshot's record: who, when, what, and the summary's counts (the
 * repository's stats before and after the backup). */
static gfsb_err
snapshot_fill(struct bk *b, const char *host, char **paths, size_t npaths,
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
	    strv_dup(o->excludes, o->nexcludes, &snap->excludes) != GFSB_OK)
		return GFSB_ENOMEM;
	snap->npaths = npaths;
	snap->ntags = o->ntags;
	snap->nexcludes = o->nexcludes;
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

static void
snapshot_fields_free(struct gfsb_snapshot *snap)
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

/* After the pipeline: its outcome, and the packs written made findable
 * whatever it was. */
static gfsb_err
pipeline_end(struct bk *b)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(b->r);
	gfsb_err e = b->err, e2;

	if (e == GFSB_OK && gfsb_ctx_canceled(ctx))
		e = GFSB_ECANCELED;
	if (e == GFSB_OK && !b->have_root)
		e = gfsb_ctx_seterr(ctx, GFSB_EIO, "no root tree was built");
	e2 = gfsb_repo_flush(b->r);
	if (e == GFSB_OK)
		e = e2;
	if (e == GFSB_ECANCELED)
		gfsb_ctx_seterr(ctx, e, "backup interrupted; no snapshot "
		    "written (the data already stored will be reused)");
	return e;
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
	if ((e = prepare_paths(&b, &paths, &npaths)) != GFSB_OK ||
	    (e = gfsb_repo_lock(r, 0, &lock)) != GFSB_OK ||
	    (e = gfsb_repo_index_load(r)) != GFSB_OK ||
	    (e = gfsb_repo_pack_recover(r, &res->recovered_packs)) != GFSB_OK)
		goto out;
	if (res->recovered_packs > 0)
		gfsb_ctx_log(ctx, GFSB_LOG_INFO,
		    "reusing %zu packs left by an interrupted backup",
		    res->recovered_packs);
	if ((e = find_parent(&b, host, paths, npaths, &parent)) != GFSB_OK ||
	    (e = parent_tree(&b, parent, &parent_root, &have_root)) != GFSB_OK)
		goto out;
	gfsb_repo_stats_get(r, &before);
	pipeline(&b, paths, npaths, have_root ? &parent_root : NULL, t0);
	if ((e = pipeline_end(&b)) != GFSB_OK ||
	    (e = snapshot_fill(&b, host, paths, npaths, parent, &before, t0,
	    &snap)) != GFSB_OK ||
	    (e = gfsb_repo_snapshot_save(r, &snap)) != GFSB_OK)
		goto out;
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
	snapshot_fields_free(&snap);
	gfsb_repo_tree_fini(&parent_root);
	gfsb_repo_snapshot_free(parent);
	bk_fini(&b);
	return e;
}
