/*
 * Restore: a snapshot back to disk (through libarchive's disk writer) or
 * into a pax archive (libarchive's writer).
 *
 * Threads: a planner walks the snapshot's trees in order and queues one
 * item per entry, plus one fetch per data extent for the workers; workers
 * fetch, authenticate, decompress and check blobs; the caller's thread
 * writes items in order as their blobs arrive.  Fetched bytes in flight
 * are bounded, so memory does not grow with the snapshot.
 *
 * Reads: the planner gathers the blobs it queues into runs, one per pack
 * region: a blob joins an open run of its pack when it lies within a gap
 * (RS_RUN_GAP; RS_RUN_GAP_REMOTE from remote storage, where each request
 * costs a round trip) of the run's bytes and the run stays under
 * RS_RUN_MAX.  A run is one range read, then its blobs are opened one by
 * one.  Backup
 * interleaves the chunks of files it reads at once, and a directory's
 * small files sit among them, so runs span small gaps (read and dropped)
 * to turn thousands of small requests into a few large ones; the gap
 * bound keeps a partial restore from reading much it does not need.
 * Runs are handed to the workers when full, when more than RS_OPEN_RUNS
 * are open (oldest first), and all of them before the planner waits for
 * memory, which it then does until half the in-flight budget is free, so
 * that the next batch gathers long runs again.
 *
 * Safety: names in trees are single path components (the decoder refuses
 * "..", "/" and duplicates), and on top of that the disk writer runs with
 * ARCHIVE_EXTRACT_SECURE_NODOTDOT, _SECURE_SYMLINKS and
 * _SECURE_NOABSOLUTEPATHS relative to the target directory, so no entry
 * can make us write outside it.  A blob that fails its checks is a hole in
 * the file that uses it; the file is named and everything else restored.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define RS_INFLIGHT (32U << 20)	/* twice that from remote storage */
#define RS_RUN_MAX (8U << 20)
#define RS_RUN_GAP (1U << 20)
/* From remote storage: backup interleaves the chunks (about 1 MiB) of the
 * files its workers read at once, so a file's next chunk is often a
 * chunk away; a 1 MiB gap split there (355 range reads for the 1 GiB
 * bench set), 4 MiB does not (115 reads, 1% more bytes: the chunks in
 * between belong to the next files, which join the same run). */
#define RS_RUN_GAP_REMOTE (4U << 20)
#define RS_OPEN_RUNS 8
/* Blob buffers kept for reuse: freed ones went back to the allocator and
 * were faulted in again, page by page, for the next blob (4% of a
 * restore's CPU).  16 of them (blobs average 1 MiB) halve the faults;
 * more keep the peak memory higher for no measurable gain. */
#define RS_POOL 16
#define RS_MAX_DEPTH 65536
/* Items queued for the writer at most: bytes in flight bound the data,
 * this bounds the entries without data (a million empty files queued at
 * once took 500 MiB). */
#define RS_MAX_ITEMS 4096
/* Threads writing regular files besides the ordered writer (which makes
 * directories, links and the rest, in order): writing is a third of a
 * restore's work, and one thread could not keep up with the readers. */
#define RS_FILE_WRITERS 2

struct fetch {
	struct fetch *next;	  /* in the workers' queue (run leaders) */
	struct fetch *run_next;	  /* the next blob of the same run */
	uint8_t id[GFSB_ID_LEN];
	uint64_t len;
	struct gfsb_blob_loc loc; /* where the index says it is */
	struct gfsb_buf buf;
	gfsb_err err;
	int done;
	pthread_cond_t *waiter;	  /* the writer waiting for it, if any */
};

struct ritem {
	struct ritem *next;
	char *path;		  /* relative to the target / archive root */
	char *abspath;		  /* in the snapshot, for messages */
	struct gfsb_node node;
	char *hardlink;		  /* earlier path to link to, or NULL */
	struct fetch **fx;	  /* per extent; NULL for holes */
	int end;		  /* sentinel: no more items */
};

struct rs {
	struct gfsb_repo *r;
	struct gfsb_ctx *ctx;
	const struct gfsb_restore_opts *o;
	struct gfsb_restore_result *res;
	struct gfsb_patterns *incl, *excl;
	struct gfsb_repo_io *plan_io;
	struct gfsb_pool *bufs; /* blob buffers, reused */

	pthread_mutex_t mu;
	pthread_cond_t cv_fetch;  /* workers: fetch queued or stop */
	/* Writers: a fetch they wait for is done (one each, so that a
	 * fetch wakes only its own writer: the ordered one, then the file
	 * writers). */
	pthread_cond_t cv_done[1 + RS_FILE_WRITERS];
	pthread_cond_t cv_item;	  /* writer: item queued */
	pthread_cond_t cv_space;  /* planner: bytes released */
	struct fetch *fq_head, *fq_tail;
	struct orun {		      /* planner: runs being gathered */
		struct fetch *head, *tail;
		uint64_t start, end;  /* bytes of the pack they cover */
	} runs[RS_OPEN_RUNS];	      /* oldest first */
	unsigned nruns;
	struct ritem *iq_head, *iq_tail;
	size_t nitems;		/* queued and not yet written */
	/* File writers: regular files, written in parallel (disk only). */
	struct ritem *fq_items, *fq_items_tail; /* for them, in order */
	struct ritem *dead;	/* failed items, freed once workers stop */
	pthread_cond_t cv_file;	/* file writers: item queued or stop */
	int files_end;		/* no more items for them */
	uint64_t inflight, limit;
	int space_wait;		/* the planner waits for bytes released */
	uint64_t gap;		/* a run spans gaps up to this */
	uint64_t lost_dirs;	/* planner: directories whose tree is lost */
	uint64_t plan_files, plan_bytes; /* queued so far (under mu) */
	int planned;		/* the planner has queued everything */
	struct gfsb_restore_progress prog; /* writer only */
	int stop;
	gfsb_err err;
	int target_made;	/* the restore created its target */
	int tar_fd;		/* the archive file we opened, or -1 */
	int tar_made;		/* ... and created */

	/* planner only */
	struct linkmap links; /* (dev, inode) -> first restored path */
	struct ritem **pending; /* directories not yet emitted (includes) */
	size_t npending, cappending;
};

static void
rs_fail(struct rs *s, gfsb_err e)
{
	unsigned i;

	pthread_mutex_lock(&s->mu);
	if (s->err == GFSB_OK)
		s->err = e;
	pthread_cond_broadcast(&s->cv_fetch);
	for (i = 0; i < 1 + RS_FILE_WRITERS; i++)
		pthread_cond_broadcast(&s->cv_done[i]);
	pthread_cond_broadcast(&s->cv_item);
	pthread_cond_broadcast(&s->cv_space);
	pthread_cond_broadcast(&s->cv_file);
	pthread_mutex_unlock(&s->mu);
}

static void
item_free(struct ritem *it)
{
	size_t i;

	if (it == NULL)
		return;
	if (it->fx != NULL) {
		for (i = 0; i < it->node.nextents; i++) {
			if (it->fx[i] == NULL)
				continue;
			gfsb_buf_fini(&it->fx[i]->buf);
			free(it->fx[i]);
		}
		free(it->fx);
	}
	gfsb_repo_node_fini(&it->node);
	free(it->path);
	free(it->abspath);
	free(it->hardlink);
	free(it);
}

/* ---- workers ---- */

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

static void *
fetch_main(void *arg)
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

/* ---- planner ---- */

/* Hand run k to the workers.  Under s->mu. */
static void
run_flush_one_locked(struct rs *s, unsigned k)
{
	struct fetch *f = s->runs[k].head;

	if (s->fq_tail != NULL)
		s->fq_tail->next = f;
	else
		s->fq_head = f;
	s->fq_tail = f;
	pthread_cond_signal(&s->cv_fetch);
	memmove(&s->runs[k], &s->runs[k + 1], (s->nruns - k - 1) *
	    sizeof(s->runs[0]));
	s->nruns--;
}

/* Every open run, oldest first.  Under s->mu. */
static void
run_flush_locked(struct rs *s)
{
	while (s->nruns > 0)
		run_flush_one_locked(s, 0);
}

static void
run_flush(struct rs *s)
{
	pthread_mutex_lock(&s->mu);
	run_flush_locked(s);
	pthread_mutex_unlock(&s->mu);
}

/* Add f to an open run of its pack, or open a new one.  Under s->mu. */
static void
run_add_locked(struct rs *s, struct fetch *f)
{
	uint64_t fs = f->loc.offset, fe = fs + f->loc.length, ns, ne;
	struct orun *o;
	unsigned k;

	for (k = 0; k < s->nruns; k++)
		if (memcmp(s->runs[k].head->loc.pack, f->loc.pack,
		    GFSB_ID_LEN) == 0)
			break;
	if (k < s->nruns) {
		o = &s->runs[k];
		ns = fs < o->start ? fs : o->start;
		ne = fe > o->end ? fe : o->end;
		if (fs + s->gap >= o->start && fe <= o->end + s->gap &&
		    ne - ns <= RS_RUN_MAX) {
			o->tail->run_next = f;
			o->tail = f;
			o->start = ns;
			o->end = ne;
			if (ne - ns >= RS_RUN_MAX - RS_RUN_MAX / 8)
				run_flush_one_locked(s, k);
			return;
		}
		run_flush_one_locked(s, k);
	}
	if (s->nruns == RS_OPEN_RUNS)
		run_flush_one_locked(s, 0);
	o = &s->runs[s->nruns++];
	o->head = o->tail = f;
	o->start = fs;
	o->end = fe;
}

static gfsb_err
queue_item(struct rs *s, struct ritem *it)
{
	size_t i;

	pthread_mutex_lock(&s->mu);
	if (s->err != GFSB_OK) {
		pthread_mutex_unlock(&s->mu);
		item_free(it);
		return s->err;
	}
	/* The item first, so the writer can consume its blobs while the
	 * rest are queued: fetches of one large file may exceed the limit.
	 * The writer frees the item only after its last fetch is done, and
	 * that fetch cannot even be dequeued before we release the lock. */
	if (s->nitems >= RS_MAX_ITEMS) {
		/* As for bytes below: hand the runs over, then wait until
		 * the writer has caught up by half. */
		run_flush_locked(s);
		while (s->nitems >= RS_MAX_ITEMS / 2 && s->err == GFSB_OK)
			pthread_cond_wait(&s->cv_space, &s->mu);
		if (s->err != GFSB_OK) {
			pthread_mutex_unlock(&s->mu);
			item_free(it);
			return s->err;
		}
	}
	if (s->iq_tail != NULL)
		s->iq_tail->next = it;
	else
		s->iq_head = it;
	s->iq_tail = it;
	s->nitems++;
	if (!it->end) {
		s->plan_files++;
		if (it->node.kind == GFSB_NODE_FILE && it->hardlink == NULL)
			s->plan_bytes += it->node.size;
	} else {
		s->planned = 1;
	}
	pthread_cond_signal(&s->cv_item);
	for (i = 0; it->fx != NULL && i < it->node.nextents; i++) {
		struct fetch *f = it->fx[i];

		if (f == NULL)
			continue;
		if (s->inflight > 0 && s->inflight + f->len > s->limit) {
			/* The writer may be waiting for a run: hand them all
			 * over, then wait until half the budget is free. */
			run_flush_locked(s);
			s->space_wait = 1;
			while (s->inflight > 0 && s->inflight + f->len >
			    s->limit / 2 && s->err == GFSB_OK)
				pthread_cond_wait(&s->cv_space, &s->mu);
			s->space_wait = 0;
		}
		s->inflight += f->len;
		if (!f->done) /* not already failed by the planner */
			run_add_locked(s, f);
	}
	pthread_mutex_unlock(&s->mu);
	return GFSB_OK;
}

/* Emit directories held back until something inside them is restored. */
static gfsb_err
flush_pending(struct rs *s)
{
	size_t i;
	gfsb_err e = GFSB_OK;

	for (i = 0; i < s->npending && e == GFSB_OK; i++) {
		if (s->pending[i] == NULL)
			continue;
		e = queue_item(s, s->pending[i]);
		s->pending[i] = NULL;
	}
	return e;
}

/* a/b; "" and "/" as a give "b" and "/b". */
static char *
join(const char *a, const char *b)
{
	char *p;
	size_t la = strlen(a), lb = strlen(b);

	if ((p = malloc(la + lb + 2)) == NULL)
		return NULL;
	if (la == 0) {
		memcpy(p, b, lb + 1);
	} else if (la == 1 && a[0] == '/') {
		p[0] = '/';
		memcpy(p + 1, b, lb + 1);
	} else {
		memcpy(p, a, la);
		p[la] = '/';
		memcpy(p + la + 1, b, lb + 1);
	}
	return p;
}

/* Build the item for node n at rel (archive path) / abs (snapshot path). */
static gfsb_err
make_item(struct rs *s, const struct gfsb_node *n, const char *rel,
    const char *abs, struct ritem **out)
{
	struct ritem *it;
	const char *first;
	char *copy = NULL;
	size_t i;
	gfsb_err e;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		return GFSB_ENOMEM;
	if ((it->path = strdup(rel)) == NULL ||
	    (it->abspath = strdup(abs)) == NULL ||
	    (e = ops_node_copy(n, &it->node)) != GFSB_OK) {
		item_free(it);
		return GFSB_ENOMEM;
	}
	if (n->kind == GFSB_NODE_FILE && n->nlink > 1) {
		if ((first = ops_linkmap_find(&s->links, n->dev, n->inode)) !=
		    NULL) {
			if ((it->hardlink = strdup(first)) == NULL) {
				item_free(it);
				return GFSB_ENOMEM;
			}
			*out = it;
			return GFSB_OK;
		}
		if ((copy = strdup(rel)) == NULL ||
		    ops_linkmap_add(&s->links, n->dev, n->inode, copy) !=
		    GFSB_OK) {
			free(copy);
			item_free(it);
			return GFSB_ENOMEM;
		}
	}
	if (n->kind == GFSB_NODE_FILE && n->nextents > 0) {
		if ((it->fx = calloc(n->nextents, sizeof(*it->fx))) == NULL) {
			item_free(it);
			return GFSB_ENOMEM;
		}
		for (i = 0; i < n->nextents; i++) {
			if (n->extents[i].hole)
				continue;
			if ((it->fx[i] = calloc(1, sizeof(struct fetch))) ==
			    NULL) {
				item_free(it);
				return GFSB_ENOMEM;
			}
			memcpy(it->fx[i]->id, n->extents[i].id, GFSB_ID_LEN);
			it->fx[i]->len = n->extents[i].len;
			/* A blob the index lacks is a damaged file, known
			 * now: the writer reports it; no worker sees it. */
			if (gfsb_repo_index_lookup(s->r, GFSB_BLOB_DATA,
			    n->extents[i].id, &it->fx[i]->loc) != GFSB_OK) {
				it->fx[i]->err = GFSB_ENOTFOUND;
				it->fx[i]->done = 1;
			}
			gfsb_buf_init(&it->fx[i]->buf);
		}
	}
	*out = it;
	return GFSB_OK;
}

static gfsb_err plan_tree(struct rs *s, const uint8_t id[GFSB_ID_LEN],
    const char *rel, const char *abs, int selected, int depth);

/* Plan node n: selected says an ancestor matched the include filter. */
/*
 * A path for a message: log lines are capped at 1 KiB, and a path in a
 * deep tree is longer, so that the reason after it was cut off; keep the
 * start and the end of such a path.
 */
#define SHOWN_PART 300

static const char *
shown(const char *path, char buf[2 * SHOWN_PART + 4])
{
	size_t len = strlen(path);

	if (len <= 2 * SHOWN_PART + 3)
		return path;
	memcpy(buf, path, SHOWN_PART);
	memcpy(buf + SHOWN_PART, "...", 3);
	memcpy(buf + SHOWN_PART + 3, path + len - SHOWN_PART, SHOWN_PART + 1);
	return buf;
}

static gfsb_err
plan_node(struct rs *s, const struct gfsb_node *n, const char *rel,
    const char *abs, int selected, int depth)
{
	struct ritem *it = NULL, **grown;
	int match, below, hold = 0;
	gfsb_err e;

	if (gfsb_ops_patterns_match(s->excl, abs))
		return GFSB_OK;
	match = selected || s->incl == NULL ||
	    gfsb_ops_patterns_match(s->incl, abs);
	below = n->kind == GFSB_NODE_DIR && !match &&
	    gfsb_ops_patterns_may_match_below(s->incl, abs);
	if (!match && !below)
		return GFSB_OK;
	if (match && s->o->select != NULL) {
		if (n->kind != GFSB_NODE_DIR) {
			if (!s->o->select(s->o->select_cookie, abs, n))
				return GFSB_OK;
		} else {
			hold = 1; /* comes back with what it holds */
		}
	}
	if ((e = make_item(s, n, rel, abs, &it)) != GFSB_OK)
		return e;
	if (match && !hold) {
		if ((e = flush_pending(s)) != GFSB_OK ||
		    (e = queue_item(s, it)) != GFSB_OK)
			return e;
	} else {
		/* Held back until something inside is restored. */
		if (s->npending == s->cappending) {
			size_t ncap = s->cappending ? 2 * s->cappending : 16;

			grown = realloc(s->pending, ncap * sizeof(*grown));
			if (grown == NULL) {
				item_free(it);
				return GFSB_ENOMEM;
			}
			s->pending = grown;
			s->cappending = ncap;
		}
		s->pending[s->npending++] = it;
	}
	if (n->kind == GFSB_NODE_DIR)
		e = plan_tree(s, n->subtree, rel, abs, match, depth + 1);
	if (!match || hold) {
		s->npending--;
		item_free(s->pending[s->npending]); /* NULL if emitted */
	}
	return e;
}

/* Say that a directory's tree is lost.  Out of line: plan_tree recurses
 * once per directory level, and this message buffer must not be on every
 * level's stack frame. */
static __attribute__((noinline)) void
lost_dir(struct rs *s, const char *abs)
{
	char sbuf[2 * SHOWN_PART + 4];

	gfsb_ctx_log(s->ctx, GFSB_LOG_ERROR, "%s/: damaged: the directory's "
	    "contents are lost (%s); restored empty", shown(abs, sbuf),
	    gfsb_ctx_errmsg(s->ctx));
	gfsb_ctx_clearerr(s->ctx);
	s->lost_dirs++; /* the planner's own count */
}

static gfsb_err
plan_tree(struct rs *s, const uint8_t id[GFSB_ID_LEN], const char *rel,
    const char *abs, int selected, int depth)
{
	struct gfsb_tree t;
	char *crel, *cabs;
	size_t i;
	gfsb_err e;

	if (depth > RS_MAX_DEPTH)
		return gfsb_ctx_seterr(s->ctx, GFSB_ECORRUPT,
		    "snapshot nests directories too deep");
	if ((e = gfsb_repo_tree_load(s->plan_io, id, &t)) != GFSB_OK) {
		/* A lost directory loses what is below it, nothing else:
		 * the directory itself is restored empty and named, the
		 * rest of the snapshot still comes back (as verify says). */
		if (depth == 0 || (e != GFSB_ECORRUPT &&
		    e != GFSB_ENOTFOUND && e != GFSB_EUNSUPPORTED))
			return e;
		lost_dir(s, abs);
		return GFSB_OK;
	}
	for (i = 0; i < t.n && e == GFSB_OK; i++) {
		crel = join(rel, t.nodes[i].name);
		cabs = join(abs, t.nodes[i].name);
		if (crel == NULL || cabs == NULL)
			e = GFSB_ENOMEM;
		else
			e = plan_node(s, &t.nodes[i], crel, cabs, selected,
			    depth);
		free(crel);
		free(cabs);
		pthread_mutex_lock(&s->mu);
		if (e == GFSB_OK && s->err != GFSB_OK)
			e = s->err;
		pthread_mutex_unlock(&s->mu);
	}
	gfsb_repo_tree_fini(&t);
	return e;
}

struct planarg {
	struct rs *s;
	struct gfsb_node top; /* what was asked for */
	int is_root;
	char abs[PATH_MAX];
};

static void *
plan_main(void *arg)
{
	struct planarg *pa = arg;
	struct rs *s = pa->s;
	struct ritem *end;
	const char *base;
	gfsb_err e;

	if (pa->is_root || pa->top.kind == GFSB_NODE_DIR) {
		/* The directory's contents go into the target itself. */
		e = plan_tree(s, pa->top.subtree, "", pa->abs, 0, 0);
	} else {
		base = strrchr(pa->abs, '/');
		base = base ? base + 1 : pa->abs;
		e = plan_node(s, &pa->top, base, pa->abs, 0, 0);
	}
	if (e != GFSB_OK) {
		rs_fail(s, e);
		return NULL;
	}
	if ((end = calloc(1, sizeof(*end))) == NULL) {
		rs_fail(s, GFSB_ENOMEM);
		return NULL;
	}
	end->end = 1;
	run_flush(s);
	(void)queue_item(s, end);
	return NULL;
}

/* ---- writer ---- */

/* Linux POSIX ACL xattr format: u32 version 2, then {u16 tag, u16 perm,
 * u32 id} entries, little-endian. */
#define ACL_XATTR_ACCESS "system.posix_acl_access"
#define ACL_XATTR_DEFAULT "system.posix_acl_default"

static int
acl_tag(unsigned tag)
{
	switch (tag) {
	case 0x01: return ARCHIVE_ENTRY_ACL_USER_OBJ;
	case 0x02: return ARCHIVE_ENTRY_ACL_USER;
	case 0x04: return ARCHIVE_ENTRY_ACL_GROUP_OBJ;
	case 0x08: return ARCHIVE_ENTRY_ACL_GROUP;
	case 0x10: return ARCHIVE_ENTRY_ACL_MASK;
	case 0x20: return ARCHIVE_ENTRY_ACL_OTHER;
	}
	return -1;
}

/* Turn a posix_acl xattr into libarchive ACL entries; 0 if malformed. */
static int
add_acl(struct archive_entry *ae, const struct gfsb_xattr *x, int type)
{
	struct gfsb_rd rd;
	unsigned tag, perm;
	uint32_t id;
	int t;

	gfsb_rd_init(&rd, x->value, x->len);
	if (x->len < 4 || (x->len - 4) % 8 != 0 || gfsb_rd_u32(&rd) != 2)
		return 0;
	while (gfsb_rd_left(&rd) >= 8) {
		tag = gfsb_rd_u16(&rd);
		perm = gfsb_rd_u16(&rd) & 7;
		id = gfsb_rd_u32(&rd);
		if ((t = acl_tag(tag)) < 0)
			return 0;
		archive_entry_acl_add_entry(ae, type, (int)perm, t,
		    (t == ARCHIVE_ENTRY_ACL_USER || t == ARCHIVE_ENTRY_ACL_GROUP)
		    ? (int)id : -1, NULL);
	}
	return 1;
}

static unsigned
ae_type(enum gfsb_node_kind k)
{
	switch (k) {
	case GFSB_NODE_FILE: return AE_IFREG;
	case GFSB_NODE_DIR: return AE_IFDIR;
	case GFSB_NODE_SYMLINK: return AE_IFLNK;
	case GFSB_NODE_FIFO: return AE_IFIFO;
	case GFSB_NODE_CHARDEV: return AE_IFCHR;
	case GFSB_NODE_BLOCKDEV: return AE_IFBLK;
	case GFSB_NODE_SOCKET: return AE_IFSOCK;
	}
	return AE_IFREG;
}

static void
fill_entry(struct rs *s, struct archive_entry *ae, const struct ritem *it,
    const char *name, int tar)
{
	const struct gfsb_node *n = &it->node;
	uint64_t off = 0;
	size_t i;

	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, ae_type(n->kind));
	archive_entry_set_perm(ae, n->mode & 07777);
	archive_entry_set_uid(ae, n->uid);
	archive_entry_set_gid(ae, n->gid);
	if (n->user != NULL)
		archive_entry_set_uname(ae, n->user);
	if (n->group != NULL)
		archive_entry_set_gname(ae, n->group);
	archive_entry_set_mtime(ae, n->mtime.sec, n->mtime.nsec);
	archive_entry_set_atime(ae, n->mtime.sec, n->mtime.nsec);
	if (it->hardlink != NULL) {
		archive_entry_set_hardlink(ae, it->hardlink);
		archive_entry_set_size(ae, 0);
		return;
	}
	if (n->kind == GFSB_NODE_SYMLINK)
		archive_entry_set_symlink(ae, n->target);
	if (n->kind == GFSB_NODE_CHARDEV || n->kind == GFSB_NODE_BLOCKDEV)
		archive_entry_set_rdev(ae, (dev_t)n->rdev);
	if (n->kind == GFSB_NODE_FILE) {
		archive_entry_set_size(ae, (la_int64_t)n->size);
		/* A pax archive records holes as a sparse map of the data. */
		if (tar) {
			int holes = 0;

			for (i = 0; i < n->nextents; i++)
				holes |= n->extents[i].hole;
			for (i = 0; holes && i < n->nextents; i++) {
				if (!n->extents[i].hole)
					archive_entry_sparse_add_entry(ae,
					    (la_int64_t)off,
					    (la_int64_t)n->extents[i].len);
				off += n->extents[i].len;
			}
		}
	}
	for (i = 0; i < n->nxattrs; i++) {
		const struct gfsb_xattr *x = &n->xattrs[i];

		if (strcmp(x->name, ACL_XATTR_ACCESS) == 0) {
			if (add_acl(ae, x, ARCHIVE_ENTRY_ACL_TYPE_ACCESS))
				continue;
		} else if (strcmp(x->name, ACL_XATTR_DEFAULT) == 0) {
			if (add_acl(ae, x, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT))
				continue;
		}
		archive_entry_xattr_add_entry(ae, x->name, x->value, x->len);
	}
	(void)s;
}

static const uint8_t zeros[1 << 20];

static gfsb_err
write_zeros(struct archive *a, uint64_t left)
{
	size_t k;

	while (left > 0) {
		k = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
		if (archive_write_data(a, zeros, k) < 0)
			return GFSB_EIO;
		left -= k;
	}
	return GFSB_OK;
}

/* What one item added to the result (writers run at once). */
static void
count_item(struct rs *s, const struct gfsb_node *n, uint64_t bytes,
    uint64_t warnings, int damaged)
{
	pthread_mutex_lock(&s->mu);
	if (n->kind == GFSB_NODE_DIR)
		s->res->dirs++;
	else if (n->kind == GFSB_NODE_FILE)
		s->res->files++;
	else
		s->res->others++;
	s->res->bytes += bytes;
	s->res->warnings += warnings;
	s->res->damaged_files += damaged;
	pthread_mutex_unlock(&s->mu);
}

/* Wait for a fetch to be done; 0 if the restore failed first. */
static int
fetch_wait(struct rs *s, struct fetch *f, pthread_cond_t *cv)
{
	int done;

	pthread_mutex_lock(&s->mu);
	f->waiter = cv;
	while (!f->done && s->err == GFSB_OK)
		pthread_cond_wait(cv, &s->mu);
	f->waiter = NULL;
	done = f->done;
	pthread_mutex_unlock(&s->mu);
	return done;
}

/* A fetch's bytes are written: out of the in-flight budget (the planner
 * may go on), its buffer back to the pool. */
static void
fetch_release(struct rs *s, struct fetch *f)
{
	pthread_mutex_lock(&s->mu);
	s->inflight -= f->len;
	/* The planner waits for half the budget: wake it only then. */
	if (s->space_wait && s->inflight <= s->limit / 2)
		pthread_cond_signal(&s->cv_space);
	pthread_mutex_unlock(&s->mu);
	gfsb_pool_put(s->bufs, f->buf.data, f->buf.cap);
	gfsb_buf_init(&f->buf);
}

/* Where a file's bytes go: libarchive (an archive, or its disk writer)
 * or, for the file writers' direct path, a file descriptor. */
struct sink {
	struct archive *a;
	int fd;			/* >= 0: pwrite here */
	int tar;
	pthread_cond_t *cv;	/* the writer's, to wait for fetches */
};

/* Write all of data at off; 0 or -1 with errno (fd) / libarchive's
 * error (a). */
static int
sink_write(const struct sink *k, const uint8_t *data, size_t len, uint64_t off)
{
	ssize_t w;

	if (k->fd < 0) {
		w = k->tar ? archive_write_data(k->a, data, len) :
		    archive_write_data_block(k->a, data, len, (la_int64_t)off);
		return w < 0 ? -1 : 0;
	}
	while (len > 0) {
		if ((w = pwrite(k->fd, data, len, (off_t)off)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		data += w;
		len -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static const char *
sink_error(const struct sink *k)
{
	return k->fd >= 0 ? strerror(errno) : archive_error_string(k->a);
}

/* What writing one item's data came to. */
struct wdone {
	uint64_t bytes, warnings, end; /* end: after the last byte written */
	int damaged, ok;
};

/* An item's extents, in order, to k: each blob waited for, written (a
 * damaged one is a hole on disk, zeros in an archive, and named) and
 * released.  Fatal errors are returned. */
static gfsb_err
write_extents(struct rs *s, const struct sink *k, struct ritem *it,
    struct wdone *d)
{
	const struct gfsb_node *n = &it->node;
	uint64_t off = 0;
	size_t i;
	char idhex[GFSB_ID_HEX], sbuf[2 * SHOWN_PART + 4];

	for (i = 0; it->hardlink == NULL && i < n->nextents; i++) {
		struct fetch *f = it->fx ? it->fx[i] : NULL;

		if (f == NULL) {
			/* A hole.  On disk: skip it.  libarchive's pax writer
			 * takes the whole logical stream and drops the bytes
			 * its sparse map calls holes, so feed it zeros. */
			if (k->tar && d->ok && write_zeros(k->a,
			    n->extents[i].len) != GFSB_OK)
				return GFSB_EIO;
			off += n->extents[i].len;
			continue;
		}
		if (!fetch_wait(s, f, k->cv))
			return s->err;
		if (f->err != GFSB_OK && f->err != GFSB_ECORRUPT &&
		    f->err != GFSB_ENOTFOUND) {
			/* Not damage: the repository cannot be read (network,
			 * credentials, disk, memory).  Stop, saying why. */
			return f->err;
		}
		if (f->err != GFSB_OK) {
			gfsb_hex_encode(f->id, GFSB_ID_LEN, idhex);
			if (!d->damaged)
				gfsb_ctx_log(s->ctx, GFSB_LOG_ERROR,
				    "%s: damaged: blob %.16s (bytes %llu-%llu) "
				    "%s; restored with that range as a hole",
				    shown(it->abspath, sbuf), idhex,
				    (unsigned long long)off,
				    (unsigned long long)(off + f->len),
				    f->err == GFSB_ENOTFOUND ?
				    "is missing from the index" :
				    "failed its integrity check");
			d->damaged = 1;
			/* In an archive the bytes must be there: zeros. */
			if (k->tar && d->ok && write_zeros(k->a, f->len) !=
			    GFSB_OK)
				return GFSB_EIO;
		} else if (d->ok) {
			if (sink_write(k, f->buf.data, f->buf.len, off) != 0) {
				d->ok = 0;
				d->warnings++;
				gfsb_ctx_log(s->ctx, GFSB_LOG_ERROR,
				    "%s: cannot write: %s",
				    shown(it->abspath, sbuf), sink_error(k));
				if (k->tar)
					return gfsb_ctx_seterr(s->ctx, GFSB_EIO,
					    "cannot write the archive: %s",
					    archive_error_string(k->a));
			} else {
				d->bytes += f->buf.len;
				d->end = off + f->buf.len;
			}
		}
		off += f->len;
		fetch_release(s, f);
	}
	return GFSB_OK;
}

/* Write one item's header and data, as `name` (it->path relative to the
 * writer's directory).  Fatal errors are returned. */
static gfsb_err
write_item(struct rs *s, struct archive *a, struct ritem *it,
    const char *name, int tar, pthread_cond_t *cv)
{
	struct archive_entry *ae;
	struct sink k = { a, -1, tar, cv };
	struct wdone d;
	int r, written = 0;
	char sbuf[2 * SHOWN_PART + 4];
	gfsb_err e = GFSB_OK;

	memset(&d, 0, sizeof(d));
	if ((ae = archive_entry_new()) == NULL)
		return GFSB_ENOMEM;
	fill_entry(s, ae, it, name, tar);
	r = archive_write_header(a, ae);
	if (r == ARCHIVE_FATAL) {
		e = gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: %s",
		    shown(it->abspath, sbuf), archive_error_string(a));
		goto out;
	}
	d.ok = r >= ARCHIVE_WARN;
	written = 1;
	if (r != ARCHIVE_OK) {
		d.warnings++;
		gfsb_ctx_log(s->ctx, r == ARCHIVE_WARN ? GFSB_LOG_WARN :
		    GFSB_LOG_ERROR, "%s: %s", shown(it->abspath, sbuf),
		    archive_error_string(a));
	}
	if ((e = write_extents(s, &k, it, &d)) != GFSB_OK)
		goto out;
	r = archive_write_finish_entry(a);
	if (r == ARCHIVE_FATAL) {
		e = gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: %s",
		    shown(it->abspath, sbuf), archive_error_string(a));
	} else if (r != ARCHIVE_OK && d.ok) {
		d.warnings++;
		gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "%s: %s",
		    shown(it->abspath, sbuf), archive_error_string(a));
	}
out:
	archive_entry_free(ae);
	if (written)
		count_item(s, &it->node, d.bytes, d.warnings, d.damaged);
	return e;
}

static struct ritem *
next_item(struct rs *s)
{
	struct ritem *it;

	pthread_mutex_lock(&s->mu);
	while (s->iq_head == NULL && s->err == GFSB_OK)
		pthread_cond_wait(&s->cv_item, &s->mu);
	if ((it = s->iq_head) != NULL) {
		s->iq_head = it->next;
		if (s->iq_head == NULL)
			s->iq_tail = NULL;
		it->next = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	return it;
}

/* An item is written (or given up): free it, and its slot for the
 * planner.  After a failure its fetches may still be in the workers'
 * hands: it is kept until they have stopped. */
static void
item_done(struct rs *s, struct ritem *it, gfsb_err e)
{
	pthread_mutex_lock(&s->mu);
	if (--s->nitems == RS_MAX_ITEMS / 2 - 1)
		pthread_cond_broadcast(&s->cv_space);
	if (e != GFSB_OK) {
		it->next = s->dead;
		s->dead = it;
		it = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	item_free(it);
}

/* ---- file writers ---- */

/* Items a file writer may take: a regular file of its own (a hard link
 * waits for the file it links to, which the ordered writer makes). */
static int
for_file_writer(const struct ritem *it)
{
	return it->node.kind == GFSB_NODE_FILE && it->hardlink == NULL &&
	    it->node.nlink <= 1;
}

static void
file_queue(struct rs *s, struct ritem *it)
{
	pthread_mutex_lock(&s->mu);
	if (s->fq_items_tail != NULL)
		s->fq_items_tail->next = it;
	else
		s->fq_items = it;
	s->fq_items_tail = it;
	pthread_cond_signal(&s->cv_file);
	pthread_mutex_unlock(&s->mu);
}

struct filewriter {
	struct rs *s;
	struct archive *a;
	struct rs_cwd cwd;	/* its own working directory */
	int owner;		/* restores owners (runs as root) */
	pthread_cond_t *cv;	/* its own in s->cv_done */
	pthread_t thread;
	int started;
};

/* The file writers' direct path.  libarchive's disk writer spends a dozen
 * system calls on a plain file (it saves and restores the umask, checks
 * the name for a symlink with an open, a stat and a close, and looks for
 * the descriptor's flags): a third of a restore's calls.  Where the
 * writer sits in the file's own directory (ops_restore_cwd.c) a plain new
 * file needs only openat(O_CREAT | O_EXCL | O_NOFOLLOW), its writes,
 * fchown, futimens and close: O_EXCL with O_NOFOLLOW neither follows nor
 * replaces anything, and the directory was reached without following a
 * symlink.  The rest (a name that exists, extended attributes, set-id
 * bits, a directory that could not be entered) goes through libarchive,
 * as before.  Returns 0 when it did not take the item (nothing was
 * changed), 1 when it did; fatal errors in *ep. */
static int
write_file_direct(struct rs *s, struct filewriter *w, struct ritem *it,
    const char *name, gfsb_err *ep)
{
	const struct gfsb_node *n = &it->node;
	struct sink k = { w->a, -1, 0, w->cv };
	struct timespec ts[2];
	struct wdone d;
	char sbuf[2 * SHOWN_PART + 4];
	int64_t uid, gid;

	if (!w->cwd.own || strchr(name, '/') != NULL || n->nxattrs > 0 ||
	    (n->mode & 07000) != 0)
		return 0;
	if ((k.fd = openat(AT_FDCWD, name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, n->mode & 0777)) < 0)
		return 0; /* libarchive replaces it, or says why not */
	memset(&d, 0, sizeof(d));
	d.ok = 1;
	*ep = write_extents(s, &k, it, &d);
	if (*ep == GFSB_OK && d.ok && d.end < n->size &&
	    ftruncate(k.fd, (off_t)n->size) != 0) {
		d.ok = 0;
		d.warnings++;
		gfsb_ctx_log(s->ctx, GFSB_LOG_ERROR, "%s: cannot write: %s",
		    shown(it->abspath, sbuf), strerror(errno));
	}
	if (*ep == GFSB_OK && w->owner) {
		/* As libarchive restores owners: by name where the system
		 * knows it, else by number. */
		uid = archive_write_disk_uid(w->a, n->user, n->uid);
		gid = archive_write_disk_gid(w->a, n->group, n->gid);
		if (fchown(k.fd, (uid_t)uid, (gid_t)gid) != 0) {
			d.warnings++;
			gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "%s: cannot set "
			    "the owner: %s", shown(it->abspath, sbuf),
			    strerror(errno));
		}
	}
	ts[0].tv_sec = ts[1].tv_sec = (time_t)n->mtime.sec;
	ts[0].tv_nsec = ts[1].tv_nsec = (long)n->mtime.nsec;
	if (*ep == GFSB_OK && futimens(k.fd, ts) != 0) {
		d.warnings++;
		gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "%s: cannot set the "
		    "times: %s", shown(it->abspath, sbuf), strerror(errno));
	}
	if (close(k.fd) != 0 && *ep == GFSB_OK && d.ok) {
		d.warnings++;
		gfsb_ctx_log(s->ctx, GFSB_LOG_ERROR, "%s: cannot write: %s",
		    shown(it->abspath, sbuf), strerror(errno));
	}
	count_item(s, n, d.bytes, d.warnings, d.damaged);
	return 1;
}


static void *
file_main(void *arg)
{
	struct filewriter *w = arg;
	struct rs *s = w->s;
	struct ritem *it;
	const char *name;
	gfsb_err e;

	rs_cwd_init(&w->cwd);
	/* The thread's umask is its own with its directory (CLONE_FS): the
	 * direct path creates files with their modes as they are. */
	if (w->cwd.own)
		umask(0);
	w->owner = geteuid() == 0;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (s->fq_items == NULL && !s->files_end &&
		    s->err == GFSB_OK)
			pthread_cond_wait(&s->cv_file, &s->mu);
		if ((it = s->fq_items) != NULL) {
			s->fq_items = it->next;
			if (s->fq_items == NULL)
				s->fq_items_tail = NULL;
			it->next = NULL;
		}
		e = s->err;
		pthread_mutex_unlock(&s->mu);
		if (it == NULL)
			break;
		if (e == GFSB_OK) {
			name = rs_cwd_enter(&w->cwd, it->path);
			if (!write_file_direct(s, w, it, name, &e))
				e = write_item(s, w->a, it, name, 0, w->cv);
			if (e != GFSB_OK)
				rs_fail(s, e);
		}
		item_done(s, it, e);
	}
	rs_cwd_fini(&w->cwd);
	return NULL;
}

static struct archive *
disk_writer(void)
{
	struct archive *a;
	int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
	    ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
	    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;

	if (geteuid() == 0)
		flags |= ARCHIVE_EXTRACT_OWNER;
	if ((a = archive_write_disk_new()) == NULL)
		return NULL;
	if (archive_write_disk_set_options(a, flags) != ARCHIVE_OK ||
	    archive_write_disk_set_standard_lookup(a) != ARCHIVE_OK) {
		archive_write_free(a);
		return NULL;
	}
	return a;
}

/* Start up to n file writers (none: the ordered writer writes all). */
static void
files_start(struct rs *s, struct filewriter *fw, unsigned n)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		fw[k].s = s;
		fw[k].cv = &s->cv_done[1 + k];
		if ((fw[k].a = disk_writer()) == NULL)
			break;
		if (pthread_create(&fw[k].thread, NULL, file_main, &fw[k]) !=
		    0)
			break;
		fw[k].started = 1;
	}
}

/* Let the file writers finish what they hold, then close them. */
static void
files_stop(struct rs *s, struct filewriter *fw)
{
	unsigned k;

	pthread_mutex_lock(&s->mu);
	s->files_end = 1;
	pthread_cond_broadcast(&s->cv_file);
	pthread_mutex_unlock(&s->mu);
	for (k = 0; k < RS_FILE_WRITERS; k++) {
		if (fw[k].started)
			pthread_join(fw[k].thread, NULL);
		if (fw[k].a != NULL && archive_write_close(fw[k].a) !=
		    ARCHIVE_OK)
			rs_fail(s, gfsb_ctx_seterr(s->ctx, GFSB_EIO, "cannot "
			    "finish: %s", archive_error_string(fw[k].a)));
		if (fw[k].a != NULL)
			archive_write_free(fw[k].a);
		fw[k].a = NULL;
	}
}

/* Tell the caller where the restore stands (the ordered writer's thread).  last: the
 * final call, always made. */
static void
progress(struct rs *s, double t0, int last)
{
	struct gfsb_restore_progress *p = &s->prog;
	double now = gfsb_monotonic_seconds();

	if (!last && now - t0 - p->seconds < 0.1)
		return;
	p->seconds = now - t0;
	pthread_mutex_lock(&s->mu);
	p->files = s->res->files + s->res->dirs + s->res->others;
	p->bytes = s->res->bytes;
	if (!p->total_known || s->planned) {
		p->total_files = s->plan_files;
		p->total_bytes = s->plan_bytes;
		p->total_known = s->planned;
	}
	pthread_mutex_unlock(&s->mu);
	if (last) {
		p->total_files = p->files;
		p->total_bytes = p->bytes;
		p->total_known = 1;
	}
	s->o->progress(s->o->progress_cookie, p);
}

/* The ordered writer: every item in the snapshot's order, handing regular
 * files to the file writers when there are any. */
static void
write_all(struct rs *s, struct archive *a, int tar, double t0)
{
	struct ritem *it;
	int parallel;
	gfsb_err e;

	pthread_mutex_lock(&s->mu);
	parallel = !tar && !s->files_end;
	pthread_mutex_unlock(&s->mu);
	while ((it = next_item(s)) != NULL) {
		if (it->end) {
			item_done(s, it, GFSB_OK);
			break;
		}
		if (parallel && for_file_writer(it)) {
			file_queue(s, it);
		} else {
			if ((e = write_item(s, a, it, it->path, tar,
			    &s->cv_done[0])) != GFSB_OK)
				rs_fail(s, e);
			item_done(s, it, e);
			if (e != GFSB_OK)
				break;
		}
		if (s->o->progress != NULL)
			progress(s, t0, 0);
		if (gfsb_ctx_canceled(s->ctx)) {
			rs_fail(s, GFSB_ECANCELED);
			break;
		}
	}
}

static void
items_free(struct ritem *it)
{
	struct ritem *next;

	for (; it != NULL; it = next) {
		next = it->next;
		item_free(it);
	}
}

/* A directory restored as SNAP:PATH into a target the restore made: the
 * target is that directory, so it takes its owner, mode and times (it
 * was made 0700, whatever the snapshot says).  The process is in it. */
static void
target_meta(struct rs *s, const struct gfsb_node *top)
{
	struct timespec ts[2];

	if (geteuid() == 0 && lchown(".", (uid_t)top->uid, (gid_t)top->gid) !=
	    0)
		gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "%s: cannot set the owner: "
		    "%s", s->o->target, strerror(errno));
	if (chmod(".", top->mode & 07777) != 0)
		gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "%s: cannot set the mode: "
		    "%s", s->o->target, strerror(errno));
	ts[0].tv_sec = ts[1].tv_sec = (time_t)top->mtime.sec;
	ts[0].tv_nsec = ts[1].tv_nsec = top->mtime.nsec;
	if (utimensat(AT_FDCWD, ".", ts, 0) != 0)
		gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "%s: cannot set the "
		    "times: %s", s->o->target, strerror(errno));
}

/* ---- target ---- */

/* mkdir -p, new directories private (0700) until the restore is done. */
static int
mkdir_p(const char *path)
{
	char buf[PATH_MAX], *p;

	if (strlen(path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0700);
}

static gfsb_err
prepare_target(struct rs *s, const char *target)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int empty = 1;

	if (lstat(target, &st) != 0) {
		if (errno != ENOENT)
			return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: %s",
			    target, strerror(errno));
		if (mkdir_p(target) != 0)
			return gfsb_ctx_seterr(s->ctx, GFSB_EIO,
			    "cannot create target %s: %s", target,
			    strerror(errno));
		s->target_made = 1;
		return GFSB_OK;
	}
	if (!S_ISDIR(st.st_mode))
		return gfsb_ctx_seterr(s->ctx, GFSB_EEXIST,
		    "target %s exists and is not a directory", target);
	if ((d = opendir(target)) == NULL)
		return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: %s", target,
		    strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	if (!empty)
		return gfsb_ctx_seterr(s->ctx, GFSB_EEXIST,
		    "target %s is not empty: restore into a new or empty "
		    "directory", target);
	return GFSB_OK;
}

void
gfsb_ops_restore_progress_line(const struct gfsb_restore_progress *p,
    char *buf, size_t len)
{
	char done[32], total[32];
	double rate = p->seconds > 0 ? (double)p->bytes / p->seconds : 0, left;
	unsigned t = (unsigned)p->seconds, eta;
	int n;

	gfsb_size_format(p->bytes, done, sizeof(done));
	gfsb_size_format(p->total_bytes, total, sizeof(total));
	if (!p->total_known || p->total_bytes == 0) {
		snprintf(buf, len, "[%u:%02u] %llu files, %s, %.1f MB/s", t / 60,
		    t % 60, (unsigned long long)p->files, done, rate / 1e6);
		return;
	}
	n = snprintf(buf, len, "[%u:%02u] %llu of %llu files, %s of %s "
	    "(%.0f%%), %.1f MB/s", t / 60, t % 60,
	    (unsigned long long)p->files, (unsigned long long)p->total_files,
	    done, total, 100.0 * (double)p->bytes / (double)p->total_bytes,
	    rate / 1e6);
	if (n < 0 || (size_t)n >= len || rate <= 0 || p->bytes >= p->total_bytes)
		return;
	left = (double)(p->total_bytes - p->bytes) / rate;
	eta = left > 359999 ? 359999 : (unsigned)left;
	snprintf(buf + n, len - (size_t)n, ", ETA %u:%02u:%02u", eta / 3600,
	    eta / 60 % 60, eta % 60);
}

void
gfsb_ops_restore_io_line(const struct gfsb_restore_result *res, char *buf,
    size_t len)
{
	char rb[32];
	size_t n;

	gfsb_ops_io_line("storage", &res->io, buf, len);
	n = strlen(buf);
	gfsb_size_format(res->read_bytes, rb, sizeof(rb));
	snprintf(buf + n, len - n, "; %llu reads of pack data over %s",
	    (unsigned long long)res->reads, rb);
}

/*
 * Where the restore goes: a pax archive (extended attributes in
 * SCHILY.xattr, which GNU tar and libarchive both read; names that are not
 * UTF-8 kept as bytes, hdrcharset=BINARY, with a warning), or the target
 * directory, which the process enters (*cwd: where it was) so that the
 * disk writer works relative to it.
 */
static gfsb_err
open_writer(struct rs *s, struct archive **ap, int *cwd)
{
	const struct gfsb_restore_opts *o = s->o;
	struct archive *a;
	gfsb_err e;
	int r;

	if (o->tar == NULL) {
		if ((e = prepare_target(s, o->target)) != GFSB_OK)
			return e;
		if ((*cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		    chdir(o->target) != 0)
			return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "cannot enter "
			    "%s: %s", o->target, strerror(errno));
		return (*ap = disk_writer()) != NULL ? GFSB_OK : GFSB_ENOMEM;
	}
	if ((*ap = a = archive_write_new()) == NULL ||
	    archive_write_set_format_pax(a) != ARCHIVE_OK ||
	    archive_write_set_format_option(a, "pax", "xattrheader",
	    "SCHILY") != ARCHIVE_OK)
		return gfsb_ctx_seterr(s->ctx, GFSB_ENOMEM, "cannot set up the "
		    "archive writer");
	archive_write_set_bytes_in_last_block(a, 1);
	if (strcmp(o->tar, "-") == 0) {
		r = archive_write_open_fd(a, o->tar_fd);
	} else {
		/* A new file, never over one that exists (an earlier archive,
		 * or any file named by mistake); a device or a FIFO that
		 * exists is written to. */
		struct stat st;
		int exists = lstat(o->tar, &st) == 0;

		if (exists && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
			return gfsb_ctx_seterr(s->ctx, GFSB_EEXIST, "%s "
			    "exists: restore --to-tar writes a new file "
			    "(remove it, or name another)", o->tar);
		if ((s->tar_fd = open(o->tar, O_WRONLY | O_CLOEXEC |
		    (exists ? 0 : O_CREAT | O_EXCL), 0600)) < 0)
			return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "cannot "
			    "write %s: %s", o->tar, strerror(errno));
		s->tar_made = !exists;
		r = archive_write_open_fd(a, s->tar_fd);
	}
	if (r != ARCHIVE_OK)
		return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "cannot write %s: %s",
		    o->tar, archive_error_string(a));
	return GFSB_OK;
}

/* A restore of the whole snapshot knows its total from the snapshot's
 * summary; any other learns it as the planner goes. */
static void
whole_total(struct rs *s, const struct gfsb_snapshot *snap)
{
	const struct gfsb_snapshot_summary *m = &snap->summary;

	if (!snap->has_summary || s->o->subpath != NULL ||
	    s->o->nincludes > 0 || s->o->nexcludes > 0 ||
	    s->o->select != NULL)
		return;
	s->prog.total_known = 1;
	s->prog.total_files = m->total_files_processed + m->dirs_new +
	    m->dirs_changed + m->dirs_unmodified;
	s->prog.total_bytes = m->total_bytes_processed;
}

/* Start up to n readers; returns how many started. */
static unsigned
workers_start(struct rs *s, pthread_t *w, unsigned n)
{
	unsigned k;

	for (k = 0; k < n; k++)
		if (pthread_create(&w[k], NULL, fetch_main, s) != 0)
			break;
	return k;
}

/* Let the readers finish the runs queued, and join them. */
static void
workers_stop(struct rs *s, pthread_t *w, unsigned n)
{
	unsigned k;

	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cv_fetch);
	pthread_mutex_unlock(&s->mu);
	for (k = 0; k < n; k++)
		pthread_join(w[k], NULL);
}

/* The options checked, the lock, the snapshot, the index, and the path
 * to restore found in it. */
static gfsb_err
prepare(struct rs *s, struct planarg *pa, struct gfsb_snapshot **snap,
    struct gfsb_lock **lock)
{
	const struct gfsb_restore_opts *o = s->o;
	gfsb_err e;

	if ((o->target == NULL) == (o->tar == NULL))
		return gfsb_ctx_seterr(s->ctx, GFSB_EINVAL, "give exactly one "
		    "of a target directory and a tar file");
	if (o->nincludes > 0 && (e = gfsb_ops_patterns_new(o->includes,
	    o->nincludes, &s->incl)) != GFSB_OK)
		return gfsb_ctx_seterr(s->ctx, e, "invalid include pattern");
	if ((e = gfsb_ops_patterns_new(o->excludes, o->nexcludes, &s->excl)) !=
	    GFSB_OK)
		return gfsb_ctx_seterr(s->ctx, e, "invalid exclude pattern");
	if ((e = gfsb_pool_new(RS_POOL, &s->bufs)) != GFSB_OK ||
	    (!o->no_lock && (e = gfsb_repo_lock(s->r, 0, lock)) != GFSB_OK) ||
	    (e = gfsb_repo_snapshot_find(s->r, o->snapshot, o->host, snap)) !=
	    GFSB_OK || (e = gfsb_repo_index_load(s->r)) != GFSB_OK ||
	    (e = gfsb_repo_io_new(s->r, &s->plan_io)) != GFSB_OK)
		return e;
	snprintf(s->res->snapshot_id, sizeof(s->res->snapshot_id), "%s",
	    (*snap)->id);
	whole_total(s, *snap);
	snprintf(pa->abs, sizeof(pa->abs), "%s", o->subpath ? o->subpath : "/");
	if (gfsb_ops_path_clean(pa->abs, pa->abs, sizeof(pa->abs)) != GFSB_OK)
		return gfsb_ctx_seterr(s->ctx, GFSB_EINVAL, "invalid path %s",
		    o->subpath);
	if ((e = ops_find_path(s->plan_io, (*snap)->tree, pa->abs, &pa->top,
	    &pa->is_root)) != GFSB_OK) {
		if (e == GFSB_ENOTFOUND)
			gfsb_ctx_seterr(s->ctx, e, "%s: not in snapshot %.8s",
			    pa->abs, (*snap)->id);
		return e;
	}
	pa->s = s;
	return GFSB_OK;
}

static void
rs_init(struct rs *s, struct gfsb_repo *r, const struct gfsb_restore_opts *o,
    struct gfsb_restore_result *res, int remote)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	s->tar_fd = -1;
	s->r = r;
	s->ctx = gfsb_repo_ctx(r);
	s->o = o;
	s->res = res;
	/* Remote reads wait on the network: longer runs over wider gaps
	 * (fewer, larger requests) and as many reads in flight as the
	 * backend has connections (4 by default). */
	s->limit = remote ? 2 * RS_INFLIGHT : RS_INFLIGHT;
	s->gap = remote ? RS_RUN_GAP_REMOTE : RS_RUN_GAP;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv_fetch, NULL);
	for (i = 0; i < 1 + RS_FILE_WRITERS; i++)
		pthread_cond_init(&s->cv_done[i], NULL);
	pthread_cond_init(&s->cv_item, NULL);
	pthread_cond_init(&s->cv_space, NULL);
	pthread_cond_init(&s->cv_file, NULL);
}

/* Close the archive file we opened.  One cut short by a failure (not by
 * damage, which leaves zeros where the damaged bytes were and names
 * them) is removed: it would pass for a whole one. */
static gfsb_err
tar_close(struct rs *s, gfsb_err e)
{
	if (s->tar_fd >= 0 && close(s->tar_fd) != 0 && e == GFSB_OK)
		e = gfsb_ctx_seterr(s->ctx, GFSB_EIO, "cannot write %s: %s",
		    s->o->tar, strerror(errno));
	s->tar_fd = -1;
	if (s->tar_made && e != GFSB_OK && e != GFSB_ECORRUPT)
		unlink(s->o->tar);
	return e;
}

gfsb_err
gfsb_ops_restore(struct gfsb_repo *r, const struct gfsb_restore_opts *o,
    struct gfsb_restore_result *res)
{
	struct gfsb_snapshot *snap = NULL;
	struct gfsb_lock *lock = NULL;
	struct archive *a = NULL;
	struct planarg pa;
	struct filewriter fw[RS_FILE_WRITERS];
	pthread_t plan, *workers = NULL;
	unsigned nw, started = 0, i;
	int plan_started = 0, cwd = -1, tar = o->tar != NULL, remote;
	double t0 = gfsb_monotonic_seconds();
	struct gfsb_backend_io io0;
	struct rs s;
	gfsb_err e, e2;

	memset(res, 0, sizeof(*res));
	gfsb_backend_io_get(gfsb_repo_backend(r), &io0);
	remote = gfsb_backend_is_remote(gfsb_repo_backend(r));
	rs_init(&s, r, o, res, remote);
	memset(&pa, 0, sizeof(pa));
	memset(fw, 0, sizeof(fw));
	if ((e = prepare(&s, &pa, &snap, &lock)) != GFSB_OK)
		goto out;

	if ((e = open_writer(&s, &a, &cwd)) != GFSB_OK)
		goto out;

	nw = o->threads ? o->threads : ops_ncpus(16);
	if (o->threads == 0 && remote && nw < 4)
		nw = 4;
	if ((workers = calloc(nw, sizeof(*workers))) == NULL) {
		e = GFSB_ENOMEM;
		goto out;
	}
	started = workers_start(&s, workers, nw);
	if (started == 0 || pthread_create(&plan, NULL, plan_main, &pa) != 0) {
		e = GFSB_ENOMEM;
		rs_fail(&s, e);
	} else {
		plan_started = 1;
	}
	if (plan_started) {
		files_start(&s, fw, tar ? 0 : RS_FILE_WRITERS);
		write_all(&s, a, tar, t0);
		pthread_join(plan, NULL);
		files_stop(&s, fw);
	}
	workers_stop(&s, workers, started);
	/* Closing applies the deferred directory modes and times. */
	if (archive_write_close(a) != ARCHIVE_OK) {
		e2 = gfsb_ctx_seterr(s.ctx, GFSB_EIO, "cannot finish: %s",
		    archive_error_string(a));
		if (s.err == GFSB_OK)
			s.err = e2;
	}
	if (s.target_made && !pa.is_root && pa.top.kind == GFSB_NODE_DIR &&
	    (s.err == GFSB_OK || s.err == GFSB_ECORRUPT))
		target_meta(&s, &pa.top);
	if (o->progress != NULL)
		progress(&s, t0, 1);
	e = s.err;
	/* The planner has finished (joined) by now. */
	res->damaged_files += s.lost_dirs;
	if (e == GFSB_OK && res->damaged_files > 0)
		e = gfsb_ctx_seterr(s.ctx, GFSB_ECORRUPT,
		    "%llu file(s) could not be restored intact (named above)",
		    (unsigned long long)res->damaged_files);
out:
	if (a != NULL)
		archive_write_free(a);
	e = tar_close(&s, e);
	if (cwd >= 0) {
		if (fchdir(cwd) != 0 && e == GFSB_OK)
			e = GFSB_EIO;
		close(cwd);
	}
	/* Anything still queued after a failure (workers have stopped). */
	items_free(s.dead);
	items_free(s.iq_head);
	items_free(s.fq_items);
	for (i = 0; i < s.links.cap; i++)
		free(s.links.v[i].val);
	ops_linkmap_fini(&s.links);
	for (i = 0; i < s.npending; i++)
		item_free(s.pending[i]);
	free(s.pending);
	free(workers);
	gfsb_repo_node_fini(&pa.top);
	gfsb_repo_io_free(s.plan_io);
	gfsb_pool_free(s.bufs);
	gfsb_ops_patterns_free(s.incl);
	gfsb_ops_patterns_free(s.excl);
	gfsb_repo_snapshot_free(snap);
	gfsb_repo_unlock(lock);
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.cv_fetch);
	for (i = 0; i < 1 + RS_FILE_WRITERS; i++)
		pthread_cond_destroy(&s.cv_done[i]);
	pthread_cond_destroy(&s.cv_item);
	pthread_cond_destroy(&s.cv_space);
	pthread_cond_destroy(&s.cv_file);
	res->seconds = gfsb_monotonic_seconds() - t0;
	gfsb_ops_backend_io_since(gfsb_repo_backend(r), &io0, &res->io);
	return e;
}
