/*
 * An in-memory backend for unit tests: a mutex-protected array of objects.
 * Puts replace whole objects, as the local backend's renames do.  A test
 * can make every read of one object type fail (gfsb_backend_mem_fault),
 * as a storage outage would, to check that what reads it never takes
 * that failure for damage.
 *
 * It also emulates a bucket with S3 Object Lock, so that the layers above
 * can be tested against locks without a server: each object carries its
 * retention, and with the lock switched on (gfsb_backend_mem_set_lock) a
 * remove before the retain-until date is refused, as S3 refuses to delete
 * a locked version, and a retention is never shortened, whatever the mode
 * (we never use the governance bypass).  Dates are compared with the mem
 * clock (gfsb_backend_mem_set_time), so a test can let locks expire.  There
 * are no versions: a put over a locked object keeps the longer of the two
 * retentions, since on S3 the locked version would survive the overwrite.
 * It can also play a read-only view of the past
 * (gfsb_backend_mem_set_read_only), showing what it holds, so that the
 * layers above can be tested on a view.
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gfsbackup/backend.h>

#include "backend_internal.h"

struct memobj {
	enum gfsb_obj type;
	char name[65];
	struct gfsb_buf data;
	struct gfsb_retention ret;
	int64_t mtime;
};

struct mem {
	pthread_mutex_t lock;
	struct memobj *objs;
	size_t n, cap;
	int created;
	gfsb_err fault[GFSB_OBJ_NTYPES]; /* reads of a type fail with it */
	char fault_name[GFSB_OBJ_NTYPES][65]; /* only this one; "": all */
	int lock_enabled;
	int64_t now;	   /* the mem clock; 0: the wall clock */
	gfsb_mem_write_fn *on_write;	/* after each put and remove */
	void *on_write_cookie;
};

static const struct gfsb_backend_ops mem_ops;

static struct mem *
M(struct gfsb_backend *be)
{
	return be->impl;
}

/* The mem clock; call with the lock held. */
static int64_t
now(const struct mem *m)
{
	return m->now != 0 ? m->now : (int64_t)time(NULL);
}

/* Does o's retention still forbid deleting it?  Lock held. */
static int
locked(const struct mem *m, const struct memobj *o)
{
	return m->lock_enabled && o->ret.mode != GFSB_LOCK_NONE &&
	    o->ret.until > now(m);
}

/* Find an object; call with the lock held. */
static struct memobj *
find(struct mem *m, enum gfsb_obj type, const char *name)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->objs[i].type == type &&
		    strcmp(m->objs[i].name, name) == 0)
			return &m->objs[i];
	return NULL;
}

/* An injected read failure of (type, name), if any; lock held.  The
 * detail names the object, as a real backend's does. */
static gfsb_err
faulted(struct gfsb_backend *be, enum gfsb_obj type, const char *name)
{
	struct mem *m = M(be);
	gfsb_err e = m->fault[type];

	if (e == GFSB_OK || (m->fault_name[type][0] != '\0' &&
	    strcmp(m->fault_name[type], name) != 0))
		return GFSB_OK;
	return gfsb_ctx_seterr(be->ctx, e, "GET mem:%s/%s: injected failure "
	    "(%s)", gfsb_backend_type_name(type), name, gfsb_strerror(e));
}

static gfsb_err
mem_create(struct gfsb_backend *be)
{
	struct mem *m = M(be);
	gfsb_err e = GFSB_OK;

	pthread_mutex_lock(&m->lock);
	if (find(m, GFSB_OBJ_CONFIG, "config") != NULL)
		e = GFSB_EEXIST;
	m->created = 1;
	pthread_mutex_unlock(&m->lock);
	return e;
}

/* The test's hook, after a write (outside the lock: it may read). */
static void
wrote(struct mem *m, enum gfsb_obj type, const char *name, int removed)
{
	gfsb_mem_write_fn *fn;
	void *cookie;

	pthread_mutex_lock(&m->lock);
	fn = m->on_write;
	cookie = m->on_write_cookie;
	pthread_mutex_unlock(&m->lock);
	if (fn != NULL)
		fn(cookie, type, name, removed);
}

static gfsb_err
mem_put(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    const uint8_t *p, size_t n, const struct gfsb_retention *ret)
{
	struct mem *m = M(be);
	struct memobj *o, *grown;
	struct gfsb_buf b;
	gfsb_err e;

	gfsb_buf_init(&b);
	if ((e = gfsb_buf_append(&b, p, n)) != GFSB_OK)
		return e;
	pthread_mutex_lock(&m->lock);
	if ((o = find(m, type, name)) == NULL) {
		if (m->n == m->cap) {
			size_t ncap = m->cap ? 2 * m->cap : 16;

			grown = realloc(m->objs, ncap * sizeof(*grown));
			if (grown == NULL) {
				pthread_mutex_unlock(&m->lock);
				gfsb_buf_fini(&b);
				return GFSB_ENOMEM;
			}
			m->objs = grown;
			m->cap = ncap;
		}
		o = &m->objs[m->n++];
		memset(o, 0, sizeof(*o));
		o->type = type;
		strcpy(o->name, name);
	} else {
		gfsb_buf_fini(&o->data);
	}
	o->data = b;
	o->mtime = now(m);
	/* The locked bytes would survive on S3 as an older version: an
	 * overwrite never lifts or shortens a lock that still holds. */
	if (!locked(m, o))
		memset(&o->ret, 0, sizeof(o->ret));
	if (ret != NULL && ret->until >= o->ret.until)
		o->ret = *ret;
	pthread_mutex_unlock(&m->lock);
	wrote(m, type, name, 0);
	return GFSB_OK;
}

static gfsb_err
mem_get(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    size_t max, struct gfsb_buf *out)
{
	struct mem *m = M(be);
	struct memobj *o;
	gfsb_err e;

	pthread_mutex_lock(&m->lock);
	if ((e = faulted(be, type, name)) == GFSB_OK) {
		if ((o = find(m, type, name)) == NULL)
			e = GFSB_ENOTFOUND;
		else if (o->data.len > max)
			e = be_too_large(be, type, name, max);
		else
			e = gfsb_buf_append(out, o->data.data, o->data.len);
	}
	pthread_mutex_unlock(&m->lock);
	return e;
}

static gfsb_err
mem_read(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    uint64_t off, uint8_t *dst, size_t n)
{
	struct mem *m = M(be);
	struct memobj *o;
	gfsb_err e = GFSB_OK;

	pthread_mutex_lock(&m->lock);
	if ((e = faulted(be, type, name)) != GFSB_OK)
		goto out;
	if ((o = find(m, type, name)) == NULL)
		e = GFSB_ENOTFOUND;
	else if (off > o->data.len || n > o->data.len - off)
		e = GFSB_ECORRUPT;
	else
		memcpy(dst, o->data.data + off, n);
out:
	pthread_mutex_unlock(&m->lock);
	return e;
}

static gfsb_err
mem_list(struct gfsb_backend *be, enum gfsb_obj type, be_list_fn *fn,
    void *cookie)
{
	struct mem *m = M(be);
	struct listed {
		char name[65];
		uint64_t size;
		int64_t mtime;
	} *v = NULL;
	size_t i, k = 0;
	gfsb_err e = GFSB_OK;

	/* Copy the names out so fn may call back into the backend. */
	pthread_mutex_lock(&m->lock);
	if (m->n > 0 && (v = malloc(m->n * sizeof(*v))) == NULL) {
		pthread_mutex_unlock(&m->lock);
		return GFSB_ENOMEM;
	}
	for (i = 0; i < m->n; i++) {
		if (m->objs[i].type != type)
			continue;
		strcpy(v[k].name, m->objs[i].name);
		v[k].size = m->objs[i].data.len;
		v[k++].mtime = m->objs[i].mtime;
	}
	pthread_mutex_unlock(&m->lock);
	for (i = 0; i < k && e == GFSB_OK; i++)
		e = fn(cookie, v[i].name, v[i].size, v[i].mtime);
	free(v);
	return e;
}

static gfsb_err
mem_remove(struct gfsb_backend *be, enum gfsb_obj type, const char *name)
{
	struct mem *m = M(be);
	struct memobj *o;
	char until[32];
	gfsb_err e = GFSB_OK;

	pthread_mutex_lock(&m->lock);
	if ((o = find(m, type, name)) == NULL) {
		e = GFSB_ENOTFOUND;
	} else if (locked(m, o)) {
		gfsb_backend_fmt_time(o->ret.until, until, sizeof(until));
		e = gfsb_ctx_seterr(be->ctx, GFSB_EDENIED, "mem: %s/%s: locked "
		    "until %s (%s)", gfsb_backend_type_name(type), name, until,
		    o->ret.mode == GFSB_LOCK_COMPLIANCE ? "COMPLIANCE" :
		    "GOVERNANCE");
	} else {
		gfsb_buf_fini(&o->data);
		*o = m->objs[--m->n];
	}
	pthread_mutex_unlock(&m->lock);
	if (e == GFSB_OK)
		wrote(m, type, name, 1);
	return e;
}

/* As S3: a lock that holds is only ever extended, and COMPLIANCE stays
 * COMPLIANCE (GOVERNANCE could be lifted with the bypass permission, which
 * we never use, so it is held to the same rule). */
static gfsb_err
mem_retention_set(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, const struct gfsb_retention *ret)
{
	struct mem *m = M(be);
	struct memobj *o;
	char until[32];
	gfsb_err e = GFSB_OK;

	pthread_mutex_lock(&m->lock);
	if ((o = find(m, type, name)) == NULL) {
		e = gfsb_ctx_seterr(be->ctx, GFSB_ENOTFOUND, "mem: %s/%s: not "
		    "found", gfsb_backend_type_name(type), name);
	} else if (locked(m, o) && (ret->until < o->ret.until ||
	    (o->ret.mode == GFSB_LOCK_COMPLIANCE &&
	    ret->mode != GFSB_LOCK_COMPLIANCE))) {
		gfsb_backend_fmt_time(o->ret.until, until, sizeof(until));
		e = gfsb_ctx_seterr(be->ctx, GFSB_EDENIED, "mem: %s/%s: "
		    "AccessDenied: the retention may not be shortened or "
		    "weakened (locked until %s)", gfsb_backend_type_name(type),
		    name, until);
	} else {
		o->ret = *ret;
	}
	pthread_mutex_unlock(&m->lock);
	return e;
}

static gfsb_err
mem_retention_get(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, struct gfsb_retention *out)
{
	struct mem *m = M(be);
	struct memobj *o;
	gfsb_err e = GFSB_OK;

	pthread_mutex_lock(&m->lock);
	if ((o = find(m, type, name)) == NULL)
		e = GFSB_ENOTFOUND;
	else
		*out = o->ret;
	pthread_mutex_unlock(&m->lock);
	return e;
}

static gfsb_err
mem_lock_enabled(struct gfsb_backend *be, int *enabled)
{
	struct mem *m = M(be);

	pthread_mutex_lock(&m->lock);
	*enabled = m->lock_enabled;
	pthread_mutex_unlock(&m->lock);
	return GFSB_OK;
}

void
gfsb_backend_mem_set_lock(struct gfsb_backend *be, int enabled)
{
	struct mem *m;

	if (be == NULL || be->ops != &mem_ops)
		return;
	m = M(be);
	pthread_mutex_lock(&m->lock);
	m->lock_enabled = enabled != 0;
	pthread_mutex_unlock(&m->lock);
}

int64_t
gfsb_backend_mem_clock(struct gfsb_backend *be)
{
	struct mem *m;
	int64_t t;

	if (be == NULL || be->ops != &mem_ops)
		return 0;
	m = M(be);
	pthread_mutex_lock(&m->lock);
	t = now(m);
	pthread_mutex_unlock(&m->lock);
	return t;
}

void
gfsb_backend_mem_set_time(struct gfsb_backend *be, int64_t t)
{
	struct mem *m;

	if (be == NULL || be->ops != &mem_ops)
		return;
	m = M(be);
	pthread_mutex_lock(&m->lock);
	m->now = t;
	pthread_mutex_unlock(&m->lock);
}

gfsb_err
gfsb_backend_mem_set_read_only(struct gfsb_backend *be, int64_t as_of)
{
	char *msg = NULL;

	if (be == NULL || be->ops != &mem_ops)
		return GFSB_OK;
	if (as_of != 0 && asprintf(&msg, "read-only view of mem: as of %lld",
	    (long long)as_of) < 0)
		return GFSB_ENOMEM;
	free(be->read_only);
	be->read_only = msg;
	be->as_of = as_of;
	return GFSB_OK;
}

/* Without versions, history starts with the oldest object kept. */
static gfsb_err
mem_oldest_version(struct gfsb_backend *be, enum gfsb_obj type, int64_t *t)
{
	struct mem *m = M(be);
	int64_t oldest = 0;
	size_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n; i++)
		if (m->objs[i].type == type && (oldest == 0 ||
		    m->objs[i].mtime < oldest))
			oldest = m->objs[i].mtime;
	pthread_mutex_unlock(&m->lock);
	*t = oldest;
	return GFSB_OK;
}

static gfsb_err
mem_stat(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    uint64_t *size)
{
	struct mem *m = M(be);
	struct memobj *o;
	gfsb_err e = GFSB_OK;

	pthread_mutex_lock(&m->lock);
	if ((o = find(m, type, name)) == NULL)
		e = GFSB_ENOTFOUND;
	else
		*size = o->data.len;
	pthread_mutex_unlock(&m->lock);
	return e;
}

static void
mem_close(struct gfsb_backend *be)
{
	struct mem *m = M(be);
	size_t i;

	for (i = 0; i < m->n; i++)
		gfsb_buf_fini(&m->objs[i].data);
	free(m->objs);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static const struct gfsb_backend_ops mem_ops = {
	.create = mem_create,
	.put = mem_put,
	.get = mem_get,
	.read = mem_read,
	.list = mem_list,
	.remove = mem_remove,
	.stat = mem_stat,
	.close = mem_close,
	.retention_set = mem_retention_set,
	.retention_get = mem_retention_get,
	.lock_enabled = mem_lock_enabled,
	.oldest_version = mem_oldest_version,
};

void
gfsb_backend_mem_on_write(struct gfsb_backend *be, gfsb_mem_write_fn *fn,
    void *cookie)
{
	struct mem *m;

	assert(be->ops == &mem_ops);
	m = M(be);
	pthread_mutex_lock(&m->lock);
	m->on_write = fn;
	m->on_write_cookie = cookie;
	pthread_mutex_unlock(&m->lock);
}

void
gfsb_backend_mem_fault(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, gfsb_err err)
{
	struct mem *m;

	assert(be->ops == &mem_ops && (unsigned)type < GFSB_OBJ_NTYPES);
	m = M(be);
	pthread_mutex_lock(&m->lock);
	m->fault[type] = err;
	snprintf(m->fault_name[type], sizeof(m->fault_name[type]), "%s",
	    name != NULL ? name : "");
	pthread_mutex_unlock(&m->lock);
}

gfsb_err
gfsb_backend_mem_new(struct gfsb_ctx *ctx, struct gfsb_backend **out)
{
	struct gfsb_backend *be;
	char where[32];
	struct mem *m;

	if ((be = calloc(1, sizeof(*be))) == NULL)
		return GFSB_ENOMEM;
	/* Each store its own place: a copy onto itself is told apart. */
	snprintf(where, sizeof(where), "mem:%p", (void *)be);
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (be->location = strdup(where)) == NULL) {
		free(m);
		free(be);
		return GFSB_ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	be->ops = &mem_ops;
	be->ctx = ctx;
	be->impl = m;
	gfsb_backend_base_init(be);
	*out = be;
	return GFSB_OK;
}
