/*
 * Restore, planning: the planner thread walks the snapshot's trees in
 * order, queues one item per entry for the writers and each data extent
 * as a fetch, gathering fetches of one pack region into runs (one range
 * read each) under the in-flight budget.  Includes, excludes and a
 * selection decide what is restored; hard links are found here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops_restore.h"

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
		rs_item_free(it);
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
			rs_item_free(it);
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
		rs_item_free(it);
		return GFSB_ENOMEM;
	}
	if (n->kind == GFSB_NODE_FILE && n->nlink > 1) {
		if ((first = ops_linkmap_find(&s->links, n->dev, n->inode)) !=
		    NULL) {
			if ((it->hardlink = strdup(first)) == NULL) {
				rs_item_free(it);
				return GFSB_ENOMEM;
			}
			*out = it;
			return GFSB_OK;
		}
		if ((copy = strdup(rel)) == NULL ||
		    ops_linkmap_add(&s->links, n->dev, n->inode, copy) !=
		    GFSB_OK) {
			free(copy);
			rs_item_free(it);
			return GFSB_ENOMEM;
		}
	}
	if (n->kind == GFSB_NODE_FILE && n->nextents > 0) {
		if ((it->fx = calloc(n->nextents, sizeof(*it->fx))) == NULL) {
			rs_item_free(it);
			return GFSB_ENOMEM;
		}
		for (i = 0; i < n->nextents; i++) {
			if (n->extents[i].hole)
				continue;
			if ((it->fx[i] = calloc(1, sizeof(struct fetch))) ==
			    NULL) {
				rs_item_free(it);
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
	if (match && !hold && rs_keep_existing(s, n, rel)) {
		s->kept++;
		return GFSB_OK;
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
				rs_item_free(it);
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
		rs_item_free(s->pending[s->npending]); /* NULL if emitted */
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
	    "contents are lost (%s); restored empty", rs_shown(abs, sbuf),
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
	/* A directory restored whole: what it holds besides, to remove. */
	if (s->o->delete_extra && (selected || s->incl == NULL) &&
	    (e = rs_note_extras(s, &t, rel, abs)) != GFSB_OK) {
		gfsb_repo_tree_fini(&t);
		return e;
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

void *
rs_plan_main(void *arg)
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

