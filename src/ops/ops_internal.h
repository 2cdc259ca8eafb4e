/*
 * Declarations shared inside the ops module: the backup pipeline's
 * session, jobs and events, and snapshot path helpers.
 *
 * Backup threads:
 *   producer (caller's thread)  walks the tree in name order, lstat()s,
 *       reads and chunks large files, queues chunks and small files for
 *       the workers, and emits one event per entry to the completion
 *       thread, in order;
 *   workers (one per CPU)       id, deduplicate, compress, seal and pack
 *       chunks; read small files whole;
 *   completion                  consumes events in order, waits for each
 *       file's chunks, builds each directory's tree and stores it.
 * One mutex guards the queues and job state; the expensive work (reading,
 * hashing, compressing, sealing) happens outside it.  Memory is bounded by
 * the bytes queued for workers and the number of queued events.
 */
#ifndef GFSB_OPS_INTERNAL_H
#define GFSB_OPS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

enum { ST_NEW = 0, ST_CHANGED = 1, ST_UNMODIFIED = 2 };

/* A directory opened by the producer; small-file jobs borrow it. */
struct dirref {
	int fd;
	int refs; /* bk->mu */
};

/* The content of one regular file being read. */
struct fjob {
	struct dirref *dir;	/* where `name` is (small files) */
	char *name;		/* entry name in dir (small files) */
	char *path;		/* full path, for messages */
	dev_t dev;		/* identity from lstat: what we must read */
	ino_t ino;
	uint64_t size_hint;
	struct gfsb_extent *ext; /* bk->mu */
	size_t next, cap;
	uint64_t size;		/* bytes covered (data and holes) */
	int pending;		/* chunks in flight + 1 while reading */
	int failed;		/* unreadable: the file is left out */
	int refs;		/* events referring to it (hard links) */
	struct gfsb_xattr *xattrs; /* read where the file was opened */
	size_t nxattrs;
};

/* A unit of work for a worker. */
struct cjob {
	struct cjob *next;
	struct fjob *f;
	int small;	  /* read the whole file f (worker side) */
	size_t idx;	  /* extent index, for chunks */
	uint8_t *data;	  /* chunk bytes (owned; from b->bufs) */
	size_t len;
	size_t cap;	  /* capacity of data, for the pool */
	size_t charge;	  /* bytes counted against the in-flight limit */
};

enum { EV_ENTER = 1, EV_NODE = 2, EV_LEAVE = 3, EV_END = 4 };

struct event {
	struct event *next;
	int type;
	int status;		 /* ST_* for files; ENTER: dir had a parent */
	struct gfsb_node node;	 /* ENTER: the directory (name NULL: root) */
	struct fjob *job;	 /* NODE: content being read, or NULL */
	uint8_t old_subtree[GFSB_ID_LEN];
};

struct namecache {
	uint32_t id[64];
	char *name[64];
	int used;
	unsigned next;
};

/* Hard links seen so far: (device, inode) -> value, open addressing. */
struct linkslot {
	uint64_t dev, ino;
	void *val; /* NULL: empty slot */
};

struct linkmap {
	struct linkslot *v;
	size_t n, cap; /* cap is 0 or a power of two */
};

struct bk {
	struct gfsb_repo *r;
	struct gfsb_ctx *ctx;
	const struct gfsb_backup_opts *o;
	struct gfsb_patterns *excl;
	const char **excl_v;	/* the patterns: opts' and its files' */
	size_t excl_n;
	char **excl_read;	/* those read from the files (ours) */
	size_t excl_nread;
	/* gfsbackup's own directories, never backed up (a repository
	 * inside its own source would grow with every backup). */
	struct owndir {
		dev_t dev;
		ino_t ino;
		const char *what;	/* "the repository", "its cache" */
	} own[4];
	int nown;
	const struct gfsb_chunker *ck;
	uint32_t chunk_min, chunk_avg, chunk_max;

	pthread_mutex_t mu;
	pthread_cond_t cv_work;	 /* workers: job queued or stop */
	pthread_cond_t cv_space; /* producer: in-flight bytes released */
	pthread_cond_t cv_done;	 /* completion: a file finished */
	pthread_cond_t cv_ev;	 /* completion: event queued */
	pthread_cond_t cv_evspace; /* producer: event consumed */

	struct cjob *wq_head, *wq_tail;
	size_t inflight, inflight_limit, inflight_peak;
	int stop_workers;
	/* Who sleeps, so that a worker wakes a thread only when it can go
	 * on: the producer once half the in-flight bytes are released (not
	 * at every chunk) or the queue is empty (space_for in
	 * ops_backup_walk.c), or half the events are taken, the completion
	 * thread when its file is done (and, behind small files, a batch
	 * more). */
	int space_waiters, ev_waiters;
	const struct fjob *done_wait;
	unsigned done_since; /* jobs done since done_wait was (batching) */

	struct event *ev_head, *ev_tail;
	size_t nev, ev_limit;

	gfsb_err err; /* first fatal error; stops everything */

	struct gfsb_pool *bufs;	      /* chunk buffers, reused */
	struct gfsb_repo_io *prod_io; /* producer: parent trees */
	struct gfsb_repo_io *comp_io; /* completion: tree blobs */

	/* Producer-only state. */
	struct namecache users, groups;
	struct linkmap links; /* fjob of each hard-linked file read */

	/* Results (completion thread, or under mu). */
	uint8_t root[GFSB_ID_LEN];
	int have_root;
	uint64_t files_new, files_changed, files_unmodified;
	uint64_t dirs_new, dirs_changed, dirs_unmodified;
	uint64_t total_files, total_bytes;
	atomic_uint_fast64_t warnings;
	atomic_uint_fast64_t files_done, bytes_done;
	atomic_uint_fast64_t scan_files, scan_bytes;
	atomic_int scan_done;
};

/* ops_backup_walk.c: the producer. */
gfsb_err bk_walk(struct bk *b, char *const *paths, size_t npaths,
    const struct gfsb_tree *parent_root);
/* Read and chunk a small file in a worker. */
void bk_read_small(struct bk *b, struct gfsb_repo_io *io, struct fjob *f);
/* Hash, deduplicate and store one chunk; records its id in f. */
gfsb_err bk_store_chunk(struct bk *b, struct gfsb_repo_io *io,
    struct fjob *f, size_t idx, const uint8_t *data, size_t len);
void bk_warn(struct bk *b, const char *fmt, ...) GFSB_PRINTF(2, 3);
/* Whether a directory (st) is one of gfsbackup's own, left out with a
 * line saying so (path: where it was met). */
int bk_own_dir(struct bk *b, const char *path, const struct stat *st);
/* Whether the entry name of directory dirfd (at path, st) is left out:
 * an exclude pattern, one of gfsbackup's own directories, a file larger
 * than the limit, a directory holding a tag file.  quiet: say nothing
 * (the progress scanner). */
int bk_excluded(struct bk *b, int dirfd, const char *name, const char *path,
    const struct stat *st, int quiet);
void bk_fail(struct bk *b, gfsb_err e);
void bk_fjob_release(struct bk *b, struct fjob *f);
void bk_dirref_release(struct bk *b, struct dirref *d);
/* Hand job j to the workers, its charge in the in-flight budget.  Under
 * b->mu. */
size_t bk_chunk_cap(const struct bk *b);
size_t bk_big_cap(const struct bk *b);
/* The most bytes ever in flight: the limit and one longest chunk's
 * buffer, taken only to keep a worker busy (space_for). */
size_t bk_inflight_bound(const struct bk *b);
void bk_wait_space_locked(struct bk *b, uint64_t need);
void bk_queue_job_locked(struct bk *b, struct cjob *j);
/* Queue an event for the completion thread (waits for room). */
gfsb_err bk_emit(struct bk *b, struct event *ev);
/* Count files and bytes for the progress ETA (its own thread). */
void bk_scan(struct bk *b, char *const *paths, size_t npaths);
/* The backup has failed or is cancelled: stop reading. */
int bk_stopping(struct bk *b);
void bk_xattrs_free(struct gfsb_xattr *x, size_t n);

/* ops_backup_pipeline.c: the store pipeline.  Workers, the completion
 * thread and (with a progress callback) the progress threads, fed by
 * the walk of paths; all joined.  The outcome is in b->err. */
void bk_pipeline(struct bk *b, char **paths, size_t npaths,
    const struct gfsb_tree *parent_root, double t0);
/* After the pipeline: its outcome, and the packs written made findable
 * whatever it was. */
gfsb_err bk_pipeline_end(struct bk *b);

/* ops_backup_snapshot.c: the parent (the newest snapshot of host with
 * the same paths, or the one the options name; *out NULL: none). */
gfsb_err bk_find_parent(struct bk *b, const char *host, char *const *paths,
    size_t n, struct gfsb_snapshot **out);
/* The parent's root tree, when it can be read (*have): a damaged one
 * means reading every file (said); an outage stops the backup. */
gfsb_err bk_parent_tree(struct bk *b, const struct gfsb_snapshot *parent,
    struct gfsb_tree *root, int *have);
/* The snapshot's record: who, when, what, and the summary's counts (the
 * repository's stats before and after the backup). */
gfsb_err bk_snapshot_fill(struct bk *b, const char *host, char **paths,
    size_t npaths, const struct gfsb_snapshot *parent,
    const struct gfsb_repo_stats *before, double t0,
    struct gfsb_snapshot *snap);
void bk_snapshot_fields_free(struct gfsb_snapshot *snap);

/* ops_backup_meta.c: a node's metadata. */
gfsb_err bk_node_from_stat(struct bk *b, const char *name,
    const struct stat *st, struct gfsb_node *n);
void bk_read_xattrs(struct bk *b, int fd, const char *path,
    const char *shown, struct gfsb_xattr **out, size_t *nout);
/* /proc/self/fd/DIRFD/NAME, for calls that take no descriptor. */
void bk_proc_path(char *buf, size_t len, int dirfd, const char *name);

/* ops_backup_read.c: reading and chunking a file. */
void bk_read_content(struct bk *b, struct gfsb_repo_io *io, struct fjob *f,
    int fd);
int bk_open_nofollow(int dirfd, const char *name, int flags);

typedef struct json_t json_t;
/* ops_history_print.c: a name as a JSON string, invalid UTF-8 bytes as
 * U+FFFD (restic's way).  NULL: no memory. */
json_t *ops_json_name(const char *s);
/* ... an entry as JSON (find, ls): path, name, type, mode, permissions,
 * times, owner, size, links; NULL: no memory. */
json_t *ops_node_json(const char *path, const struct gfsb_node *n);

/* ops_idset.c: a set of ids (diff, stats). */
struct ops_idslot {
	uint8_t id[GFSB_ID_LEN];
	uint8_t used;
};
struct ops_idset {
	struct ops_idslot *v;
	size_t n, cap;	/* cap: a power of two, or 0 */
};
int ops_idset_has(const struct ops_idset *s, const uint8_t *id);
/* Add id (*added: 1 if it was not there). */
gfsb_err ops_idset_add(struct ops_idset *s, const uint8_t *id, int *added);
void ops_idset_fini(struct ops_idset *s);

/* ops_select.c: finding things in snapshots; the hard-link map. */
/* The snapshots named (ids, prefixes, "latest"; of host), else every
 * snapshot (of host, when given), oldest first.  Free *out with
 * gfsb_repo_snapshot_list_free. */
gfsb_err ops_snapshots_pick(struct gfsb_repo *r, const char *const *names,
    size_t nnames, const char *host, struct gfsb_snapshot ***out,
    size_t *n);
void ops_linkmap_fini(struct linkmap *m);
void *ops_linkmap_find(const struct linkmap *m, uint64_t dev, uint64_t ino);
gfsb_err ops_linkmap_add(struct linkmap *m, uint64_t dev, uint64_t ino,
    void *val);
gfsb_err ops_find_path(struct gfsb_repo_io *io, const uint8_t root[GFSB_ID_LEN],
    const char *path, struct gfsb_node *node, int *is_root);
gfsb_err ops_node_copy(const struct gfsb_node *src, struct gfsb_node *dst);
/* Deep copies of a node's extended attributes and extents into dst. */
gfsb_err ops_xattrs_copy(const struct gfsb_xattr *src, size_t n,
    struct gfsb_node *dst);
gfsb_err ops_extents_copy(const struct gfsb_extent *src, size_t n,
    struct gfsb_node *dst);
/* ops_forget.c: the policy's decision for each of snaps[0..n) (any
 * order), grouped as forget groups them (group_by: GFSB_GROUP_* bits);
 * dec[i] is snaps[i]'s.  GFSB_EINVAL for an empty policy, GFSB_ENOMEM. */
gfsb_err ops_decide(const struct gfsb_policy *p, unsigned group_by,
    struct gfsb_snapshot *const *snaps, size_t n, const struct gfsb_time *now,
    struct gfsb_gfs_decision *dec);
/* The same, and until[i], the retain-until date snaps[i]'s objects need
 * (gfsb_gfs_lock_dates with margin; 0 for a snapshot not kept). */
gfsb_err ops_decide_locks(const struct gfsb_policy *p, unsigned group_by,
    struct gfsb_snapshot *const *snaps, size_t n, const struct gfsb_time *now,
    int64_t margin, struct gfsb_gfs_decision *dec, int64_t *until);

/* ops_tamper.c: compare what a verification saw (snaps, the snapshot
 * listing with storage times, the keys, the config) with the "seen"
 * record of old_state (NULL: none), adding findings and warnings to res,
 * and write tonight's record into new_state. */
struct json_t;
gfsb_err ops_tamper(struct gfsb_repo *r, const struct gfsb_verify_opts *o,
    const struct json_t *old_state, struct json_t *new_state,
    struct gfsb_snapshot *const *snaps, size_t n,
    const struct gfsb_objlist *listed, const struct gfsb_key_info *keys,
    size_t nkeys, struct gfsb_verify_result *res);

/* ops_lock.c: Object Lock dates.  The ledger remembers the retain-until
 * dates known to be set on one copy's objects (path NULL: in memory). */
struct ops_ledger;
gfsb_err ops_ledger_open(const char *path, struct ops_ledger **out);
int64_t ops_ledger_get(struct ops_ledger *l, enum gfsb_obj type,
    const char *name);
gfsb_err ops_ledger_set(struct ops_ledger *l, enum gfsb_obj type,
    const char *name, int64_t until);
void ops_ledger_prune(struct ops_ledger *l, enum gfsb_obj type,
    const struct gfsb_objlist *listed);
gfsb_err ops_ledger_save(struct ops_ledger *l);
void ops_ledger_free(struct ops_ledger *l);
/* The plan: the date each object of r needs under lo's policy (walking
 * only the snapshots whose date grew past what the ledger knows). */
struct ops_lock_plan;
gfsb_err ops_lock_plan_make(struct gfsb_repo *r,
    const struct gfsb_lock_opts *lo, struct ops_ledger *ledger,
    struct ops_lock_plan **out, struct gfsb_lock_result *res);
/* The plan of a key that reads no snapshot (a write-only key's sync):
 * no object needs anything; a new one gets the son window's date plus
 * lo's margin (ops_lock_fresh), keys and the config the longest. */
gfsb_err ops_lock_plan_new_only(const struct gfsb_lock_opts *lo,
    struct ops_lock_plan **out);
void ops_lock_plan_free(struct ops_lock_plan *p);
/* What (type, name) needs (0: nothing), what a new object no kept
 * snapshot needs gets, and what keys and the config get. */
int64_t ops_lock_need(const struct ops_lock_plan *p, enum gfsb_obj type,
    const char *name);
int64_t ops_lock_fresh(const struct ops_lock_plan *p);
int64_t ops_lock_longest(const struct ops_lock_plan *p);
/* The date set on (type, name) at be: the ledger's, else read (counted
 * in *requests) and recorded. */
gfsb_err ops_lock_known(struct gfsb_backend *be, struct ops_ledger *ledger,
    enum gfsb_obj type, const char *name, int64_t *until,
    uint64_t *requests);
/* Extend what falls short of the plan among the config and the objects
 * listed (lists[i] of types[i]), threads at a time. */
gfsb_err ops_lock_apply(struct gfsb_backend *be, enum gfsb_lock_mode mode,
    const struct ops_lock_plan *p, struct ops_ledger *ledger,
    const struct gfsb_objlist *const *lists, const enum gfsb_obj *types,
    size_t nlists, unsigned threads, struct gfsb_lock_result *res);
/* verify: read the Object Lock dates of the config, keys, index files,
 * snapshots and the packs named, and hand a finding to `finding` for each
 * that falls short of what the policy (lo) needed a day ago. */
gfsb_err ops_lock_verify(struct gfsb_repo *r, const struct gfsb_lock_opts *lo,
    const char (*packs)[GFSB_ID_HEX], size_t npacks,
    gfsb_err (*finding)(void *cookie, const char *fmt, ...), void *cookie,
    uint64_t *checked, uint64_t *short_);

/* Record the snapshots' dates as applied. */
gfsb_err ops_lock_remember(const struct ops_lock_plan *p,
    struct ops_ledger *ledger, const struct gfsb_objlist *snaps);

/* Run fn(arg) on `threads` threads (0: 4; at most OPS_WORKERS_MAX, and
 * no more than `jobs`), each taking work until none is left; returns
 * when all have.  Without any thread, fn runs on the caller's. */
#define OPS_WORKERS_MAX 64
void ops_run_workers(void *(*fn)(void *), void *arg, unsigned threads,
    size_t jobs);

/* Worker threads to use: one per CPU, at most cap. */
unsigned ops_ncpus(unsigned cap);

/* Restore: a file writer thread's own working directory
 * (ops_restore_cwd.c). */
#define CWD_KEEP 64	/* directories on the way down held open */
struct rs_cwd {
	int own;		/* the thread has a directory of its own */
	int target;		/* the restore target (O_PATH) */
	int fd;			/* where the thread is, or -1: the target */
	char *dir;		/* ... relative to the target */
	size_t dirlen, dircap;
	int fds[CWD_KEEP];	/* dir's first `depth` directories, open */
	size_t ends[CWD_KEEP];	/* where each one's name ends in dir */
	size_t depth;
};
void rs_cwd_init(struct rs_cwd *c);
const char *rs_cwd_enter(struct rs_cwd *c, const char *path);
void rs_cwd_fini(struct rs_cwd *c);

#endif
