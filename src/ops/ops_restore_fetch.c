/*
 * Restore, reading: each worker takes a run (the blobs the planner
 * gathered from one pack region), reads it with one range read, then
 * opens each blob (authenticates, decompresses, checks its id) into a
 * buffer of the pool; a blob that fails is marked so, the rest go on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops_restore.h"

static void
fetch_done(struct rs *s, struct fetch *f)
{
	pthread_mutex_lock(&s->mu);
	f->done = 1;
	if (f->waiter != NULL)
		pthread_cond_signal(f->waiter);
	pthread_mutex_unlock(&s->mu);
}

static void
fetch_buf(struct rs *s, struct fetch *f)
{
	f->buf.data = gfsb_pool_get(s->bufs, f->len + 1, &f->buf.cap);
	f->buf.len = 0;
	if (f->buf.data == NULL)
		f->buf.cap = 0;
}

/* A run: one range read over all its blobs, then each opened and
 * checked (one damaged blob fails only itself).  e: the worker's own
 * failure, given to every blob. */
static void
fetch_run(struct rs *s, struct gfsb_repo_io *io, struct fetch *f,
    struct gfsb_buf *raw, gfsb_err e)
{
	struct fetch *m, *next;
	uint64_t base = f->loc.offset, end = base;

	/* The run's bytes, before any blob is done: the writer may free a
	 * blob (f included) once it is. */
	for (m = f; m != NULL; m = m->run_next) {
		if (m->loc.offset < base)
			base = m->loc.offset;
		if (m->loc.offset + (uint64_t)m->loc.length > end)
			end = m->loc.offset + (uint64_t)m->loc.length;
	}
	raw->len = 0;
	if (e == GFSB_OK && (e = gfsb_buf_reserve(raw, end - base)) ==
	    GFSB_OK)
		e = gfsb_repo_pack_read(s->r, f->loc.pack, base, raw->data,
		    end - base);
	pthread_mutex_lock(&s->mu);
	s->res->reads++;
	s->res->read_bytes += end - base;
	pthread_mutex_unlock(&s->mu);
	for (m = f; m != NULL; m = next) {
		next = m->run_next; /* m may be freed once done */
		fetch_buf(s, m);
		m->err = e != GFSB_OK ? e : gfsb_repo_blob_open(io, &m->loc,
		    m->id, raw->data + (m->loc.offset - base), &m->buf);
		if (m->err == GFSB_OK && m->buf.len != m->len)
			m->err = GFSB_ECORRUPT;
		fetch_done(s, m);
	}
}

void *
rs_fetch_main(void *arg)
{
	struct rs *s = arg;
	struct gfsb_repo_io *io = NULL;
	struct gfsb_buf raw;
	struct fetch *f;
	gfsb_err e;

	gfsb_buf_init(&raw);
	e = gfsb_repo_io_new(s->r, &io);
	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (s->fq_head == NULL && !s->stop)
			pthread_cond_wait(&s->cv_fetch, &s->mu);
		if ((f = s->fq_head) == NULL) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		s->fq_head = f->next;
		if (s->fq_head == NULL)
			s->fq_tail = NULL;
		pthread_mutex_unlock(&s->mu);
		fetch_run(s, io, f, &raw, e);
	}
	gfsb_buf_fini(&raw);
	gfsb_repo_io_free(io);
	return NULL;
}

/* Start up to n readers; returns how many started. */
unsigned
rs_workers_start(struct rs *s, pthread_t *w, unsigned n)
{
	unsigned k;

	for (k = 0; k < n; k++)
		if (pthread_create(&w[k], NULL, rs_fetch_main, s) != 0)
			break;
	return k;
}

/* Let the readers finish the runs queued, and join them. */
void
rs_workers_stop(struct rs *s, pthread_t *w, unsigned n)
{
	unsigned k;

	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cv_fetch);
	pthread_mutex_unlock(&s->mu);
	for (k = 0; k < n; k++)
		pthread_join(w[k], NULL);
}

