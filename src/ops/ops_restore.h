/*
 * Restore's private parts, shared by its phases: ops_restore.c (setup,
 * target, the whole), ops_restore_plan.c (planning), ops_restore_fetch.c
 * (reading), ops_restore_write.c (writing), ops_restore_inplace.c (into
 * a directory with files already) and ops_restore_cwd.c.
 */
#ifndef GFSB_OPS_RESTORE_H
#define GFSB_OPS_RESTORE_H

#include <limits.h>
#include <pthread.h>

#include <archive.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define RS_INFLIGHT (32U << 20)	/* twice that from remote storage */
#define RS_RUN_MAX (8U << 20)
#define RS_RUN_GAP (1U << 20)
/* From remote storage: backup interleaves the chunks (about 1 MiB) of the
 * files its workers read at once, so a file's next chunk is often a
 * chunk away; a 1 MiB gap split there (355 range reads for the 1 GiB
 * bench set), 4 MiB does not (115 reads, 1% more bytes: the chunks in
 * between belong to the next files, which join the same run). */
#define RS_RUN_GAP_REMOTE (4U << 20)
#define RS_OPEN_RUNS 8
/* Blob buffers kept for reuse: freed ones went back to the allocator and
 * were faulted in again, page by page, for the next blob (4% of a
 * restore's CPU).  16 of them (blobs average 1 MiB) halve the faults;
 * more keep the peak memory higher for no measurable gain. */
#define RS_POOL 16
#define RS_MAX_DEPTH 65536
/* Items queued for the writer at most: bytes in flight bound the data,
 * this bounds the entries without data (a million empty files queued at
 * once took 500 MiB). */
#define RS_MAX_ITEMS 4096
/* Threads writing regular files besides the ordered writer (which makes
 * directories, links and the rest, in order): writing is a third of a
 * restore's work, and one thread could not keep up with the readers. */
#define RS_FILE_WRITERS 2

struct fetch {
	struct fetch *next;	  /* in the workers' queue (run leaders) */
	struct fetch *run_next;	  /* the next blob of the same run */
	uint8_t id[GFSB_ID_LEN];
	uint64_t len;
	struct gfsb_blob_loc loc; /* where the index says it is */
	struct gfsb_buf buf;
	gfsb_err err;
	int done;
	pthread_cond_t *waiter;	  /* the writer waiting for it, if any */
};

struct ritem {
	struct ritem *next;
	char *path;		  /* relative to the target / archive root */
	char *abspath;		  /* in the snapshot, for messages */
	struct gfsb_node node;
	char *hardlink;		  /* earlier path to link to, or NULL */
	struct fetch **fx;	  /* per extent; NULL for holes */
	int end;		  /* sentinel: no more items */
};

struct rs {
	struct gfsb_repo *r;
	struct gfsb_ctx *ctx;
	const struct gfsb_restore_opts *o;
	struct gfsb_restore_result *res;
	struct gfsb_patterns *incl, *excl;
	struct gfsb_repo_io *plan_io;
	struct gfsb_pool *bufs; /* blob buffers, reused */

	pthread_mutex_t mu;
	pthread_cond_t cv_fetch;  /* workers: fetch queued or stop */
	/* Writers: a fetch they wait for is done (one each, so that a
	 * fetch wakes only its own writer: the ordered one, then the file
	 * writers). */
	pthread_cond_t cv_done[1 + RS_FILE_WRITERS];
	pthread_cond_t cv_item;	  /* writer: item queued */
	pthread_cond_t cv_space;  /* planner: bytes released */
	struct fetch *fq_head, *fq_tail;
	struct orun {		      /* planner: runs being gathered */
		struct fetch *head, *tail;
		uint64_t start, end;  /* bytes of the pack they cover */
	} runs[RS_OPEN_RUNS];	      /* oldest first */
	unsigned nruns;
	struct ritem *iq_head, *iq_tail;
	size_t nitems;		/* queued and not yet written */
	/* File writers: regular files, written in parallel (disk only). */
	struct ritem *fq_items, *fq_items_tail; /* for them, in order */
	struct ritem *dead;	/* failed items, freed once workers stop */
	pthread_cond_t cv_file;	/* file writers: item queued or stop */
	int files_end;		/* no more items for them */
	uint64_t inflight, limit;
	int space_wait;		/* the planner waits for bytes released */
	uint64_t gap;		/* a run spans gaps up to this */
	uint64_t lost_dirs;	/* planner: directories whose tree is lost */
	uint64_t plan_files, plan_bytes; /* queued so far (under mu) */
	int planned;		/* the planner has queued everything */
	struct gfsb_restore_progress prog; /* writer only */
	int stop;
	gfsb_err err;
	int target_made;	/* the restore created its target */
	int tar_fd;		/* the archive file we opened, or -1 */
	int tar_made;		/* ... and created */
	char *tar_tmp;		/* ... under this name, to replace o->tar */

	/* planner only */
	struct linkmap links; /* (dev, inode) -> first restored path */
	struct ritem **pending; /* directories not yet emitted (includes) */
	size_t npending, cappending;
	uint64_t kept;		/* files there already, kept (overwrite) */
	struct {		/* delete_extra: paths to remove at the end */
		char **v;
		size_t n, cap;
	} extras;
	struct {		/* overwrite: the directories written, whose
				   times are set again at the end */
		struct rs_dir {
			char *path;
			struct gfsb_time mtime;
		} *v;
		size_t n, cap;
	} dirs;
};


struct planarg {
	struct rs *s;
	struct gfsb_node top; /* what was asked for */
	int is_root;
	char abs[PATH_MAX];
};

struct filewriter {
	struct rs *s;
	struct archive *a;
	struct rs_cwd cwd;	/* its own working directory */
	int owner;		/* restores owners (runs as root) */
	pthread_cond_t *cv;	/* its own in s->cv_done */
	pthread_t thread;
	int started;
};

/*
 * A path for a message: log lines are capped at 1 KiB, and a path in a
 * deep tree is longer, so that the reason after it was cut off; keep the
 * start and the end of such a path.
 */
#define SHOWN_PART 300
const char *rs_shown(const char *path, char buf[2 * SHOWN_PART + 4]);

/* The first failure, told to every thread that waits. */
void rs_fail(struct rs *s, gfsb_err e);
void rs_item_free(struct ritem *it);

/* Reading (ops_restore_fetch.c): up to n readers; joined by _stop once
 * the runs queued are read. */
unsigned rs_workers_start(struct rs *s, pthread_t *w, unsigned n);
void rs_workers_stop(struct rs *s, pthread_t *w, unsigned n);
void *rs_fetch_main(void *arg);

/* Planning (ops_restore_plan.c): the planner thread (arg: planarg). */
void *rs_plan_main(void *arg);

/* In place (ops_restore_inplace.c), from the planner: is the entry at
 * rel (relative to the target, the working directory) kept as it is
 * (o->overwrite)? */
int rs_keep_existing(struct rs *s, const struct gfsb_node *n,
    const char *rel);

/* delete_extra: note what directory rel (the snapshot's abs, whose tree
 * is t) holds on disk and t does not. */
struct gfsb_tree;
gfsb_err rs_note_extras(struct rs *s, const struct gfsb_tree *t,
    const char *rel, const char *abs);

/* The restore's end, in place (e: its outcome so far): after a whole one,
 * remove what was noted (counted in res, failures named in the log);
 * the directories' times set again; the outcome, GFSB_EIO when something
 * could not be removed. */
gfsb_err rs_inplace_end(struct rs *s, gfsb_err e);
void rs_extras_free(struct rs *s);

/* overwrite, from the ordered writer: directory it was written, whose
 * times rs_inplace_end sets again (libarchive sets those of a directory
 * that exists at once, and what was written or removed inside since has
 * changed them). */
gfsb_err rs_note_dir(struct rs *s, const struct ritem *it);


/* Writing (ops_restore_write.c). */
struct archive *rs_disk_writer(void);
void rs_files_start(struct rs *s, struct filewriter *fw, unsigned n);
void rs_files_stop(struct rs *s, struct filewriter *fw);
void rs_write_all(struct rs *s, struct archive *a, int tar, double t0);
void rs_progress(struct rs *s, double t0, int last);

#endif
