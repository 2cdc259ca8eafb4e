/*
 * The backend operations table, shared by backend.c and the
 * implementations.  Names reaching an implementation are already checked
 * (64 lowercase hex digits, or "config"), so an implementation may build
 * paths from them.
 */
#ifndef GFSB_BACKEND_INTERNAL_H
#define GFSB_BACKEND_INTERNAL_H

#include <gfsbackup/backend.h>

struct gfsb_backend;

struct gfsb_backend_ops {
	gfsb_err (*create)(struct gfsb_backend *be);
	gfsb_err (*put)(struct gfsb_backend *be, enum gfsb_obj type,
	    const char *name, const uint8_t *p, size_t n);
	gfsb_err (*get)(struct gfsb_backend *be, enum gfsb_obj type,
	    const char *name, struct gfsb_buf *out);
	gfsb_err (*read)(struct gfsb_backend *be, enum gfsb_obj type,
	    const char *name, uint64_t off, uint8_t *dst, size_t n);
	gfsb_err (*list)(struct gfsb_backend *be, enum gfsb_obj type,
	    gfsb_backend_list_fn *fn, void *cookie);
	gfsb_err (*remove)(struct gfsb_backend *be, enum gfsb_obj type,
	    const char *name);
	gfsb_err (*stat)(struct gfsb_backend *be, enum gfsb_obj type,
	    const char *name, uint64_t *size);
	gfsb_err (*cleanup)(struct gfsb_backend *be, uint64_t *removed);
	void (*close)(struct gfsb_backend *be);
};

struct gfsb_backend {
	const struct gfsb_backend_ops *ops;
	int remote;
	struct gfsb_ctx *ctx;
	char *location;
	void *impl;
};

/* A valid object name: "config" for the config, else 64 lowercase hex. */
int gfsb_backend_name_ok(enum gfsb_obj type, const char *name);

gfsb_err gfsb_backend_local_open(struct gfsb_ctx *ctx, const char *path,
    struct gfsb_backend **out);
gfsb_err gfsb_backend_s3_open(struct gfsb_ctx *ctx, const char *url,
    const struct gfsb_backend_opts *o, struct gfsb_backend **out);

#endif
