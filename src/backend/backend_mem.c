/*
 * An in-memory backend for unit tests: a mutex-protected array of objects.
 * Puts replace whole objects, as the local backend's renames do.  A test
 * can make every read of one object type fail (gfsb_backend_mem_fault),
 * as a storage outage would, to check that what reads it never takes
 * that failure for damage.
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/backend.h>

#include "backend_internal.h"

struct memobj {
	enum gfsb_obj type;
	char name[65];
	struct gfsb_buf data;
};

struct mem {
	pthread_mutex_t lock;
	struct memobj *objs;
	size_t n, cap;
	int created;
	gfsb_err fault[GFSB_OBJ_NTYPES]; /* reads of a type fail with it */
	char fault_name[GFSB_OBJ_NTYPES][65]; /* only this one; "": all */
};

static struct mem *
M(struct gfsb_backend *be)
{
	return be->impl;
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

static gfsb_err
mem_put(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    const uint8_t *p, size_t n)
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
		o->type = type;
		strcpy(o->name, name);
	} else {
		gfsb_buf_fini(&o->data);
	}
	o->data = b;
	pthread_mutex_unlock(&m->lock);
	return GFSB_OK;
}

static gfsb_err
mem_get(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    struct gfsb_buf *out)
{
	struct mem *m = M(be);
	struct memobj *o;
	gfsb_err e;

	pthread_mutex_lock(&m->lock);
	if ((e = faulted(be, type, name)) == GFSB_OK) {
		if ((o = find(m, type, name)) == NULL)
			e = GFSB_ENOTFOUND;
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
mem_list(struct gfsb_backend *be, enum gfsb_obj type,
    gfsb_backend_list_fn *fn, void *cookie)
{
	struct mem *m = M(be);
	char (*names)[65] = NULL;
	uint64_t *sizes = NULL;
	size_t i, k = 0;
	gfsb_err e = GFSB_OK;

	/* Copy the names out so fn may call back into the backend. */
	pthread_mutex_lock(&m->lock);
	if (m->n > 0) {
		names = malloc(m->n * sizeof(*names));
		sizes = malloc(m->n * sizeof(*sizes));
	}
	if (m->n > 0 && (names == NULL || sizes == NULL)) {
		pthread_mutex_unlock(&m->lock);
		free(names);
		free(sizes);
		return GFSB_ENOMEM;
	}
	for (i = 0; i < m->n; i++) {
		if (m->objs[i].type != type)
			continue;
		strcpy(names[k], m->objs[i].name);
		sizes[k++] = m->objs[i].data.len;
	}
	pthread_mutex_unlock(&m->lock);
	for (i = 0; i < k && e == GFSB_OK; i++)
		e = fn(cookie, names[i], sizes[i]);
	free(names);
	free(sizes);
	return e;
}

static gfsb_err
mem_remove(struct gfsb_backend *be, enum gfsb_obj type, const char *name)
{
	struct mem *m = M(be);
	struct memobj *o;
	gfsb_err e = GFSB_OK;

	pthread_mutex_lock(&m->lock);
	if ((o = find(m, type, name)) == NULL) {
		e = GFSB_ENOTFOUND;
	} else {
		gfsb_buf_fini(&o->data);
		*o = m->objs[--m->n];
	}
	pthread_mutex_unlock(&m->lock);
	return e;
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
};

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
	struct mem *m;

	if ((be = calloc(1, sizeof(*be))) == NULL)
		return GFSB_ENOMEM;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (be->location = strdup("mem:")) == NULL) {
		free(m);
		free(be);
		return GFSB_ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	be->ops = &mem_ops;
	be->ctx = ctx;
	be->impl = m;
	*out = be;
	return GFSB_OK;
}
