/*
 * ops_verify: prove that what is stored restores.
 *
 * Phases, each reporting damage instead of stopping at it:
 *   1. keys, index files, locks, and the pack listing against the index
 *      (missing packs, wrong sizes, orphans, duplicates);
 *   2. snapshots and every tree they reach (each distinct tree once, the
 *      index's mark bits remembering which were seen); every data blob a
 *      file uses must be indexed;
 *   3. the packs selected for reading, whole, from storage, by a few
 *      threads: SHA-256 against the name, header against the index, every
 *      blob authenticated, decompressed and its id recomputed;
 *   4. when anything is damaged, a second walk maps the damaged blobs to
 *      the snapshots and files they break (a tree is looked into only if
 *      something below it is damaged, remembered per tree).
 * Only storage failures (network, I/O) stop a verification: damage never
 * does.  A pack belongs to slice (first 8 bytes of its id) mod T for its
 * whole life, so `rotate/T` reads every pack once in T consecutive days,
 * and a pack written today is read on its slice's day.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include <gfsbackup/ops.h>

#include "ops_internal.h"

#define STATE_VERSION 1
#define STATE_NIGHTS 120	/* nights of history kept */
#define MAX_SUBSET_SLICES 100000
#define MAX_ORPHANS_LISTED 20

/* ---- subsets and days ---- */

gfsb_err
gfsb_ops_verify_parse_subset(const char *s, enum gfsb_verify_read *read,
    uint32_t *slice, uint32_t *slices, double *percent)
{
	unsigned long n, t;
	double p;
	char *end;

	if (s == NULL || *s == '\0')
		return GFSB_EINVAL;
	if (s[strlen(s) - 1] == '%') {
		errno = 0;
		p = strtod(s, &end);
		if (errno != 0 || end == s || *end != '%' || end[1] != '\0' ||
		    !(p > 0) || p > 100 || s[0] == '-' || s[0] == '+')
			return GFSB_EINVAL;
		*read = GFSB_VERIFY_READ_PERCENT;
		*percent = p;
		return GFSB_OK;
	}
	if (strncmp(s, "rotate/", 7) == 0) {
		if (s[7] < '0' || s[7] > '9')
			return GFSB_EINVAL;
		errno = 0;
		t = strtoul(s + 7, &end, 10);
		if (errno != 0 || *end != '\0' || t < 1 ||
		    t > MAX_SUBSET_SLICES)
			return GFSB_EINVAL;
		*read = GFSB_VERIFY_READ_ROTATE;
		*slices = (uint32_t)t;
		return GFSB_OK;
	}
	if (s[0] < '0' || s[0] > '9')
		return GFSB_EINVAL;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || *end != '/' || end[1] < '0' || end[1] > '9')
		return GFSB_EINVAL;
	t = strtoul(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || t < 1 || t > MAX_SUBSET_SLICES ||
	    n < 1 || n > t)
		return GFSB_EINVAL;
	*read = GFSB_VERIFY_READ_SLICE;
	*slice = (uint32_t)n;
	*slices = (uint32_t)t;
	return GFSB_OK;
}

uint32_t
gfsb_ops_verify_slice_of(const uint8_t pack[GFSB_ID_LEN], uint32_t slices)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | pack[i];
	return slices == 0 ? 0 : (uint32_t)(v % slices);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int64_t
gfsb_ops_verify_day(const struct gfsb_time *t)
{
	time_t tt = (time_t)t->sec;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return t->sec / 86400;
	return days_from_civil((int64_t)tm.tm_year + 1900,
	    (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
}

/* "YYYY-MM-DD" <-> day number. */
static void
day_format(int64_t day, char *buf, size_t len)
{
	int64_t z = day + 719468, era, y;
	unsigned doe, yoe, doy, mp, d, m;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999)
		y = 0; /* not a date anyone backs up on */
	snprintf(buf, len, "%04d-%02u-%02u", (int)y, m % 13, d % 32);
}

static int
day_parse(const char *s, int64_t *day)
{
	unsigned y, m, d;
	char tail;

	if (s == NULL || sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 ||
	    m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	*day = days_from_civil(y, m, d);
	return 0;
}

/* ---- a set of ids, with a small value each ---- */

struct idslot {
	uint8_t id[GFSB_ID_LEN];
	uint8_t used;
	uint8_t type;
	uint8_t state;		/* memo: 1 clean, 2 damaged */
	char why[80];		/* damaged blobs: why */
};

struct idset {
	struct idslot *v;
	size_t n, cap; /* cap: power of two or 0 */
};

static size_t
idhash(const uint8_t *id)
{
	size_t h;

	memcpy(&h, id, sizeof(h)); /* ids are uniform: hashes or MACs */
	return h;
}

static struct idslot *
idset_find(const struct idset *s, const uint8_t *id)
{
	size_t i;

	if (s->cap == 0)
		return NULL;
	for (i = idhash(id) & (s->cap - 1); s->v[i].used;
	    i = (i + 1) & (s->cap - 1))
		if (memcmp(s->v[i].id, id, GFSB_ID_LEN) == 0)
			return &s->v[i];
	return NULL;
}

/* Find or add id; *slot is the entry (new ones zeroed but for id). */
static gfsb_err
idset_add(struct idset *s, const uint8_t *id, struct idslot **slot)
{
	struct idslot *nv, *p;
	size_t ncap, i, j;

	if ((p = idset_find(s, id)) != NULL) {
		*slot = p;
		return GFSB_OK;
	}
	if ((s->n + 1) * 2 > s->cap) {
		ncap = s->cap == 0 ? 64 : s->cap * 2;
		if ((nv = calloc(ncap, sizeof(*nv))) == NULL)
			return GFSB_ENOMEM;
		for (i = 0; i < s->cap; i++) {
			if (!s->v[i].used)
				continue;
			for (j = idhash(s->v[i].id) & (ncap - 1); nv[j].used;
			    j = (j + 1) & (ncap - 1))
				;
			nv[j] = s->v[i];
		}
		free(s->v);
		s->v = nv;
		s->cap = ncap;
	}
	for (i = idhash(id) & (s->cap - 1); s->v[i].used;
	    i = (i + 1) & (s->cap - 1))
		;
	memcpy(s->v[i].id, id, GFSB_ID_LEN);
	s->v[i].used = 1;
	s->n++;
	*slot = &s->v[i];
	return GFSB_OK;
}

static void
idset_fini(struct idset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- the verification ---- */

static int
pack_blobs_cmp(const void *a, const void *b)
{
	const struct gfsb_pack_blobs *x = a, *y = b;

	return memcmp(x->id, y->id, GFSB_ID_LEN);
}

struct verify {
	struct gfsb_repo *r;
	struct gfsb_ctx *ctx;
	const struct gfsb_verify_opts *o;
	struct gfsb_verify_result *res;
	struct gfsb_repo_io *io;
	struct gfsb_snapshot **snaps;
	size_t nsnaps;
	struct gfsb_pack_blobs *packs;	/* the index, by pack */
	size_t npacks;
	struct gfsb_objlist stored;	/* the pack listing */
	struct gfsb_objlist snapnames;	/* the snapshot listing */
	struct gfsb_key_info *keys;	/* the key files */
	size_t nkeys;
	uint8_t *read_it;		/* per pack: read in phase 3 */
	uint8_t *read_ok;		/* per pack: read and clean */
	struct idset bad;		/* damaged or missing blobs */
	struct idset memo;		/* phase 4: trees known clean/damaged */
	struct gfsb_time start;
	gfsb_err oom;			/* ENOMEM in a callback */
};

static double
since(const struct gfsb_time *t0)
{
	struct gfsb_time now;

	gfsb_time_now(&now);
	return (double)(now.sec - t0->sec) + (now.nsec - t0->nsec) / 1e9;
}

static void
progress(struct verify *v, const char *phase, uint64_t done, uint64_t total,
    uint64_t bytes)
{
	struct gfsb_verify_progress p;

	if (v->o->progress == NULL)
		return;
	p.phase = phase;
	p.done = done;
	p.total = total;
	p.bytes = bytes;
	p.seconds = since(&v->start);
	v->o->progress(v->o->progress_cookie, &p);
}

static gfsb_err
add_damage(struct verify *v, const char *kind, const char *id,
    const char *fmt, ...) GFSB_PRINTF(4, 5);

static gfsb_err
add_damage(struct verify *v, const char *kind, const char *id,
    const char *fmt, ...)
{
	struct gfsb_verify_result *res = v->res;
	struct gfsb_verify_damage *nv;
	va_list ap;
	char *why;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&why, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return GFSB_ENOMEM;
	if ((nv = realloc(res->damage, (res->ndamage + 1) * sizeof(*nv))) ==
	    NULL) {
		free(why);
		return GFSB_ENOMEM;
	}
	res->damage = nv;
	memset(&nv[res->ndamage], 0, sizeof(*nv));
	snprintf(nv[res->ndamage].kind, sizeof(nv->kind), "%s", kind);
	snprintf(nv[res->ndamage].id, sizeof(nv->id), "%s", id);
	nv[res->ndamage++].why = why;
	return GFSB_OK;
}

static gfsb_err broken_add(struct gfsb_verify_result *res,
    const struct gfsb_verify_opts *o, const char *snap, const char *path,
    const char *why);

static gfsb_err
add_warning(struct verify *v, const char *fmt, ...) GFSB_PRINTF(2, 3);

static gfsb_err
add_warning(struct verify *v, const char *fmt, ...)
{
	va_list ap;
	gfsb_err e;

	va_start(ap, fmt);
	e = gfsb_strv_vaddf(&v->res->warnings, &v->res->nwarnings, fmt, ap);
	va_end(ap);
	return e;
}

/* The listing entry of pack i, or NULL if it is not stored. */
static const struct gfsb_objent *
stored_pack(const struct verify *v, size_t i)
{
	char hex[GFSB_ID_HEX];

	gfsb_hex_encode(v->packs[i].id, GFSB_ID_LEN, hex);
	return gfsb_objlist_find(&v->stored, hex);
}

/* Record a damaged blob (the first reason found is kept). */
static gfsb_err
mark_bad(struct verify *v, const uint8_t *id, uint8_t type, const char *why)
{
	struct idslot *s;
	gfsb_err e;

	if ((e = idset_add(&v->bad, id, &s)) != GFSB_OK)
		return e;
	if (s->why[0] == '\0') {
		s->type = type;
		snprintf(s->why, sizeof(s->why), "%.79s", why);
	}
	return GFSB_OK;
}

static void
index_bad(void *cookie, const char *name, gfsb_err e, const char *detail)
{
	struct verify *v = cookie;
	gfsb_err e2;

	e2 = add_damage(v, "index", name, "%s",
	    detail != NULL && *detail != '\0' ? detail : gfsb_strerror(e));
	if (e2 != GFSB_OK)
		v->oom = e2;
}

static gfsb_err
check_keys(struct verify *v)
{
	struct gfsb_key_info *keys = NULL;
	size_t n = 0, i;
	gfsb_err e;

	if ((e = gfsb_repo_key_list(v->r, &keys, &n)) != GFSB_OK)
		return e;
	v->res->keys = n;
	v->keys = keys;
	v->nkeys = n;
	for (i = 0; i < n && e == GFSB_OK; i++)
		if (keys[i].damaged)
			e = add_damage(v, "key", keys[i].id, "key file %.16s "
			    "does not match its name or does not parse",
			    keys[i].id);
	return e;
}

static gfsb_err
check_locks(struct verify *v)
{
	gfsb_err e;

	/* A view of the past shows the locks of processes long gone, which
	 * `unlock` could not remove anyway. */
	if (gfsb_backend_as_of(gfsb_repo_backend(v->r)) != 0)
		return GFSB_OK;
	if ((e = gfsb_repo_lock_count(v->r, &v->res->locks_live,
	    &v->res->locks_stale)) != GFSB_OK)
		return e;
	if (v->res->locks_stale > 0)
		return add_warning(v, "%zu stale or unreadable lock%s (left by "
		    "a process that died; remove with `gfsbackup unlock`)",
		    v->res->locks_stale, v->res->locks_stale == 1 ? "" : "s");
	return GFSB_OK;
}

/* Compare the pack listing with the index. */
static gfsb_err
check_packs(struct verify *v)
{
	struct gfsb_verify_result *res = v->res;
	const struct gfsb_objent *st;
	struct gfsb_pack_blobs *pb;
	char hex[GFSB_ID_HEX], why[128];
	size_t i, j;
	gfsb_err e;

	if ((e = gfsb_backend_list_all(gfsb_repo_backend(v->r), GFSB_OBJ_PACK,
	    &v->stored)) != GFSB_OK)
		return e;
	if ((e = gfsb_repo_index_packs(v->r, &v->packs, &v->npacks)) !=
	    GFSB_OK)
		return e;
	if (v->npacks > 0 &&
	    ((v->read_it = calloc(v->npacks, 1)) == NULL ||
	    (v->read_ok = calloc(v->npacks, 1)) == NULL))
		return GFSB_ENOMEM;
	res->packs = v->npacks;
	for (i = 0; i < v->stored.n; i++)
		res->repo_bytes += v->stored.v[i].size;
	for (i = 0; i < v->npacks; i++) {
		pb = &v->packs[i];
		gfsb_hex_encode(pb->id, GFSB_ID_LEN, hex);
		res->pack_bytes += pb->size;
		st = stored_pack(v, i);
		if (st == NULL) {
			if ((e = add_damage(v, "pack", hex, "pack %.16s is "
			    "missing from storage (%zu blobs lost)", hex,
			    pb->n)) != GFSB_OK)
				return e;
			snprintf(why, sizeof(why), "its pack %.16s is missing",
			    hex);
			for (j = 0; j < pb->n; j++)
				if ((e = mark_bad(v, pb->ids[j],
				    pb->locs[j].type, why)) != GFSB_OK)
					return e;
			continue;
		}
		if (st->size != pb->size) {
			/* Read it whatever the subset: only reading says
			 * which of its blobs are lost. */
			v->read_it[i] = 1;
			if ((e = add_damage(v, "pack", hex, "pack %.16s has "
			    "%llu bytes; its index entries need %llu", hex,
			    (unsigned long long)st->size,
			    (unsigned long long)pb->size)) != GFSB_OK)
				return e;
		}
	}
	/* Packs no index names: left by an interrupted backup or prune. */
	for (i = 0, j = 0; i < v->stored.n; i++) {
		struct gfsb_pack_blobs key;

		memcpy(key.id, v->stored.v[i].id, GFSB_ID_LEN);
		if (v->npacks > 0 && bsearch(&key, v->packs, v->npacks,
		    sizeof(*v->packs), pack_blobs_cmp) != NULL)
			continue;
		res->orphaned++;
		if (j++ < MAX_ORPHANS_LISTED &&
		    (e = add_warning(v, "pack %.16s is in no index (left by "
		    "an interrupted run; the next backup reuses it, prune "
		    "removes it)", v->stored.v[i].name)) != GFSB_OK)
			return e;
	}
	if (j > MAX_ORPHANS_LISTED &&
	    (e = add_warning(v, "... and %zu more packs in no index",
	    j - MAX_ORPHANS_LISTED)) != GFSB_OK)
		return e;
	res->duplicates = gfsb_repo_index_duplicates(v->r);
	if (res->duplicates > 0 &&
	    (e = add_warning(v, "%llu blobs are stored twice (harmless; "
	    "prune removes the copies)",
	    (unsigned long long)res->duplicates)) != GFSB_OK)
		return e;
	return GFSB_OK;
}

/* Load every snapshot; a damaged one is named and skipped. */
static gfsb_err
check_snapshots(struct verify *v)
{
	struct gfsb_objlist names = { NULL, 0, 0 };
	struct gfsb_snapshot *s;
	gfsb_err e2;
	size_t i;
	gfsb_err e;

	if ((e = gfsb_backend_list_all(gfsb_repo_backend(v->r),
	    GFSB_OBJ_SNAPSHOT, &names)) != GFSB_OK)
		return e;
	if (names.n > 0 &&
	    (v->snaps = calloc(names.n, sizeof(*v->snaps))) == NULL) {
		e = GFSB_ENOMEM;
		goto out;
	}
	for (i = 0; i < names.n; i++) {
		v->res->repo_bytes += names.v[i].size;
		e = gfsb_repo_snapshot_load(v->r, names.v[i].name, &s);
		if (e == GFSB_OK) {
			v->snaps[v->nsnaps++] = s;
			continue;
		}
		if (!gfsb_err_is_damage(e))
			goto out;
		e = add_damage(v, "snapshot", names.v[i].name, "%s",
		    gfsb_ctx_errmsg(v->ctx));
		gfsb_ctx_clearerr(v->ctx);
		if (e != GFSB_OK)
			goto out;
		e = broken_add(v->res, v->o, names.v[i].name, "/",
		    "the snapshot itself is damaged");
		if (e != GFSB_OK)
			goto out;
	}
	v->res->snapshots = v->nsnaps;
	e = GFSB_OK;
out:
	/* The listing stays: tamper evidence compares it with the state. */
	e2 = e;
	v->snapnames = names;
	return e2;
}

/* Walk every tree once; check that every blob used is indexed. */
static gfsb_err
check_trees(struct verify *v)
{
	uint8_t (*stack)[GFSB_ID_LEN] = NULL, (*ns)[GFSB_ID_LEN];
	size_t nstack = 0, capstack = 0, i, j, k;
	struct gfsb_tree t;
	const struct gfsb_node *nd;
	char hex[GFSB_ID_HEX], why[96];
	gfsb_err e = GFSB_OK;

	gfsb_repo_tree_init(&t);
	for (i = 0; i < v->nsnaps && e == GFSB_OK; i++) {
		if (nstack == capstack) {
			capstack = capstack ? capstack * 2 : 64;
			if ((ns = realloc(stack, capstack *
			    sizeof(*stack))) == NULL) {
				e = GFSB_ENOMEM;
				break;
			}
			stack = ns;
		}
		memcpy(stack[nstack++], v->snaps[i]->tree, GFSB_ID_LEN);
		while (nstack > 0 && e == GFSB_OK) {
			uint8_t id[GFSB_ID_LEN];

			memcpy(id, stack[--nstack], GFSB_ID_LEN);
			e = gfsb_repo_index_mark(v->r, GFSB_BLOB_TREE, id);
			if (e == GFSB_EEXIST) {
				e = GFSB_OK;
				continue;
			}
			if (e == GFSB_ENOTFOUND) {
				e = mark_bad(v, id, GFSB_BLOB_TREE,
				    "tree is not in the index");
				continue;
			}
			if (e != GFSB_OK)
				break;
			v->res->trees++;
			if (gfsb_ctx_canceled(v->ctx)) {
				e = GFSB_ECANCELED;
				break;
			}
			gfsb_repo_tree_fini(&t);
			e = gfsb_repo_tree_load(v->io, id, &t);
			if (gfsb_err_is_damage(e)) {
				snprintf(why, sizeof(why), "tree does not "
				    "open: %.60s", gfsb_ctx_errmsg(v->ctx));
				gfsb_ctx_clearerr(v->ctx);
				gfsb_hex_encode(id, GFSB_ID_LEN, hex);
				if ((e = add_damage(v, "blob", hex, "tree "
				    "%.16s does not open (%s)", hex,
				    gfsb_strerror(e))) == GFSB_OK)
					e = mark_bad(v, id, GFSB_BLOB_TREE,
					    why);
				continue;
			}
			if (e != GFSB_OK)
				break;
			for (j = 0; j < t.n && e == GFSB_OK; j++) {
				nd = &t.nodes[j];
				if (nd->kind == GFSB_NODE_DIR) {
					if (nstack == capstack) {
						capstack *= 2;
						if ((ns = realloc(stack,
						    capstack *
						    sizeof(*stack))) == NULL) {
							e = GFSB_ENOMEM;
							break;
						}
						stack = ns;
					}
					memcpy(stack[nstack++], nd->subtree,
					    GFSB_ID_LEN);
					continue;
				}
				for (k = 0; k < nd->nextents && e == GFSB_OK;
				    k++) {
					if (nd->extents[k].hole)
						continue;
					e = gfsb_repo_index_mark(v->r,
					    GFSB_BLOB_DATA, nd->extents[k].id);
					if (e == GFSB_OK)
						v->res->data_blobs++;
					if (e == GFSB_EEXIST)
						e = GFSB_OK;
					else if (e == GFSB_ENOTFOUND)
						e = mark_bad(v,
						    nd->extents[k].id,
						    GFSB_BLOB_DATA,
						    "not in the index");
				}
			}
		}
		progress(v, "trees", i + 1, v->nsnaps, 0);
	}
	gfsb_repo_tree_fini(&t);
	free(stack);
	return e;
}

/* ---- phase 3: reading packs ---- */

struct reader {
	struct verify *v;
	pthread_mutex_t mu;
	size_t next;		/* next pack to consider */
	uint64_t done, total, bytes;
	gfsb_err err;
	char errmsg[1024];
};

static gfsb_err
pack_result(struct verify *v, size_t i, const struct gfsb_pack_check *pc,
    uint64_t len)
{
	const struct gfsb_pack_blobs *pb = &v->packs[i];
	char hex[GFSB_ID_HEX], bhex[GFSB_ID_HEX], why[96];
	size_t j, k;
	gfsb_err e = GFSB_OK;

	gfsb_hex_encode(pb->id, GFSB_ID_LEN, hex);
	v->res->blobs_read += pb->n;
	if (!pc->name_ok && (e = add_damage(v, "pack", hex, "pack %.16s: its "
	    "content does not match its name (SHA-256 of %llu bytes)", hex,
	    (unsigned long long)len)) != GFSB_OK)
		return e;
	if (!pc->header_ok && (e = add_damage(v, "pack", hex, "pack %.16s: "
	    "%s", hex, pc->header_why)) != GFSB_OK)
		return e;
	for (k = 0; k < pc->nbad; k++) {
		j = pc->bad[k];
		gfsb_hex_encode(pb->ids[j], GFSB_ID_LEN, bhex);
		if ((e = add_damage(v, "blob", bhex, "%s blob %.16s in pack "
		    "%.16s at offset %u (%u bytes) fails authentication or "
		    "its id check", pb->locs[j].type == GFSB_BLOB_TREE ?
		    "tree" : "data", bhex, hex, pb->locs[j].offset,
		    pb->locs[j].length)) != GFSB_OK)
			return e;
		snprintf(why, sizeof(why), "blob %.16s in pack %.16s is "
		    "damaged", bhex, hex);
		if ((e = mark_bad(v, pb->ids[j], pb->locs[j].type, why)) !=
		    GFSB_OK)
			return e;
	}
	v->read_ok[i] = pc->name_ok && pc->header_ok && pc->nbad == 0;
	return GFSB_OK;
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	struct verify *v = rd->v;
	struct gfsb_backend *be = gfsb_repo_backend(v->r);
	struct gfsb_repo_io *io = NULL;
	struct gfsb_pack_check pc;
	const struct gfsb_objent *st;
	struct gfsb_buf buf;
	gfsb_err e;
	size_t i;

	gfsb_buf_init(&buf);
	if ((e = gfsb_repo_io_new(v->r, &io)) != GFSB_OK) {
		pthread_mutex_lock(&rd->mu);
		if (rd->err == GFSB_OK)
			rd->err = e;
		pthread_mutex_unlock(&rd->mu);
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&rd->mu);
		while (rd->next < v->npacks && !v->read_it[rd->next])
			rd->next++;
		if (rd->err != GFSB_OK || rd->next >= v->npacks) {
			pthread_mutex_unlock(&rd->mu);
			break;
		}
		i = rd->next++;
		pthread_mutex_unlock(&rd->mu);
		st = stored_pack(v, i);
		buf.len = 0;
		e = GFSB_OK;
		if (gfsb_ctx_canceled(v->ctx))
			e = GFSB_ECANCELED;
		else if (st->size > (uint64_t)GFSB_PACK_SIZE_MAX * 2)
			e = GFSB_OK; /* absurd: checked as if empty */
		else if ((e = gfsb_buf_reserve(&buf, st->size)) == GFSB_OK)
			e = gfsb_backend_read(be, GFSB_OBJ_PACK, st->name, 0,
			    buf.data, st->size);
		if (e == GFSB_OK && st->size <= (uint64_t)GFSB_PACK_SIZE_MAX * 2)
			buf.len = st->size;
		if (e == GFSB_ENOTFOUND || e == GFSB_ECORRUPT) {
			/* Deleted or truncated since the listing. */
			gfsb_ctx_clearerr(v->ctx);
			buf.len = 0;
			e = GFSB_OK;
		}
		if (e == GFSB_OK)
			e = gfsb_repo_pack_check(io, &v->packs[i], buf.data,
			    buf.len, &pc);
		pthread_mutex_lock(&rd->mu);
		if (e == GFSB_OK) {
			e = pack_result(v, i, &pc, buf.len);
			free(pc.bad);
			rd->done++;
			rd->bytes += buf.len;
			v->res->packs_read++;
			v->res->bytes_read += buf.len;
		}
		if (e != GFSB_OK && rd->err == GFSB_OK) {
			/* Not read, so not checked: no verdict on the pack,
			 * and none on the repository.  The storage's detail
			 * names the object (another reader's, maybe). */
			const char *why = gfsb_ctx_errmsg(v->ctx);

			rd->err = e;
			if (*why != '\0')
				snprintf(rd->errmsg, sizeof(rd->errmsg), "not "
				    "every pack could be checked: %s", why);
			else
				snprintf(rd->errmsg, sizeof(rd->errmsg), "pack "
				    "%s could not be checked: %s", st->name,
				    gfsb_strerror(e));
		}
		progress(v, "read", rd->done, rd->total, rd->bytes);
		pthread_mutex_unlock(&rd->mu);
	}
	gfsb_buf_fini(&buf);
	gfsb_repo_io_free(io);
	return NULL;
}

/* Choose the packs to read (on top of those phase 1 chose). */
static gfsb_err
select_packs(struct verify *v)
{
	const struct gfsb_verify_opts *o = v->o;
	size_t *cand = NULL, ncand = 0, want, i, j, t;
	uint32_t today = 0;
	double share;

	switch (o->read) {
	case GFSB_VERIFY_READ_NONE:
		snprintf(v->res->mode, sizeof(v->res->mode), "structure only");
		break;
	case GFSB_VERIFY_READ_ALL:
		snprintf(v->res->mode, sizeof(v->res->mode), "all packs");
		break;
	case GFSB_VERIFY_READ_SLICE:
		today = o->slice - 1;
		snprintf(v->res->mode, sizeof(v->res->mode), "slice %u of %u",
		    o->slice, o->slices);
		break;
	case GFSB_VERIFY_READ_ROTATE:
		today = (uint32_t)(((gfsb_ops_verify_day(&o->now) %
		    o->slices) + o->slices) % o->slices);
		snprintf(v->res->mode, sizeof(v->res->mode), "rotate/%u: "
		    "today's slice is %u of %u", o->slices, today + 1,
		    o->slices);
		break;
	case GFSB_VERIFY_READ_PERCENT:
		snprintf(v->res->mode, sizeof(v->res->mode), "%g%% at random",
		    o->percent);
		break;
	}
	for (i = 0; i < v->npacks; i++) {
		if (stored_pack(v, i) == NULL) {
			v->read_it[i] = 0; /* missing: nothing to read */
			continue;
		}
		switch (o->read) {
		case GFSB_VERIFY_READ_NONE:
		case GFSB_VERIFY_READ_PERCENT:
			break;
		case GFSB_VERIFY_READ_ALL:
			v->read_it[i] = 1;
			break;
		case GFSB_VERIFY_READ_SLICE:
		case GFSB_VERIFY_READ_ROTATE:
			if (gfsb_ops_verify_slice_of(v->packs[i].id,
			    o->slices) == today)
				v->read_it[i] = 1;
			break;
		}
	}
	if (o->read != GFSB_VERIFY_READ_PERCENT || v->npacks == 0)
		return GFSB_OK;
	/* A random share: a partial Fisher-Yates shuffle of the rest. */
	if ((cand = malloc(v->npacks * sizeof(*cand))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < v->npacks; i++)
		if (!v->read_it[i] &&
		    stored_pack(v, i) != NULL)
			cand[ncand++] = i;
	share = o->percent / 100.0 * (double)v->npacks;
	want = (size_t)share;
	if ((double)want < share)
		want++; /* rounded up: 5% of 3 packs reads one */
	if (want > ncand)
		want = ncand;
	for (i = 0; i < want; i++) {
		j = i + randombytes_uniform((uint32_t)(ncand - i));
		t = cand[i];
		cand[i] = cand[j];
		cand[j] = t;
		v->read_it[cand[i]] = 1;
	}
	free(cand);
	return GFSB_OK;
}

static gfsb_err
read_packs(struct verify *v)
{
	struct reader rd;
	pthread_t th[16];
	unsigned n = v->o->threads ? v->o->threads : 2, i, started = 0;
	size_t k;

	if (n > 16)
		n = 16;
	memset(&rd, 0, sizeof(rd));
	rd.v = v;
	pthread_mutex_init(&rd.mu, NULL);
	for (k = 0; k < v->npacks; k++)
		rd.total += v->read_it[k];
	for (i = 0; i < n; i++) {
		if (pthread_create(&th[i], NULL, reader_main, &rd) != 0)
			break;
		started++;
	}
	if (started == 0)
		reader_main(&rd);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&rd.mu);
	if (rd.err != GFSB_OK && rd.err != GFSB_ENOMEM &&
	    rd.err != GFSB_ECANCELED) {
		gfsb_ctx_clearerr(v->ctx); /* the storage's, in errmsg */
		return gfsb_ctx_seterr(v->ctx, rd.err, "%s", rd.errmsg);
	}
	gfsb_ctx_clearerr(v->ctx); /* blob checks leave their detail */
	return rd.err;
}

/* ---- phase 4: what the damage breaks ---- */

static gfsb_err
broken_add(struct gfsb_verify_result *res, const struct gfsb_verify_opts *o,
    const char *snap, const char *path, const char *why)
{
	struct gfsb_verify_broken *nv;
	size_t max = o->max_files ? o->max_files : 1000, i;
	char (*bs)[GFSB_ID_HEX];

	for (i = 0; i < res->nbroken_snapshots; i++)
		if (strcmp(res->broken_snapshots[i], snap) == 0)
			break;
	if (i == res->nbroken_snapshots) {
		if ((bs = realloc(res->broken_snapshots, (i + 1) *
		    sizeof(*bs))) == NULL)
			return GFSB_ENOMEM;
		res->broken_snapshots = bs;
		snprintf(bs[res->nbroken_snapshots++], GFSB_ID_HEX, "%s", snap);
	}
	res->broken_total++;
	if (res->nbroken >= max)
		return GFSB_OK;
	if ((nv = realloc(res->broken, (res->nbroken + 1) * sizeof(*nv))) ==
	    NULL)
		return GFSB_ENOMEM;
	res->broken = nv;
	nv += res->nbroken;
	memset(nv, 0, sizeof(*nv));
	snprintf(nv->snapshot, sizeof(nv->snapshot), "%s", snap);
	if ((nv->path = strdup(path)) == NULL ||
	    (nv->why = strdup(why)) == NULL) {
		free(nv->path);
		return GFSB_ENOMEM;
	}
	res->nbroken++;
	return GFSB_OK;
}

/* The first damaged blob of a file, or NULL. */
static const struct idslot *
file_damage(const struct verify *v, const struct gfsb_node *nd)
{
	const struct idslot *s;
	size_t k;

	for (k = 0; k < nd->nextents; k++)
		if (!nd->extents[k].hole &&
		    (s = idset_find(&v->bad, nd->extents[k].id)) != NULL)
			return s;
	return NULL;
}

/*
 * Is anything under tree id damaged?  Memoized per tree, so each tree is
 * read at most once however many snapshots share it.  Recursion depth is
 * the directory depth.
 */
static gfsb_err
tree_damaged(struct verify *v, const uint8_t *id, int *out)
{
	struct gfsb_tree t;
	struct idslot *m;
	size_t j;
	int d = 0, sub;
	gfsb_err e;

	if (idset_find(&v->bad, id) != NULL) {
		*out = 1;
		return GFSB_OK;
	}
	if ((m = idset_find(&v->memo, id)) != NULL && m->state != 0) {
		*out = m->state == 2;
		return GFSB_OK;
	}
	gfsb_repo_tree_init(&t);
	if ((e = gfsb_repo_tree_load(v->io, id, &t)) != GFSB_OK) {
		if (!gfsb_err_is_damage(e))
			return e;
		gfsb_ctx_clearerr(v->ctx);
		*out = 1;
		return mark_bad(v, id, GFSB_BLOB_TREE, "tree does not open");
	}
	for (j = 0; j < t.n && !d; j++) {
		if (t.nodes[j].kind == GFSB_NODE_DIR) {
			if ((e = tree_damaged(v, t.nodes[j].subtree, &sub)) !=
			    GFSB_OK)
				goto out;
			d = sub;
		} else if (file_damage(v, &t.nodes[j]) != NULL) {
			d = 1;
		}
	}
	if ((e = idset_add(&v->memo, id, &m)) != GFSB_OK)
		goto out;
	m->state = d ? 2 : 1;
	*out = d;
out:
	gfsb_repo_tree_fini(&t);
	return e;
}

/* List the broken files below tree id (known to be damaged). */
static gfsb_err
list_broken(struct verify *v, const char *snap, const uint8_t *id,
    const char *dir)
{
	const struct idslot *s;
	struct gfsb_tree t;
	char *path = NULL, why[160];
	size_t j;
	int d;
	gfsb_err e = GFSB_OK;

	if ((s = idset_find(&v->bad, id)) != NULL) {
		snprintf(why, sizeof(why), "directory lost: %s", s->why);
		return broken_add(v->res, v->o, snap, dir, why);
	}
	gfsb_repo_tree_init(&t);
	if ((e = gfsb_repo_tree_load(v->io, id, &t)) != GFSB_OK)
		return e;
	for (j = 0; j < t.n && e == GFSB_OK; j++) {
		free(path);
		if (asprintf(&path, "%s%s%s", dir, strcmp(dir, "/") == 0 ?
		    "" : "/", t.nodes[j].name) < 0) {
			path = NULL;
			e = GFSB_ENOMEM;
			break;
		}
		if (t.nodes[j].kind == GFSB_NODE_DIR) {
			if ((e = tree_damaged(v, t.nodes[j].subtree, &d)) ==
			    GFSB_OK && d)
				e = list_broken(v, snap, t.nodes[j].subtree,
				    path);
		} else if ((s = file_damage(v, &t.nodes[j])) != NULL) {
			e = broken_add(v->res, v->o, snap, path, s->why);
		}
	}
	free(path);
	gfsb_repo_tree_fini(&t);
	return e;
}

static gfsb_err
map_damage(struct verify *v)
{
	size_t i;
	int d;
	gfsb_err e;

	if (v->bad.n == 0)
		return GFSB_OK;
	for (i = 0; i < v->nsnaps; i++) {
		if ((e = tree_damaged(v, v->snaps[i]->tree, &d)) != GFSB_OK)
			return e;
		if (d && (e = list_broken(v, v->snaps[i]->id,
		    v->snaps[i]->tree, "/")) != GFSB_OK)
			return e;
	}
	return GFSB_OK;
}

/* ---- the state file: when each pack was last read, nightly sizes ---- */

static int
nightcmp(const void *a, const void *b)
{
	const struct gfsb_verify_night *x = a, *y = b;

	return x->day < y->day ? -1 : x->day > y->day;
}

/*
 * The state as the last verification left it, or NULL (none yet, or one
 * that cannot be used: unreadable, not a state file, another
 * repository's; each a warning, and coverage and history start over).
 */
static gfsb_err
state_read(struct verify *v, const char *path, json_t **out)
{
	json_error_t jerr;
	json_t *root;
	const char *why = NULL;

	*out = NULL;
	root = json_load_file(path, 0, &jerr);
	if (root == NULL)
		return access(path, F_OK) == 0 ? add_warning(v, "state file %s "
		    "is unreadable (%s); verification coverage starts over",
		    path, jerr.text) : GFSB_OK;
	if (!json_is_object(root) || json_integer_value(json_object_get(root,
	    "version")) != STATE_VERSION)
		why = "is not a gfsbackup state file";
	else if (json_is_string(json_object_get(root, "repository")) &&
	    strcmp(json_string_value(json_object_get(root, "repository")),
	    gfsb_repo_id(v->r)) != 0)
		why = "belongs to another repository";
	if (why != NULL) {
		json_decref(root);
		return add_warning(v, "state file %s %s; verification coverage "
		    "and history start over", path, why);
	}
	*out = root;
	return GFSB_OK;
}

/* Packs: today for those read cleanly, the old date for the rest still
 * indexed; packs gone are forgotten.  Also the coverage in res. */
static gfsb_err
state_packs(struct verify *v, const json_t *packs, json_t *np, int64_t today)
{
	struct gfsb_verify_result *res = v->res;
	char hex[GFSB_ID_HEX], date[16];
	int64_t d, oldest = 0;
	int have_all = 1;
	size_t i;

	for (i = 0; i < v->npacks; i++) {
		gfsb_hex_encode(v->packs[i].id, GFSB_ID_LEN, hex);
		if (v->read_ok[i]) {
			d = today;
		} else if (!json_is_object(packs) || day_parse(
		    json_string_value(json_object_get(packs, hex)), &d) != 0) {
			res->never_read++;
			have_all = 0;
			continue;
		}
		if (d > today)
			d = today; /* a clock that went back */
		if (today - d > oldest)
			oldest = today - d;
		day_format(d, date, sizeof(date));
		if (json_object_set_new(np, hex, json_string(date)) != 0)
			return GFSB_ENOMEM;
	}
	res->days_since_all_read = have_all ? oldest : -1;
	return GFSB_OK;
}

/* Nights: the old ones, tonight replaced, the last STATE_NIGHTS; into nn
 * and res->nights. */
static gfsb_err
state_nights(struct verify *v, const json_t *nights, json_t *nn,
    int64_t today)
{
	struct gfsb_verify_result *res = v->res;
	struct gfsb_verify_night *nv;
	const json_t *it;
	char date[16];
	size_t i, nnv = 0, idx;
	int64_t d;

	if ((nv = calloc(STATE_NIGHTS + 1, sizeof(*nv))) == NULL)
		return GFSB_ENOMEM;
	json_array_foreach(nights, idx, it) {
		if (!json_is_object(it) || day_parse(json_string_value(
		    json_object_get(it, "date")), &d) != 0 || d >= today)
			continue;
		if (nnv == STATE_NIGHTS) {
			memmove(nv, nv + 1, (nnv - 1) * sizeof(*nv));
			nnv--;
		}
		nv[nnv].day = d;
		nv[nnv].repo_size = (uint64_t)json_integer_value(
		    json_object_get(it, "repo_size"));
		nv[nnv].packs = (uint64_t)json_integer_value(
		    json_object_get(it, "packs"));
		nv[nnv].new_data = (uint64_t)json_integer_value(
		    json_object_get(it, "new_data"));
		nv[nnv++].snapshots = (uint64_t)json_integer_value(
		    json_object_get(it, "snapshots"));
	}
	qsort(nv, nnv, sizeof(*nv), nightcmp);
	if (nnv == STATE_NIGHTS) {
		memmove(nv, nv + 1, (nnv - 1) * sizeof(*nv));
		nnv--;
	}
	nv[nnv].day = today;
	nv[nnv].repo_size = res->repo_bytes;
	nv[nnv].packs = res->packs;
	nv[nnv].snapshots = res->snapshots;
	for (i = 0; i < v->nsnaps; i++)
		if (v->snaps[i]->has_summary &&
		    gfsb_ops_verify_day(&v->snaps[i]->time) == today)
			nv[nnv].new_data +=
			    v->snaps[i]->summary.data_added_packed;
	nnv++;
	for (i = 0; i < nnv; i++) {
		json_t *o = json_object();

		day_format(nv[i].day, date, sizeof(date));
		if (o == NULL || json_array_append_new(nn, o) != 0 ||
		    json_object_set_new(o, "date", json_string(date)) != 0 ||
		    json_object_set_new(o, "repo_size",
		    json_integer((json_int_t)nv[i].repo_size)) != 0 ||
		    json_object_set_new(o, "packs",
		    json_integer((json_int_t)nv[i].packs)) != 0 ||
		    json_object_set_new(o, "snapshots",
		    json_integer((json_int_t)nv[i].snapshots)) != 0 ||
		    json_object_set_new(o, "new_data",
		    json_integer((json_int_t)nv[i].new_data)) != 0) {
			free(nv);
			return GFSB_ENOMEM;
		}
	}
	res->nights = nv;
	res->nnights = nnv;
	return GFSB_OK;
}

/* Write it whole or not at all: temporary file, fsync, rename.  What
 * cannot be written is a warning (add_warning's status). */
static gfsb_err
state_write(struct verify *v, const char *path, const json_t *nroot)
{
	char *tmp = NULL, *dir, *slash;
	gfsb_err e = GFSB_ENOMEM;
	int fd, rc;

	if ((dir = strdup(path)) == NULL)
		return GFSB_ENOMEM;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if ((rc = gfsb_sys_mkdirs(dir)) != 0) {
			e = add_warning(v, "cannot create %s for the state "
			    "file: %s", dir, strerror(rc));
			goto out;
		}
	}
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		tmp = NULL;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	    0 || json_dumpfd(nroot, fd, JSON_COMPACT | JSON_SORT_KEYS) != 0 ||
	    fsync(fd) != 0 || close(fd) != 0 || (fd = -1, rename(tmp, path)) !=
	    0) {
		e = add_warning(v, "cannot write the state file %s: %s",
		    path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		goto out;
	}
	e = GFSB_OK;
out:
	free(tmp);
	free(dir);
	return e;
}

static gfsb_err
state_update(struct verify *v)
{
	struct gfsb_verify_result *res = v->res;
	const char *path = v->o->state_file;
	json_t *root = NULL, *nroot = NULL, *np, *nn;
	int64_t today = gfsb_ops_verify_day(&v->o->now);
	gfsb_err e, fatal = GFSB_OK;

	res->have_state = 1;
	if ((e = state_read(v, path, &root)) != GFSB_OK)
		goto out;
	e = GFSB_ENOMEM;
	if ((nroot = json_object()) == NULL || (np = json_object()) == NULL ||
	    json_object_set_new(nroot, "packs", np) != 0 ||
	    (nn = json_array()) == NULL ||
	    json_object_set_new(nroot, "nights", nn) != 0 ||
	    json_object_set_new(nroot, "version",
	    json_integer(STATE_VERSION)) != 0 ||
	    json_object_set_new(nroot, "repository",
	    json_string(gfsb_repo_id(v->r))) != 0)
		goto out;
	if ((e = state_packs(v, root != NULL ? json_object_get(root, "packs") :
	    NULL, np, today)) != GFSB_OK ||
	    (e = state_nights(v, root != NULL ? json_object_get(root,
	    "nights") : NULL, nn, today)) != GFSB_OK)
		goto out;
	/* A storage failure here fails the verification, as anywhere. */
	if ((e = ops_tamper(v->r, v->o, root, nroot, v->snaps, v->nsnaps,
	    &v->snapnames, v->keys, v->nkeys, res)) != GFSB_OK) {
		fatal = e;
		goto out;
	}
	e = state_write(v, path, nroot);
out:
	if (e != GFSB_OK && e != GFSB_ENOMEM)
		e = GFSB_OK;
	if (fatal != GFSB_OK)
		e = fatal;
	json_decref(root);
	json_decref(nroot);
	return e;
}

/* ---- Object Lock dates ---- */

static gfsb_err
lock_finding(void *cookie, const char *fmt, ...)
{
	struct gfsb_verify_result *res = cookie;
	va_list ap;
	gfsb_err e;

	va_start(ap, fmt);
	e = gfsb_strv_vaddf(&res->tamper, &res->ntamper, fmt, ap);
	va_end(ap);
	return e;
}

/*
 * A repository that must be locked: its config must say so (an attacker
 * with the key could reseal it without), and with the policy, the dates
 * are read and compared with what the policy needed a day ago.  Not on a
 * view of the past (its dates are the present's).
 */
static gfsb_err
check_locks_dates(struct verify *v)
{
	enum gfsb_lock_mode mode = gfsb_repo_lock_mode(v->r);
	struct gfsb_lock_opts lo;

	if (gfsb_backend_as_of(gfsb_repo_backend(v->r)) != 0)
		return GFSB_OK;
	if (v->o->expect_lock != GFSB_LOCK_NONE && mode != v->o->expect_lock)
		return lock_finding(v->res, "the config says the repository is "
		    "%s%s, but it must be locked in %s",
		    mode == GFSB_LOCK_NONE ? "not locked" : "locked in ",
		    mode == GFSB_LOCK_NONE ? "" : gfsb_lock_mode_name(mode),
		    gfsb_lock_mode_name(v->o->expect_lock));
	if (mode == GFSB_LOCK_NONE || v->o->policy == NULL)
		return GFSB_OK;
	memset(&lo, 0, sizeof(lo));
	lo.policy = v->o->policy;
	lo.group_by = v->o->group_by;
	lo.now = v->o->now;
	lo.margin = v->o->lock_margin > 0 ? v->o->lock_margin :
	    GFSB_LOCK_MARGIN_DEFAULT;
	return ops_lock_verify(v->r, &lo, (const char (*)[GFSB_ID_HEX])
	    v->res->read, v->res->nread, lock_finding, v->res,
	    &v->res->locks_checked, &v->res->locks_short);
}

/* ---- the whole ---- */

static int
hexcmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static gfsb_err
list_read(struct verify *v)
{
	struct gfsb_verify_result *res = v->res;
	size_t i, n = 0;

	for (i = 0; i < v->npacks; i++)
		n += v->read_it[i];
	if (n == 0)
		return GFSB_OK;
	if ((res->read = calloc(n, sizeof(*res->read))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < v->npacks; i++)
		if (v->read_it[i])
			gfsb_hex_encode(v->packs[i].id, GFSB_ID_LEN,
			    res->read[res->nread++]);
	qsort(res->read, res->nread, sizeof(*res->read), hexcmp);
	return GFSB_OK;
}

gfsb_err
gfsb_ops_verify(struct gfsb_repo *r, const struct gfsb_verify_opts *o,
    struct gfsb_verify_result *res)
{
	struct verify v;
	struct gfsb_lock *lock = NULL;
	size_t i;
	gfsb_err e;

	memset(res, 0, sizeof(*res));
	memset(&v, 0, sizeof(v));
	v.r = r;
	v.ctx = gfsb_repo_ctx(r);
	v.o = o;
	v.res = res;
	gfsb_time_now(&v.start);
	if ((o->read == GFSB_VERIFY_READ_SLICE ||
	    o->read == GFSB_VERIFY_READ_ROTATE) &&
	    (o->slices == 0 || (o->read == GFSB_VERIFY_READ_SLICE &&
	    (o->slice == 0 || o->slice > o->slices))))
		return gfsb_ctx_seterr(v.ctx, GFSB_EINVAL,
		    "bad read-data subset %u/%u", o->slice, o->slices);
	/* The state is the live repository's history: a look at the past
	 * must neither be compared with it nor recorded in it. */
	if (o->state_file != NULL &&
	    gfsb_backend_as_of(gfsb_repo_backend(r)) != 0)
		return gfsb_ctx_seterr(v.ctx, GFSB_EINVAL, "a state file "
		    "records the present repository: none with a view of the "
		    "past");
	if (!o->no_lock && (e = gfsb_repo_lock(r, 0, &lock)) != GFSB_OK)
		return e;
	if ((e = gfsb_repo_io_new(r, &v.io)) != GFSB_OK)
		goto out;
	progress(&v, "index", 0, 0, 0);
	if ((e = check_keys(&v)) != GFSB_OK ||
	    (e = check_locks(&v)) != GFSB_OK)
		goto out;
	if ((e = gfsb_repo_index_load_check(r, index_bad, &v)) != GFSB_OK)
		goto out;
	if ((e = v.oom) != GFSB_OK)
		goto out;
	{
		struct gfsb_objlist il = { NULL, 0, 0 };

		if ((e = gfsb_backend_list_all(gfsb_repo_backend(r),
		    GFSB_OBJ_INDEX, &il)) != GFSB_OK)
			goto out;
		res->index_files = il.n;
		for (i = 0; i < il.n; i++)
			res->repo_bytes += il.v[i].size;
		gfsb_objlist_fini(&il);
	}
	if ((e = check_packs(&v)) != GFSB_OK)
		goto out;
	progress(&v, "snapshots", 0, 0, 0);
	if ((e = check_snapshots(&v)) != GFSB_OK ||
	    (e = check_trees(&v)) != GFSB_OK)
		goto out;
	if ((e = select_packs(&v)) != GFSB_OK ||
	    (e = list_read(&v)) != GFSB_OK ||
	    (e = read_packs(&v)) != GFSB_OK)
		goto out;
	if ((e = map_damage(&v)) != GFSB_OK)
		goto out;
	if ((e = check_locks_dates(&v)) != GFSB_OK)
		goto out;
	if (o->state_file != NULL && (e = state_update(&v)) != GFSB_OK)
		goto out;
	res->seconds = since(&v.start);
out:
	gfsb_repo_unlock(lock);
	gfsb_repo_io_free(v.io);
	gfsb_repo_snapshot_list_free(v.snaps, v.nsnaps);
	gfsb_repo_index_packs_free(v.packs, v.npacks);
	gfsb_objlist_fini(&v.stored);
	gfsb_objlist_fini(&v.snapnames);
	free(v.keys);
	free(v.read_it);
	free(v.read_ok);
	idset_fini(&v.bad);
	idset_fini(&v.memo);
	if (e != GFSB_OK)
		gfsb_ops_verify_result_fini(res);
	return e;
}

void
gfsb_ops_verify_result_fini(struct gfsb_verify_result *res)
{
	size_t i;

	for (i = 0; i < res->ndamage; i++)
		free(res->damage[i].why);
	free(res->damage);
	for (i = 0; i < res->nwarnings; i++)
		free(res->warnings[i]);
	free(res->warnings);
	for (i = 0; i < res->nbroken; i++) {
		free(res->broken[i].path);
		free(res->broken[i].why);
	}
	free(res->broken);
	free(res->broken_snapshots);
	free(res->read);
	free(res->nights);
	for (i = 0; i < res->ntamper; i++)
		free(res->tamper[i]);
	free(res->tamper);
	memset(res, 0, sizeof(*res));
}
