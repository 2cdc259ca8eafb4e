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

#include "ops_verify.h"

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
void
vf_day_format(int64_t day, char *buf, size_t len)
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

int
vf_day_parse(const char *s, int64_t *day)
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

static size_t
idhash(const uint8_t *id)
{
	size_t h;

	memcpy(&h, id, sizeof(h)); /* ids are uniform: hashes or MACs */
	return h;
}

struct idslot *
vf_idset_find(const struct idset *s, const uint8_t *id)
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
gfsb_err
vf_idset_add(struct idset *s, const uint8_t *id, struct idslot **slot)
{
	struct idslot *nv, *p;
	size_t ncap, i, j;

	if ((p = vf_idset_find(s, id)) != NULL) {
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

void
vf_idset_fini(struct idset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

double
vf_since(const struct gfsb_time *t0)
{
	struct gfsb_time now;

	gfsb_time_now(&now);
	return (double)(now.sec - t0->sec) + (now.nsec - t0->nsec) / 1e9;
}

void
vf_progress(struct verify *v, const char *phase, uint64_t done, uint64_t total,
    uint64_t bytes)
{
	struct gfsb_verify_progress p;

	if (v->o->progress == NULL)
		return;
	p.phase = phase;
	p.done = done;
	p.total = total;
	p.bytes = bytes;
	p.seconds = vf_since(&v->start);
	v->o->progress(v->o->progress_cookie, &p);
}

gfsb_err
vf_add_damage(struct verify *v, const char *kind, const char *id,
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

gfsb_err
vf_add_warning(struct verify *v, const char *fmt, ...)
{
	va_list ap;
	gfsb_err e;

	va_start(ap, fmt);
	e = gfsb_strv_vaddf(&v->res->warnings, &v->res->nwarnings, fmt, ap);
	va_end(ap);
	return e;
}

/* The listing entry of pack i, or NULL if it is not stored. */
const struct gfsb_objent *
vf_stored_pack(const struct verify *v, size_t i)
{
	char hex[GFSB_ID_HEX];

	gfsb_hex_encode(v->packs[i].id, GFSB_ID_LEN, hex);
	return gfsb_objlist_find(&v->stored, hex);
}

/* Record a damaged blob (the first reason found is kept). */
gfsb_err
vf_mark_bad(struct verify *v, const uint8_t *id, uint8_t type, const char *why)
{
	struct idslot *s;
	gfsb_err e;

	if ((e = vf_idset_add(&v->bad, id, &s)) != GFSB_OK)
		return e;
	if (s->why[0] == '\0') {
		s->type = type;
		snprintf(s->why, sizeof(s->why), "%.79s", why);
	}
	return GFSB_OK;
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
	vf_progress(&v, "index", 0, 0, 0);
	if ((e = vf_check_keys(&v)) != GFSB_OK ||
	    (e = vf_check_locks(&v)) != GFSB_OK)
		goto out;
	/* The snapshots are listed before the index is read (again, if the
	 * daily job's backup and prune read it): a backup saves a snapshot
	 * after the index files naming its blobs, so one that ends between
	 * the two cannot leave a snapshot whose trees look unindexed, false
	 * damage (tests/e2e/49-dir-fleet.sh: h2's job verified while the
	 * others' backups ended, and said DAMAGE FOUND, one run in ten). */
	if ((e = vf_list_snapshots(&v)) != GFSB_OK ||
	    (e = gfsb_repo_index_load_check(r, vf_index_bad, &v)) != GFSB_OK)
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
	if ((e = vf_check_packs(&v)) != GFSB_OK)
		goto out;
	vf_progress(&v, "snapshots", 0, 0, 0);
	if ((e = vf_check_snapshots(&v)) != GFSB_OK ||
	    (e = vf_check_trees(&v)) != GFSB_OK)
		goto out;
	if ((e = vf_select_packs(&v)) != GFSB_OK ||
	    (e = list_read(&v)) != GFSB_OK ||
	    (e = vf_read_packs(&v)) != GFSB_OK)
		goto out;
	if ((e = vf_map_damage(&v)) != GFSB_OK)
		goto out;
	if ((e = vf_check_locks_dates(&v)) != GFSB_OK)
		goto out;
	if (o->state_file != NULL && (e = vf_state_update(&v)) != GFSB_OK)
		goto out;
	res->seconds = vf_since(&v.start);
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
	vf_idset_fini(&v.bad);
	vf_idset_fini(&v.memo);
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

