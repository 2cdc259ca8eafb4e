/*
 * The backend front end: URL dispatch and name checks.
 *
 * Every name is checked here before an implementation sees it, so no
 * implementation can be made to touch a path outside its repository.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void
init_curl(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
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

gfsb_err
gfsb_backend_open_opts(struct gfsb_ctx *ctx, const char *url,
    const struct gfsb_backend_opts *o, struct gfsb_backend **out)
{
	gfsb_err e;

	if (strncmp(url, "s3://", 5) == 0) {
		pthread_once(&curl_once, init_curl);
		if (!curl_ok)
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

void
gfsb_backend_close(struct gfsb_backend *be)
{
	if (be == NULL)
		return;
	free(be->location);
	be->ops->close(be);
	free(be);
}

gfsb_err
gfsb_backend_create(struct gfsb_backend *be)
{
	return be->ops->create(be);
}

gfsb_err
gfsb_backend_put(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, const uint8_t *p, size_t n)
{
	if (!gfsb_backend_name_ok(type, name))
		return bad_name(be, type, name);
	return be->ops->put(be, type, name, p, n);
}

gfsb_err
gfsb_backend_get(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, struct gfsb_buf *out)
{
	if (!gfsb_backend_name_ok(type, name))
		return bad_name(be, type, name);
	return be->ops->get(be, type, name, out);
}

gfsb_err
gfsb_backend_read(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, uint64_t off, uint8_t *dst, size_t n)
{
	if (!gfsb_backend_name_ok(type, name))
		return bad_name(be, type, name);
	return be->ops->read(be, type, name, off, dst, n);
}

gfsb_err
gfsb_backend_list(struct gfsb_backend *be, enum gfsb_obj type,
    gfsb_backend_list_fn *fn, void *cookie)
{
	return be->ops->list(be, type, fn, cookie);
}

gfsb_err
gfsb_backend_remove(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name)
{
	if (!gfsb_backend_name_ok(type, name))
		return bad_name(be, type, name);
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
objlist_add(void *cookie, const char *name, uint64_t size)
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
	if ((e = gfsb_backend_list(be, type, objlist_add, out)) != GFSB_OK) {
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
	return objlist_add(l, hex, size);
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
gfsb_backend_cleanup(struct gfsb_backend *be, uint64_t *removed)
{
	*removed = 0;
	return be->ops->cleanup != NULL ? be->ops->cleanup(be, removed) :
	    GFSB_OK;
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
