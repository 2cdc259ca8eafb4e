/*
 * backend: where a repository's objects are stored.
 *
 * One interface (put, get, read a range, list, remove, stat) over typed,
 * named objects; `local` (a directory), `s3` (s3://BUCKET/PREFIX) and `mem`
 * (tests) implement it.  A backend knows nothing of the format: it moves
 * whole objects and makes each put atomic (the object exists whole or not
 * at all).
 *
 * For an offsite copy that must outlive an attacker who owns the backed-up
 * server (and its S3 keys), the same interface also offers S3 Object Lock
 * (per-object retain-until dates the server enforces), and a read-only view
 * of a versioned bucket as it stood at a past moment ("as of").  Every call
 * works on every backend: a directory has no locks and no history, which
 * each call's comment says how it reports.
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

/* Object Lock retention modes (S3's names).  GOVERNANCE can be lifted by a
 * user with the bypass permission (we never use it); COMPLIANCE by nobody,
 * not even the account's root, until the date passes. */
enum gfsb_lock_mode {
	GFSB_LOCK_NONE = 0,
	GFSB_LOCK_GOVERNANCE = 1,
	GFSB_LOCK_COMPLIANCE = 2
};

/* An object's retention: it may not be deleted (its version, on S3) before
 * `until`. */
struct gfsb_retention {
	enum gfsb_lock_mode mode;
	int64_t until;	/* retain-until, seconds since the epoch, UTC; 0 with
			   GFSB_LOCK_NONE */
};

/* How to reach remote storage; all fields optional (zero/NULL). */
/* Transfers a remote backend may hold at once, at most. */
#define GFSB_CONNECTIONS_MAX 64

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
	int connections;		  /* transfers at once (default 4,
					     at most GFSB_CONNECTIONS_MAX) */
	uint64_t limit_upload;		  /* bytes per second, 0 = none */
	int64_t as_of;			  /* seconds since the epoch: a
					     read-only view of a versioned
					     S3 bucket at that moment; 0:
					     now, read-write */
};

/*
 * gfsb_backend_open(ctx, url, out):
 * Open the backend for url: a local directory path (absolute or relative;
 * "file://" prefix allowed) or s3://BUCKET/PREFIX.  Does not check that a
 * repository is there.  GFSB_EINVAL for an unknown scheme or a malformed
 * URL, endpoint or credentials file (a credentials file readable by other
 * users is refused), GFSB_ENOMEM.  Close with gfsb_backend_close.
 * gfsb_backend_open_opts takes the remote settings (o may be NULL).
 *
 * With o->as_of set, the backend is a read-only view of an S3 bucket as it
 * stood at that moment: for each object, the newest version or delete
 * marker whose LastModified is at or before as_of (to the millisecond)
 * decides; a version is visible with its bytes and size, a delete marker
 * or no entry hides the object.  Listings, get, read and stat see that
 * state; put, put_locked, remove, retention_set, create and cleanup fail
 * with GFSB_EDENIED.  Open asks the server whether the bucket is versioned
 * (GFSB_EINVAL if it never was; the errors of a request otherwise); each
 * type's versions are listed on first use.  as_of on a local path:
 * GFSB_EINVAL.  A negative as_of: GFSB_EINVAL.
 */
gfsb_err gfsb_backend_open(struct gfsb_ctx *ctx, const char *url,
    struct gfsb_backend **out) GFSB_WUR;
gfsb_err gfsb_backend_open_opts(struct gfsb_ctx *ctx, const char *url,
    const struct gfsb_backend_opts *o, struct gfsb_backend **out) GFSB_WUR;

/*
 * gfsb_backend_s3_url_split(ctx, url, bucket, blen, prefix, plen):
 * The bucket and prefix of url, s3://BUCKET[/PREFIX], checked as
 * gfsb_backend_open checks them; the prefix loses its leading and
 * trailing slashes ("" when there is none).  Opens nothing.  GFSB_EINVAL
 * naming url when it is not an s3:// URL, is malformed, or a part does
 * not fit in its buffer (bucket: 64 bytes are enough).  Thread-safe.
 */
gfsb_err gfsb_backend_s3_url_split(struct gfsb_ctx *ctx, const char *url,
    char *bucket, size_t blen, char *prefix, size_t plen) GFSB_WUR;

/*
 * gfsb_backend_is_remote(be):
 * Non-zero for backends over a network (worth a local cache).
 */
int gfsb_backend_is_remote(const struct gfsb_backend *be);

/* What a backend's requests have cost since it was opened. */
struct gfsb_backend_io {
	uint64_t requests;	/* finished (retries included) */
	uint64_t bytes_in;	/* bodies received */
	uint64_t bytes_out;	/* bodies sent */
	double busy;		/* seconds of requests, summed over connections */
	double seconds;		/* since it was opened */
	unsigned connections;	/* requests at once at most; 0: no limit */
};

/*
 * gfsb_backend_io_get(be, out):
 * The counters so far.  A remote backend counts HTTP requests and the
 * connection-seconds they held (so connections * seconds - busy is the
 * time its connections sat idle); a directory counts reads, writes and
 * listings, and the time spent in them.  Thread-safe.
 */
void gfsb_backend_io_get(struct gfsb_backend *be, struct gfsb_backend_io *out);

/*
 * gfsb_backend_as_of(be):
 * The moment (seconds since the epoch) of a read-only view opened with
 * as_of (or made by gfsb_backend_mem_set_read_only); 0 for a backend that
 * shows the present and can be written.
 */
int64_t gfsb_backend_as_of(const struct gfsb_backend *be);

/*
 * gfsb_backend_oldest_version(be, type, t):
 * On a view of the past: *t = the first whole second (rounded up from S3's
 * milliseconds) at which the oldest version the bucket keeps of any object
 * of type was stored, whether that version is visible at the view's moment
 * or not (delete markers do not count); 0 if the bucket keeps none.  So for
 * GFSB_OBJ_CONFIG, the earliest as_of at which a repository can be seen
 * there.  It comes from the listing of versions the view makes anyway
 * (one per type, on first use).  The mem backend's view: the oldest mtime
 * of its objects of type.  GFSB_EUNSUPPORTED on a backend that is not a
 * view of the past; else the errors of a listing.  Thread-safe.
 */
gfsb_err gfsb_backend_oldest_version(struct gfsb_backend *be,
    enum gfsb_obj type, int64_t *t) GFSB_WUR;

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
 * gfsb_backend_mem_on_write(be, fn, cookie):
 * For tests: after each put and each remove that succeeds on be, fn is
 * called with the object (removed: 1 for a remove), from the writing
 * thread and outside the backend's lock (fn may read be, not write it),
 * so that a test can check an invariant at every instant.  fn NULL ends
 * it.  be must come from gfsb_backend_mem_new.  Thread-safe.
 */
typedef void gfsb_mem_write_fn(void *cookie, enum gfsb_obj type,
    const char *name, int removed);
void gfsb_backend_mem_on_write(struct gfsb_backend *be, gfsb_mem_write_fn *fn,
    void *cookie);

/*
 * gfsb_backend_mem_set_lock(be, enabled):
 * For tests: the mem backend be emulates a bucket with Object Lock enabled
 * (non-zero) or not (0, the default).  With it, retentions are enforced:
 * gfsb_backend_remove of an object whose retain-until date has not passed
 * on the mem clock fails with GFSB_EDENIED ("locked until ..."), in
 * GOVERNANCE mode too (we never bypass), as S3 refuses to delete a locked
 * version; and retention_set refuses to shorten.  Without it, retentions
 * are recorded (retention_get returns them) but not enforced.  be must come
 * from gfsb_backend_mem_new (else nothing happens).  Thread-safe.
 */
void gfsb_backend_mem_set_lock(struct gfsb_backend *be, int enabled);

/*
 * gfsb_backend_mem_set_time(be, now):
 * For tests: set the mem backend's clock (seconds since the epoch), against
 * which locks expire and which stamps each put's mtime.  Until it is set,
 * the mem clock is the wall clock.  be must come from gfsb_backend_mem_new.
 * Thread-safe.
 */
void gfsb_backend_mem_set_time(struct gfsb_backend *be, int64_t now);

/*
 * gfsb_backend_mem_set_read_only(be, as_of):
 * For tests: from now on the mem backend be is a read-only view as of
 * as_of, as an S3 backend opened with as_of is: every write fails with
 * GFSB_EDENIED, gfsb_backend_as_of returns as_of.  It keeps no versions:
 * the view shows what be holds.  as_of 0 makes it writable again.
 * GFSB_ENOMEM.  Not thread-safe (call it before sharing be).
 */
gfsb_err gfsb_backend_mem_set_read_only(struct gfsb_backend *be,
    int64_t as_of) GFSB_WUR;

/*
 * gfsb_backend_close(be):
 * Release be.  NULL is allowed.
 */
void gfsb_backend_close(struct gfsb_backend *be);

/*
 * gfsb_backend_create(be):
 * Prepare an empty location for a new repository (directories).
 * GFSB_EEXIST if a repository config is already there; GFSB_EIO;
 * GFSB_EDENIED on an as-of view.
 */
gfsb_err gfsb_backend_create(struct gfsb_backend *be) GFSB_WUR;

/*
 * gfsb_backend_put(be, type, name, p, n):
 * Store an object atomically.  Storing a name that exists replaces it (for
 * hash-named objects the bytes are the same).  The object gets the
 * retention set by gfsb_backend_set_put_retention, if any.  GFSB_EIO
 * (detail in ctx); GFSB_EDENIED on a read-only (as-of) view.  Thread-safe.
 */
gfsb_err gfsb_backend_put(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, const uint8_t *p, size_t n) GFSB_WUR;

/*
 * gfsb_backend_put_locked(be, type, name, p, n, ret):
 * As gfsb_backend_put, with the Object Lock retention ret on the new object
 * (S3: the headers x-amz-object-lock-mode and
 * x-amz-object-lock-retain-until-date; for a multipart upload, on its
 * CreateMultipartUpload).  ret NULL or mode GFSB_LOCK_NONE: a plain put,
 * without the backend's default retention.  GFSB_EINVAL for an unknown
 * mode or a mode without a date, or when the bucket has no Object Lock
 * (S3 answers 400 InvalidRequest); otherwise as gfsb_backend_put.  The
 * mem backend records ret; the local backend ignores it (a directory has
 * no locks).  Thread-safe.
 */
gfsb_err gfsb_backend_put_locked(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, const uint8_t *p, size_t n,
    const struct gfsb_retention *ret) GFSB_WUR;

/*
 * gfsb_backend_set_put_retention(be, ret):
 * Give every later gfsb_backend_put on be the retention *ret (copied), so
 * that writers which know nothing of locks (the backup's pack writers)
 * store locked objects; lock files (GFSB_OBJ_LOCK, which come and go)
 * are never retained.  NULL, or mode GFSB_LOCK_NONE, clears it (so does
 * a lock mode without a date, with a warning to the log).  Puts
 * already running keep the retention they started with.  Thread-safe
 * against concurrent puts.
 */
void gfsb_backend_set_put_retention(struct gfsb_backend *be,
    const struct gfsb_retention *ret);

/*
 * gfsb_backend_retention_set(be, type, name, ret):
 * Set an existing object's retention to *ret, normally to extend it (S3:
 * PUT ?retention= on the current version).  A server that refuses
 * (shortening a lock, changing COMPLIANCE to GOVERNANCE, no permission)
 * gives GFSB_EDENIED, with S3's code and message in ctx; GFSB_ENOTFOUND;
 * GFSB_EINVAL for a mode of NONE or without a date, or a bucket without
 * Object Lock.  The mem backend records it, and with
 * gfsb_backend_mem_set_lock refuses as S3 does any shortening, or a change
 * from COMPLIANCE to GOVERNANCE, while the lock holds (GOVERNANCE
 * included: we never bypass).  The local backend:
 * GFSB_EUNSUPPORTED.  GFSB_EDENIED on an as-of view.  Thread-safe.
 */
gfsb_err gfsb_backend_retention_set(struct gfsb_backend *be,
    enum gfsb_obj type, const char *name, const struct gfsb_retention *ret)
    GFSB_WUR;

/*
 * gfsb_backend_retention_get(be, type, name, out):
 * The object's retention (S3: the x-amz-object-lock-* headers of a HEAD,
 * of the visible version on an as-of view), whether or not its date has
 * passed; mode GFSB_LOCK_NONE and until 0 when it has none (and always on
 * the local backend).  S3 leaves the headers out for a caller without
 * s3:GetObjectRetention, which then reads as NONE.  GFSB_ENOTFOUND,
 * GFSB_EIO, GFSB_ENET.  Thread-safe.
 */
gfsb_err gfsb_backend_retention_get(struct gfsb_backend *be,
    enum gfsb_obj type, const char *name, struct gfsb_retention *out)
    GFSB_WUR;

/*
 * gfsb_backend_lock_enabled(be, enabled):
 * *enabled = 1 if the bucket has Object Lock enabled (S3: GET
 * /BUCKET?object-lock=, ObjectLockEnabled is "Enabled"; the 404
 * ObjectLockConfigurationNotFoundError means 0).  Local: 0; mem: what
 * gfsb_backend_mem_set_lock said.  GFSB_ENOREPO if the bucket does not
 * exist, GFSB_EDENIED, GFSB_ENET.  Thread-safe.
 */
gfsb_err gfsb_backend_lock_enabled(struct gfsb_backend *be, int *enabled)
    GFSB_WUR;

/*
 * gfsb_backend_versioning(be, state):
 * The bucket's versioning state: 0 never enabled, 1 Enabled, 2 Suspended
 * (S3: GET /BUCKET?versioning=).  Local and mem: 0.  Errors as
 * gfsb_backend_lock_enabled.  Thread-safe.
 */
gfsb_err gfsb_backend_versioning(struct gfsb_backend *be, int *state)
    GFSB_WUR;

/*
 * gfsb_backend_get(be, type, name, out):
 * Append the object's bytes to out.  GFSB_ENOTFOUND, GFSB_EIO, GFSB_ENOMEM.
 * Thread-safe.
 */
gfsb_err gfsb_backend_get(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, struct gfsb_buf *out) GFSB_WUR;

/*
 * gfsb_backend_get_max(be, type, name, max, out):
 * As gfsb_backend_get, for an object of at most max bytes: a larger one
 * is GFSB_ECORRUPT and nothing is appended.  One request to S3 (no HEAD
 * first), and no more than max bytes are read or held.
 */
gfsb_err gfsb_backend_get_max(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, size_t max, struct gfsb_buf *out) GFSB_WUR;

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
 * GFSB_EIO.  (gfsb_backend_list_all also gives each object's mtime.)
 */
gfsb_err gfsb_backend_list(struct gfsb_backend *be, enum gfsb_obj type,
    gfsb_backend_list_fn *fn, void *cookie) GFSB_WUR;

/* Every hash-named object of one type, sorted by name (hex names sort
 * like their ids, so either can be searched). */
struct gfsb_objent {
	char name[GFSB_ID_HEX];
	uint8_t id[GFSB_ID_LEN];
	uint64_t size;
	int64_t mtime;	/* when it was stored, seconds since the epoch: S3's
			   LastModified (of the visible version as of), a
			   file's st_mtime, a mem put's clock; 0 if unknown */
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
 * Delete an object.  GFSB_ENOTFOUND if it was not there, GFSB_EIO.  On a
 * versioned S3 bucket this adds a delete marker (the versions stay, locked
 * or not).  The mem backend with gfsb_backend_mem_set_lock refuses an
 * object whose retention holds: GFSB_EDENIED.  GFSB_EDENIED on an as-of
 * view.
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
 * gfsb_backend_cleanup(be, before, removed):
 * Remove what interrupted writes left behind before `before` (seconds
 * since the epoch, by the storage's clock): temporary files of a local
 * repository last written then, multipart uploads under an S3 prefix
 * begun then.  A writer's work in progress looks the same: the caller
 * makes sure no other process held a lock when it chose `before`, so
 * that whatever is older was left by a process that is gone.  *removed:
 * how many.  GFSB_EIO, GFSB_ENET; GFSB_EDENIED on an as-of view.
 */
gfsb_err gfsb_backend_cleanup(struct gfsb_backend *be, int64_t before,
    uint64_t *removed) GFSB_WUR;

/*
 * gfsb_backend_clock(be):
 * The time (seconds since the epoch) by which the storage judges whether
 * a retain-until date has passed: the clock, or the mem backend's own
 * (gfsb_backend_mem_set_time).  Never a simulated --time: locks expire in
 * real time.
 */
int64_t gfsb_backend_clock(struct gfsb_backend *be);

/* The mem backend's clock (0 for another backend).  For tests. */
int64_t gfsb_backend_mem_clock(struct gfsb_backend *be);

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
