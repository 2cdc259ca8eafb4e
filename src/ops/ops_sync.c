/*
 * sync: keep an offsite mirror of a repository, object for object.
 *
 * The mirror is the same repository (same keys, same object names), so a
 * sync is a verified copy, never a re-encryption: every object read from
 * the source is checked against its name (SHA-256) before it is written,
 * and an S3 destination checks it again (the name is the signed payload
 * hash).  Locks are never copied.
 *
 * The mirror must survive a source that has been taken over, so sync only
 * ever adds key files (a key added at the mirror alone survives, and a
 * passphrase changed at the source leaves the old key in place), never
 * rewrites the config after creating the mirror, and deletes only what
 * the source deleted when the mirror's delete mode allows it (never, for
 * an append-only mirror).
 *
 * Order keeps the mirror consistent at every instant: a snapshot is never
 * listed without an index that names all of its blobs, nor an index
 * without its packs.  So: keys, packs; the snapshots the source forgot
 * (deleted, or kept); an index file for the mirror alone naming the packs
 * that what it keeps still needs, before the source's new index
 * supersedes the files that named them; the source's index files; its
 * snapshots; then the superseded index files, then the packs.
 * docs/DESIGN.md ("sync") has the crash analysis.
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

/* Phases, in copy order. */
enum { P_KEYS = 0, P_PACKS, P_INDEX, P_SNAPS, NPHASES };
static const enum gfsb_obj phase_type[NPHASES] = { GFSB_OBJ_KEY,
	GFSB_OBJ_PACK, GFSB_OBJ_INDEX, GFSB_OBJ_SNAPSHOT };

struct ifent;

/* One run. */
struct sync {
	struct gfsb_repo *src, *mirror;
	struct gfsb_backend *sb, *dst;
	struct gfsb_ctx *ctx;
	const struct gfsb_sync_opts *o;
	struct gfsb_sync_result *res;
	struct gfsb_sync_progress prog;
	double t0;
	struct gfsb_objlist sl[NPHASES], dl[NPHASES];
	/* The mirror keeps what the source dropped: delete mode never, or
	 * deletions refused because the source has no snapshot left. */
	int keeps;
	int refused;
	/* The source was opened with a write-only key: sync adds, and
	 * leaves deleting and dating to a full key (writer_rest()). */
	int writer;
	/* A locked mirror: its mode, the dates its objects need (from the
	 * source's snapshots), and what is known of the dates set. */
	enum gfsb_lock_mode mode;
	struct ops_lock_plan *plan;
	struct ops_ledger *ledger;
	struct gfsb_lock_opts lo;
	int64_t now;
	/* What is at stake when the source dropped something (decide()). */
	struct ifent *ix;	      /* every index file of both sides */
	size_t nix;
	struct gfsb_objlist srcpacks; /* named by the source's index */
	struct gfsb_objlist own;      /* named by the mirror's own files */
	struct gfsb_objlist keep;     /* mirror packs the source lacks, kept */
};

/* ---- copying ---- */

/* One phase of copies, shared by its worker threads. */
struct phase {
	struct sync *s;
	enum gfsb_obj type;
	const struct gfsb_objent **wanted;
	size_t n, next;
	pthread_mutex_t mu;
	gfsb_err err;
};

static gfsb_err
copy_one(struct phase *ph, const struct gfsb_objent *ob,
    struct gfsb_buf *b)
{
	struct sync *s = ph->s;
	struct gfsb_retention ret;
	char hex[GFSB_ID_HEX];
	gfsb_err e;

	b->len = 0;
	if ((e = gfsb_backend_get(s->sb, ph->type, ob->name, b)) != GFSB_OK)
		return e;
	gfsb_crypto_sha256_hex(b->data, b->len, hex);
	if (strcmp(hex, ob->name) != 0)
		return gfsb_ctx_seterr(s->ctx, GFSB_ECORRUPT,
		    "%s/%s in the source is damaged (its bytes hash to "
		    "%.16s...): not copied", gfsb_backend_type_name(ph->type),
		    ob->name, hex);
	if (s->mode == GFSB_LOCK_NONE)
		return gfsb_backend_put(s->dst, ph->type, ob->name, b->data,
		    b->len);
	/* Locked from the start with the date it needs, and remembered. */
	ret.mode = s->mode;
	ret.until = ops_lock_need(s->plan, ph->type, ob->name);
	if (ret.until < ops_lock_fresh(s->plan))
		ret.until = ops_lock_fresh(s->plan);
	if ((e = gfsb_backend_put_locked(s->dst, ph->type, ob->name, b->data,
	    b->len, &ret)) != GFSB_OK)
		return e;
	return ops_ledger_set(s->ledger, ph->type, ob->name, ret.until);
}

static void *
phase_worker(void *arg)
{
	struct phase *ph = arg;
	struct sync *s = ph->s;
	const struct gfsb_objent *ob;
	struct gfsb_buf b;
	gfsb_err e;

	gfsb_buf_init(&b);
	for (;;) {
		pthread_mutex_lock(&ph->mu);
		if (ph->next >= ph->n || gfsb_ctx_canceled(s->ctx)) {
			pthread_mutex_unlock(&ph->mu);
			break;
		}
		ob = ph->wanted[ph->next++];
		pthread_mutex_unlock(&ph->mu);
		e = copy_one(ph, ob, &b);
		pthread_mutex_lock(&ph->mu);
		if (e != GFSB_OK) {
			s->res->failed++;
			if (ph->err == GFSB_OK)
				ph->err = e;
			const char *why = gfsb_ctx_errmsg(s->ctx);

			/* Named here, each on its line; the sync's own error
			 * (the count) is set at the end. */
			gfsb_ctx_log(s->ctx, GFSB_LOG_ERROR, "%s/%s: not "
			    "copied: %s", gfsb_backend_type_name(ph->type),
			    ob->name, why[0] ? why : gfsb_strerror(e));
			gfsb_ctx_clearerr(s->ctx);
		} else {
			s->res->copied++;
			s->res->copied_bytes += b.len;
			s->prog.bytes_done += ob->size;
		}
		s->prog.objects_done++;
		if (s->o->progress != NULL) {
			s->prog.seconds = gfsb_monotonic_seconds() - s->t0;
			s->o->progress(s->o->progress_cookie, &s->prog);
		}
		pthread_mutex_unlock(&ph->mu);
	}
	gfsb_buf_fini(&b);
	return NULL;
}

/* Copy the objects of phase i that the mirror lacks, or holds with
 * another size (cut short); same-size damage at the mirror is for verify
 * to find.  An object that cannot be copied stops the sync after its
 * phase: nothing that names it is copied. */
static gfsb_err
copy_phase(struct sync *s, int i)
{
	const struct gfsb_objlist *src = &s->sl[i], *dst = &s->dl[i];
	const struct gfsb_objent *have;
	struct phase ph;
	size_t k;

	memset(&ph, 0, sizeof(ph));
	ph.s = s;
	ph.type = phase_type[i];
	if (src->n > 0 && (ph.wanted = calloc(src->n, sizeof(*ph.wanted))) ==
	    NULL)
		return GFSB_ENOMEM;
	for (k = 0; k < src->n; k++) {
		have = gfsb_objlist_find(dst, src->v[k].name);
		if (have != NULL && have->size == src->v[k].size) {
			s->res->present++;
			continue;
		}
		ph.wanted[ph.n++] = &src->v[k];
	}
	if (s->o->dry_run || ph.n == 0) {
		s->res->copied += s->o->dry_run ? ph.n : 0;
		free(ph.wanted);
		return GFSB_OK;
	}
	pthread_mutex_init(&ph.mu, NULL);
	ops_run_workers(phase_worker, &ph, s->o->threads, ph.n);
	pthread_mutex_destroy(&ph.mu);
	free(ph.wanted);
	if (ph.err == GFSB_OK && gfsb_ctx_canceled(s->ctx))
		ph.err = GFSB_ECANCELED;
	if (ph.err != GFSB_OK && s->res->failed > 0) {
		gfsb_ctx_clearerr(s->ctx);
		return gfsb_ctx_seterr(s->ctx, ph.err, "%llu object(s) could "
		    "not be copied (named above); the mirror is consistent but "
		    "behind: run sync again",
		    (unsigned long long)s->res->failed);
	}
	return ph.err;
}

/* Count what phase i will copy into the progress totals. */
static void
add_totals(struct sync *s, int i)
{
	size_t k;

	for (k = 0; k < s->sl[i].n; k++) {
		if (gfsb_objlist_find(&s->dl[i], s->sl[i].v[k].name) != NULL)
			continue;
		s->prog.objects_total++;
		s->prog.bytes_total += s->sl[i].v[k].size;
	}
}

/* May the mirror's copies of what the source no longer has be deleted?
 * Not in delete mode never, nor when deletions are refused. */
static int
may_delete(const struct sync *s)
{
	return !s->keeps;
}

/* ---- what the mirror keeps ---- */

/*
 * Every index file of either side, as sync sees it.  The mirror's own
 * files are those it holds that the source does not and nothing present
 * supersedes: sync wrote them to keep packs the source no longer indexes
 * named (or an older gfsbackup's copy of a source file left behind).
 */
struct ifent {
	char name[GFSB_ID_HEX];
	int at_src, at_mirror;
	struct gfsb_index_file f;
	int sup_after;	/* superseded once the source's files are copied */
	int retire;	/* one of the mirror's own, going tonight */
	int deleted;
	int counted;	/* counted as waiting on its lock */
};

static int
ifentcmp(const void *a, const void *b)
{
	return strcmp(((const struct ifent *)a)->name,
	    ((const struct ifent *)b)->name);
}

/*
 * Does a lock still hold a mirror object?  The ledger answers for dates
 * still to come; a date it says has passed is confirmed with the storage
 * before anything is deleted.  A lock that cannot be read holds (nothing
 * is deleted on a guess).  *until: the date, when held.
 */
static int
lock_holds(struct sync *s, enum gfsb_obj type, const char *name,
    int64_t *until)
{
	struct gfsb_retention ret;

	*until = 0;
	if (s->mode == GFSB_LOCK_NONE)
		return 0;
	if ((*until = ops_ledger_get(s->ledger, type, name)) > s->now)
		return 1;
	s->res->locks.requests++;
	s->res->locks.checked++;
	if (gfsb_backend_retention_get(s->dst, type, name, &ret) != GFSB_OK) {
		gfsb_ctx_clearerr(s->ctx);
		*until = 0;
		return 1;
	}
	*until = ret.mode != GFSB_LOCK_NONE ? ret.until : 0;
	(void)ops_ledger_set(s->ledger, type, name, *until > 0 ? *until : 1);
	return *until > s->now;
}

/* Count an object kept only by its lock. */
static void
waiting(struct sync *s, int64_t until)
{
	s->res->locks.waiting++;
	if (until > s->res->locks.waiting_until)
		s->res->locks.waiting_until = until;
}

static int
lock_passed(struct sync *s, enum gfsb_obj type, const char *name)
{
	int64_t until;

	return !lock_holds(s, type, name, &until);
}

/* Does index file f supersede the file called name? */
static int
supersedes(const struct gfsb_index_file *f, const char *name)
{
	char hex[GFSB_ID_HEX];
	size_t j;

	for (j = 0; j < f->nsupersedes; j++) {
		gfsb_hex_encode(f->supersedes[j], GFSB_ID_LEN, hex);
		if (strcmp(hex, name) == 0)
			return 1;
	}
	return 0;
}

/* A pack some index file names, with the entries it gives. */
struct packref {
	uint8_t id[GFSB_ID_LEN];
	const struct gfsb_pack_blobs *pb;
};

static int
packrefcmp(const void *a, const void *b)
{
	return memcmp(((const struct packref *)a)->id,
	    ((const struct packref *)b)->id, GFSB_ID_LEN);
}

/*
 * Is there anything at stake tonight?  Only when the mirror holds index
 * files or packs the source does not, or a source file it lacks would
 * supersede one it has (a prune the source has not finished).  Reads
 * only the source files the mirror lacks.
 */
static gfsb_err
at_stake(struct sync *s, int *stake)
{
	const struct gfsb_objlist *si = &s->sl[P_INDEX], *mi = &s->dl[P_INDEX];
	struct gfsb_index_file f;
	size_t k, j;
	gfsb_err e = GFSB_OK;

	*stake = 0;
	for (k = 0; k < mi->n && !*stake; k++)
		*stake = gfsb_objlist_find(si, mi->v[k].name) == NULL;
	for (k = 0; k < s->dl[P_PACKS].n && !*stake; k++)
		*stake = gfsb_objlist_find(&s->sl[P_PACKS],
		    s->dl[P_PACKS].v[k].name) == NULL;
	for (k = 0; k < si->n && !*stake && e == GFSB_OK; k++) {
		if (gfsb_objlist_find(mi, si->v[k].name) != NULL)
			continue;
		if ((e = gfsb_repo_index_file_read(s->src, si->v[k].name,
		    &f)) == GFSB_OK)
			for (j = 0; j < mi->n && !*stake; j++)
				*stake = supersedes(&f, mi->v[j].name);
		gfsb_repo_index_file_fini(&f);
	}
	return e;
}

/* Read every index file of both sides (the source's from the source,
 * the mirror's own and superseded ones from the mirror). */
static gfsb_err
read_index_files(struct sync *s)
{
	const struct gfsb_objlist *si = &s->sl[P_INDEX], *mi = &s->dl[P_INDEX];
	struct ifent *v;
	size_t k, n = 0;
	gfsb_err e;

	if ((v = calloc(si->n + mi->n + 1, sizeof(*v))) == NULL)
		return GFSB_ENOMEM;
	s->ix = v;
	for (k = 0; k < si->n; k++) {
		memcpy(v[n].name, si->v[k].name, GFSB_ID_HEX);
		v[n].at_src = 1;
		v[n++].at_mirror = gfsb_objlist_find(mi, si->v[k].name) !=
		    NULL;
	}
	for (k = 0; k < mi->n; k++) {
		if (gfsb_objlist_find(si, mi->v[k].name) != NULL)
			continue;
		memcpy(v[n].name, mi->v[k].name, GFSB_ID_HEX);
		v[n++].at_mirror = 1;
	}
	s->nix = n;
	qsort(v, n, sizeof(*v), ifentcmp);
	for (k = 0; k < n; k++)
		if ((e = gfsb_repo_index_file_read(v[k].at_src ? s->src :
		    s->mirror, v[k].name, &v[k].f)) != GFSB_OK)
			return e;
	return GFSB_OK;
}

/*
 * Decide what the mirror keeps.  Afterwards: s->ix holds every index
 * file with what supersedes it, s->srcpacks the packs the source's index
 * in force names, s->keep the packs of the mirror's that stay, and
 * s->own the packs that the mirror's own files going on name.
 */
static gfsb_err
decide(struct sync *s)
{
	const struct gfsb_objlist *mp = &s->dl[P_PACKS];
	struct ifent *v;
	size_t k, j;
	int ok;
	gfsb_err e;

	if ((e = read_index_files(s)) != GFSB_OK)
		return e;
	v = s->ix;
	/* Superseded once the source's files are at the mirror. */
	for (k = 0; k < s->nix; k++)
		for (j = 0; j < s->nix && !v[k].sup_after; j++)
			v[k].sup_after = j != k &&
			    supersedes(&v[j].f, v[k].name);
	/* The source's index in force. */
	for (k = 0; k < s->nix; k++)
		if (v[k].at_src && !v[k].sup_after)
			for (j = 0; j < v[k].f.npacks; j++)
				if ((e = gfsb_objlist_add(&s->srcpacks,
				    v[k].f.packs[j].id, 0)) != GFSB_OK)
					return e;
	gfsb_objlist_sort(&s->srcpacks);
	/* The mirror's own files retire once every pack they name may go,
	 * and they may themselves. */
	for (k = 0; k < s->nix; k++) {
		if (v[k].at_src || v[k].sup_after)
			continue;
		ok = may_delete(s) && lock_passed(s, GFSB_OBJ_INDEX, v[k].name);
		for (j = 0; j < v[k].f.npacks && ok; j++) {
			char hex[GFSB_ID_HEX];

			gfsb_hex_encode(v[k].f.packs[j].id, GFSB_ID_LEN, hex);
			ok = gfsb_objlist_find(&s->sl[P_PACKS], hex) == NULL &&
			    gfsb_objlist_find(&s->srcpacks, hex) == NULL &&
			    lock_passed(s, GFSB_OBJ_PACK, hex);
		}
		v[k].retire = ok;
		if (ok)
			continue;
		for (j = 0; j < v[k].f.npacks; j++)
			if ((e = gfsb_objlist_add(&s->own, v[k].f.packs[j].id,
			    0)) != GFSB_OK)
				return e;
	}
	gfsb_objlist_sort(&s->own);
	/* A pack the source no longer has stays while anything names it in
	 * force (a pack the source lost is not deleted from the mirror
	 * either), deletions are off, or its lock holds. */
	for (k = 0; k < mp->n; k++) {
		const char *p = mp->v[k].name;
		int64_t until;

		if (gfsb_objlist_find(&s->sl[P_PACKS], p) != NULL)
			continue;
		if (may_delete(s) && gfsb_objlist_find(&s->srcpacks, p) ==
		    NULL && gfsb_objlist_find(&s->own, p) == NULL) {
			if (!lock_holds(s, GFSB_OBJ_PACK, p, &until))
				continue;
			waiting(s, until);
		}
		if ((e = gfsb_objlist_add(&s->keep, mp->v[k].id,
		    mp->v[k].size)) != GFSB_OK)
			return e;
	}
	gfsb_objlist_sort(&s->keep);
	return GFSB_OK;
}

/* Puts that know no date (the mirror's own index file) get this. */
static void
lock_fresh(struct sync *s)
{
	struct gfsb_retention ret;

	ret.mode = s->mode;
	ret.until = ops_lock_fresh(s->plan);
	gfsb_backend_set_put_retention(s->dst, &ret);
}

/* The mirror's own index file lives as long as the packs it names. */
static gfsb_err
own_retention(struct sync *s, const struct gfsb_pack_blobs **want, size_t n)
{
	struct gfsb_retention ret;
	char hex[GFSB_ID_HEX];
	int64_t until;
	size_t k;
	gfsb_err e;

	if (s->mode == GFSB_LOCK_NONE)
		return GFSB_OK;
	ret.mode = s->mode;
	ret.until = ops_lock_fresh(s->plan);
	for (k = 0; k < n; k++) {
		gfsb_hex_encode(want[k]->id, GFSB_ID_LEN, hex);
		if ((e = ops_lock_known(s->dst, s->ledger, GFSB_OBJ_PACK, hex,
		    &until, &s->res->locks.requests)) != GFSB_OK)
			return e;
		if (until > ret.until)
			ret.until = until;
	}
	gfsb_backend_set_put_retention(s->dst, &ret);
	return GFSB_OK;
}

/*
 * Before the source's index files are copied: every pack the mirror
 * keeps that neither the source's index in force nor the mirror's own
 * files go on naming gets named by one new file for the mirror alone,
 * with the entries some index file (in force or superseded) gave it.
 */
static gfsb_err
cover(struct sync *s)
{
	const struct gfsb_pack_blobs **want = NULL;
	struct packref *refs = NULL, key, *hit;
	char name[GFSB_ID_HEX];
	size_t k, j, nrefs = 0, nwant = 0;
	gfsb_err e = GFSB_ENOMEM;

	if (s->keep.n == 0)
		return GFSB_OK;
	for (k = 0; k < s->nix; k++)
		nrefs += s->ix[k].f.npacks;
	if ((refs = calloc(nrefs + 1, sizeof(*refs))) == NULL ||
	    (want = calloc(s->keep.n, sizeof(*want))) == NULL)
		goto out;
	for (k = 0, nrefs = 0; k < s->nix; k++)
		for (j = 0; j < s->ix[k].f.npacks; j++) {
			memcpy(refs[nrefs].id, s->ix[k].f.packs[j].id,
			    GFSB_ID_LEN);
			refs[nrefs++].pb = &s->ix[k].f.packs[j];
		}
	qsort(refs, nrefs, sizeof(*refs), packrefcmp);
	for (k = 0; k < s->keep.n; k++) {
		const char *p = s->keep.v[k].name;

		if (gfsb_objlist_find(&s->srcpacks, p) != NULL ||
		    gfsb_objlist_find(&s->own, p) != NULL)
			continue;
		memcpy(key.id, s->keep.v[k].id, GFSB_ID_LEN);
		if ((hit = bsearch(&key, refs, nrefs, sizeof(*refs),
		    packrefcmp)) != NULL)
			want[nwant++] = hit->pb;
	}
	e = GFSB_OK;
	if (nwant > 0 && !s->o->dry_run) {
		if ((e = own_retention(s, want, nwant)) != GFSB_OK)
			goto out;
		e = gfsb_repo_index_file_write(s->mirror, want, nwant, name);
		if (s->mode != GFSB_LOCK_NONE)
			lock_fresh(s);
		if (e == GFSB_OK)
			s->res->index_written++;
	}
out:
	free(refs);
	free(want);
	return e;
}

/* Delete one mirror object (dry run: count it). */
static gfsb_err
remove_one(struct sync *s, enum gfsb_obj type, const char *name)
{
	gfsb_err e;

	if (s->o->dry_run) {
		s->res->deleted++;
		return GFSB_OK;
	}
	e = gfsb_backend_remove(s->dst, type, name);
	if (e == GFSB_ENOTFOUND) {
		gfsb_ctx_clearerr(s->ctx);
		return GFSB_OK;
	}
	/* A storage that refuses the delete (a policy that makes the
	 * mirror append-only, a lock this copy did not know of) keeps the
	 * object: the night's job goes on, and from here the mirror keeps
	 * what the source dropped, indexed (as --delete never would). */
	if (e == GFSB_EDENIED) {
		if (s->res->delete_refused++ == 0)
			gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "the storage refused "
			    "to delete %s/%s (%s): kept, with what it needs",
			    gfsb_backend_type_name(type), name,
			    gfsb_ctx_errmsg(s->ctx));
		gfsb_ctx_clearerr(s->ctx);
		s->keeps = 1;
		s->res->kept++;
		return GFSB_OK;
	}
	if (e == GFSB_OK)
		s->res->deleted++;
	return e;
}

/* The snapshots the source forgot, before its new index can supersede
 * the files that named their blobs: deleted, or kept. */
static gfsb_err
drop_snapshots(struct sync *s)
{
	const struct gfsb_objlist *m = &s->dl[P_SNAPS];
	int64_t until;
	size_t k;
	gfsb_err e;

	for (k = 0; k < m->n; k++) {
		if (gfsb_objlist_find(&s->sl[P_SNAPS], m->v[k].name) != NULL)
			continue;
		if (!may_delete(s)) {
			s->res->kept++;
			continue;
		}
		if (lock_holds(s, GFSB_OBJ_SNAPSHOT, m->v[k].name, &until)) {
			waiting(s, until);
			s->res->kept++;
			continue;
		}
		if ((e = remove_one(s, GFSB_OBJ_SNAPSHOT, m->v[k].name)) !=
		    GFSB_OK)
			return e;
	}
	return GFSB_OK;
}

/* Would deleting index file k leave a file it supersedes in force? */
static int
resurrects(const struct sync *s, size_t k)
{
	size_t j;

	for (j = 0; j < s->nix; j++)
		if (s->ix[j].at_mirror && !s->ix[j].deleted && j != k &&
		    supersedes(&s->ix[k].f, s->ix[j].name))
			return 1;
	return 0;
}

/*
 * After the source's files are copied, the mirror's index files the
 * source does not have: its own that retire, and superseded ones, oldest
 * link of a chain first (a file that supersedes one still present stays,
 * or that one would count again).
 */
static gfsb_err
delete_index(struct sync *s)
{
	struct ifent *v = s->ix;
	int64_t until;
	size_t k;
	int more;
	gfsb_err e;

	do {
		more = 0;
		for (k = 0; k < s->nix; k++) {
			if (!v[k].at_mirror || v[k].at_src || v[k].deleted ||
			    !(v[k].retire || (v[k].sup_after &&
			    may_delete(s))))
				continue;
			if (resurrects(s, k))
				continue;
			if (lock_holds(s, GFSB_OBJ_INDEX, v[k].name, &until)) {
				if (!v[k].counted++)
					waiting(s, until);
				continue;
			}
			if ((e = remove_one(s, GFSB_OBJ_INDEX, v[k].name)) !=
			    GFSB_OK)
				return e;
			v[k].deleted = more = 1;
		}
	} while (more);
	for (k = 0; k < s->nix; k++)
		if (v[k].at_mirror && !v[k].at_src && !v[k].deleted)
			s->res->kept++;
	return GFSB_OK;
}

/* A dry run counts the index files and packs an exact mirror would
 * delete, without reading any index file: what the report calls
 * "behind". */
static void
dry_deletions(struct sync *s)
{
	size_t k;
	int i;

	for (i = P_PACKS; i <= P_INDEX; i++)
		for (k = 0; k < s->dl[i].n; k++)
			if (gfsb_objlist_find(&s->sl[i], s->dl[i].v[k].name) ==
			    NULL) {
				if (may_delete(s))
					s->res->deleted++;
				else
					s->res->kept++;
			}
}

/* Packs the source no longer has and nothing keeps, last. */
static gfsb_err
delete_packs(struct sync *s)
{
	const struct gfsb_objlist *m = &s->dl[P_PACKS];
	size_t k;
	gfsb_err e;

	for (k = 0; k < m->n; k++) {
		if (gfsb_objlist_find(&s->sl[P_PACKS], m->v[k].name) != NULL)
			continue;
		if (gfsb_objlist_find(&s->keep, m->v[k].name) != NULL) {
			s->res->kept++;
			continue;
		}
		if ((e = remove_one(s, GFSB_OBJ_PACK, m->v[k].name)) !=
		    GFSB_OK)
			return e;
	}
	return GFSB_OK;
}

/* ---- the run ---- */

/* The config of a new mirror as the source has it, byte for byte. */
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

/*
 * A locked mirror's dates come from the source's snapshots, decided
 * before anything is copied, so that every object is locked from the
 * moment it lands.  The ledger says what is already set.
 */
static gfsb_err
plan_locks(struct sync *s)
{
	if (s->o->locks != NULL) {
		s->lo = *s->o->locks;
	} else {
		memset(&s->lo, 0, sizeof(s->lo));
		gfsb_time_now(&s->lo.now);
		s->lo.margin = GFSB_LOCK_MARGIN_DEFAULT;
	}
	s->lo.threads = s->o->threads;
	/* Locks expire in real time, whatever time the job runs as. */
	s->now = gfsb_backend_clock(s->dst);
	if (s->mode == GFSB_LOCK_NONE)
		return GFSB_OK;
	gfsb_err e;

	if ((e = ops_ledger_open(s->lo.ledger, &s->ledger)) != GFSB_OK)
		return e;
	if (s->o->dry_run)
		return GFSB_OK;
	if (s->writer)
		return ops_lock_plan_new_only(&s->lo, &s->plan);
	return ops_lock_plan_make(s->src, &s->lo, s->ledger, &s->plan,
	    &s->res->locks);
}

static gfsb_err
remember_keys(struct sync *s, int64_t until)
{
	size_t k;
	gfsb_err e;

	if ((e = ops_ledger_set(s->ledger, GFSB_OBJ_CONFIG, "config",
	    until)) != GFSB_OK)
		return e;
	for (k = 0; k < s->sl[P_KEYS].n; k++)
		if ((e = ops_ledger_set(s->ledger, GFSB_OBJ_KEY,
		    s->sl[P_KEYS].v[k].name, until)) != GFSB_OK)
			return e;
	return GFSB_OK;
}

/* Create the mirror: its location, the keys, then the config (its
 * presence is what makes a repository), locked in the mode asked. */
static gfsb_err
create_mirror(struct sync *s)
{
	struct gfsb_retention keep;
	uint64_t keys = 0;
	gfsb_err e;

	add_totals(s, P_KEYS);
	if (s->mode == GFSB_LOCK_NONE &&
	    gfsb_repo_lock_mode(s->src) == GFSB_LOCK_NONE) {
		/* The same bytes: nothing in the config to change. */
		if ((e = gfsb_backend_create(s->dst)) != GFSB_OK ||
		    (e = copy_phase(s, P_KEYS)) != GFSB_OK ||
		    (e = copy_config(s->sb, s->dst)) != GFSB_OK)
			return e;
	} else {
		keep.mode = s->mode;
		keep.until = s->mode != GFSB_LOCK_NONE ?
		    ops_lock_longest(s->plan) : 0;
		if ((e = gfsb_repo_mirror_create(s->src, s->dst, s->mode !=
		    GFSB_LOCK_NONE ? &keep : NULL, &keys)) != GFSB_OK)
			return e;
		s->res->copied += keys;
		/* Their dates are known: no need to ask. */
		if (s->mode != GFSB_LOCK_NONE &&
		    (e = remember_keys(s, keep.until)) != GFSB_OK)
			return e;
	}
	s->res->copied++;
	s->res->initialized = 1;
	return GFSB_OK;
}

/*
 * A mirror made before the source became version 2 gets its reader keys
 * before anything sealed under them is copied (the key files of
 * write-only keys included: a mirror that holds one reads what it
 * wrote).  Its config's date is the key files', as at creation.
 */
static gfsb_err
upgrade_mirror(struct sync *s)
{
	struct gfsb_retention keep;
	int done = 0;
	gfsb_err e;

	keep.mode = s->mode;
	keep.until = s->mode != GFSB_LOCK_NONE && s->plan != NULL ?
	    ops_lock_longest(s->plan) : 0;
	if ((e = gfsb_repo_mirror_upgrade(s->src, s->mirror, s->mode !=
	    GFSB_LOCK_NONE ? &keep : NULL, s->o->dry_run, &done)) != GFSB_OK ||
	    !done)
		return e;
	s->res->copied++;
	s->res->upgraded = 1;
	if (s->mode == GFSB_LOCK_NONE || s->o->dry_run)
		return GFSB_OK;
	return ops_ledger_set(s->ledger, GFSB_OBJ_CONFIG, "config",
	    keep.until);
}

/* Open the mirror, or create it; list both sides. */
static gfsb_err
prepare(struct sync *s, struct gfsb_lock **slock, struct gfsb_lock **dlock)
{
	int fresh, i;
	gfsb_err e;

	/* A destination holding another repository is refused before
	 * anything is locked or written. */
	e = gfsb_repo_probe(s->ctx, s->dst);
	if ((fresh = e == GFSB_ENOREPO))
		gfsb_ctx_clearerr(s->ctx);
	else if (e != GFSB_OK ||
	    (e = gfsb_repo_open_mirror(s->src, s->dst, &s->mirror)) !=
	    GFSB_OK)
		return e;
	if (fresh && s->writer)
		return gfsb_ctx_seterr(s->ctx, GFSB_EAUTH, "a write-only key "
		    "cannot create the mirror %s: sync once with a full key",
		    gfsb_backend_location(s->dst));
	s->mode = fresh ? s->o->object_lock : gfsb_repo_lock_mode(s->mirror);
	/* A writer that may not read retentions sees none: the mode asked
	 * for is the mirror's then. */
	if (s->writer && s->mode == GFSB_LOCK_NONE)
		s->mode = s->o->object_lock;
	if (!fresh && s->o->object_lock != GFSB_LOCK_NONE &&
	    s->o->object_lock != s->mode)
		return gfsb_ctx_seterr(s->ctx, GFSB_EINVAL, "%s is %s%s, not "
		    "%s: a mirror's Object Lock mode is set when it is "
		    "created", gfsb_backend_location(s->dst),
		    s->mode == GFSB_LOCK_NONE ? "not locked" : "locked in ",
		    s->mode == GFSB_LOCK_NONE ? "" :
		    gfsb_lock_mode_name(s->mode),
		    gfsb_lock_mode_name(s->o->object_lock));
	s->res->locked = s->mode;
	if (!s->o->dry_run && (e = gfsb_repo_lock(s->src, 0, slock)) !=
	    GFSB_OK)
		return e;
	for (i = 0; i < NPHASES; i++)
		if ((e = gfsb_backend_list_all(s->sb, phase_type[i],
		    &s->sl[i])) != GFSB_OK)
			return e;
	if ((e = plan_locks(s)) != GFSB_OK)
		return e;
	if (fresh && !s->o->dry_run) {
		if ((e = create_mirror(s)) != GFSB_OK ||
		    (e = gfsb_repo_open_mirror(s->src, s->dst, &s->mirror)) !=
		    GFSB_OK)
			return e;
	} else if (fresh) {
		s->res->copied++; /* the config the real run would write */
	}
	if (s->mirror != NULL) {
		if (gfsb_backend_is_remote(s->dst) &&
		    (e = gfsb_repo_set_cache(s->mirror, s->o->mirror_cache)) !=
		    GFSB_OK)
			return e;
		if (s->mode != GFSB_LOCK_NONE && s->plan != NULL)
			lock_fresh(s);
		if (!s->o->dry_run &&
		    (e = gfsb_repo_lock(s->mirror, 1, dlock)) != GFSB_OK)
			return e;
		if ((e = upgrade_mirror(s)) != GFSB_OK)
			return e;
		for (i = 0; i < NPHASES; i++)
			if ((e = gfsb_backend_list_all(s->dst, phase_type[i],
			    &s->dl[i])) != GFSB_OK)
				return e;
	}
	for (i = 0; i < NPHASES; i++)
		add_totals(s, i);
	return GFSB_OK;
}

/*
 * The nightly extension: every object the source has (all at the mirror
 * now) whose lock falls short of what the policy needs tonight, the
 * config and keys to the longest; then the dates applied are remembered
 * and the ledger saved.
 */
static gfsb_err
extend_locks(struct sync *s)
{
	const struct gfsb_objlist *lp[NPHASES];
	struct gfsb_objlist both;
	size_t i, k;
	gfsb_err e;

	if (s->mode == GFSB_LOCK_NONE || s->plan == NULL)
		return GFSB_OK;
	for (i = 0; i < NPHASES; i++)
		lp[i] = &s->sl[i];
	if ((e = ops_lock_apply(s->dst, s->mode, s->plan, s->ledger, lp,
	    phase_type, NPHASES, s->o->threads, &s->res->locks)) != GFSB_OK ||
	    (e = ops_lock_remember(s->plan, s->ledger, &s->sl[P_SNAPS])) !=
	    GFSB_OK)
		return e;
	/* Forget what neither side has any more. */
	for (i = 0; i < NPHASES; i++) {
		memset(&both, 0, sizeof(both));
		for (k = 0; k < s->sl[i].n && e == GFSB_OK; k++)
			e = gfsb_objlist_add(&both, s->sl[i].v[k].id, 0);
		for (k = 0; k < s->dl[i].n && e == GFSB_OK; k++)
			e = gfsb_objlist_add(&both, s->dl[i].v[k].id, 0);
		gfsb_objlist_sort(&both);
		if (e == GFSB_OK)
			ops_ledger_prune(s->ledger, phase_type[i], &both);
		gfsb_objlist_fini(&both);
		if (e != GFSB_OK)
			return e;
	}
	return GFSB_OK;
}

/*
 * A write-only key's sync after the packs.  It adds and never deletes:
 * what the source dropped, only a full key drops at the mirror (it reads
 * the snapshots that say what must stay).  Nor may a source index file
 * that replaces one the mirror holds (a full key's prune) reach the
 * mirror from here, for the mirror's own index file that would keep the
 * replaced entries named is not a writer's to make: such a file, and the
 * snapshots after it, wait for a full key's sync.  Locks get the dates
 * of their first put and no more (a full key's sync extends them).
 */
static gfsb_err
writer_rest(struct sync *s)
{
	const struct gfsb_objlist *si = &s->sl[P_INDEX], *mi = &s->dl[P_INDEX];
	struct gfsb_index_file f;
	size_t k, j;
	int held = 0;
	gfsb_err e = GFSB_OK;

	for (k = 0; k < si->n && !held; k++) {
		if (gfsb_objlist_find(mi, si->v[k].name) != NULL)
			continue;
		e = gfsb_repo_index_file_read(s->src, si->v[k].name, &f);
		if (e == GFSB_OK)
			for (j = 0; j < mi->n && !held; j++)
				held = supersedes(&f, mi->v[j].name);
		gfsb_repo_index_file_fini(&f);
		if (e != GFSB_OK && !gfsb_err_is_damage(e) && e != GFSB_EAUTH)
			return e;
		/* One it cannot read may be such a file too. */
		held = held || e != GFSB_OK;
		gfsb_ctx_clearerr(s->ctx);
		if (!held)
			continue;
		return gfsb_ctx_seterr(s->ctx, GFSB_EAUTH, "index/%.16s at "
		    "the source replaces index files the mirror has (a full "
		    "key pruned the repository): it and the snapshots are "
		    "left to a full key's sync (the packs are copied)",
		    si->v[k].name);
	}
	if ((e = copy_phase(s, P_INDEX)) != GFSB_OK)
		return e;
	return copy_phase(s, P_SNAPS);
}

/* Key files the mirror has and the source does not: kept, counted. */
static void
count_own_keys(struct sync *s)
{
	size_t k;

	for (k = 0; k < s->dl[P_KEYS].n; k++)
		if (gfsb_objlist_find(&s->sl[P_KEYS],
		    s->dl[P_KEYS].v[k].name) == NULL)
			s->res->keys_kept++;
}

gfsb_err
gfsb_ops_sync(struct gfsb_repo *src, struct gfsb_backend *dst,
    const struct gfsb_sync_opts *o, struct gfsb_sync_result *res)
{
	struct gfsb_lock *slock = NULL, *dlock = NULL;
	struct gfsb_backend_io sio0, dio0;
	struct sync s;
	size_t i;
	int stake = 0;
	gfsb_err e;

	memset(res, 0, sizeof(*res));
	gfsb_backend_io_get(gfsb_repo_backend(src), &sio0);
	gfsb_backend_io_get(dst, &dio0);
	memset(&s, 0, sizeof(s));
	s.src = src;
	s.sb = gfsb_repo_backend(src);
	s.dst = dst;
	s.ctx = gfsb_repo_ctx(src);
	s.o = o;
	s.res = res;
	s.t0 = gfsb_monotonic_seconds();
	s.writer = gfsb_repo_write_only(src);
	/* A mirror onto itself would delete what it mirrors. */
	if (strcmp(gfsb_backend_location(s.sb), gfsb_backend_location(dst)) ==
	    0) {
		e = gfsb_ctx_seterr(s.ctx, GFSB_EINVAL, "the mirror %s is the "
		    "repository itself", gfsb_backend_location(dst));
		goto out;
	}
	if ((e = prepare(&s, &slock, &dlock)) != GFSB_OK)
		goto out;
	count_own_keys(&s);
	/* A source with no snapshot left must not empty its mirror. */
	s.refused = o->delete_mode != GFSB_SYNC_DELETE_NEVER &&
	    s.sl[P_SNAPS].n == 0 && s.dl[P_SNAPS].n > 0 && !s.writer;
	s.keeps = o->delete_mode == GFSB_SYNC_DELETE_NEVER || s.refused ||
	    s.writer;
	/* Keys only ever added (the first sync copied them already). */
	if (!res->initialized && (e = copy_phase(&s, P_KEYS)) != GFSB_OK)
		goto out;
	if ((e = copy_phase(&s, P_PACKS)) != GFSB_OK ||
	    (e = drop_snapshots(&s)) != GFSB_OK)
		goto out;
	if (s.writer && !o->dry_run) {
		e = writer_rest(&s);
		goto out;
	}
	if (o->dry_run) {
		/* Counted, not copied: the index files and snapshots too, so
		 * that "would copy N" is what the real run copies (it said
		 * packs only: 4 where the sync then copied 6). */
		if ((e = copy_phase(&s, P_INDEX)) == GFSB_OK &&
		    (e = copy_phase(&s, P_SNAPS)) == GFSB_OK)
			dry_deletions(&s);
		goto out;
	}
	if ((e = at_stake(&s, &stake)) != GFSB_OK ||
	    (stake && ((e = decide(&s)) != GFSB_OK ||
	    (e = cover(&s)) != GFSB_OK)) ||
	    (e = copy_phase(&s, P_INDEX)) != GFSB_OK ||
	    (e = copy_phase(&s, P_SNAPS)) != GFSB_OK ||
	    (e = delete_index(&s)) != GFSB_OK ||
	    (e = delete_packs(&s)) != GFSB_OK ||
	    (e = extend_locks(&s)) != GFSB_OK)
		goto out;
	if (s.refused)
		e = gfsb_ctx_seterr(s.ctx, GFSB_EINVAL, "the source has no "
		    "snapshot but the destination has %zu: refusing to mirror "
		    "deletions (restore from the mirror, or sync --delete "
		    "never)", s.dl[P_SNAPS].n);
out:
	/* What was learnt of the dates is kept, even after a failure. */
	if (s.ledger != NULL && !o->dry_run && ops_ledger_save(s.ledger) !=
	    GFSB_OK)
		gfsb_ctx_log(s.ctx, GFSB_LOG_WARN, "cannot write the lock "
		    "ledger %s (the dates are read from storage next time)",
		    s.lo.ledger);
	ops_ledger_free(s.ledger);
	ops_lock_plan_free(s.plan);
	gfsb_repo_unlock(dlock);
	gfsb_repo_unlock(slock);
	gfsb_repo_close(s.mirror);
	for (i = 0; i < NPHASES; i++) {
		gfsb_objlist_fini(&s.sl[i]);
		gfsb_objlist_fini(&s.dl[i]);
	}
	for (i = 0; i < s.nix; i++)
		gfsb_repo_index_file_fini(&s.ix[i].f);
	free(s.ix);
	gfsb_objlist_fini(&s.srcpacks);
	gfsb_objlist_fini(&s.own);
	gfsb_objlist_fini(&s.keep);
	res->seconds = gfsb_monotonic_seconds() - s.t0;
	gfsb_ops_backend_io_since(gfsb_repo_backend(src), &sio0, &res->src_io);
	gfsb_ops_backend_io_since(dst, &dio0, &res->dst_io);
	return e;
}
