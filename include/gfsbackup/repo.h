/*
 * repo: the repository format (docs/FORMAT.md) and its objects: config,
 * key files, packs of sealed blobs, the index, trees, snapshots and locks.
 *
 * A repository is opened with a passphrase; from then on every object read
 * is checked against its name (SHA-256), every sealed item against its MAC,
 * and every blob against its id.  Writes keep the crash-safe order: packs,
 * then the index that names them, then snapshots.
 */
#ifndef GFSBACKUP_REPO_H
#define GFSBACKUP_REPO_H

#include <stddef.h>
#include <stdint.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/chunker.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/util.h>

struct gfsb_ctx;
struct gfsb_backend;
struct gfsb_repo;
struct gfsb_repo_io;

/* The format version this code writes and reads. */
#define GFSB_FORMAT_VERSION 1

#define GFSB_PACK_SIZE_DEFAULT (16U << 20)
#define GFSB_PACK_SIZE_MIN (1U << 20)
#define GFSB_PACK_SIZE_MAX (1U << 30)

/* The least every object of a locked repository is retained, whoever
 * writes it: the nightly job, which knows the policy, extends it. */
#define GFSB_LOCK_MARGIN_DEFAULT (2 * 86400)

/* Argon2id defaults: RFC 9106's second recommended option (t=3, 64 MiB). */
#define GFSB_KDF_OPS_DEFAULT 3
#define GFSB_KDF_OPS_MAX 64
#define GFSB_KDF_MEM_DEFAULT (64U << 20)

/* Blob types. */
enum gfsb_blob_type {
	GFSB_BLOB_DATA = 0,
	GFSB_BLOB_TREE = 1
};

/* Parameters chosen at init and kept in the config. */
struct gfsb_repo_params {
	struct gfsb_chunker_params chunk;
	uint32_t pack_size;   /* target pack size in bytes */
	int compression;      /* zstd level, 0 = off */
	enum gfsb_lock_mode lock_mode; /* S3 Object Lock on every object
				  (GFSB_LOCK_NONE: none) */
	uint64_t kdf_ops;     /* Argon2id passes for the first key */
	uint64_t kdf_mem;     /* Argon2id memory in bytes */
};

/*
 * gfsb_repo_params_default(p):
 * Fill p with the defaults (chunks 512 KiB / 1 MiB / 8 MiB, packs 16 MiB,
 * zstd level 3, Argon2id t=3 m=64 MiB).
 */
void gfsb_repo_params_default(struct gfsb_repo_params *p);

/*
 * gfsb_repo_probe(ctx, be):
 * GFSB_OK if a repository config exists at be, GFSB_ENOREPO if not,
 * GFSB_EIO if the location cannot be read.  Needs no passphrase.  On a
 * view of the past, the detail of GFSB_ENOREPO says as of when, and when
 * the bucket's first config version is from (the earliest moment to ask
 * for), or that the config had been deleted by then.
 */
gfsb_err gfsb_repo_probe(struct gfsb_ctx *ctx, struct gfsb_backend *be)
    GFSB_WUR;

/*
 * gfsb_repo_init(ctx, be, pass, passlen, params, out):
 * Create a repository: fresh master keys, one key file sealed under pass,
 * the config.  GFSB_EEXIST if one is there, GFSB_EINVAL for bad params,
 * GFSB_EIO.  On success *out is open (caller closes it with
 * gfsb_repo_close); be must outlive it.
 */
gfsb_err gfsb_repo_init(struct gfsb_ctx *ctx, struct gfsb_backend *be,
    const char *pass, size_t passlen, const struct gfsb_repo_params *params,
    struct gfsb_repo **out) GFSB_WUR;

/*
 * gfsb_repo_open(ctx, be, pass, passlen, out):
 * Open a repository: find the key file pass opens, read the config.
 * GFSB_ENOREPO if there is none, GFSB_EAUTH if no key file opens with pass,
 * GFSB_ECORRUPT / GFSB_EUNSUPPORTED for a damaged or newer config.  A key
 * file or the config that cannot be read (the storage's GFSB_ENET,
 * GFSB_EDENIED, GFSB_EIO) fails the open with that error, never with
 * GFSB_ECORRUPT or GFSB_EAUTH.  The index is not loaded
 * (gfsb_repo_index_load).
 */
gfsb_err gfsb_repo_open(struct gfsb_ctx *ctx, struct gfsb_backend *be,
    const char *pass, size_t passlen, struct gfsb_repo **out) GFSB_WUR;

/*
 * gfsb_repo_open_mirror(src, be, out):
 * Open the copy of src's repository at be (an offsite mirror) with src's
 * keys, already in memory: no passphrase is asked.  GFSB_ENOREPO if be
 * holds no repository, GFSB_EINVAL if it holds another one (its config
 * does not open with these keys, or names another repository id); a
 * config that cannot be read fails with the storage's error.  With a
 * write-only key, which cannot read the config, the mirror is the one
 * holding that key's file (a full key's sync copied it there, after
 * giving the mirror the reader keys), GFSB_EAUTH naming the key if it
 * does not; its Object Lock mode is that file's retention mode.
 */
gfsb_err gfsb_repo_open_mirror(const struct gfsb_repo *src,
    struct gfsb_backend *be, struct gfsb_repo **out) GFSB_WUR;

/*
 * gfsb_repo_set_cache(r, dir):
 * Keep local copies of the repository's index files, snapshots and tree
 * packs under dir/<repository id>/ (dir "": the default, dir NULL: no
 * cache).  Repositories on remote storage get the default cache when they
 * are opened: $GFSBACKUP_CACHE_DIR, else $XDG_CACHE_HOME/gfsbackup, else
 * $HOME/.cache/gfsbackup.  The copies are the sealed objects themselves,
 * checked against their names when used; a cache that cannot be created
 * or written is a warning, and the repository is read directly.  A
 * repository on a read-only view of the past (gfsb_backend_as_of) is never
 * cached, whatever dir says: the cache of its id follows the present state
 * and drops what that state no longer lists, so the past would evict the
 * present's copies and fill it with its own.  GFSB_ENOMEM only.
 */
gfsb_err gfsb_repo_set_cache(struct gfsb_repo *r, const char *dir) GFSB_WUR;

/* The cache directory in use (dir/<repository id>), or NULL. */
const char *gfsb_repo_cache_path(const struct gfsb_repo *r);

/*
 * gfsb_repo_close(r):
 * Release r and wipe its keys.  Blobs written but not flushed are lost (the
 * packs already stored are found again by gfsb_repo_pack_recover).  NULL is
 * allowed.
 */
void gfsb_repo_close(struct gfsb_repo *r);

/* Accessors; the results are borrowed for r's lifetime. */
struct gfsb_ctx *gfsb_repo_ctx(const struct gfsb_repo *r);
struct gfsb_backend *gfsb_repo_backend(const struct gfsb_repo *r);
const char *gfsb_repo_id(const struct gfsb_repo *r);
const struct gfsb_chunker *gfsb_repo_chunker(const struct gfsb_repo *r);
const struct gfsb_repo_params *gfsb_repo_params(const struct gfsb_repo *r);

/*
 * gfsb_repo_lock_mode(r):
 * The Object Lock mode the repository's config names: its objects are
 * written with retain-until dates and deleted only once those pass.
 * GFSB_LOCK_NONE for an unlocked repository.
 */
enum gfsb_lock_mode gfsb_repo_lock_mode(const struct gfsb_repo *r);

/*
 * gfsb_repo_lock_held(r, type, name, until):
 * Non-zero if r is locked and the object's retain-until date has not
 * passed (by the clock, not a simulated time): it must not be deleted
 * yet.  *until gets the date (0: none).  A date that cannot be read
 * counts as held: nothing is deleted on a guess.  Unlocked: 0, and no
 * request is made.
 */
int gfsb_repo_lock_held(struct gfsb_repo *r, enum gfsb_obj type,
    const char *name, int64_t *until);

/*
 * gfsb_lock_mode_name(m), gfsb_lock_mode_parse(s, m):
 * "none", "governance", "compliance"; parse one of them (GFSB_EINVAL).
 */
const char *gfsb_lock_mode_name(enum gfsb_lock_mode m);
gfsb_err gfsb_lock_mode_parse(const char *s, enum gfsb_lock_mode *m)
    GFSB_WUR;

/*
 * gfsb_repo_mirror_create(src, be, mode):
 * Create the copy of src's repository at be (sync's new mirror), with
 * src's key files and src's config, except that the config names Object
 * Lock mode `mode` (sealed anew with src's keys: the copy is the same
 * repository).  With a mode, the bucket must have Object Lock enabled
 * (GFSB_EINVAL otherwise, naming the bucket), and the key files and config
 * are written with `keep` as their retention (mode, until).  The config
 * is written last: its presence is what makes a repository.  *keys gets
 * the number of key files copied.
 */
gfsb_err gfsb_repo_mirror_create(const struct gfsb_repo *src,
    struct gfsb_backend *be, const struct gfsb_retention *keep,
    uint64_t *keys) GFSB_WUR;

/*
 * gfsb_repo_mirror_upgrade(src, mirror, keep, dry_run, done):
 * A mirror made before its source became version 2 (a full key added the
 * first write-only key) cannot open what is sealed under mkey or to the
 * reader.  Give it src's config (its reader keys), keeping the mirror's
 * lock mode (keep: mode and date, as gfsb_repo_mirror_create), after
 * checking that the two configs agree in everything else (GFSB_EINVAL
 * naming the mirror otherwise: nothing is written).  The only write sync
 * makes to a mirror's config after creating it.  *done: 1 if the mirror
 * needed it (and, unless dry_run, got it: mirror then reads and writes as
 * version 2), 0 if not.
 */
gfsb_err gfsb_repo_mirror_upgrade(const struct gfsb_repo *src,
    struct gfsb_repo *mirror, const struct gfsb_retention *keep,
    int dry_run, int *done) GFSB_WUR;

/*
 * gfsb_repo_set_compression(r, level), gfsb_repo_set_pack_size(r, n):
 * Override the config's compression level or pack size for this session's
 * writes.  GFSB_EINVAL when out of range.  Call before writing blobs.
 */
gfsb_err gfsb_repo_set_compression(struct gfsb_repo *r, int level) GFSB_WUR;
gfsb_err gfsb_repo_set_pack_size(struct gfsb_repo *r, uint32_t n) GFSB_WUR;

/*
 * gfsb_repo_blob_id(r, p, n, id):
 * The blob id of p[0..n) in this repository (keyed BLAKE2b-256).
 * Thread-safe.
 */
void gfsb_repo_blob_id(const struct gfsb_repo *r, const void *p, size_t n,
    uint8_t id[GFSB_ID_LEN]);

/* ---- keys ---- */

struct gfsb_key_info {
	char id[GFSB_ID_HEX];
	struct gfsb_time created;
	char hostname[256];
	char username[64];
	int current; /* the key this session opened the repository with */
	int write_only; /* a write-only key (it opens no data) */
	char wpk_hex[2 * 32 + 1]; /* write_only: its signing key, hex */
	int damaged; /* the file does not match its name or does not parse */
};

/*
 * gfsb_repo_key_add(r, pass, passlen, ops, mem, idhex):
 * Add a key file that opens the repository with pass (Argon2id with ops
 * passes and mem bytes; 0 means the default).  Its id goes to idhex (65
 * bytes) if not NULL.  Key management (add, passwd, remove) needs a full
 * key: GFSB_EAUTH when r was opened with a write-only key.
 */
gfsb_err gfsb_repo_key_add(struct gfsb_repo *r, const char *pass,
    size_t passlen, uint64_t ops, uint64_t mem, char *idhex) GFSB_WUR;

/*
 * gfsb_repo_key_add_write_only(r, pass, passlen, ops, mem, idhex):
 * Add a write-only key (docs/WRITE-ONLY-KEYS.md) that opens with pass:
 * enough to add backups, nothing that opens what is stored.  The first
 * one makes the repository version 2: the config is rewritten with new
 * reader keys (version 1 readers then refuse it as unsupported), before
 * the key file is written.  Its id goes to idhex (65 bytes) if not NULL.
 * GFSB_EAUTH when r was opened with a write-only key.
 */
gfsb_err gfsb_repo_key_add_write_only(struct gfsb_repo *r, const char *pass,
    size_t passlen, uint64_t ops, uint64_t mem, char *idhex) GFSB_WUR;

/*
 * gfsb_repo_index_reseal(r, written, removed):
 * In a version 2 repository, rewrite the index files a full key sealed
 * under enc (before version 2) under mkey, signed, so that write-only
 * keys deduplicate against everything stored: the index as it stands,
 * marks for deletion included, the last new file superseding every old
 * one, which are then removed (one under an Object Lock stays,
 * superseded).  Nothing to do (0 files) in version 1 or when no index
 * file is under enc.  Call under the exclusive lock; reloads the index.
 * *written, *removed: index files.  GFSB_EAUTH with a write-only key.
 */
gfsb_err gfsb_repo_index_reseal(struct gfsb_repo *r, uint64_t *written,
    uint64_t *removed) GFSB_WUR;

/*
 * gfsb_repo_write_only(r):
 * Non-zero when r was opened with a write-only key: it reads nothing
 * sealed under the full keys (GFSB_EAUTH) and manages no keys.
 */
int gfsb_repo_write_only(const struct gfsb_repo *r);

/*
 * gfsb_repo_writer_snapshots(r, out, n):
 * A write-only key's own snapshots, oldest first, from its cache on this
 * machine (the repository's it cannot read): those it made here and
 * whose cache entries are whole; none for a full key, or when the cache
 * is gone.  Free with gfsb_repo_snapshot_list_free.  GFSB_ENOMEM.
 */
struct gfsb_snapshot;
gfsb_err gfsb_repo_writer_snapshots(struct gfsb_repo *r,
    struct gfsb_snapshot ***out, size_t *n) GFSB_WUR;

/*
 * gfsb_repo_need_full(r, what):
 * GFSB_OK when r was opened with a full key; else GFSB_EAUTH with "a
 * write-only key cannot WHAT: use a full key" in the context.  What
 * deletes, supersedes or rewrites (prune, forget, tag, repair) checks it
 * first, whatever it could read.
 */
gfsb_err gfsb_repo_need_full(struct gfsb_repo *r, const char *what)
    GFSB_WUR;

/*
 * gfsb_repo_key_passwd(r, pass, passlen):
 * Change the passphrase of the current key: write a new key file, then
 * remove the old one (so a crash leaves at least one that opens).  The
 * new key becomes current.
 */
gfsb_err gfsb_repo_key_passwd(struct gfsb_repo *r, const char *pass,
    size_t passlen) GFSB_WUR;

/*
 * gfsb_repo_key_remove(r, prefix, idhex):
 * Remove the key file named by a unique id prefix (its full id to idhex,
 * 65 bytes, if not NULL): a revoked passphrase opens nothing after.
 * Refused (GFSB_EINVAL, nothing removed) for the key this session opened
 * the repository with, and for the last full key that is not damaged
 * (write-only keys open no data);
 * GFSB_ENOTFOUND for a prefix that matches no key, GFSB_EINVAL for one
 * that matches several.  The caller holds the exclusive lock.
 */
gfsb_err gfsb_repo_key_remove(struct gfsb_repo *r, const char *prefix,
    char *idhex) GFSB_WUR;

/*
 * gfsb_repo_key_list(r, out, n):
 * Describe every key file; *out is malloc'd (caller frees).  A key file
 * that is read and found damaged is listed with `damaged` set; one that
 * cannot be read (GFSB_ENET, GFSB_EDENIED, GFSB_EIO) fails the call, as
 * nothing is known about it; one removed since the listing is left out.
 */
gfsb_err gfsb_repo_key_list(struct gfsb_repo *r, struct gfsb_key_info **out,
    size_t *n) GFSB_WUR;

/* ---- index and blobs ---- */

/* Where a blob is stored. */
struct gfsb_blob_loc {
	uint8_t pack[GFSB_ID_LEN];
	uint32_t offset;     /* within the pack */
	uint32_t length;     /* sealed length */
	uint32_t raw_length; /* plaintext length */
	uint8_t type;	     /* enum gfsb_blob_type */
	uint8_t flags;	     /* GFSB_BLOB_F_* */
};

#define GFSB_BLOB_F_ZSTD 0x01
/* Sealed to the reader by a write-only key: the session's epk (32 bytes)
 * comes first, and only the full keys (rsk) derive the key. */
#define GFSB_BLOB_F_READER 0x02

/*
 * gfsb_repo_index_load(r):
 * Read every index file (skipping those a newer one supersedes) into the
 * in-memory index.  GFSB_ECORRUPT names a damaged index file.  Loading an
 * already loaded index does nothing.
 */
gfsb_err gfsb_repo_index_load(struct gfsb_repo *r) GFSB_WUR;

/*
 * gfsb_repo_index_reload(r):
 * Write out what is pending, forget the index in memory and load it anew
 * from every index file stored now.  What was loaded earlier in the
 * process (by a backup, say) misses the index files written since, by
 * this process or another host's: anything that decides what to delete
 * (prune) must decide from this.  Errors as gfsb_repo_index_load.
 */
gfsb_err gfsb_repo_index_reload(struct gfsb_repo *r) GFSB_WUR;

/*
 * gfsb_repo_index_lookup(r, type, id, loc):
 * Find a stored blob.  GFSB_ENOTFOUND if it is not in the index (or only
 * in a pack still being written).  loc may be NULL.  Thread-safe.
 */
gfsb_err gfsb_repo_index_lookup(struct gfsb_repo *r, enum gfsb_blob_type type,
    const uint8_t id[GFSB_ID_LEN], struct gfsb_blob_loc *loc) GFSB_WUR;

/*
 * gfsb_repo_index_live(r, type, id):
 * Non-zero if a stored pack holds the blob and no prune has marked that
 * pack for deletion: what a backup may reuse without storing it again
 * (a marked pack can still be read, but may be deleted before the
 * backup's snapshot is saved).  Thread-safe.
 */
int gfsb_repo_index_live(struct gfsb_repo *r, enum gfsb_blob_type type,
    const uint8_t id[GFSB_ID_LEN]);

/*
 * gfsb_repo_index_count(r):
 * Number of blobs in the in-memory index.
 */
size_t gfsb_repo_index_count(struct gfsb_repo *r);

/*
 * gfsb_repo_index_memory(r, blobs, bytes):
 * The index in memory: how many blobs it holds and the bytes its arrays
 * take (entries, hash slots, packs), for stats and the scale benchmark.
 */
void gfsb_repo_index_memory(struct gfsb_repo *r, size_t *blobs,
    size_t *bytes);

/*
 * gfsb_repo_pack_recover(r, count):
 * Find packs that no index names (left by an interrupted backup), read
 * their headers and add their blobs to the index, so they are reused and
 * named by the next index written.  *count gets the number of packs
 * recovered.  A damaged pack is reported in the log and skipped.
 */
gfsb_err gfsb_repo_pack_recover(struct gfsb_repo *r, size_t *count) GFSB_WUR;

/*
 * gfsb_repo_io_new(r, out), gfsb_repo_io_free(io):
 * Per-thread state for reading and writing blobs (compression contexts,
 * scratch buffers).  Each thread uses its own.
 */
gfsb_err gfsb_repo_io_new(struct gfsb_repo *r, struct gfsb_repo_io **out)
    GFSB_WUR;
void gfsb_repo_io_free(struct gfsb_repo_io *io);

/*
 * gfsb_repo_blob_read(io, type, id, out):
 * Read a blob: fetch, authenticate, decompress, check its id.  The
 * plaintext replaces out's contents.  GFSB_ENOTFOUND if it is not indexed,
 * GFSB_ECORRUPT (naming the pack) if it fails any check.
 */
gfsb_err gfsb_repo_blob_read(struct gfsb_repo_io *io,
    enum gfsb_blob_type type, const uint8_t id[GFSB_ID_LEN],
    struct gfsb_buf *out) GFSB_WUR;

/*
 * gfsb_repo_pack_read(r, pack, off, dst, n):
 * Read exactly n bytes at off of a pack (sealed blobs, for callers that
 * open them with gfsb_repo_blob_open).  GFSB_ECORRUPT if the pack is
 * missing or shorter, GFSB_ENET / GFSB_EIO / GFSB_EDENIED if the storage
 * cannot be read.  Thread-safe.
 */
gfsb_err gfsb_repo_pack_read(struct gfsb_repo *r,
    const uint8_t pack[GFSB_ID_LEN], uint64_t off, uint8_t *dst, size_t n)
    GFSB_WUR;

/*
 * gfsb_repo_blob_open(io, loc, id, sealed, out):
 * Authenticate, decompress and check a blob whose sealed bytes are in
 * sealed[0..loc->length), located by loc.  For callers that fetch pack
 * ranges themselves.  The plaintext replaces out's contents.
 */
gfsb_err gfsb_repo_blob_open(struct gfsb_repo_io *io,
    const struct gfsb_blob_loc *loc, const uint8_t id[GFSB_ID_LEN],
    const uint8_t *sealed, struct gfsb_buf *out) GFSB_WUR;

/*
 * gfsb_repo_blob_write(io, type, p, n, id, id_known, added):
 * Store a blob unless the repository (or this session) already has it.
 * If id_known, id already holds the blob's id (computed by the caller);
 * otherwise the id is computed and written to id.  *added is 1 if new data
 * was stored, 0 if it was a duplicate.  The
 * blob is durable only after its pack is written and indexed
 * (gfsb_repo_flush).  Thread-safe with one io per thread.
 */
gfsb_err gfsb_repo_blob_write(struct gfsb_repo_io *io,
    enum gfsb_blob_type type, const uint8_t *p, size_t n,
    uint8_t id[GFSB_ID_LEN], int id_known, int *added) GFSB_WUR;

/*
 * gfsb_repo_flush(r):
 * Write the packs being filled and an index naming every pack written in
 * this session that no index names yet.  After it returns, every blob
 * written so far is durable and findable.
 */
gfsb_err gfsb_repo_flush(struct gfsb_repo *r) GFSB_WUR;

/* Counters for what this session stored. */
struct gfsb_repo_stats {
	uint64_t blobs_added[2];  /* by gfsb_blob_type */
	uint64_t raw_added[2];	  /* plaintext bytes of new blobs */
	uint64_t stored_added[2]; /* sealed bytes of new blobs */
	uint64_t packs_written;
	uint64_t pack_bytes;
	uint64_t index_files;
};

/*
 * gfsb_repo_stats_get(r, out):
 * A snapshot of the counters.  Thread-safe.
 */
void gfsb_repo_stats_get(struct gfsb_repo *r, struct gfsb_repo_stats *out);

/* ---- pruning ---- */

/*
 * gfsb_repo_index_mark(r, type, id):
 * Mark a blob as used by a snapshot (before gfsb_repo_compact).
 * GFSB_OK if newly marked, GFSB_EEXIST if it already was (so a tree need
 * not be walked twice), GFSB_ENOTFOUND if the index lacks it.  Thread-safe.
 */
gfsb_err gfsb_repo_index_mark(struct gfsb_repo *r, enum gfsb_blob_type type,
    const uint8_t id[GFSB_ID_LEN]) GFSB_WUR;

struct gfsb_compact_opts {
	double max_unused; /* repack a pack whose unused share exceeds this */
	int dry_run;	   /* decide and count, change nothing */
	int64_t grace;	   /* seconds a marked pack waits at least */
	int64_t now;	   /* seconds since the epoch; 0: the clock */
	/* Before the second phase deletes anything: mark (with
	 * gfsb_repo_index_mark) what the snapshots saved since the caller
	 * marked use; blobs the index does not know are no error.  NULL:
	 * nothing to look at. */
	gfsb_err (*recheck)(void *cookie, struct gfsb_repo *r);
	void *cookie;
	/* Told when the first phase is done (the new index stored, the
	 * old files gone), before the second begins; NULL: nobody. */
	void (*marked)(void *cookie);
	void *marked_cookie;
};

struct gfsb_compact_stats {
	uint64_t packs, pack_bytes;	   /* indexed packs before */
	uint64_t blobs, blobs_unused, unused_bytes;
	uint64_t packs_deleted;		   /* nothing in them was used */
	uint64_t packs_repacked;	   /* used blobs copied, then deleted */
	uint64_t packs_written;		   /* new packs of copies */
	uint64_t unindexed_deleted;	   /* leftovers of interrupted runs */
	uint64_t bytes_freed;		   /* net, in the backend */
	uint64_t bytes_repacked;	   /* used bytes in repacked packs */
	uint64_t bytes_copied;		   /* of those, copied (not dry run) */
	uint64_t unused_bytes_after;	   /* left in kept packs */
	uint64_t index_files_written, index_files_removed;
	uint64_t waiting;		   /* locked: kept by their lock */
	int64_t waiting_until;		   /* the latest of those dates */
	uint64_t packs_deferred;	   /* marked, left for a later prune:
					      the grace, or other processes'
					      locks */
	uint64_t bytes_deferred;
	uint64_t packs_recovered;	   /* marked, used again: kept */
	uint64_t packs_used_since;	   /* marked now, but used by what
					      was saved meanwhile: left for
					      the next prune to keep */
	int others_locked;		   /* other processes held locks */
};

/*
 * gfsb_repo_compact(r, opts, stats):
 * In two phases (docs/DESIGN.md, "Prune in two phases"): first mark for
 * deletion, in a new index, the packs holding no marked blob, those
 * whose unused share exceeds opts->max_unused (after copying their used
 * blobs) and packs no index names, and bring back a pack marked before
 * that a snapshot uses again; then delete the marked packs whose grace
 * (opts->grace) has passed and that no other process's lock taken
 * before then (and an hour of clock margin) may still need.  The rest
 * wait for a later compaction (stats->packs_deferred).  In an order that
 * a kill -9 at any instant cannot harm; a later compaction finishes an
 * interrupted one.  Every copied blob is checked first.  The caller
 * holds a prune lock (backups may run meanwhile) and has marked every
 * used blob, after listing the snapshots.  In a locked repository
 * (gfsb_repo_lock_mode) nothing whose Object Lock date has not passed is
 * deleted or repacked: it is counted in stats->waiting and left for a
 * later compaction.  GFSB_ECORRUPT
 * (nothing deleted) if a pack with used blobs is missing or a blob to
 * copy is damaged.  Afterwards the index is reloaded.
 */
gfsb_err gfsb_repo_compact(struct gfsb_repo *r,
    const struct gfsb_compact_opts *opts, struct gfsb_compact_stats *stats)
    GFSB_WUR;

/* ---- repairing the index ---- */

struct gfsb_index_repair_opts {
	int read_data; /* read every pack whole: index only blobs that open */
	int dry_run;   /* count what would change, write nothing */
};

struct gfsb_index_repair_stats {
	uint64_t index_files;	      /* index files there before */
	uint64_t index_damaged;	      /* of those, unreadable */
	uint64_t blobs_before;	      /* blobs the readable ones named */
	uint64_t packs;		      /* packs stored */
	uint64_t packs_indexed;	      /* of those, in the new index */
	uint64_t packs_adopted;	      /* indexed now, by no index before */
	uint64_t packs_unreadable;    /* header or all blobs damaged */
	uint64_t packs_salvaged;      /* read_data: some blobs damaged, the
				       * others copied; left out */
	uint64_t packs_written;	      /* new packs of those copies */
	uint64_t packs_deleted;	      /* read_data: the damaged ones */
	uint64_t packs_missing;	      /* named by the old index, not stored */
	uint64_t blobs_damaged;	      /* read_data: blobs left out */
	uint64_t blobs;		      /* blobs in the new index */
	uint64_t index_files_written, index_files_removed;
};

/*
 * gfsb_repo_index_repair(r, opts, stats):
 * Rebuild the index from the packs themselves: read every stored pack's
 * sealed header (with read_data, the whole pack, keeping only the blobs
 * that authenticate and hash to their id), write a new index naming
 * exactly those blobs, superseding every old index file, then delete the
 * old files.  Damaged index files, packs no index named, and index entries
 * for packs that are gone or damaged are all put right; the warnings name
 * each.  The caller holds the exclusive lock (shared for a dry run) and
 * has not loaded the index.  Fails only if the storage cannot be read,
 * listed or written; the old index then stays in force (copies already
 * written are unindexed packs, which the next backup takes in or prune
 * deletes).
 */
gfsb_err gfsb_repo_index_repair(struct gfsb_repo *r,
    const struct gfsb_index_repair_opts *opts,
    struct gfsb_index_repair_stats *stats) GFSB_WUR;

/* ---- checking (verify) ---- */

/*
 * gfsb_repo_index_load_check(r, bad, cookie):
 * Like gfsb_repo_index_load, but an index file that cannot be read or
 * decoded is passed to bad (its name, the error, the error detail) and
 * skipped instead of failing the load: the rest of the index is still
 * usable, so a check can say what the damage breaks.  Errors of the
 * storage itself (GFSB_EIO, GFSB_ENET, ...) still fail the load.  An
 * index loaded earlier through r (the daily job's backup and prune) is
 * dropped and read again: the check is of what is stored now.
 */
gfsb_err gfsb_repo_index_load_check(struct gfsb_repo *r,
    void (*bad)(void *cookie, const char *name, gfsb_err e,
    const char *detail), void *cookie) GFSB_WUR;

/* Every blob the index places in one pack, by offset. */
struct gfsb_pack_blobs {
	uint8_t id[GFSB_ID_LEN];
	uint64_t size;		    /* the pack's size as its entries imply */
	struct gfsb_blob_loc *locs; /* sorted by offset */
	uint8_t (*ids)[GFSB_ID_LEN];
	size_t n;
	int64_t doomed_at; /* > 0: a prune marked it for deletion then */
	const uint32_t *ents; /* gfsb_repo_index_packs': its blobs' places
				 in the index, by offset (locs and ids are
				 NULL until gfsb_repo_pack_blobs_load) */
};

/*
 * gfsb_repo_index_packs(r, out, n):
 * Group the loaded index by pack: every stored pack it names, sorted by
 * id, with its number of blobs (duplicates included) and expected size;
 * its blobs (locs, ids) only once gfsb_repo_pack_blobs_load is called, so
 * that a large repository is grouped in 4 bytes a blob.  The index must
 * not be reloaded meanwhile.  Free with gfsb_repo_index_packs_free.
 * GFSB_ENOMEM.
 */
gfsb_err gfsb_repo_index_packs(struct gfsb_repo *r,
    struct gfsb_pack_blobs **out, size_t *n) GFSB_WUR;
void gfsb_repo_index_packs_free(struct gfsb_pack_blobs *v, size_t n);

/*
 * gfsb_repo_pack_blobs_load(r, pb), gfsb_repo_pack_blobs_unload(pb):
 * Fill pb->locs and pb->ids (by offset) from the index, for one pack of
 * gfsb_repo_index_packs; and free them again.  Thread-safe for different
 * packs.  Nothing to do for a pack read from an index file
 * (gfsb_repo_index_file_read: ents NULL, locs and ids its own).
 * GFSB_ENOMEM.
 */
gfsb_err gfsb_repo_pack_blobs_load(struct gfsb_repo *r,
    struct gfsb_pack_blobs *pb) GFSB_WUR;
void gfsb_repo_pack_blobs_unload(struct gfsb_pack_blobs *pb);

/* ---- index files as whole objects (sync) ---- */

/* One index file: the index files it supersedes and the packs it names
 * (each with its blobs and its size as the entries imply). */
struct gfsb_index_file {
	uint8_t (*supersedes)[GFSB_ID_LEN];
	size_t nsupersedes;
	struct gfsb_pack_blobs *packs; /* in file order */
	size_t npacks;
	int mirror_own; /* written by gfsb_repo_index_file_write: a mirror's
			   own (loaded after the others, so that of a blob
			   stored twice the source's copy is found) */
};

/*
 * gfsb_repo_index_file_read(r, name, out):
 * Read and decode the index file `name` (checked against its name and its
 * MAC like every read).  GFSB_ENOTFOUND, GFSB_ECORRUPT naming the file,
 * GFSB_ENOMEM, the storage's errors.  Free out with
 * gfsb_repo_index_file_fini, even on error.
 */
gfsb_err gfsb_repo_index_file_read(struct gfsb_repo *r, const char *name,
    struct gfsb_index_file *out) GFSB_WUR;
void gfsb_repo_index_file_fini(struct gfsb_index_file *f);

/*
 * gfsb_repo_index_file_write(r, packs, n, name):
 * Write a new index file naming the packs *packs[0..n) and their blobs,
 * superseding nothing, marked as a mirror's own (docs/FORMAT.md); its id
 * goes to name.  For a mirror that keeps packs its source no longer
 * indexes.  GFSB_EINVAL for n == 0.
 */
gfsb_err gfsb_repo_index_file_write(struct gfsb_repo *r,
    const struct gfsb_pack_blobs *const *packs, size_t n,
    char name[GFSB_ID_HEX]) GFSB_WUR;

/*
 * gfsb_repo_index_duplicates(r):
 * How many blobs the index holds more than once (in two packs).
 */
uint64_t gfsb_repo_index_duplicates(struct gfsb_repo *r);

/* What gfsb_repo_pack_check found in one pack. */
struct gfsb_pack_check {
	int name_ok;	     /* SHA-256 of the bytes is the pack's name */
	int header_ok;	     /* the sealed header opens and matches the index */
	char header_why[96]; /* why not */
	size_t *bad;	     /* indices into pb->locs of blobs that fail */
	size_t nbad;
};

/*
 * gfsb_repo_pack_check(io, pb, data, len, out):
 * Check a whole pack read from storage: its SHA-256 against its name, its
 * header against the index, and every blob the index places in it
 * (authenticate, decompress, recompute the id).  Damage is reported in
 * *out (free out->bad), not as an error: the call fails only with
 * GFSB_ENOMEM.  Thread-safe with one io per thread.
 */
gfsb_err gfsb_repo_pack_check(struct gfsb_repo_io *io,
    const struct gfsb_pack_blobs *pb, const uint8_t *data, size_t len,
    struct gfsb_pack_check *out) GFSB_WUR;

/*
 * gfsb_repo_lock_count(r, live, stale):
 * Count the locks held (by live processes) and the stale ones, without
 * removing anything.
 */
gfsb_err gfsb_repo_lock_count(struct gfsb_repo *r, size_t *live,
    size_t *stale) GFSB_WUR;

/* ---- trees ---- */

enum gfsb_node_kind {
	GFSB_NODE_FILE = 1,
	GFSB_NODE_DIR = 2,
	GFSB_NODE_SYMLINK = 3,
	GFSB_NODE_FIFO = 4,
	GFSB_NODE_CHARDEV = 5,
	GFSB_NODE_BLOCKDEV = 6,
	GFSB_NODE_SOCKET = 7
};

struct gfsb_xattr {
	char *name;
	uint8_t *value;
	uint32_t len;
};

/* A piece of a file's content: a blob, or a hole of len zero bytes. */
struct gfsb_extent {
	uint8_t hole;
	uint8_t id[GFSB_ID_LEN];
	uint64_t len;
};

/* One directory entry.  Strings are NUL-terminated and owned by the node. */
struct gfsb_node {
	enum gfsb_node_kind kind;
	char *name;
	uint32_t mode; /* st_mode */
	uint32_t uid, gid;
	char *user, *group; /* may be NULL */
	struct gfsb_time mtime, ctime;
	uint64_t inode, dev, rdev, size;
	uint32_t nlink;
	struct gfsb_xattr *xattrs;
	size_t nxattrs;
	struct gfsb_extent *extents; /* files */
	size_t nextents;
	uint8_t subtree[GFSB_ID_LEN]; /* directories */
	char *target;		      /* symlinks */
};

struct gfsb_tree {
	struct gfsb_node *nodes;
	size_t n;
	size_t cap;
};

/* Limits enforced by the tree decoder (and encoder). */
#define GFSB_TREE_MAX_NAME 4096
#define GFSB_TREE_MAX_TARGET 65536
#define GFSB_TREE_MAX_XATTR_VALUE (1U << 20)

void gfsb_repo_tree_init(struct gfsb_tree *t);
void gfsb_repo_tree_fini(struct gfsb_tree *t);

/*
 * gfsb_repo_node_fini(n):
 * Free what node n owns.
 */
void gfsb_repo_node_fini(struct gfsb_node *n);

/*
 * gfsb_repo_tree_add(t, n):
 * Append a node, taking ownership of what it points to (n is cleared).
 */
gfsb_err gfsb_repo_tree_add(struct gfsb_tree *t, struct gfsb_node *n)
    GFSB_WUR;

/*
 * gfsb_repo_tree_sort(t):
 * Sort nodes by name (bytewise), the order the encoding requires.
 */
void gfsb_repo_tree_sort(struct gfsb_tree *t);

/*
 * gfsb_repo_tree_encode(t, out):
 * Append the canonical encoding of t (nodes must be sorted, names unique
 * and valid) to out.  GFSB_EINVAL for a bad tree.
 */
gfsb_err gfsb_repo_tree_encode(const struct gfsb_tree *t,
    struct gfsb_buf *out) GFSB_WUR;

/*
 * gfsb_repo_tree_decode(p, n, t):
 * Decode a tree, checking every length and rejecting unsorted or duplicate
 * names and names that are empty, ".", "..", or contain '/' or NUL.
 * GFSB_ECORRUPT for any defect (t is left empty); never reads outside p.
 */
gfsb_err gfsb_repo_tree_decode(const uint8_t *p, size_t n,
    struct gfsb_tree *t) GFSB_WUR;

/*
 * gfsb_repo_tree_find(t, name):
 * The node called name, or NULL.  t must be sorted.
 */
const struct gfsb_node *gfsb_repo_tree_find(const struct gfsb_tree *t,
    const char *name);

/*
 * gfsb_repo_tree_load(io, id, t):
 * Read and decode the tree blob id.
 */
gfsb_err gfsb_repo_tree_load(struct gfsb_repo_io *io,
    const uint8_t id[GFSB_ID_LEN], struct gfsb_tree *t) GFSB_WUR;

/* ---- snapshots ---- */

struct gfsb_snapshot_summary {
	uint64_t files_new, files_changed, files_unmodified;
	uint64_t dirs_new, dirs_changed, dirs_unmodified;
	uint64_t data_blobs, tree_blobs;
	uint64_t data_added;	    /* plaintext bytes of new blobs */
	uint64_t data_added_packed; /* bytes they take in packs */
	uint64_t total_files_processed;
	uint64_t total_bytes_processed;
	uint64_t warnings; /* files that could not be read */
	struct gfsb_time backup_start, backup_end;
};

struct gfsb_snapshot {
	char id[GFSB_ID_HEX]; /* set by load and save */
	struct gfsb_time time;
	char *hostname;
	char *username;
	uint32_t uid, gid;
	char **paths;
	size_t npaths;
	char **tags;
	size_t ntags;
	char **excludes;
	size_t nexcludes;
	uint8_t tree[GFSB_ID_LEN];
	char parent[GFSB_ID_HEX]; /* "" when none */
	char original[GFSB_ID_HEX]; /* the snapshot this one rewrote (tag):
				       the first of them; "" when none */
	char writer[GFSB_ID_HEX]; /* the write-only key that wrote it (its
				     key file's id; set by save); "" when a
				     full key did */
	char *program_version;
	int has_summary;
	struct gfsb_snapshot_summary summary;
};

/*
 * gfsb_repo_snapshot_free(s):
 * Free a snapshot and everything it points to.  NULL is allowed.
 */
void gfsb_repo_snapshot_free(struct gfsb_snapshot *s);

/*
 * gfsb_repo_snapshot_save(r, s):
 * Store s as a new snapshot object and set s->id.  Call only after
 * gfsb_repo_flush: the snapshot must not name blobs that are not durable.
 */
gfsb_err gfsb_repo_snapshot_save(struct gfsb_repo *r, struct gfsb_snapshot *s)
    GFSB_WUR;

/*
 * gfsb_repo_snapshot_load(r, id, out):
 * Read the snapshot with full hex id.  GFSB_ENOTFOUND, GFSB_ECORRUPT.
 */
gfsb_err gfsb_repo_snapshot_load(struct gfsb_repo *r, const char *id,
    struct gfsb_snapshot **out) GFSB_WUR;

/*
 * gfsb_repo_snapshot_list(r, out, n):
 * Load every snapshot, sorted oldest first (ties by id).  *out is a
 * malloc'd array the caller frees with gfsb_repo_snapshot_list_free.  A
 * snapshot that cannot be read makes the call fail, naming it.
 */
gfsb_err gfsb_repo_snapshot_list(struct gfsb_repo *r,
    struct gfsb_snapshot ***out, size_t *n) GFSB_WUR;
void gfsb_repo_snapshot_list_free(struct gfsb_snapshot **list, size_t n);

/*
 * gfsb_repo_snapshot_find(r, spec, host, out):
 * Resolve "latest" (newest, of host if host is not NULL) or a unique id
 * prefix.  GFSB_ENOTFOUND, GFSB_EINVAL if the prefix is ambiguous.
 */
gfsb_err gfsb_repo_snapshot_find(struct gfsb_repo *r, const char *spec,
    const char *host, struct gfsb_snapshot **out) GFSB_WUR;

/*
 * gfsb_repo_snapshot_json(list, n):
 * A malloc'd JSON array describing the snapshots in restic's shape (id,
 * short_id, time, hostname, username, uid, gid, paths, tags, tree, parent,
 * excludes, program_version, summary).  NULL on allocation failure.
 */
char *gfsb_repo_snapshot_json(struct gfsb_snapshot *const *list, size_t n);

/*
 * gfsb_repo_snapshot_json_one(s, with_id):
 * A malloc'd JSON object for one snapshot in restic's shape, with id and
 * short_id if with_id.  NULL on allocation failure.
 */
char *gfsb_repo_snapshot_json_one(const struct gfsb_snapshot *s, int with_id);

/* A snapshot's summary as a malloc'd compact JSON object, as the
 * snapshot's JSON holds it (backup_start, backup_end, files_new, ...);
 * NULL on allocation failure. */
char *gfsb_repo_snapshot_summary_json(const struct gfsb_snapshot_summary *m);

/*
 * gfsb_repo_snapshot_remove(r, id):
 * Delete a snapshot object (the data it used stays until a prune).
 * GFSB_ENOTFOUND if it is already gone.
 */
gfsb_err gfsb_repo_snapshot_remove(struct gfsb_repo *r, const char *id)
    GFSB_WUR;

/* ---- locks ---- */

struct gfsb_lock;

/* The kinds of lock: shared locks never conflict with each other nor with
 * a prune lock; a prune lock conflicts with another prune lock; an
 * exclusive lock conflicts with every lock. */
#define GFSB_REPO_LOCK_SHARED 0	   /* backup, restore, verify, ... */
#define GFSB_REPO_LOCK_EXCLUSIVE 1 /* key changes, repair */
#define GFSB_REPO_LOCK_PRUNE 2	   /* prune, forget */

/*
 * gfsb_repo_lock(r, kind, out):
 * Take a lock of a kind (GFSB_REPO_LOCK_*).  Conflicting live locks give
 * GFSB_ELOCKED with the holder's
 * host, pid and age in the error detail.  Stale locks (holder dead on
 * this host, or not refreshed for 30 minutes) do not conflict; they are
 * reported in the log, and so are damaged ones.  A lock that cannot be
 * read (the storage's error) is neither ignored nor removed: the call
 * fails with that error.  A held lock is refreshed in the background
 * every five minutes.  Release with gfsb_repo_unlock.
 *
 * On a read-only view of the past (gfsb_backend_as_of non-zero) nothing
 * can change and no lock can be stored: a shared lock is granted at once
 * and stores nothing (nor does its unlock; other processes' locks are not
 * looked at), an exclusive one is GFSB_EDENIED.
 */
gfsb_err gfsb_repo_lock(struct gfsb_repo *r, int kind,
    struct gfsb_lock **out) GFSB_WUR;

/*
 * gfsb_repo_lock_oldest_other(r, started):
 * When the oldest live lock not held through r (another process's, or
 * another handle's) was taken (seconds since
 * the epoch, by its holder's clock; 0 for a lock that does not say), or
 * INT64_MAX if there is none: prune deletes nothing it marked after
 * that moment's holder began.  Unreadable locks are left out (they
 * block nobody).  Fails only if the locks cannot be listed or read.
 */
gfsb_err gfsb_repo_lock_oldest_other(struct gfsb_repo *r, int64_t *started)
    GFSB_WUR;

/*
 * gfsb_repo_set_lock_wait(r, seconds):
 * From now on gfsb_repo_lock waits up to seconds for conflicting locks to
 * go, trying again after 1, 2, 4 and then every 10 seconds (each wait
 * logged), before it gives GFSB_ELOCKED ("... (still locked after
 * waiting N s)").  Cancelling the context stops the wait (GFSB_ECANCELED).
 * 0, the default: fail at once.
 */
void gfsb_repo_set_lock_wait(struct gfsb_repo *r, int64_t seconds);

/*
 * gfsb_repo_set_dry_run(r, on):
 * From now on, a blob that would be stored is only counted: compressed
 * and measured (gfsb_repo_stats_get says what it would have added), its
 * id remembered so that the same blob counts once, nothing packed or
 * written; gfsb_repo_flush writes nothing.  For a backup's --dry-run;
 * close r afterwards (its index holds blobs that are not stored).
 */
void gfsb_repo_set_dry_run(struct gfsb_repo *r, int on);

/*
 * gfsb_repo_unlock(l):
 * Stop refreshing and remove the lock object.  NULL is allowed.
 */
void gfsb_repo_unlock(struct gfsb_lock *l);

/*
 * gfsb_repo_unlock_stale(r, all, removed):
 * Remove stale and damaged locks (or every lock when all is set);
 * *removed counts them.  A lock that cannot be read is kept, and the
 * storage's error returned: it may be a live one.
 */
gfsb_err gfsb_repo_unlock_stale(struct gfsb_repo *r, int all,
    size_t *removed) GFSB_WUR;

#endif /* !GFSBACKUP_REPO_H */
