/*
 * The backend operations table, shared by backend.c and the
 * implementations.  Names reaching an implementation are already checked
 * (64 lowercase hex digits, or "config"), so an implementation may build
 * paths from them; so are retentions (a known mode, a date with it).
 */
#ifndef GFSB_BACKEND_INTERNAL_H
#define GFSB_BACKEND_INTERNAL_H

#include <pthread.h>

#include <gfsbackup/backend.h>

struct gfsb_backend;

/*
 * The listing callback the implementations call: the public one plus the
 * object's storage time (seconds since the epoch, 0 if unknown).  One
 * richer callback rather than a second list operation: every backend lists
 * once, in one place, and gfsb_backend_list adapts it to the public
 * callback, whose signature callers keep.
 */
typedef gfsb_err be_list_fn(void *cookie, const char *name, uint64_t size,
    int64_t mtime);

struct gfsb_backend_ops {
	gfsb_err (*create)(struct gfsb_backend *be);
	/* ret: NULL for none, else a lock mode other than NONE. */
	gfsb_err (*put)(struct gfsb_backend *be, enum gfsb_obj type,
	    const char *name, const uint8_t *p, size_t n,
	    const struct gfsb_retention *ret);
	/* An object larger than max: be_too_large(). */
	gfsb_err (*get)(struct gfsb_backend *be, enum gfsb_obj type,
	    const char *name, size_t max, struct gfsb_buf *out);
	gfsb_err (*read)(struct gfsb_backend *be, enum gfsb_obj type,
	    const char *name, uint64_t off, uint8_t *dst, size_t n);
	gfsb_err (*list)(struct gfsb_backend *be, enum gfsb_obj type,
	    be_list_fn *fn, void *cookie);
	gfsb_err (*remove)(struct gfsb_backend *be, enum gfsb_obj type,
	    const char *name);
	gfsb_err (*stat)(struct gfsb_backend *be, enum gfsb_obj type,
	    const char *name, uint64_t *size);
	gfsb_err (*cleanup)(struct gfsb_backend *be, int64_t before,
	    uint64_t *removed);
	void (*close)(struct gfsb_backend *be);
	/* Object Lock and versioning; NULL: storage without locks or history
	 * (a directory), whose answers backend.c gives. */
	gfsb_err (*retention_set)(struct gfsb_backend *be, enum gfsb_obj type,
	    const char *name, const struct gfsb_retention *ret);
	gfsb_err (*retention_get)(struct gfsb_backend *be, enum gfsb_obj type,
	    const char *name, struct gfsb_retention *out);
	gfsb_err (*lock_enabled)(struct gfsb_backend *be, int *enabled);
	gfsb_err (*versioning)(struct gfsb_backend *be, int *state);
	/* The as-of view: the oldest version of any object of type (NULL:
	 * no history kept). */
	gfsb_err (*oldest_version)(struct gfsb_backend *be, enum gfsb_obj type,
	    int64_t *t);
	/* Its own I/O counters (NULL: backend.c times the calls). */
	void (*io)(struct gfsb_backend *be, struct gfsb_backend_io *out);
};

struct gfsb_backend {
	const struct gfsb_backend_ops *ops;
	int remote;
	struct gfsb_ctx *ctx;
	char *location;
	void *impl;
	/* Set by an implementation that opened a read-only view: every write
	 * fails with GFSB_EDENIED and this message. */
	char *read_only;
	int64_t as_of;	/* the view's moment, with read_only; 0: now */
	/* The retention of plain puts (gfsb_backend_set_put_retention). */
	pthread_mutex_t put_ret_mu;
	struct gfsb_retention put_ret;
	int mu_ok;
	/* backend.c's counters of the calls, under put_ret_mu. */
	struct gfsb_backend_io io;
	double opened;
};

/* A valid object name: "config" for the config, else 64 lowercase hex. */
int gfsb_backend_name_ok(enum gfsb_obj type, const char *name);

/* An object larger than a get's limit: GFSB_ECORRUPT, saying so. */
gfsb_err be_too_large(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, size_t max);

/* Initialise the fields every backend shares (backend.c); an
 * implementation's constructor calls it once be is allocated. */
void gfsb_backend_base_init(struct gfsb_backend *be);

/* t as ISO 8601 UTC to the second, "2026-12-06T03:17:17Z" (len >= 21):
 * for messages, and the form of S3's x-amz-object-lock-retain-until-date
 * and RetainUntilDate. */
void gfsb_backend_fmt_time(int64_t t, char *buf, size_t len);

gfsb_err gfsb_backend_local_open(struct gfsb_ctx *ctx, const char *path,
    struct gfsb_backend **out);
gfsb_err gfsb_backend_s3_open(struct gfsb_ctx *ctx, const char *url,
    const struct gfsb_backend_opts *o, struct gfsb_backend **out);

#endif
