/*
 * The backend front end: URL dispatch and name checks.
 *
 * Every name is checked here before an implementation sees it, so no
 * implementation can be made to touch a path outside its repository.
 */
#include <stdlib.h>
#include <string.h>

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

gfsb_err
gfsb_backend_open(struct gfsb_ctx *ctx, const char *url,
    struct gfsb_backend **out)
{
	if (strncmp(url, "file://", 7) == 0)
		url += 7;
	if (strstr(url, "://") != NULL)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "unsupported repository URL %s", url);
	if (*url == '\0')
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "empty repository path");
	return gfsb_backend_local_open(ctx, url, out);
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
