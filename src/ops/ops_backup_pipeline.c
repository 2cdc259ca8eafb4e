/*
 * Backup's store pipeline: the worker threads (chunk, id, dedup,
 * compress, seal, pack), the completion thread (events in order, each
 * directory's tree bottom-up), the progress threads (scanner, ticker),
 * and the pipeline started, fed by the walk (ops_backup_walk.c), and
 * joined.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

/* ---- workers ---- */

/*
 * After a job: wake the completion thread if the file it waits for is
 * done, but among small files only every DONE_BATCH jobs or when no job
 * is queued, so that it takes a batch of files per wakeup rather than
 * one (a wakeup per file was three futex calls per file).  Workers never
 * wait for the completion thread, so the queue empties or the batch fills
 * and the wakeup comes.  Caller holds b->mu.
 */
#define DONE_BATCH 32

static void
wake_completion_locked(struct bk *b)
{
	if (b->done_wait == NULL || b->done_wait->pending > 0)
		return;
	if (b->wq_head != NULL && ++b->done_since < DONE_BATCH)
		return;
	b->done_since = 0;
	pthread_cond_broadcast(&b->cv_done);
}

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
		if (b->wq_head == NULL) {
			b->wq_tail = NULL;
			/* The walk may queue another now (space_for). */
			if (b->space_waiters > 0)
				pthread_cond_broadcast(&b->cv_space);
		}
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
		if (b->space_waiters > 0 && (b->wq_head == NULL ||
		    b->inflight <= b->inflight_limit / 2))
			pthread_cond_broadcast(&b->cv_space);
		--j->f->pending;
		wake_completion_locked(b);
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
		if (b->ev_waiters > 0 && b->nev <= b->ev_limit / 2)
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
	b->done_wait = f;
	b->done_since = 0;
	while (f->pending > 0 && b->err == GFSB_OK)
		pthread_cond_wait(&b->cv_done, &b->mu);
	b->done_wait = NULL;
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
void
bk_pipeline(struct bk *b, char **paths, size_t npaths,
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

/* After the pipeline: its outcome, and the packs written made findable
 * whatever it was. */
gfsb_err
bk_pipeline_end(struct bk *b)
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
