/*
 * Declarations shared inside the repo module: the repository handle, the
 * in-memory index, the pack writers and the sealed-object envelope.
 */
#ifndef GFSB_REPO_INTERNAL_H
#define GFSB_REPO_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/compress.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/repo.h>

/* Envelope of every sealed object that is not a blob (docs/FORMAT.md). */
#define ENV_MAGIC "GFSB"
#define ENV_HDR_LEN 8
#define ENV_OVERHEAD (ENV_HDR_LEN + GFSB_SEAL_OVERHEAD)
#define ENV_F_ZSTD 0x01
/* Version 2 envelopes (write-only keys): sealed under mkey, or to the
 * reader (a session's epk follows the header, and is associated data
 * with it).  Exactly one of the two. */
#define ENV_F_MKEY 0x02
#define ENV_F_READER 0x04
#define ENV_EPK_LEN 32

enum env_kind {
	ENV_CONFIG = 1,
	ENV_INDEX = 2,
	ENV_SNAPSHOT = 3,
	ENV_LOCK = 4,
	ENV_PACKHDR = 5
};

/* Caps on the plaintext of sealed objects, checked before allocating. */
#define MAX_CONFIG (64U << 10)
#define MAX_KEYFILE (64U << 10)
#define MAX_LOCK (64U << 10)
#define MAX_SNAPSHOT (64U << 20)
#define MAX_INDEX (1U << 30)
#define MAX_PACKHDR (64U << 20)

/* Blob limits: the largest chunk plus room for trees of huge directories. */
#define MAX_BLOB_RAW (256U << 20)

/* Blob associated data: id, type, flags, raw length. */
#define BLOB_AD_LEN (GFSB_ID_LEN + 1 + 1 + 4)

/* Pack header entries: type, flags, reserved u16, length, raw length, id. */
#define PACKHDR_ENTRY_LEN (1 + 1 + 2 + 4 + 4 + GFSB_ID_LEN)

/* Index entries: id, type, flags, reserved u16, offset, length, raw. */
#define INDEX_ENTRY_LEN (GFSB_ID_LEN + 1 + 1 + 2 + 4 + 4 + 4)

/* Pack buffers alive at once per blob type: one filling and one being
 * stored for data (a third waits: the disk is the bottleneck then), one
 * for trees.  Each is pack_size bytes of memory. */
#define LIVE_DATA_PACKS 2
#define LIVE_TREE_PACKS 1

/* A pack slot that is not yet assigned (blob being compressed). */
#define PACK_NONE UINT32_MAX

/* Write an index file after this many packs, so a long backup that dies
 * leaves most of its packs named (the rest are recovered from headers),
 * or after this many blobs, so that a backup of a million small files
 * does not hold a million pack entries until its end (48 MB; restic
 * writes an index file every 50,000 blobs). */
#define PACKS_PER_INDEX 64
#define BLOBS_PER_INDEX 65536

/* One blob in the in-memory index: 52 bytes (target <= 64 with slots). */
struct ientry {
	uint8_t id[GFSB_ID_LEN];
	uint32_t pack; /* slot in rindex.packs, or PACK_NONE */
	uint32_t offset;
	uint32_t length;
	uint32_t raw_length;
	uint8_t type;
	uint8_t flags;
	uint8_t mark; /* prune: used by a snapshot */
	uint8_t dup;  /* a second copy: in the array, not in the slots */
};

struct ipack {
	uint8_t id[GFSB_ID_LEN];
	uint8_t stored; /* 0 while the pack is being filled */
	uint8_t doomed; /* marked for deletion by a prune (since doomed_at):
			   read from, never deduplicated against */
	int64_t doomed_at;
};

/* The in-memory index: entries in an array, open addressing over them. */
struct rindex {
	pthread_mutex_t lock;
	struct ientry *e;
	size_t n, cap;
	uint32_t *slots; /* entry index + 1; 0 = empty */
	size_t nslots;	 /* power of two */
	struct ipack *packs;
	size_t npacks, packcap;
	uint64_t duplicates;
};

/* A blob recorded in a pack header (and, later, in an index file). */
struct hdrent {
	uint8_t id[GFSB_ID_LEN];
	uint32_t offset;
	uint32_t length;
	uint32_t raw_length;
	uint8_t type;
	uint8_t flags;
};

/* A pack being filled.  Writers reserve a region under the pack lock and
 * seal into it without the lock; the last writer out of a closed pack
 * finalizes it. */
struct pack {
	uint32_t slot;
	uint8_t type;
	uint8_t *buf;
	size_t used, cap;
	unsigned writers;
	int closed;
	struct hdrent *ents;
	size_t nents, entcap;
};

/* A written pack that no index file names yet; in an index file's list
 * of packs to delete, also when a prune marked it (at, seconds since the
 * epoch). */
struct donepack {
	uint8_t id[GFSB_ID_LEN];
	struct hdrent *ents;
	size_t n;
	int64_t at;
};

struct gfsb_repo {
	struct gfsb_ctx *ctx;
	int64_t lock_wait;	/* gfsb_repo_set_lock_wait, seconds */
	int dry_run;		/* gfsb_repo_set_dry_run: store nothing */
	struct gfsb_backend *be;
	struct gfsb_keys *keys;	/* NULL when opened with a write-only key */
	struct gfsb_reader_keys *reader; /* a version 2 config's; else NULL */
	struct gfsb_writer_keys *writer; /* the write-only key's; else NULL */
	struct gfsb_session *session;	/* writer: what it seals to the
					   reader, for this handle's life */
	struct sesskeys *sesskeys;	/* reader: session keys derived, by
					   epk (repo_session_key) */
	int wcache_warned;		/* repo_wcache.c said it failed */
	char **wpks;			/* repo_isign.c: the write-only
					   keys' wpk (hex), once read */
	size_t nwpks;
	int wpks_loaded;
	size_t index_enc;		/* index files under enc at the last
					   load (gfsb_repo_index_reseal) */
	char key_id[GFSB_ID_HEX];
	char id[GFSB_ID_HEX];
	struct gfsb_repo_params params;
	struct gfsb_chunker *chunker;
	struct rindex idx;
	int index_loaded;

	pthread_mutex_t pack_lock;
	pthread_cond_t pack_cond;
	struct gfsb_pool *packbufs; /* pack buffers, reused */
	struct pack *cur[2]; /* by blob type */
	struct donepack *done;
	size_t ndone, capdone;
	size_t ndone_blobs;	/* entries in done */
	unsigned live[2];	    /* pack buffers alive, by blob type */
	int no_auto_index;	    /* prune: it writes the index itself */
	char (*index_names)[GFSB_ID_HEX]; /* index files loaded (all) */
	size_t nindex_names;
	struct gfsb_repo_stats stats;
	struct repo_cache *cache;   /* remote repositories: see repo_cache.c */
	struct gfsb_lock *locks;    /* held through this handle (pack_lock) */
};

struct gfsb_repo_io {
	struct gfsb_repo *r;
	struct gfsb_compress *z;
	struct gfsb_buf a, b; /* scratch */
};

/* repo_object.c: GFSB_EAUTH ("a write-only key cannot WHAT: use a full
 * key") when r was opened with a write-only key, which holds no key to
 * seal or open under the full keys' enc; GFSB_OK otherwise. */
gfsb_err repo_need_full(struct gfsb_repo *r, const char *what);

/* repo_object.c: the session key of epk into key (secure memory), from
 * r->reader's rsk, derived once per epk and kept (a backup's blobs share
 * one).  GFSB_EAUTH when r holds no reader keys, GFSB_ECORRUPT for an
 * epk of low order.  Thread-safe. */
gfsb_err repo_session_key(struct gfsb_repo *r, const uint8_t epk[ENV_EPK_LEN],
    uint8_t key[GFSB_KEY_LEN]);
void repo_session_keys_free(struct gfsb_repo *r);

/* repo_wcache.c: a write-only key's own trees and snapshots, on this
 * machine, sealed under its wkey (kind "trees" or "snapshots", name the
 * id).  put is best effort; get gives GFSB_ENOTFOUND for what is not
 * there or does not open (and removes the latter). */
void repo_wcache_put(struct gfsb_repo *r, const char *kind, const char *name,
    const uint8_t *p, size_t n);
gfsb_err repo_wcache_get(struct gfsb_repo *r, const char *kind,
    const char *name, size_t maxlen, struct gfsb_buf *out);
gfsb_err repo_wcache_names(struct gfsb_repo *r, const char *kind,
    char ***out, size_t *n);

/* repo_object.c: the envelope and hash-named objects. */
gfsb_err repo_obj_seal(struct gfsb_repo *r, enum env_kind kind,
    const uint8_t *plain, size_t n, struct gfsb_buf *out);
gfsb_err repo_obj_open(struct gfsb_repo *r, enum env_kind kind,
    const char *name, const uint8_t *p, size_t n, size_t maxplain,
    struct gfsb_buf *plain);
gfsb_err repo_obj_put(struct gfsb_repo *r, enum gfsb_obj type,
    const uint8_t *p, size_t n, char name[GFSB_ID_HEX]);
gfsb_err repo_obj_get(struct gfsb_repo *r, enum gfsb_obj type,
    const char *name, size_t maxlen, struct gfsb_buf *out);
gfsb_err repo_obj_load(struct gfsb_repo *r, enum gfsb_obj type,
    enum env_kind kind, const char *name, size_t maxplain,
    struct gfsb_buf *plain);
/* repo_obj_load, and the envelope's version (1 or 2) into *version. */
gfsb_err repo_obj_load_v(struct gfsb_repo *r, enum gfsb_obj type,
    enum env_kind kind, const char *name, size_t maxplain,
    struct gfsb_buf *plain, int *version);
gfsb_err repo_obj_store(struct gfsb_repo *r, enum gfsb_obj type,
    enum env_kind kind, const uint8_t *plain, size_t n,
    char name[GFSB_ID_HEX]);

/* repo_cache.c: local copies of a remote repository's metadata.  get and
 * pack_read return GFSB_ENOTFOUND when the cache cannot serve; pack_read
 * returns the storage's error when its download could not be done. */
struct repo_cache;
void repo_cache_close(struct gfsb_repo *r);
gfsb_err repo_cache_get(struct gfsb_repo *r, enum gfsb_obj type,
    const char *name, size_t maxlen, struct gfsb_buf *out);
void repo_cache_put(struct gfsb_repo *r, enum gfsb_obj type,
    const char *name, const uint8_t *p, size_t n);
void repo_cache_remove(struct gfsb_repo *r, enum gfsb_obj type,
    const char *name);
void repo_cache_sweep(struct gfsb_repo *r, enum gfsb_obj type,
    int (*keep)(void *cookie, const char *name), void *cookie);
gfsb_err repo_cache_pack_read(struct gfsb_repo *r, const char *name,
    uint64_t off, uint8_t *buf, size_t len);


/* repo_key.c */
gfsb_err repo_key_write(struct gfsb_ctx *ctx, struct gfsb_backend *be,
    const struct gfsb_keys *keys, const char *pass, size_t passlen,
    uint64_t ops, uint64_t mem, char idhex[GFSB_ID_HEX]);
/* What a write-only key file opens to: the writer's keys, and what it
 * needs of the config it cannot open. */
struct repo_wo {
	struct gfsb_writer_keys *keys;
	char id[GFSB_ID_HEX];
	struct gfsb_repo_params params;
	uint8_t seed[GFSB_KEY_LEN];
};
/* The first key file that opens with pass after idhex ("": from the
 * first): a full key's master keys into *keys, or a write-only key's
 * into wo (wo->keys set, *keys NULL); its name into idhex. */
gfsb_err repo_key_find(struct gfsb_ctx *ctx, struct gfsb_backend *be,
    const char *pass, size_t passlen, struct gfsb_keys **keys,
    struct repo_wo *wo, char idhex[GFSB_ID_HEX]);

/* repo_open.c: rewrite the config as version 2, with new reader keys
 * (r->reader); the chunker seed from the config. */
gfsb_err repo_config_upgrade(struct gfsb_repo *r);
gfsb_err repo_config_seed(struct gfsb_repo *r, uint8_t seed[GFSB_KEY_LEN]);

/* repo_index.c: the in-memory index. */
gfsb_err rindex_init(struct rindex *x);
void rindex_fini(struct rindex *x);
/* Add an entry; GFSB_EEXIST if (id, type) is there.  Lock held by caller. */
gfsb_err rindex_add_locked(struct rindex *x, const struct ientry *e);
/* Find (id, type); NULL if absent.  Lock held by caller. */
struct ientry *rindex_find_locked(struct rindex *x,
    const uint8_t id[GFSB_ID_LEN], uint8_t type);
/* A new pack slot; id NULL for a pack being filled.  Lock held. */
gfsb_err rindex_pack_add_locked(struct rindex *x, const uint8_t *id,
    uint32_t *slot);
/* Does the index know this pack?  Lock held. */
/* The ids of the stored packs the index names, sorted (free v). */
struct packids {
	uint8_t (*v)[GFSB_ID_LEN];
	size_t n;
};
gfsb_err repo_index_pack_ids(struct gfsb_repo *r, struct packids *out);
int repo_packids_has(const struct packids *p, const uint8_t id[GFSB_ID_LEN]);
/* Append id (then sort before repo_packids_has).  GFSB_ENOMEM. */
gfsb_err repo_packids_add(struct packids *p, const uint8_t id[GFSB_ID_LEN]);
void repo_packids_sort(struct packids *p);
/* Add a whole pack's entries (from an index file or a header).  A blob
 * the index already has is kept as a duplicate entry (found by prune, not
 * by lookups).  doomed_at > 0: a pack marked for deletion then. */
gfsb_err rindex_add_pack(struct rindex *x, const uint8_t id[GFSB_ID_LEN],
    const struct hdrent *ents, size_t n, int64_t doomed_at);
/* Claim (id, type) for a blob about to be stored: GFSB_EEXIST if a pack
 * that is not marked for deletion holds it (or one being filled will).
 * A copy in a marked pack does not count: the new entry takes its place
 * and it stays as a duplicate.  Lock held. */
gfsb_err rindex_claim_locked(struct rindex *x, const struct ientry *e);
/* Loading the index: past this many blobs, each index file's entries
 * are read again when added instead of kept (two million; tests lower
 * it). */
extern size_t repo_index_keep_entries;
/* Is the pack one a prune marked for deletion? */
int repo_index_pack_doomed(struct gfsb_repo *r, const uint8_t id[GFSB_ID_LEN]);
/* Append an entry without indexing it (a duplicate).  Lock held. */
gfsb_err rindex_append_dup_locked(struct rindex *x, const struct ientry *e);

/* A decoded index file. */
struct ifile {
	char name[GFSB_ID_HEX];
	uint8_t (*sup)[GFSB_ID_LEN];
	size_t nsup;
	struct donepack *packs;
	size_t npacks;
	struct donepack *doomed; /* packs to delete (version 2) */
	size_t ndoomed;
	int superseded;
	int mirror_own; /* written by sync for a mirror alone */
	int dropped;	/* packs[].ents freed after decoding (the index
			   load reads the file again to add them) */
	int trust;	/* ITRUST_* (repo_isign.c) */
};

/* How far an index file is trusted (repo_isign.c): all of it, or (a
 * write-only key's) its packs alone, found after the others'. */
#define ITRUST_FULL 0
#define ITRUST_WRITER 1
#define ITRUST_ENC 2	/* a full key's too, under enc (version 1) */
/* repo_isign.c: sign an index plaintext b (a repository of version 2:
 * the full keys' ssk or the writer's wsk) by appending the trailer. */
gfsb_err repo_isign_append(struct gfsb_repo *r, struct gfsb_buf *b);
/* Check the trailer of an index file's plaintext (envelope version v),
 * strip it, and say how far the file is trusted; GFSB_EAUTH (said in
 * ctx) for one not to be trusted at all. */
gfsb_err repo_isign_check(struct gfsb_repo *r, const char *name, int version,
    struct gfsb_buf *plain, int *trust);
/* repo_obj_load of an index file, then repo_isign_check. */
gfsb_err repo_index_obj_load(struct gfsb_repo *r, const char *name,
    struct gfsb_buf *plain, int *trust);

/* What a mirror's own index file names among the files it supersedes: an
 * id no index file can have (32 ASCII bytes, not a SHA-256), so readers
 * that do not know it supersede nothing with it.  docs/FORMAT.md. */
#define MIRROR_OWN_MARK "gfsbackup: a mirror's own index!"

/* Is f a mirror's own index file? */
int repo_ifile_is_mirror_own(const struct ifile *f);
/* Decode an index plaintext into f (zeroed by the caller; free it with
 * repo_ifile_fini even on failure).  GFSB_ECORRUPT, GFSB_ENOMEM. */
gfsb_err repo_ifile_decode(const uint8_t *p, size_t n, struct ifile *f);
void repo_ifile_fini(struct ifile *f);

/* Encode and write an index file naming packs; supersedes may be empty. */
gfsb_err repo_index_write(struct gfsb_repo *r, const struct donepack *packs,
    size_t npacks, const uint8_t (*supersedes)[GFSB_ID_LEN], size_t nsup);
/* The same, with packs to delete (doomed, each with its time: version 2
 * when there are any) and the new file's id in name. */
gfsb_err repo_index_write_named(struct gfsb_repo *r,
    const struct donepack *packs, size_t npacks,
    const struct donepack *doomed, size_t ndoomed,
    const uint8_t (*supersedes)[GFSB_ID_LEN], size_t nsup,
    char name[GFSB_ID_HEX]);
/* Blobs per index file written by prune and repair. */
#define ENTRIES_PER_INDEX 100000
/* Write packs[0..n) and the packs to delete doomed[0..nd) as new index
 * files superseding every file loaded; *files counts them. */
gfsb_err repo_index_replace(struct gfsb_repo *r, const struct donepack *packs,
    size_t n, const struct donepack *doomed, size_t nd, uint64_t *files);
gfsb_err repo_index_remove_old(struct gfsb_repo *r, uint64_t *removed);

/* repo_pack.c */
gfsb_err repo_pack_header_decode(struct gfsb_repo *r, const uint8_t *p,
    size_t n, uint64_t packsize, struct hdrent **ents, size_t *nents);
gfsb_err repo_pack_read_header(struct gfsb_repo *r, const char *name,
    uint64_t size, struct hdrent **ents, size_t *nents);
/* The same from a whole pack already read into memory (size bytes). */
gfsb_err repo_pack_header_in(struct gfsb_repo *r, const char *name,
    const uint8_t *pack, uint64_t size, struct hdrent **ents, size_t *nents);
void repo_pack_free_all(struct gfsb_repo *r);
/* Store one blob of h->length sealed bytes: `seal` writes them to dst.
 * With index_it, the blob's index entry is pointed at its new pack; a
 * prune's copies leave the index alone (it writes a new one). */
gfsb_err repo_pack_add(struct gfsb_repo *r, const struct hdrent *h,
    void (*seal)(void *cookie, uint8_t *dst), void *cookie, int index_it);
/* Store a copy of a blob sealed elsewhere (from->length bytes at sealed,
 * already checked by the caller) as it is, without indexing it: prune's
 * and repair's copies are indexed with the new index they write. */
gfsb_err repo_pack_copy(struct gfsb_repo *r, const struct hdrent *from,
    const uint8_t *sealed);
/* Finalize the packs being filled, without writing an index. */
gfsb_err repo_flush_packs(struct gfsb_repo *r);
/* Take the written packs no index names yet (the caller indexes and frees
 * them); *n of them.  Pack lock held. */
struct donepack *repo_take_done_locked(struct gfsb_repo *r, size_t *n);

/* repo_blob.c */
void repo_blob_ad(uint8_t ad[BLOB_AD_LEN], const uint8_t id[GFSB_ID_LEN],
    uint8_t type, uint8_t flags, uint32_t raw_length);

/*
 * The decoders of what the repository reads, on plaintext bytes, so that
 * the fuzz targets (tests/fuzz) and tests/unit/test_hostile.c can reach
 * the parsing code without passing a MAC first.  Each refuses bad input
 * with GFSB_ECORRUPT (or GFSB_EUNSUPPORTED for a newer version).
 */
/* repo_index.c: decode an index file and throw the result away; the
 * counts (any may be NULL) say what it held: the packs and their blobs,
 * and the packs to delete and theirs (version 2). */
gfsb_err repo_index_decode(const uint8_t *p, size_t n, size_t *nsup,
    size_t *npacks, size_t *nblobs, size_t *ndoomed, size_t *ndblobs);
/* repo_key.c: parse a key file (not open it); its KDF parameters. */
gfsb_err repo_keyfile_decode(const uint8_t *p, size_t n, uint64_t *ops,
    uint64_t *mem);
/* repo_open.c: decode and check a config (ctx gets the detail); the
 * repository id, parameters (chunk sizes, pack size, compression) and
 * chunker seed on success. */
gfsb_err repo_config_decode(struct gfsb_ctx *ctx, const uint8_t *p,
    size_t n, char id[GFSB_ID_HEX], struct gfsb_repo_params *params,
    uint8_t seed[GFSB_KEY_LEN]);
/* repo_snapshot.c: decode a snapshot into s (zeroed by the caller; free
 * its contents with gfsb_repo_snapshot_free even on failure). */
struct gfsb_snapshot;
gfsb_err repo_snapshot_decode(const uint8_t *p, size_t n,
    struct gfsb_snapshot *s);

#endif
