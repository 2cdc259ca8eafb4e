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
	uint8_t h[GFSB_ID_LEN];
	char hex[GFSB_ID_HEX];
	gfsb_err e;

	b->len = 0;
	if ((e = gfsb_backend_get(ph->src, ph->type, ob->name, b)) != GFSB_OK)
		return e;
	gfsb_crypto_sha256(b->data, b->len, h);
	gfsb_hex_encode(h, sizeof(h), hex);
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

/* Copy the objects of `type` that dst lacks (or holds damaged). */
static gfsb_err
copy_phase(struct gfsb_backend *src, struct gfsb_backend *dst,
    enum gfsb_obj type, const struct gfsb_objlist *s, const struct gfsb_objlist *d,
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

/* A new mirror: its location, the key files, then the config.  *nkeys:
 * the keys copied (the key phase proper then finds them present). */
static gfsb_err
init_mirror(struct gfsb_repo *src, struct gfsb_backend *dst,
    struct gfsb_sync_result *res, size_t *nkeys)
{
	struct gfsb_backend *sb = gfsb_repo_backend(src);
	struct gfsb_sync_opts o;
	struct gfsb_sync_progress prog;
	struct gfsb_objlist keys, none;
	struct gfsb_buf b;
	gfsb_err e;

	memset(&o, 0, sizeof(o));
	memset(&prog, 0, sizeof(prog));
	memset(&none, 0, sizeof(none));
	gfsb_buf_init(&b);
	if ((e = gfsb_backend_create(dst)) != GFSB_OK)
		return e;
	if ((e = gfsb_backend_list_all(sb, GFSB_OBJ_KEY, &keys)) != GFSB_OK)
		return e;
	e = copy_phase(sb, dst, GFSB_OBJ_KEY, &keys, &none, &o, res, &prog,
	    0);
	*nkeys = keys.n;
	gfsb_objlist_fini(&keys);
	if (e != GFSB_OK)
		return e;
	/* The config last: its presence is what makes a repository. */
	if ((e = gfsb_backend_get(sb, GFSB_OBJ_CONFIG, "config", &b)) ==
	    GFSB_OK)
		e = gfsb_backend_put(dst, GFSB_OBJ_CONFIG, "config", b.data,
		    b.len);
	gfsb_buf_fini(&b);
	if (e == GFSB_OK) {
		res->copied++;
		res->initialized = 1;
	}
	return e;
}

gfsb_err
gfsb_ops_sync(struct gfsb_repo *src, struct gfsb_backend *dst,
    const struct gfsb_sync_opts *o, struct gfsb_sync_result *res)
{
	static const enum gfsb_obj order[] = { GFSB_OBJ_KEY, GFSB_OBJ_PACK,
		GFSB_OBJ_INDEX, GFSB_OBJ_SNAPSHOT };
	static const enum gfsb_obj del_order[] = { GFSB_OBJ_SNAPSHOT,
		GFSB_OBJ_INDEX, GFSB_OBJ_PACK, GFSB_OBJ_KEY };
	struct gfsb_ctx *ctx = gfsb_repo_ctx(src);
	struct gfsb_backend *sb = gfsb_repo_backend(src);
	struct gfsb_objlist sl[4], dl[4];
	struct gfsb_lock *slock = NULL, *dlock = NULL;
	struct gfsb_repo *mirror = NULL;
	struct gfsb_sync_progress prog;
	double t0 = gfsb_monotonic_seconds();
	size_t i, k, nkeys = 0;
	gfsb_err e;

	memset(res, 0, sizeof(*res));
	memset(&prog, 0, sizeof(prog));
	memset(sl, 0, sizeof(sl));
	memset(dl, 0, sizeof(dl));
	e = gfsb_repo_probe(ctx, dst);
	if (e == GFSB_ENOREPO && !o->dry_run) {
		gfsb_ctx_clearerr(ctx);
		if ((e = init_mirror(src, dst, res, &nkeys)) != GFSB_OK)
			goto out;
	} else if (e == GFSB_ENOREPO) {
		gfsb_ctx_clearerr(ctx);
	} else if (e != GFSB_OK) {
		goto out;
	}
	if (!(e == GFSB_ENOREPO && o->dry_run)) {
		if ((e = gfsb_repo_open_mirror(src, dst, &mirror)) != GFSB_OK)
			goto out;
		if (!o->dry_run && ((e = gfsb_repo_lock(src, 0, &slock)) !=
		    GFSB_OK || (e = gfsb_repo_lock(mirror, 1, &dlock)) !=
		    GFSB_OK))
			goto out;
	}
	for (i = 0; i < 4; i++) {
		if ((e = gfsb_backend_list_all(sb, order[i], &sl[i])) != GFSB_OK)
			goto out;
		if (mirror != NULL &&
		    (e = gfsb_backend_list_all(dst, order[i], &dl[i])) != GFSB_OK)
			goto out;
		for (k = 0; k < sl[i].n; k++) {
			if (gfsb_objlist_find(&dl[i], sl[i].v[k].name) != NULL)
				continue;
			prog.objects_total++;
			prog.bytes_total += sl[i].v[k].size;
		}
	}
	/* Copies, one phase at a time: nothing is copied that names an
	 * object the destination does not have yet. */
	for (i = 0; i < 4; i++) {
		e = copy_phase(sb, dst, order[i], &sl[i], &dl[i], o, res, &prog,
		    t0);
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
	if (sl[3].n == 0 && dl[3].n > 0) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL, "the source has no "
		    "snapshot but the destination has %zu: refusing to mirror "
		    "deletions (restore from the mirror, or sync --no-delete)",
		    dl[3].n);
		goto out;
	}
	for (i = 0; i < 4; i++) {
		size_t j;

		for (j = 0; j < 4 && order[j] != del_order[i]; j++)
			;
		if ((e = delete_phase(dst, del_order[i], &sl[j], &dl[j],
		    o->dry_run, res)) != GFSB_OK)
			goto out;
	}
out:
	gfsb_repo_unlock(dlock);
	gfsb_repo_unlock(slock);
	gfsb_repo_close(mirror);
	for (i = 0; i < 4; i++) {
		gfsb_objlist_fini(&sl[i]);
		gfsb_objlist_fini(&dl[i]);
	}
	res->present -= res->present >= nkeys ? nkeys : res->present;
	res->seconds = gfsb_monotonic_seconds() - t0;
	return e;
}
