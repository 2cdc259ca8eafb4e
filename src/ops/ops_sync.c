/*
 * sync: keep an offsite mirror of a repository, object for object.
 *
 * The mirror is the same repository (same keys, same object names), so a
 * sync is a verified copy, never a re-encryption: every object read from
 * the source is checked against its name (SHA-256) before it is written,
 * and an S3 destination checks it again (the name is the signed payload
 * hash).  Order keeps the mirror restorable at every instant: packs before
 * the index that names them, index before snapshots; deletions in the
 * reverse order, snapshots first.  Locks are never copied.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

/* One phase of copies, shared by its worker threads. */
struct phase {
	struct gfsb_backend *src, *dst;
	struct gfsb_ctx *ctx;
	enum gfsb_obj type;
	const struct gfsb_objent **todo;
	size_t n, next;
	pthread_mutex_t mu;
	struct gfsb_sync_result *res;
	struct gfsb_sync_progress *prog;
	const struct gfsb_sync_opts *o;
	double t0;
	gfsb_err err;
};

static gfsb_err
copy_one(struct phase *ph, const struct gfsb_objent *ob,
    struct gfsb_buf *b)
{
	char hex[GFSB_ID_HEX];
	gfsb_err e;

	b->len = 0;
	if ((e = gfsb_backend_get(ph->src, ph->type, ob->name, b)) != GFSB_OK)
		return e;
	gfsb_crypto_sha256_hex(b->data, b->len, hex);
	if (strcmp(hex, ob->name) != 0)
		return gfsb_ctx_seterr(ph->ctx, GFSB_ECORRUPT,
		    "%s/%s in the source is damaged (its bytes hash to "
		    "%.16s...): not copied", gfsb_backend_type_name(ph->type),
		    ob->name, hex);
	return gfsb_backend_put(ph->dst, ph->type, ob->name, b->data, b->len);
}

static void *
phase_worker(void *arg)
{
	struct phase *ph = arg;
	const struct gfsb_objent *ob;
	struct gfsb_buf b;
	gfsb_err e;

	gfsb_buf_init(&b);
	for (;;) {
		pthread_mutex_lock(&ph->mu);
		if (ph->next >= ph->n || gfsb_ctx_canceled(ph->ctx)) {
			pthread_mutex_unlock(&ph->mu);
			break;
		}
		ob = ph->todo[ph->next++];
		pthread_mutex_unlock(&ph->mu);
		e = copy_one(ph, ob, &b);
		pthread_mutex_lock(&ph->mu);
		if (e != GFSB_OK) {
			ph->res->failed++;
			if (ph->err == GFSB_OK)
				ph->err = e;
			const char *why = gfsb_ctx_errmsg(ph->ctx);

			/* Named here, each on its line; the sync's own error
			 * (the count) is set at the end. */
			gfsb_ctx_log(ph->ctx, GFSB_LOG_ERROR, "%s/%s: not "
			    "copied: %s", gfsb_backend_type_name(ph->type),
			    ob->name, why[0] ? why : gfsb_strerror(e));
			gfsb_ctx_clearerr(ph->ctx);
		} else {
			ph->res->copied++;
			ph->res->copied_bytes += b.len;
			ph->prog->bytes_done += ob->size;
		}
		ph->prog->objects_done++;
		if (ph->o->progress != NULL) {
			ph->prog->seconds = gfsb_monotonic_seconds() - ph->t0;
			ph->o->progress(ph->o->progress_cookie, ph->prog);
		}
		pthread_mutex_unlock(&ph->mu);
	}
	gfsb_buf_fini(&b);
	return NULL;
}

/* Copy the objects of `type` that dst lacks, or holds with another size
 * (cut short); same-size damage at the mirror is for verify to find. */
static gfsb_err
copy_phase(struct gfsb_backend *src, struct gfsb_backend *dst,
    enum gfsb_obj type, const struct gfsb_objlist *s,
    const struct gfsb_objlist *d,
    const struct gfsb_sync_opts *o, struct gfsb_sync_result *res,
    struct gfsb_sync_progress *prog, double t0)
{
	struct phase ph;
	pthread_t th[64];
	const struct gfsb_objent *have;
	unsigned nt = o->threads ? o->threads : 4, started, i;
	size_t k;

	memset(&ph, 0, sizeof(ph));
	ph.src = src;
	ph.dst = dst;
	ph.ctx = gfsb_backend_ctx(src);
	ph.type = type;
	ph.res = res;
	ph.prog = prog;
	ph.o = o;
	ph.t0 = t0;
	if (s->n > 0 && (ph.todo = calloc(s->n, sizeof(*ph.todo))) == NULL)
		return GFSB_ENOMEM;
	for (k = 0; k < s->n; k++) {
		have = gfsb_objlist_find(d, s->v[k].name);
		if (have != NULL && have->size == s->v[k].size) {
			res->present++;
			continue;
		}
		ph.todo[ph.n++] = &s->v[k];
	}
	if (o->dry_run || ph.n == 0) {
		res->copied += o->dry_run ? ph.n : 0;
		free(ph.todo);
		return GFSB_OK;
	}
	pthread_mutex_init(&ph.mu, NULL);
	if (nt > 64)
		nt = 64;
	for (started = 0; started < nt && started < ph.n; started++)
		if (pthread_create(&th[started], NULL, phase_worker, &ph) != 0)
			break;
	if (started == 0)
		phase_worker(&ph);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&ph.mu);
	free(ph.todo);
	if (ph.err == GFSB_OK && gfsb_ctx_canceled(ph.ctx))
		ph.err = GFSB_ECANCELED;
	return ph.err;
}

/* Delete the objects of `type` that src no longer has. */
static gfsb_err
delete_phase(struct gfsb_backend *dst, enum gfsb_obj type,
    const struct gfsb_objlist *s, const struct gfsb_objlist *d, int dry_run,
    struct gfsb_sync_result *res)
{
	size_t k;
	gfsb_err e;

	for (k = 0; k < d->n; k++) {
		if (gfsb_objlist_find(s, d->v[k].name) != NULL)
			continue;
		res->deleted++;
		if (dry_run)
			continue;
		e = gfsb_backend_remove(dst, type, d->v[k].name);
		if (e == GFSB_ENOTFOUND) {
			gfsb_ctx_clearerr(gfsb_backend_ctx(dst));
			continue;
		}
		if (e != GFSB_OK)
			return e;
	}
	return GFSB_OK;
}

/* Phases, in copy order; deletions go in the reverse order. */
#define NPHASES 4
static const enum gfsb_obj phase_type[NPHASES] = { GFSB_OBJ_KEY,
	GFSB_OBJ_PACK, GFSB_OBJ_INDEX, GFSB_OBJ_SNAPSHOT };
enum { PH_KEYS = 0, PH_SNAPSHOTS = NPHASES - 1 };

/* Count what phase i will copy into the progress totals. */
static void
add_totals(struct gfsb_sync_progress *prog, const struct gfsb_objlist *s,
    const struct gfsb_objlist *d)
{
	size_t k;

	for (k = 0; k < s->n; k++) {
		if (gfsb_objlist_find(d, s->v[k].name) != NULL)
			continue;
		prog->objects_total++;
		prog->bytes_total += s->v[k].size;
	}
}

/* The config of a new mirror, copied after its keys: the config's
 * presence is what makes a repository. */
static gfsb_err
copy_config(struct gfsb_backend *sb, struct gfsb_backend *dst)
{
	struct gfsb_buf b;
	gfsb_err e;

	gfsb_buf_init(&b);
	if ((e = gfsb_backend_get(sb, GFSB_OBJ_CONFIG, "config", &b)) ==
	    GFSB_OK)
		e = gfsb_backend_put(dst, GFSB_OBJ_CONFIG, "config", b.data,
		    b.len);
	gfsb_buf_fini(&b);
	return e;
}

gfsb_err
gfsb_ops_sync(struct gfsb_repo *src, struct gfsb_backend *dst,
    const struct gfsb_sync_opts *o, struct gfsb_sync_result *res)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(src);
	struct gfsb_backend *sb = gfsb_repo_backend(src);
	struct gfsb_objlist sl[NPHASES], dl[NPHASES];
	struct gfsb_lock *slock = NULL, *dlock = NULL;
	struct gfsb_repo *mirror = NULL;
	struct gfsb_sync_progress prog;
	double t0 = gfsb_monotonic_seconds();
	size_t i, first = 0;
	int fresh;
	gfsb_err e;

	memset(res, 0, sizeof(*res));
	memset(&prog, 0, sizeof(prog));
	memset(sl, 0, sizeof(sl));
	memset(dl, 0, sizeof(dl));
	/* A destination holding another repository is refused before
	 * anything is locked or written. */
	e = gfsb_repo_probe(ctx, dst);
	if ((fresh = e == GFSB_ENOREPO))
		gfsb_ctx_clearerr(ctx);
	else if (e != GFSB_OK ||
	    (e = gfsb_repo_open_mirror(src, dst, &mirror)) != GFSB_OK)
		goto out;
	if (!o->dry_run && (e = gfsb_repo_lock(src, 0, &slock)) != GFSB_OK)
		goto out;
	for (i = 0; i < NPHASES; i++)
		if ((e = gfsb_backend_list_all(sb, phase_type[i], &sl[i])) !=
		    GFSB_OK)
			goto out;
	if (fresh && !o->dry_run) {
		/* A new mirror: its location, the keys, then the config. */
		add_totals(&prog, &sl[PH_KEYS], &dl[PH_KEYS]);
		if ((e = gfsb_backend_create(dst)) != GFSB_OK ||
		    (e = copy_phase(sb, dst, GFSB_OBJ_KEY, &sl[PH_KEYS],
		    &dl[PH_KEYS], o, res, &prog, t0)) != GFSB_OK ||
		    (e = copy_config(sb, dst)) != GFSB_OK)
			goto out;
		res->copied++;
		res->initialized = 1;
		first = PH_KEYS + 1;
	}
	if (fresh && !o->dry_run &&
	    (e = gfsb_repo_open_mirror(src, dst, &mirror)) != GFSB_OK)
		goto out;
	if (mirror != NULL) {
		if (!o->dry_run &&
		    (e = gfsb_repo_lock(mirror, 1, &dlock)) != GFSB_OK)
			goto out;
		for (i = first; i < NPHASES; i++)
			if ((e = gfsb_backend_list_all(dst, phase_type[i],
			    &dl[i])) != GFSB_OK)
				goto out;
	}
	for (i = first; i < NPHASES; i++)
		add_totals(&prog, &sl[i], &dl[i]);
	/* Copies, one phase at a time: nothing is copied that names an
	 * object the destination does not have yet. */
	for (i = first; i < NPHASES; i++) {
		e = copy_phase(sb, dst, phase_type[i], &sl[i], &dl[i], o, res,
		    &prog, t0);
		if (e != GFSB_OK) {
			if (res->failed > 0) {
				gfsb_ctx_clearerr(ctx);
				e = gfsb_ctx_seterr(ctx, e, "%llu object(s) "
				    "could not be copied (named above); the "
				    "mirror is consistent but behind: run "
				    "sync again", (unsigned long long)
				    res->failed);
			}
			goto out;
		}
	}
	if (o->no_delete)
		goto out;
	/* A source with no snapshot left must not empty its mirror. */
	if (sl[PH_SNAPSHOTS].n == 0 && dl[PH_SNAPSHOTS].n > 0) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL, "the source has no "
		    "snapshot but the destination has %zu: refusing to mirror "
		    "deletions (restore from the mirror, or sync --no-delete)",
		    dl[PH_SNAPSHOTS].n);
		goto out;
	}
	for (i = NPHASES; i-- > 0;)
		if ((e = delete_phase(dst, phase_type[i], &sl[i], &dl[i],
		    o->dry_run, res)) != GFSB_OK)
			goto out;
out:
	gfsb_repo_unlock(dlock);
	gfsb_repo_unlock(slock);
	gfsb_repo_close(mirror);
	for (i = 0; i < NPHASES; i++) {
		gfsb_objlist_fini(&sl[i]);
		gfsb_objlist_fini(&dl[i]);
	}
	res->seconds = gfsb_monotonic_seconds() - t0;
	return e;
}
