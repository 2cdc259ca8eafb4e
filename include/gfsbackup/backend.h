/*
 * backend: where a repository's objects are stored.
 *
 * One interface (put, get, read a range, list, remove, stat) over typed,
 * named objects; `local` (a directory), `s3` (s3://BUCKET/PREFIX) and `mem`
 * (tests) implement it.  A backend knows nothing of the format: it moves whole objects
 * and makes each put atomic (the object exists whole or not at all).
 */
#ifndef GFSBACKUP_BACKEND_H
#define GFSBACKUP_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <gfsbackup/crypto.h>
#include <gfsbackup/util.h>

struct gfsb_ctx;

/* Object types: each has its own namespace ("directory"). */
enum gfsb_obj {
	GFSB_OBJ_CONFIG = 0, /* the single object "config" */
	GFSB_OBJ_KEY,	     /* keys/<id> */
	GFSB_OBJ_PACK,	     /* data/<first two hex digits>/<id> */
	GFSB_OBJ_INDEX,	     /* index/<id> */
	GFSB_OBJ_SNAPSHOT,   /* snapshots/<id> */
	GFSB_OBJ_LOCK,	     /* locks/<id> */
	GFSB_OBJ_NTYPES
};

struct gfsb_backend;

/*
 * A listing callback: one call per object with its name (the hex id; "config"
 * for the config) and size.  Return GFSB_OK to continue; any other value
 * stops the listing and is returned by gfsb_backend_list.
 */
typedef gfsb_err gfsb_backend_list_fn(void *cookie, const char *name,
    uint64_t size);

/* How to reach remote storage; all fields optional (zero/NULL). */
struct gfsb_backend_opts {
	const char *s3_endpoint;	  /* http(s)://HOST[:PORT]; else
					     GFSBACKUP_S3_ENDPOINT, else AWS */
	const char *s3_region;		  /* else AWS_REGION,
					     AWS_DEFAULT_REGION, us-east-1 */
	const char *s3_credentials_file;  /* INI ([default] or AWS_PROFILE);
					     else AWS_ACCESS_KEY_ID, ... */
	int s3_virtual_host;		  /* bucket.host addressing */
	const char *cacert;		  /* CA bundle for TLS; else
					     AWS_CA_BUNDLE, else system's */
	int connections;		  /* transfers at once (default 4) */
	uint64_t limit_upload;		  /* bytes per second, 0 = none */
};

/*
 * gfsb_backend_open(ctx, url, out):
 * Open the backend for url: a local directory path (absolute or relative;
 * "file://" prefix allowed) or s3://BUCKET/PREFIX.  Does not check that a
 * repository is there.  GFSB_EINVAL for an unknown scheme or a malformed
 * URL, endpoint or credentials file (a credentials file readable by other
 * users is refused), GFSB_ENOMEM.  Close with gfsb_backend_close.
 * gfsb_backend_open_opts takes the remote settings (o may be NULL).
 */
gfsb_err gfsb_backend_open(struct gfsb_ctx *ctx, const char *url,
    struct gfsb_backend **out) GFSB_WUR;
gfsb_err gfsb_backend_open_opts(struct gfsb_ctx *ctx, const char *url,
    const struct gfsb_backend_opts *o, struct gfsb_backend **out) GFSB_WUR;

/*
 * gfsb_backend_is_remote(be):
 * Non-zero for backends over a network (worth a local cache).
 */
int gfsb_backend_is_remote(const struct gfsb_backend *be);

/*
 * gfsb_backend_mem_new(ctx, out):
 * A backend that keeps objects in memory, for tests.
 */
gfsb_err gfsb_backend_mem_new(struct gfsb_ctx *ctx, struct gfsb_backend **out)
    GFSB_WUR;

/*
 * gfsb_backend_mem_fault(be, type, name, err):
 * For tests: from now on every get and read of the object (type, name)
 * (name NULL: of every object of type) fails with err, its detail naming
 * the object, as a storage outage would fail it; stat, list, put and
 * remove still work.  err GFSB_OK ends that.  One fault per type at a
 * time.  be must come from gfsb_backend_mem_new.  Thread-safe.
 */
void gfsb_backend_mem_fault(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, gfsb_err err);

/*
 * gfsb_backend_close(be):
 * Release be.  NULL is allowed.
 */
void gfsb_backend_close(struct gfsb_backend *be);

/*
 * gfsb_backend_create(be):
 * Prepare an empty location for a new repository (directories).
 * GFSB_EEXIST if a repository config is already there; GFSB_EIO.
 */
gfsb_err gfsb_backend_create(struct gfsb_backend *be) GFSB_WUR;

/*
 * gfsb_backend_put(be, type, name, p, n):
 * Store an object atomically.  Storing a name that exists replaces it (for
 * hash-named objects the bytes are the same).  GFSB_EIO (detail in ctx).
 * Thread-safe.
 */
gfsb_err gfsb_backend_put(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, const uint8_t *p, size_t n) GFSB_WUR;

/*
 * gfsb_backend_get(be, type, name, out):
 * Append the object's bytes to out.  GFSB_ENOTFOUND, GFSB_EIO, GFSB_ENOMEM.
 * Thread-safe.
 */
gfsb_err gfsb_backend_get(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, struct gfsb_buf *out) GFSB_WUR;

/*
 * gfsb_backend_read(be, type, name, off, dst, n):
 * Read exactly n bytes at offset off into dst.  GFSB_ENOTFOUND,
 * GFSB_ECORRUPT if the object is shorter, GFSB_EIO.  Thread-safe.
 */
gfsb_err gfsb_backend_read(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, uint64_t off, uint8_t *dst, size_t n) GFSB_WUR;

/*
 * gfsb_backend_list(be, type, fn, cookie):
 * Call fn for every object of type (order unspecified).  Temporary files of
 * unfinished puts are not listed.  Returns fn's first non-OK result, or
 * GFSB_EIO.
 */
gfsb_err gfsb_backend_list(struct gfsb_backend *be, enum gfsb_obj type,
    gfsb_backend_list_fn *fn, void *cookie) GFSB_WUR;

/* Every hash-named object of one type, sorted by name (hex names sort
 * like their ids, so either can be searched). */
struct gfsb_objent {
	char name[GFSB_ID_HEX];
	uint8_t id[GFSB_ID_LEN];
	uint64_t size;
	int64_t mtime; /* when it was stored (seconds since the epoch);
			  0: unknown */
};

struct gfsb_objlist {
	struct gfsb_objent *v;
	size_t n, cap;
};

/*
 * gfsb_backend_list_all(be, type, out):
 * List every object of type (not the config) into out, sorted.  Errors as
 * gfsb_backend_list, and GFSB_ENOMEM.  Free with gfsb_objlist_fini.
 */
gfsb_err gfsb_backend_list_all(struct gfsb_backend *be, enum gfsb_obj type,
    struct gfsb_objlist *out) GFSB_WUR;

/*
 * gfsb_objlist_add(l, id, size), gfsb_objlist_sort(l):
 * Build a list by hand: append an entry for id (then the list is not
 * sorted), and sort it, dropping repeated names.  GFSB_ENOMEM.
 */
gfsb_err gfsb_objlist_add(struct gfsb_objlist *l, const uint8_t id[GFSB_ID_LEN],
    uint64_t size) GFSB_WUR;
void gfsb_objlist_sort(struct gfsb_objlist *l);

/* The entry named name in a sorted list, or NULL. */
const struct gfsb_objent *gfsb_objlist_find(const struct gfsb_objlist *l,
    const char *name);

void gfsb_objlist_fini(struct gfsb_objlist *l);

/*
 * gfsb_backend_remove(be, type, name):
 * Delete an object.  GFSB_ENOTFOUND if it was not there, GFSB_EIO.
 */
gfsb_err gfsb_backend_remove(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name) GFSB_WUR;

/*
 * gfsb_backend_stat(be, type, name, size):
 * The object's size.  GFSB_ENOTFOUND, GFSB_EIO.
 */
gfsb_err gfsb_backend_stat(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, uint64_t *size) GFSB_WUR;

/*
 * gfsb_backend_cleanup(be, removed):
 * Remove what interrupted writes left behind: temporary files of a local
 * repository, unfinished multipart uploads under an S3 prefix.  Only
 * under the exclusive lock (a writer's work in progress looks the same).
 * *removed: how many.  GFSB_EIO, GFSB_ENET.
 */
gfsb_err gfsb_backend_cleanup(struct gfsb_backend *be, uint64_t *removed)
    GFSB_WUR;

/*
 * gfsb_backend_location(be):
 * A printable description of where the backend stores (path or URL).
 */
const char *gfsb_backend_location(const struct gfsb_backend *be);

/*
 * gfsb_backend_ctx(be):
 * The context the backend reports errors to.
 */
struct gfsb_ctx *gfsb_backend_ctx(const struct gfsb_backend *be);

/*
 * gfsb_backend_type_name(type):
 * "config", "keys", "data", "index", "snapshots" or "locks".
 */
const char *gfsb_backend_type_name(enum gfsb_obj type);

#endif /* !GFSBACKUP_BACKEND_H */
