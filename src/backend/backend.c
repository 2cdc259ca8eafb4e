/*
 * The backend front end: URL dispatch, name checks, and what every backend
 * shares.
 *
 * Every name is checked here before an implementation sees it, so no
 * implementation can be made to touch a path outside its repository.  So
 * is every retention (a known mode, with a date), and a read-only (as-of)
 * view refuses every write here, whatever the implementation would do.
 * Storage without Object Lock or versions (a directory) leaves those
 * operations out of its table, and gets the answers below.
 */
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include <gfsbackup/backend.h>

#include "backend_internal.h"

static const char *const typenames[GFSB_OBJ_NTYPES] = {
	[GFSB_OBJ_CONFIG] = "config",
	[GFSB_OBJ_KEY] = "keys",
	[GFSB_OBJ_PACK] = "data",
	[GFSB_OBJ_INDEX] = "index",
	[GFSB_OBJ_SNAPSHOT] = "snapshots",
	[GFSB_OBJ_LOCK] = "locks",
};

#ifdef GFSB_CRASH_POINTS
/*
 * Test builds only (cmake -DGFSBACKUP_CRASH_POINTS=ON; never the package):
 * every durable step of a backend, a put or a removal, is a crash point.
 * GFSB_CRASH_COUNT_FILE names a file that holds, at every moment, how many
 * steps the process has begun; GFSB_CRASH_AT=k sends the process SIGKILL
 * just before its k-th step, as kill -9 or a power cut would.  Steps run in
 * several threads are counted in the order they begin.  tests/e2e/lib.sh
 * (crash_campaign) runs a command once to count its steps, then once per
 * step killed there.
 */
static pthread_once_t crash_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t crash_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned long crash_at, crash_steps;
static int crash_fd = -1;

static void
crash_init(void)
{
	const char *at = getenv("GFSB_CRASH_AT");
	const char *file = getenv("GFSB_CRASH_COUNT_FILE");

	if (at != NULL)
		crash_at = strtoul(at, NULL, 10);
	if (file != NULL && *file != '\0')
		crash_fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
}

static void
crash_point(void)
{
	char buf[32];
	int n;

	pthread_once(&crash_once, crash_init);
	pthread_mutex_lock(&crash_mu);
	crash_steps++;
	if (crash_fd >= 0) {
		/* A failed write leaves a count the test will not accept. */
		n = snprintf(buf, sizeof(buf), "%20lu\n", crash_steps);
		if (pwrite(crash_fd, buf, (size_t)n, 0) != n)
			crash_fd = -1;
	}
	if (crash_steps == crash_at)
		kill(getpid(), SIGKILL);
	pthread_mutex_unlock(&crash_mu);
}
#else
static void
crash_point(void)
{
}
#endif

const char *
gfsb_backend_type_name(enum gfsb_obj type)
{
	if ((unsigned)type >= GFSB_OBJ_NTYPES)
		return "?";
	return typenames[type];
}

int
gfsb_backend_name_ok(enum gfsb_obj type, const char *name)
{
	size_t i;

	if ((unsigned)type >= GFSB_OBJ_NTYPES)
		return 0;
	if (type == GFSB_OBJ_CONFIG)
		return strcmp(name, "config") == 0;
	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return i == 64;
}

static gfsb_err
bad_name(struct gfsb_backend *be, enum gfsb_obj type, const char *name)
{
	return gfsb_ctx_seterr(be->ctx, GFSB_EINVAL,
	    "invalid object name %.80s in %s", name,
	    gfsb_backend_type_name(type));
}

gfsb_err
be_too_large(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    size_t max)
{
	return gfsb_ctx_seterr(be->ctx, GFSB_ECORRUPT, "%s/%s is too large "
	    "(more than %zu bytes)", gfsb_backend_type_name(type),
	    name, max);
}

/* "s3:/b/x", "s3:bucket", "S3://..." are mistyped URLs, not directories
 * (a directory of that name is still reachable as ./s3:bucket). */
static int
looks_like_url(const char *s)
{
	const char *p = s;

	if (!isalpha((unsigned char)*p))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	    *p == '.')
		p++;
	return *p == ':' && p - s >= 2 && (strncasecmp(s, "s3:", 3) == 0 ||
	    strncasecmp(s, "file:", 5) == 0 || p[1] == '/');
}

void
gfsb_backend_base_init(struct gfsb_backend *be)
{
	pthread_mutex_init(&be->put_ret_mu, NULL);
	be->mu_ok = 1;
	memset(&be->put_ret, 0, sizeof(be->put_ret));
	memset(&be->io, 0, sizeof(be->io));
	be->opened = gfsb_monotonic_seconds();
}

/* Count one call that began at t0 and moved in and out bytes (backends
 * without counters of their own). */
static void
io_count(struct gfsb_backend *be, double t0, uint64_t in, uint64_t out)
{
	double t = gfsb_monotonic_seconds();

	if (be->ops->io != NULL || !be->mu_ok)
		return;
	pthread_mutex_lock(&be->put_ret_mu);
	be->io.requests++;
	be->io.bytes_in += in;
	be->io.bytes_out += out;
	be->io.busy += t - t0;
	pthread_mutex_unlock(&be->put_ret_mu);
}

void
gfsb_backend_io_get(struct gfsb_backend *be, struct gfsb_backend_io *out)
{
	memset(out, 0, sizeof(*out));
	if (be->ops->io != NULL) {
		be->ops->io(be, out);
		return;
	}
	if (!be->mu_ok)
		return;
	pthread_mutex_lock(&be->put_ret_mu);
	*out = be->io;
	pthread_mutex_unlock(&be->put_ret_mu);
	out->seconds = gfsb_monotonic_seconds() - be->opened;
}

void
gfsb_backend_fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
}

/* A write on a read-only view: refused before any request. */
static gfsb_err
read_only(struct gfsb_backend *be)
{
	return gfsb_ctx_seterr(be->ctx, GFSB_EDENIED, "%s", be->read_only);
}

static gfsb_err
bad_retention(struct gfsb_backend *be, const struct gfsb_retention *r)
{
	return gfsb_ctx_seterr(be->ctx, GFSB_EINVAL, "invalid Object Lock "
	    "retention (mode %d, until %lld): want GOVERNANCE or COMPLIANCE "
	    "and a date", (int)r->mode, (long long)r->until);
}

/* A retention an implementation may be given: a mode that locks, a date. */
static int
retention_ok(const struct gfsb_retention *r)
{
	return (r->mode == GFSB_LOCK_GOVERNANCE ||
	    r->mode == GFSB_LOCK_COMPLIANCE) && r->until > 0;
}

gfsb_err
gfsb_backend_open_opts(struct gfsb_ctx *ctx, const char *url,
    const struct gfsb_backend_opts *o, struct gfsb_backend **out)
{
	gfsb_err e;

	if (o != NULL && o->as_of < 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "--as-of: a time "
		    "before 1970");
	if (strncmp(url, "s3://", 5) == 0) {
		if (!gfsb_curl_init())
			return gfsb_ctx_seterr(ctx, GFSB_ENOMEM,
			    "cannot initialise libcurl");
		if ((e = gfsb_backend_s3_open(ctx, url, o, out)) == GFSB_OK)
			(*out)->remote = 1;
		return e;
	}
	if (strncmp(url, "file://", 7) == 0)
		url += 7;
	if (strstr(url, "://") != NULL || looks_like_url(url))
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "malformed or unsupported repository URL %s (use a path "
		    "or s3://BUCKET/PREFIX)", url);
	if (*url == '\0')
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "empty repository path");
	/* A directory keeps no versions to look back into. */
	if (o != NULL && o->as_of != 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "--as-of needs an S3 "
		    "repository on a versioned bucket (%s is a directory)",
		    url);
	return gfsb_backend_local_open(ctx, url, out);
}

gfsb_err
gfsb_backend_open(struct gfsb_ctx *ctx, const char *url,
    struct gfsb_backend **out)
{
	return gfsb_backend_open_opts(ctx, url, NULL, out);
}

int
gfsb_backend_is_remote(const struct gfsb_backend *be)
{
	return be->remote;
}

int64_t
gfsb_backend_as_of(const struct gfsb_backend *be)
{
	return be->read_only != NULL ? be->as_of : 0;
}

gfsb_err
gfsb_backend_oldest_version(struct gfsb_backend *be, enum gfsb_obj type,
    int64_t *t)
{
	if ((unsigned)type >= GFSB_OBJ_NTYPES)
		return gfsb_ctx_seterr(be->ctx, GFSB_EINVAL, "unknown object "
		    "type %d", (int)type);
	if (be->read_only == NULL || be->ops->oldest_version == NULL)
		return gfsb_ctx_seterr(be->ctx, GFSB_EUNSUPPORTED, "%s: not a "
		    "view of the past (no versions to look at)",
		    be->location);
	return be->ops->oldest_version(be, type, t);
}

void
gfsb_backend_close(struct gfsb_backend *be)
{
	if (be == NULL)
		return;
	free(be->location);
	free(be->read_only);
	if (be->mu_ok)
		pthread_mutex_destroy(&be->put_ret_mu);
	be->ops->close(be);
	free(be);
}

gfsb_err
gfsb_backend_create(struct gfsb_backend *be)
{
	if (be->read_only != NULL)
		return read_only(be);
	return be->ops->create(be);
}

gfsb_err
gfsb_backend_put(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, const uint8_t *p, size_t n)
{
	struct gfsb_retention r;
	double t0;
	gfsb_err e;

	if (!gfsb_backend_name_ok(type, name))
		return bad_name(be, type, name);
	if (be->read_only != NULL)
		return read_only(be);
	/* A copy: another thread may change the default meanwhile.  Lock
	 * files come and go every few minutes: never retained. */
	pthread_mutex_lock(&be->put_ret_mu);
	r = be->put_ret;
	pthread_mutex_unlock(&be->put_ret_mu);
	if (type == GFSB_OBJ_LOCK)
		r.mode = GFSB_LOCK_NONE;
	crash_point();
	t0 = gfsb_monotonic_seconds();
	e = be->ops->put(be, type, name, p, n, r.mode != GFSB_LOCK_NONE ?
	    &r : NULL);
	io_count(be, t0, 0, n);
	return e;
}

gfsb_err
gfsb_backend_put_locked(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, const uint8_t *p, size_t n,
    const struct gfsb_retention *ret)
{
	if (!gfsb_backend_name_ok(type, name))
		return bad_name(be, type, name);
	if (ret != NULL && ret->mode == GFSB_LOCK_NONE)
		ret = NULL;
	if (ret != NULL && !retention_ok(ret))
		return bad_retention(be, ret);
	if (be->read_only != NULL)
		return read_only(be);
	crash_point();
	return be->ops->put(be, type, name, p, n, ret);
}

void
gfsb_backend_set_put_retention(struct gfsb_backend *be,
    const struct gfsb_retention *ret)
{
	if (ret != NULL && ret->mode != GFSB_LOCK_NONE && !retention_ok(ret))
		gfsb_ctx_log(be->ctx, GFSB_LOG_WARN, "invalid Object Lock "
		    "retention (mode %d, until %lld) ignored: puts are not "
		    "locked", (int)ret->mode, (long long)ret->until);
	pthread_mutex_lock(&be->put_ret_mu);
	if (ret != NULL && retention_ok(ret))
		be->put_ret = *ret;
	else
		memset(&be->put_ret, 0, sizeof(be->put_ret));
	pthread_mutex_unlock(&be->put_ret_mu);
}

gfsb_err
gfsb_backend_retention_set(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, const struct gfsb_retention *ret)
{
	if (!gfsb_backend_name_ok(type, name))
		return bad_name(be, type, name);
	if (ret == NULL || !retention_ok(ret))
		return ret == NULL ? gfsb_ctx_seterr(be->ctx, GFSB_EINVAL,
		    "no retention given") : bad_retention(be, ret);
	if (be->read_only != NULL)
		return read_only(be);
	if (be->ops->retention_set == NULL)
		return gfsb_ctx_seterr(be->ctx, GFSB_EUNSUPPORTED, "%s: no "
		    "Object Lock on this storage (a directory has no locks)",
		    be->location);
	return be->ops->retention_set(be, type, name, ret);
}

gfsb_err
gfsb_backend_retention_get(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, struct gfsb_retention *out)
{
	uint64_t size;
	gfsb_err e;

	if (!gfsb_backend_name_ok(type, name))
		return bad_name(be, type, name);
	if (be->ops->retention_get != NULL)
		return be->ops->retention_get(be, type, name, out);
	/* No locks here: NONE, for an object that exists. */
	if ((e = be->ops->stat(be, type, name, &size)) != GFSB_OK)
		return e;
	memset(out, 0, sizeof(*out));
	return GFSB_OK;
}

gfsb_err
gfsb_backend_lock_enabled(struct gfsb_backend *be, int *enabled)
{
	if (be->ops->lock_enabled != NULL)
		return be->ops->lock_enabled(be, enabled);
	*enabled = 0;
	return GFSB_OK;
}

gfsb_err
gfsb_backend_versioning(struct gfsb_backend *be, int *state)
{
	if (be->ops->versioning != NULL)
		return be->ops->versioning(be, state);
	*state = 0;
	return GFSB_OK;
}

gfsb_err
gfsb_backend_get(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, struct gfsb_buf *out)
{
	return gfsb_backend_get_max(be, type, name, SIZE_MAX, out);
}

gfsb_err
gfsb_backend_get_max(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, size_t max, struct gfsb_buf *out)
{
	double t0 = gfsb_monotonic_seconds();
	gfsb_err e;

	if (!gfsb_backend_name_ok(type, name))
		return bad_name(be, type, name);
	e = be->ops->get(be, type, name, max, out);
	io_count(be, t0, e == GFSB_OK ? out->len : 0, 0);
	return e;
}

gfsb_err
gfsb_backend_read(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, uint64_t off, uint8_t *dst, size_t n)
{
	double t0 = gfsb_monotonic_seconds();
	gfsb_err e;

	if (!gfsb_backend_name_ok(type, name))
		return bad_name(be, type, name);
	e = be->ops->read(be, type, name, off, dst, n);
	io_count(be, t0, e == GFSB_OK ? n : 0, 0);
	return e;
}

/* The public callback, called from the richer internal one. */
struct list_adapter {
	gfsb_backend_list_fn *fn;
	void *cookie;
};

static gfsb_err
list_adapt(void *cookie, const char *name, uint64_t size, int64_t mtime)
{
	struct list_adapter *a = cookie;

	(void)mtime;
	return a->fn(a->cookie, name, size);
}

gfsb_err
gfsb_backend_list(struct gfsb_backend *be, enum gfsb_obj type,
    gfsb_backend_list_fn *fn, void *cookie)
{
	struct list_adapter a = { fn, cookie };

	return be->ops->list(be, type, list_adapt, &a);
}

gfsb_err
gfsb_backend_remove(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name)
{
	if (!gfsb_backend_name_ok(type, name))
		return bad_name(be, type, name);
	if (be->read_only != NULL)
		return read_only(be);
	crash_point();
	return be->ops->remove(be, type, name);
}

gfsb_err
gfsb_backend_stat(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, uint64_t *size)
{
	if (!gfsb_backend_name_ok(type, name))
		return bad_name(be, type, name);
	return be->ops->stat(be, type, name, size);
}

static gfsb_err
objlist_add(void *cookie, const char *name, uint64_t size, int64_t mtime)
{
	struct gfsb_objlist *l = cookie;
	struct gfsb_objent *grown;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? 2 * l->cap : 64;

		if ((grown = realloc(l->v, ncap * sizeof(*grown))) == NULL)
			return GFSB_ENOMEM;
		l->v = grown;
		l->cap = ncap;
	}
	if (gfsb_hex_decode(name, l->v[l->n].id, GFSB_ID_LEN) != GFSB_OK)
		return GFSB_OK; /* "config": not hash-named */
	snprintf(l->v[l->n].name, GFSB_ID_HEX, "%s", name);
	l->v[l->n].mtime = mtime;
	l->v[l->n++].size = size;
	return GFSB_OK;
}

static int
objentcmp(const void *a, const void *b)
{
	return strcmp(((const struct gfsb_objent *)a)->name,
	    ((const struct gfsb_objent *)b)->name);
}

gfsb_err
gfsb_backend_list_all(struct gfsb_backend *be, enum gfsb_obj type,
    struct gfsb_objlist *out)
{
	gfsb_err e;

	memset(out, 0, sizeof(*out));
	if ((e = be->ops->list(be, type, objlist_add, out)) != GFSB_OK) {
		gfsb_objlist_fini(out);
		return e;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(out->v[0]), objentcmp);
	return GFSB_OK;
}

gfsb_err
gfsb_objlist_add(struct gfsb_objlist *l, const uint8_t id[GFSB_ID_LEN],
    uint64_t size)
{
	char hex[GFSB_ID_HEX];

	gfsb_hex_encode(id, GFSB_ID_LEN, hex);
	return objlist_add(l, hex, size, 0);
}

void
gfsb_objlist_sort(struct gfsb_objlist *l)
{
	size_t i, k;

	if (l->n < 2)
		return;
	qsort(l->v, l->n, sizeof(l->v[0]), objentcmp);
	for (i = k = 1; i < l->n; i++)
		if (strcmp(l->v[i].name, l->v[k - 1].name) != 0)
			l->v[k++] = l->v[i];
	l->n = k;
}

const struct gfsb_objent *
gfsb_objlist_find(const struct gfsb_objlist *l, const char *name)
{
	struct gfsb_objent key;

	if (l->n == 0 || strlen(name) >= sizeof(key.name))
		return NULL;
	memcpy(key.name, name, strlen(name) + 1);
	return bsearch(&key, l->v, l->n, sizeof(*l->v), objentcmp);
}

void
gfsb_objlist_fini(struct gfsb_objlist *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

gfsb_err
gfsb_backend_cleanup(struct gfsb_backend *be, int64_t before,
    uint64_t *removed)
{
	*removed = 0;
	if (be->read_only != NULL)
		return read_only(be);
	return be->ops->cleanup != NULL ? be->ops->cleanup(be, before,
	    removed) : GFSB_OK;
}

int64_t
gfsb_backend_clock(struct gfsb_backend *be)
{
	int64_t t = gfsb_backend_mem_clock(be);
	struct gfsb_time now;

	if (t != 0)
		return t;
	gfsb_time_now(&now);
	return now.sec;
}

const char *
gfsb_backend_location(const struct gfsb_backend *be)
{
	return be->location;
}

struct gfsb_ctx *
gfsb_backend_ctx(const struct gfsb_backend *be)
{
	return be->ctx;
}
