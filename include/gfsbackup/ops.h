/*
 * ops: the engines behind the commands (backup, restore, ls), each built
 * on the repo module.  Nothing here prints: progress, warnings and errors
 * go through callbacks and the context's log.
 */
#ifndef GFSBACKUP_OPS_H
#define GFSBACKUP_OPS_H

#include <stddef.h>
#include <stdint.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/gfs.h>
#include <gfsbackup/pass.h>
#include <gfsbackup/repo.h>
#include <gfsbackup/report.h>
#include <gfsbackup/util.h>

struct gfsb_repo;

/* ---- results told a line at a time ---- */

/* How a line of an account is meant. */
enum gfsb_ops_line {
	GFSB_OPS_LINE_WARNING,	/* a warning (stderr); it says "warning: " */
	GFSB_OPS_LINE_RESULT	/* the account itself (stdout) */
};

/* Given each line of an account (the *_lines functions below), without
 * its newline; line is borrowed for the call. */
typedef void gfsb_ops_line_fn(void *cookie, enum gfsb_ops_line kind,
    const char *line);

/* Seconds between two progress lines drawn on a terminal: often enough
 * to look alive, seldom enough not to cost. */
#define GFSB_OPS_PROGRESS_EVERY 0.2

/*
 * gfsb_ops_progress_due(last, seconds, every, finished):
 * Whether a progress report at seconds (into the work) is to be shown:
 * when the work is finished (the last one is never dropped), or when at
 * least every seconds have passed since the one shown at *last (start
 * *last at -1: the first is shown at 0 s if every <= 1).  If it is,
 * *last becomes seconds.  Thread-safe for distinct last.
 */
int gfsb_ops_progress_due(double *last, double seconds, double every,
    int finished);

/* ---- path patterns (exclude, include) ---- */

struct gfsb_patterns;

/*
 * gfsb_ops_patterns_new(pats, n, out):
 * Compile glob patterns, matched against absolute paths component by
 * component: `*`, `?` and `[...]` within one component, `**` for any
 * number of components.  A pattern that does not start with `/` may match
 * at any depth ("*.tmp" excludes every .tmp file; "/var/cache" only that
 * one).  A trailing `/` is ignored.  GFSB_EINVAL for an empty pattern.
 * n may be 0 (then nothing matches).
 */
gfsb_err gfsb_ops_patterns_new(const char *const *pats, size_t n,
    struct gfsb_patterns **out) GFSB_WUR;
void gfsb_ops_patterns_free(struct gfsb_patterns *p);

/*
 * gfsb_ops_patterns_match(p, path):
 * Non-zero if the absolute path matches any pattern.
 */
int gfsb_ops_patterns_match(const struct gfsb_patterns *p, const char *path);

/*
 * gfsb_ops_patterns_may_match_below(p, dir):
 * Non-zero if some pattern could match a path inside directory dir (so an
 * include filter must look into it).
 */
int gfsb_ops_patterns_may_match_below(const struct gfsb_patterns *p,
    const char *dir);

/* How a file lists items (gfsb_ops_list_read_file). */
enum gfsb_list_format {
	GFSB_LIST_LINES,	/* a line each, trailing blanks and CR cut;
				   blank lines and # comments skipped */
	GFSB_LIST_VERBATIM,	/* a line each, exactly (empty lines
				   skipped) */
	GFSB_LIST_RAW		/* NUL-separated, exactly */
};

/*
 * gfsb_ops_list_read_file(ctx, path, fmt, what, out, n):
 * The items file path lists ("-": standard input), as fmt says: a
 * malloc'd array of malloc'd strings.  GFSB_ENOTFOUND, GFSB_EIO ("cannot
 * read WHAT PATH: ..."), GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_list_read_file(struct gfsb_ctx *ctx, const char *path,
    enum gfsb_list_format fmt, const char *what, char ***out, size_t *n)
    GFSB_WUR;

/* ---- key ---- */

enum gfsb_key_verb {
	GFSB_KEY_LIST,		/* the key files, the current one starred */
	GFSB_KEY_PASSWD,	/* the current key's passphrase changed */
	GFSB_KEY_ADD,		/* a key file for another passphrase */
	GFSB_KEY_REMOVE		/* a key file removed (revoked) */
};

struct gfsb_key_opts {
	enum gfsb_key_verb verb;
	const char *pass;	/* passwd, add: the new passphrase */
	size_t passlen;
	const char *id;		/* remove: a unique prefix of its id */
	int write_only;		/* add: a write-only key
				   (gfsb_repo_key_add_write_only) */
};

/*
 * gfsb_ops_key_verb_parse(s, out):
 * "list", "passwd", "add" or "remove" into *out; GFSB_EINVAL otherwise.
 */
gfsb_err gfsb_ops_key_verb_parse(const char *s, enum gfsb_key_verb *out)
    GFSB_WUR;

/*
 * gfsb_ops_key_args(ctx, args, n, o):
 * gfsbackup key's arguments (VERB [ID]) into o: the verb, and for remove
 * the key id, its only argument; --write-only (o->write_only) only with
 * add.  GFSB_EINVAL with one line in ctx saying what is wrong.
 */
gfsb_err gfsb_ops_key_args(struct gfsb_ctx *ctx, const char *const *args,
    size_t n, struct gfsb_key_opts *o) GFSB_WUR;

/*
 * gfsb_ops_key(r, o, fn, cookie):
 * Do what o->verb says; a change is made under the exclusive lock
 * (GFSB_ELOCKED while another process holds a conflicting one), with
 * gfsb_repo_key_passwd, _add or _remove and their errors.  The result is
 * told to fn (NULL: nobody) as result lines: the key table (a damaged
 * key file marked "(damaged)", a write-only one "(write-only)"), or
 * "passphrase changed", "key ID added", "write-only key ID added", "key
 * ID removed".
 */
gfsb_err gfsb_ops_key(struct gfsb_repo *r, const struct gfsb_key_opts *o,
    gfsb_ops_line_fn *fn, void *cookie) GFSB_WUR;

/* Files that list items, in one format (gfsb_ops_list_gather). */
struct gfsb_list_files {
	const char *const *v;
	size_t n;
};

/*
 * gfsb_ops_list_gather(ctx, args, nargs, from, out, n):
 * The items given (args), then those the files of from[fmt] list, read
 * as fmt says (GFSB_LIST_LINES, _VERBATIM, _RAW: --files-from,
 * --files-from-verbatim, --files-from-raw): a malloc'd array of
 * malloc'd copies.  GFSB_EINVAL if there are none ("no paths to back
 * up"); gfsb_ops_list_read_file's errors.
 */
gfsb_err gfsb_ops_list_gather(struct gfsb_ctx *ctx, const char *const *args,
    size_t nargs, const struct gfsb_list_files from[GFSB_LIST_RAW + 1],
    char ***out, size_t *n) GFSB_WUR;

/*
 * gfsb_ops_patterns_read_file(path, out, n):
 * Read patterns from a file, one per line; blank lines and lines starting
 * with '#' are skipped, trailing spaces and CR are dropped.  *out is a
 * malloc'd array of malloc'd strings.  GFSB_EIO naming the file.
 */
gfsb_err gfsb_ops_patterns_read_file(struct gfsb_ctx *ctx, const char *path,
    char ***out, size_t *n) GFSB_WUR;

/* ---- backup ---- */

struct gfsb_backup_progress {
	uint64_t files_done;
	uint64_t bytes_done;
	uint64_t files_total; /* valid when totals_known */
	uint64_t bytes_total;
	int totals_known;     /* the counting scan has finished */
	double seconds;	      /* since the backup started */
};

typedef void gfsb_backup_progress_fn(void *cookie,
    const struct gfsb_backup_progress *p);

struct gfsb_backup_opts {
	const char *const *paths; /* what to back up (made absolute) */
	size_t npaths;
	const char *const *excludes; /* patterns */
	size_t nexcludes;
	/* Files of more patterns, one a line (gfsb_ops_patterns_read_file);
	 * the snapshot records them with the others. */
	const char *const *exclude_files;
	size_t nexclude_files;
	/* A directory holding one of these names is left out, whole
	 * ("NAME:TEXT": only when the file starts with TEXT). */
	const char *const *exclude_if_present;
	size_t nexclude_if_present;
	int exclude_caches;	       /* a CACHEDIR.TAG with its signature */
	uint64_t exclude_larger_than;  /* files larger (bytes); 0: none */
	const char *const *tags;
	size_t ntags;
	const char *host;      /* hostname to record; NULL = this host */
	int one_file_system;   /* do not cross mount points */
	int has_time;	       /* record `time` instead of now */
	struct gfsb_time time;
	const char *parent;    /* parent snapshot id; NULL = automatic */
	int force;	       /* read every file (no parent shortcut) */
	/* Read, chunk and count, and store nothing (no lock, no pack, no
	 * snapshot): what the backup would add.  Close the repository
	 * afterwards (gfsb_repo_set_dry_run). */
	int dry_run;
	/* The daily job's own directories, left out (and said) like the
	 * repository and its cache when they sit under a source path: its
	 * state directory, and the offsite copy when it is a directory. */
	const char *state_dir, *mirror_dir;
	unsigned threads;      /* workers; 0 = one per CPU */
	gfsb_backup_progress_fn *progress; /* called ~4 times a second */
	void *progress_cookie;
};

struct gfsb_backup_result {
	char snapshot_id[GFSB_ID_HEX];
	char parent[GFSB_ID_HEX]; /* "" when there was none */
	struct gfsb_snapshot_summary summary;
	size_t recovered_packs; /* packs of an interrupted backup reused */
	int dry_run;		/* nothing stored; snapshot_id is "" */
	double seconds;
	/* Bytes read and not yet stored (chunk buffers handed to the
	 * workers): the most at one time, and the most allowed. */
	size_t inflight_peak, inflight_bound;
};

/*
 * gfsb_ops_backup(r, opts, res):
 * Back up opts->paths into a new snapshot: take a shared lock, load the
 * index (and recover packs an interrupted backup left unindexed), find the
 * parent snapshot (latest of the same host and paths) so unchanged files
 * are not read, then walk, chunk, deduplicate, compress, seal and pack with
 * one worker per CPU, write the index and finally the snapshot.
 *
 * Files that cannot be read are skipped with a warning in the log and
 * counted in res->summary.warnings; the snapshot is still written.  A path
 * that does not exist is such a warning; if none exists, GFSB_ENOTFOUND.
 * GFSB_ECANCELED if the context was cancelled: packs already written are
 * indexed (the next backup reuses them) and no snapshot is written.
 * GFSB_ELOCKED, GFSB_EIO, GFSB_ENOMEM otherwise (detail in the context).
 */
gfsb_err gfsb_ops_backup(struct gfsb_repo *r,
    const struct gfsb_backup_opts *opts, struct gfsb_backup_result *res)
    GFSB_WUR;

/*
 * gfsb_ops_backup_progress_line(p, buf, len):
 * The progress line of a backup ("[1:05] 5120 of 15290 files, 412 MiB of
 * 1.0 GiB, 6 MB/s, ETA 1:49"); before the counting scan has finished,
 * what is done and the rate.  Truncated to len.
 */
void gfsb_ops_backup_progress_line(const struct gfsb_backup_progress *p,
    char *buf, size_t len);

/*
 * gfsb_ops_backup_summary(res, buf, len):
 * The line on a backup that wrote its snapshot: "snapshot 1a2b3c4d saved:
 * 12 files (3 new, 1 changed, 8 unchanged), 4.0 MiB processed, 1.0 MiB
 * new data (512 KiB stored) in 0.3 s".  Truncated to len.
 */
void gfsb_ops_backup_summary(const struct gfsb_backup_result *res,
    char *buf, size_t len);

/*
 * gfsb_ops_backup_told(res, json, quiet, fn, cookie):
 * What gfsbackup backup says when its snapshot is saved, to fn: the
 * summary line (not when quiet), or with json restic's summary record
 * (always), each a result; then, for files that could not be read, a
 * warning ("gfsbackup: backup: N warning(s): some files could not be
 * read (see above)").
 * Returns GFSB_EXIT_PARTIAL after such warnings, GFSB_EXIT_OK otherwise,
 * GFSB_EXIT_FATAL when out of memory.
 */
int gfsb_ops_backup_told(const struct gfsb_backup_result *res, int json,
    int quiet, gfsb_ops_line_fn *fn, void *cookie);

/*
 * gfsb_ops_backup_status_json(p), gfsb_ops_backup_summary_json(res):
 * restic's backup --json records, one compact line each, malloc'd (NULL:
 * no memory): {message_type: "status", percent_done, total_files,
 * files_done, total_bytes, bytes_done, seconds_elapsed,
 * seconds_remaining} and {message_type: "summary", files_new, ...,
 * total_duration, backup_start, backup_end, snapshot_id, warnings}.
 */
char *gfsb_ops_backup_status_json(const struct gfsb_backup_progress *p);
char *gfsb_ops_backup_summary_json(const struct gfsb_backup_result *res);

/* ---- backup of streams (standard input, a command's output) ---- */

/* A stream stored as one file, /name, at the snapshot's root. */
struct gfsb_backup_stream {
	const char *name;		/* a file name, no '/' */
	const char *const *argv;	/* a command (execvp, no shell) whose
					   standard output it is; NULL: fd */
	int fd;				/* read to its end when argv is NULL */
};

/*
 * gfsb_ops_backup_stream_check(ctx, use_stdin, from_cmd, nargs, name, o):
 * Whether backup's command line goes together as to streams: --stdin
 * (use_stdin: no paths, nargs 0) or --stdin-from-command (from_cmd: the
 * command, nargs words, after --), not both; --stdin-filename (name)
 * only with one of them; and a stream goes whole: no o->dry_run, no
 * o->nexcludes nor o->nexclude_files.  GFSB_OK (also for no stream at
 * all), or GFSB_EINVAL with the line that says what to give in ctx.
 * Thread-safe.
 */
gfsb_err gfsb_ops_backup_stream_check(struct gfsb_ctx *ctx, int use_stdin,
    int from_cmd, int nargs, const char *name,
    const struct gfsb_backup_opts *o) GFSB_WUR;

/*
 * gfsb_ops_backup_streams(r, o, s, n, res):
 * Back up n streams into a new snapshot, each read to its end, chunked,
 * deduplicated and stored as a file /NAME (mode 0600, the user's, the
 * time of the backup); the snapshot's paths are those files, with o's
 * tags, host and time (the rest of o is not used).  A command that exits
 * with a status other than 0, or is killed, fails the backup with
 * GFSB_EIO naming it and its status: no snapshot is written (what was
 * stored is indexed, for the next backup to reuse).  GFSB_EINVAL for a
 * bad or repeated name; the errors of gfsb_ops_backup.
 */
gfsb_err gfsb_ops_backup_streams(struct gfsb_repo *r,
    const struct gfsb_backup_opts *o, const struct gfsb_backup_stream *s,
    size_t n, struct gfsb_backup_result *res) GFSB_WUR;

/* ---- restore ---- */

/* Where a restore stands: what is written, and what it will write
 * (total_known 0: the total is still being planned and grows). */
struct gfsb_restore_progress {
	uint64_t files, bytes;		/* entries and bytes written */
	uint64_t total_files, total_bytes;
	int total_known;
	double seconds;			/* since it started */
};
typedef void gfsb_restore_progress_fn(void *cookie,
    const struct gfsb_restore_progress *p);

/* Called for every entry other than a directory that the filters let
 * through, in the snapshot's order (depth first, by name), with its path
 * in the snapshot: non-zero restores it.  Directories come back with what
 * they hold. */
typedef int gfsb_restore_select_fn(void *cookie, const char *path,
    const struct gfsb_node *node);

/* A restore into a directory that holds files already (restic's
 * --overwrite): what to do with a file that is there. */
enum gfsb_restore_overwrite {
	GFSB_OVERWRITE_REFUSE,	/* the target must be new or empty */
	GFSB_OVERWRITE_ALWAYS,	/* replace every file */
	GFSB_OVERWRITE_IF_CHANGED, /* keep a file of the same size and
				   modification time */
	GFSB_OVERWRITE_IF_NEWER, /* keep a file modified since */
	GFSB_OVERWRITE_NEVER	/* keep every file that is there */
};

struct gfsb_restore_opts {
	const char *snapshot;	/* id prefix or "latest" */
	const char *subpath;	/* restore only this path; NULL = all */
	const char *target;	/* directory to restore into, or NULL */
	const char *tar;	/* pax archive path, "-" for stdout, or NULL */
	int tar_fd;		/* used when tar is "-" */
	int tar_replace;	/* a file at tar is replaced (once the new
				   archive is whole), not refused */
	const char *const *includes;
	size_t nincludes;
	const char *const *excludes;
	size_t nexcludes;
	const char *host;	/* for "latest" */
	unsigned threads;	/* 0 = one per CPU */
	int no_lock;		/* take no lock (read-only credentials) */
	enum gfsb_restore_overwrite overwrite; /* into a target with files */
	int delete_extra;	/* then remove what the snapshot does not
				   hold (needs overwrite; not with tar or
				   select) */
	gfsb_restore_select_fn *select;	/* NULL: everything */
	void *select_cookie;
	/* Called from the calling thread after each entry written, and
	 * once at the end; NULL: none. */
	gfsb_restore_progress_fn *progress;
	void *progress_cookie;
};

struct gfsb_restore_result {
	char snapshot_id[GFSB_ID_HEX];
	uint64_t files, dirs, others, bytes;
	uint64_t damaged_files; /* files with blobs that failed checks */
	uint64_t warnings;	/* metadata that could not be set */
	uint64_t kept;		/* files there already, kept (overwrite) */
	uint64_t deleted;	/* entries removed (delete_extra) */
	uint64_t not_deleted;	/* ... that could not be (named in the log) */
	double seconds;
	/* Where the time went: the storage's requests during the restore
	 * (index, trees and data), and of them the reads of pack data, with
	 * the bytes they covered (gaps between wanted blobs included). */
	struct gfsb_backend_io io;
	uint64_t reads, read_bytes;
};

/*
 * gfsb_ops_restore_check(ctx, opts):
 * Do opts' settings agree?  A target directory or an archive, not both
 * nor neither; overwrite and delete_extra only into a directory,
 * delete_extra only with overwrite and of a whole snapshot; tar_replace
 * only for an archive file; no empty target or subpath; no archive on
 * standard output ("-") when tar_fd is a terminal.  GFSB_EINVAL with one
 * line in ctx naming the restore command's options; checked again by
 * gfsb_ops_restore, before anything else.
 */
gfsb_err gfsb_ops_restore_check(struct gfsb_ctx *ctx,
    const struct gfsb_restore_opts *opts) GFSB_WUR;

/*
 * gfsb_ops_restore_told(e, res):
 * Is what a restore that returned e brought back worth saying
 * (gfsb_ops_restore_summary)?  When it succeeded, and when it went on to
 * the end with damage or with entries --delete left (not when it failed
 * before it began: no snapshot id yet).
 */
int gfsb_ops_restore_told(gfsb_err e, const struct gfsb_restore_result *res);

/*
 * gfsb_ops_spec_split(arg):
 * SNAPSHOT[:PATH] as restore and dump take it: cut at the first colon
 * (arg is changed) and return the path after it, or NULL without one.
 */
char *gfsb_ops_spec_split(char *arg);

/*
 * gfsb_ops_restore(r, opts, res):
 * Restore a snapshot (or the path opts->subpath inside it) into
 * opts->target, or as a pax archive to opts->tar.  The target must be
 * empty or absent unless opts->overwrite says what to do with the files
 * there: replace them (libarchive replaces the entry itself, never
 * writing through a symlink), or keep those that are the same size and
 * time, newer, or any.  With opts->delete_extra, once everything is
 * restored without error or damage, whatever the restored directories
 * hold that the snapshot does not (and the excludes do not cover) is
 * removed: never through a symlink, never into another file system.
 * Files, directories, symlinks, hard links, holes, FIFOs and devices,
 * modes, times, owners (when run as root), xattrs and ACLs come back.  Writes go through libarchive's disk writer with its secure
 * flags: no entry can write outside the target.  Every blob is
 * authenticated and checked before it is written.  A damaged blob fails
 * only the files that use it: each is named in the log (its damaged range
 * is left as a hole) and counted in res->damaged_files, everything else is
 * restored, and the call returns GFSB_ECORRUPT at the end.
 * GFSB_ENOTFOUND (snapshot or path), GFSB_EEXIST (target not empty),
 * GFSB_EINVAL (settings that disagree: gfsb_ops_restore_check),
 * GFSB_EIO when some of what delete_extra would remove could not be.
 */
gfsb_err gfsb_ops_restore(struct gfsb_repo *r,
    const struct gfsb_restore_opts *opts, struct gfsb_restore_result *res)
    GFSB_WUR;

/*
 * gfsb_ops_restore_progress_line(p, buf, len):
 * The progress line of a restore ("[0:42] 5120 of 15290 files, 412 MiB of
 * 1.0 GiB (40%), 210.3 MB/s, ETA 0:00:03"); without a known total,
 * what is done and the rate.
 */
void gfsb_ops_restore_progress_line(const struct gfsb_restore_progress *p,
    char *buf, size_t len);

/*
 * gfsb_ops_restore_summary(res, buf, len):
 * The line on a restore that ran: "restored snapshot 1a2b3c4d: 12 files,
 * 3 directories, 1 other entries, 4.0 MiB in 0.2 s", and " (with damage,
 * see above)" when files came back damaged.  Truncated to len.
 */
void gfsb_ops_restore_summary(const struct gfsb_restore_result *res,
    char *buf, size_t len);

/*
 * gfsb_ops_io_line(what, io, buf, len):
 * One line on a storage's requests: their number, the bytes received and
 * sent, and how busy its connections were ("source: 412 requests, 560 MiB
 * received, 0 B sent; 4 connections busy 91% of 3.2 s"; a directory: the
 * time spent in its calls).
 */
void gfsb_ops_io_line(const char *what, const struct gfsb_backend_io *io,
    char *buf, size_t len);

/*
 * gfsb_ops_backend_io_since(be, io0, out):
 * be's counters (gfsb_backend_io_get) less those in io0, taken earlier.
 */
void gfsb_ops_backend_io_since(struct gfsb_backend *be,
    const struct gfsb_backend_io *io0, struct gfsb_backend_io *out);

/*
 * gfsb_ops_restore_io_line(res, buf, len):
 * gfsb_ops_io_line for a restore's storage, with the reads of pack data
 * and the bytes they covered ("storage: 412 requests, 560 MiB received,
 * 0 B sent; 4 connections busy 91% of 3.2 s; 171 reads of pack data over
 * 548 MiB").
 */
void gfsb_ops_restore_io_line(const struct gfsb_restore_result *res,
    char *buf, size_t len);

/* ---- the restore drill ---- */

struct gfsb_drill_opts {
	uint64_t size;		/* bytes to sample, about (a file that
				   overlaps the sample comes whole) */
	const char *host;	/* the newest snapshot of host; NULL: of any */
	const char *scratch;	/* where the scratch directory is made;
				   NULL: $TMPDIR, else /var/tmp */
	uint64_t seed;		/* where the sample lies; 0: at random */
	unsigned threads;	/* the restore's; 0: its default */
	size_t max_files;	/* failed files listed; 0: 100 */
	int no_lock;		/* take no lock (read-only credentials) */
	/* Read through a new, empty cache in the scratch directory, as a
	 * new server would (r's own cache is then turned off). */
	int fresh_cache;
	gfsb_restore_progress_fn *progress;
	void *progress_cookie;
};

/* A file of the sample that did not come back as the snapshot has it. */
struct gfsb_drill_failure {
	char *path;		/* in the snapshot */
	const char *why;	/* static: "content differs from the snapshot" */
};

struct gfsb_drill_result {
	char snapshot[GFSB_ID_HEX];	/* the newest snapshot */
	struct gfsb_time snapshot_time;
	uint64_t total_files, total_bytes; /* all of it (not directories) */
	uint64_t files, bytes;		/* the sample */
	double setup;		/* snapshot, index and trees, seconds */
	double seconds;		/* restoring and checking the sample */
	double rate;		/* the sample's bytes per second restoring */
	double projected;	/* setup + the whole snapshot at rate */
	uint64_t checked;	/* entries as the snapshot records them */
	uint64_t failed;	/* entries that are not */
	struct gfsb_drill_failure *failures; /* at most opts.max_files */
	size_t nfailures;
	struct gfsb_restore_result restore; /* the sample's restore */
};

/*
 * gfsb_ops_drill(r, opts, res):
 * Restore about opts->size bytes of the newest snapshot, at random places
 * (a few windows of consecutive files, read the way a full restore reads
 * them), into a new scratch directory; read every restored file back and
 * check its size, mode, mtime and the id of every extent (symlinks: their
 * targets) against the snapshot; remove the scratch directory.  res gets
 * the measured rate and the projected time to restore the whole snapshot
 * from this repository.  Files that failed are named in res (and logged).
 * Returns GFSB_OK when the drill ran, failures or not; GFSB_EINVAL (size
 * 0), GFSB_ENOTFOUND (no snapshot), GFSB_EIO (no room for the sample, or
 * the scratch directory), storage errors.  Free res with
 * gfsb_ops_drill_result_fini.
 */
gfsb_err gfsb_ops_drill(struct gfsb_repo *r, const struct gfsb_drill_opts *opts,
    struct gfsb_drill_result *res) GFSB_WUR;
void gfsb_ops_drill_result_fini(struct gfsb_drill_result *res);

/*
 * gfsb_ops_drill_copy(src, be, opts, record, now, res):
 * The drill as the daily job and verify run it: on the copy of src's
 * repository at be (the offsite copy, or src's own storage), opened with
 * src's keys and read as a new server would read it (opts->fresh_cache
 * forced on), then recorded in the record file (gfsb_ops_drill_record,
 * from be's location).  Errors as gfsb_ops_drill and
 * gfsb_ops_drill_record; res is filled either way (free it).
 */
gfsb_err gfsb_ops_drill_copy(struct gfsb_repo *src, struct gfsb_backend *be,
    const struct gfsb_drill_opts *opts, const char *record,
    const struct gfsb_time *now, struct gfsb_drill_result *res) GFSB_WUR;

/*
 * gfsb_ops_drill_summary(res, from, buf, len):
 * One line on a drill that ran: "restored 182 MiB (1012 files) of
 * snapshot 1a2b3c4d from FROM at 299 MiB/s, all intact; a full restore
 * (15290 files, 1.00 GiB) would take about 4 s", or "3 of 1012 files of
 * snapshot 1a2b3c4d did not come back intact from FROM (first: PATH:
 * why)".
 */
void gfsb_ops_drill_summary(const struct gfsb_drill_result *res,
    const char *from, char *buf, size_t len);

/*
 * gfsb_ops_drill_record(ctx, path, res, when, from):
 * Append the drill res (run at when, from the repository named from) to
 * the record file path (JSON, the last GFSB_DRILL_KEEP drills; written to
 * a temporary file, synced and renamed).  A record that cannot be read is
 * started anew, with a warning.  GFSB_EIO, GFSB_ENOMEM.
 */
#define GFSB_DRILL_KEEP 30
gfsb_err gfsb_ops_drill_record(struct gfsb_ctx *ctx, const char *path,
    const struct gfsb_drill_result *res, const struct gfsb_time *when,
    const char *from) GFSB_WUR;

/*
 * gfsb_ops_drill_last(ctx, path, out):
 * The newest drill in the record file into out (out->has 0 when the file
 * does not exist or holds none).  GFSB_ECORRUPT for a file that is not a
 * drill record, GFSB_EIO, GFSB_ENOMEM.  out's strings are malloc'd.
 */
gfsb_err gfsb_ops_drill_last(struct gfsb_ctx *ctx, const char *path,
    struct gfsb_report_drill *out) GFSB_WUR;

/*
 * gfsb_ops_report_drill(rep, ctx, path, ran, rto, every_days):
 * Put the last recorded drill into the report (ran: it ran in this job),
 * with the recovery-time objective rto (seconds; 0: none).  A drill that
 * failed is an error when it ran tonight and a warning while no later
 * drill passed; a projection above rto is a warning; so is no drill in
 * 2 * every_days days when every_days > 0 (drills are scheduled).
 * GFSB_ENOMEM, or what gfsb_ops_drill_last returns.
 */
gfsb_err gfsb_ops_report_drill(struct gfsb_report *rep, struct gfsb_ctx *ctx,
    const char *path, int ran, double rto, int every_days) GFSB_WUR;

/*
 * gfsb_ops_drill_due(ctx, path, now, every_days):
 * Whether a drill is due: none recorded, the last one failed, or it is
 * every_days or more calendar days before now.
 */
int gfsb_ops_drill_due(struct gfsb_ctx *ctx, const char *path,
    const struct gfsb_time *now, int every_days);

/* ---- ls ---- */

/* Called for every listed entry with its absolute path in the snapshot. */
typedef gfsb_err gfsb_ls_fn(void *cookie, const char *path,
    const struct gfsb_node *node);

/*
 * gfsb_ops_ls(r, snapshot, host, path, recursive, fn, cookie, out):
 * List the snapshot's entries under path (all when path is NULL or "/"),
 * depth first, in name order.  *out gets the resolved snapshot (caller
 * frees with gfsb_repo_snapshot_free) if out is not NULL.
 * GFSB_ENOTFOUND for a missing snapshot or path.
 */
gfsb_err gfsb_ops_ls(struct gfsb_repo *r, const char *snapshot,
    const char *host, const char *path, gfsb_ls_fn *fn, void *cookie,
    struct gfsb_snapshot **out) GFSB_WUR;

/*
 * gfsb_ops_ls_entry(path, node, lng, fn, cookie):
 * The line gfsbackup ls prints for an entry, handed to fn as a result:
 * its path; with lng, ls -l's "-rw-r--r-- alice    staff          1234
 * 2024-05-01 10:00:00 /srv/a" (type and mode, owner and group or their
 * ids, size, local modification time, and " -> target" for a symlink).
 * GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_ls_entry(const char *path, const struct gfsb_node *node,
    int lng, gfsb_ops_line_fn *fn, void *cookie) GFSB_WUR;

/*
 * gfsb_ops_node_json(path, node):
 * An entry as one line of restic's ls --json: a malloc'd compact object
 * {path, name, type, mode (permission bits), permissions, mtime, ctime,
 * uid, gid, size, links, inode, user, group, linktarget, struct_type:
 * "node"}.  NULL: no memory.
 */
char *gfsb_ops_node_json(const char *path, const struct gfsb_node *node);

/* The snapshot as the first line of restic's ls --json (its object with
 * struct_type "snapshot"), malloc'd; NULL: no memory. */
char *gfsb_ops_snapshot_json_line(const struct gfsb_snapshot *snap);

/*
 * gfsb_ops_ls_lines(r, snapshot, host, path, lng, json, fn, cookie):
 * gfsbackup ls's output, each line a result to fn: an entry a line
 * (gfsb_ops_ls_entry, with lng ls -l's), or with json restic's ls
 * --json, the snapshot's line first (gfsb_ops_snapshot_json_line) and
 * then an entry's a line (gfsb_ops_node_json).  As gfsb_ops_ls.
 */
gfsb_err gfsb_ops_ls_lines(struct gfsb_repo *r, const char *snapshot,
    const char *host, const char *path, int lng, int json,
    gfsb_ops_line_fn *fn, void *cookie) GFSB_WUR;

/* ---- snapshots ---- */

/*
 * gfsb_ops_snapshots_list(r, out, n):
 * The snapshots gfsbackup snapshots lists, oldest first: the
 * repository's (gfsb_repo_snapshot_list), or, opened with a write-only
 * key, which reads none of them, its own from its cache on this machine
 * (gfsb_repo_writer_snapshots).  Free with gfsb_repo_snapshot_list_free.
 */
gfsb_err gfsb_ops_snapshots_list(struct gfsb_repo *r,
    struct gfsb_snapshot ***out, size_t *n) GFSB_WUR;

/*
 * gfsb_ops_snapshots_match(s, host, tag, path):
 * Non-zero when s is of host, has the tag and holds the path (each NULL:
 * any), as gfsbackup snapshots --host, --tag, --path select.
 */
int gfsb_ops_snapshots_match(const struct gfsb_snapshot *s,
    const char *host, const char *tag, const char *path);

/*
 * gfsb_ops_snapshots_filter(v, n, host, tag, path):
 * Keep in v[0..*n) the snapshots gfsb_ops_snapshots_match selects, in
 * their order; free the others (gfsb_repo_snapshot_free) and lower *n.
 */
void gfsb_ops_snapshots_filter(struct gfsb_snapshot **v, size_t *n,
    const char *host, const char *tag, const char *path);

/*
 * gfsb_ops_snapshots_lines(s, n, fn, cookie):
 * The table gfsbackup snapshots prints, a line at a time: a header (ID,
 * Time, Host, Tags, Paths; the host and tag columns as wide as their
 * longest), a rule, a line per snapshot and one more for each further
 * tag or path, a rule, and "N snapshots".  GFSB_ENOMEM.  The JSON is
 * gfsb_repo_snapshot_json.
 */
gfsb_err gfsb_ops_snapshots_lines(struct gfsb_snapshot *const *s, size_t n,
    gfsb_ops_line_fn *fn, void *cookie) GFSB_WUR;
/* ---- diff ---- */

/* What one side of a diff has that the other has not. */
struct gfsb_diff_side {
	uint64_t files, dirs, others;	/* entries added or removed */
	uint64_t data_blobs, tree_blobs; /* blobs only this side uses */
	uint64_t bytes;			/* their stored (sealed) bytes */
};

struct gfsb_diff_result {
	char from[GFSB_ID_HEX], to[GFSB_ID_HEX];	/* the snapshots */
	struct gfsb_diff_side added;	/* in to, not in from */
	struct gfsb_diff_side removed;	/* in from, not in to */
	uint64_t changed_files;		/* M and T */
};

/*
 * One difference: mod is '+' (only in to: a NULL), '-' (only in from: b
 * NULL), 'M' (a file's content or a symlink's target changed), 'T' (another
 * kind of entry) or 'U' (metadata only: mode, owner, mtime, xattrs).
 * Everything under an added or removed directory is listed too.  A
 * non-OK return stops the diff with it.
 */
typedef gfsb_err gfsb_diff_fn(void *cookie, char mod, const char *path,
    const struct gfsb_node *a, const struct gfsb_node *b);

/*
 * gfsb_ops_diff(r, from, to, fn, cookie, res):
 * What changed from snapshot from to snapshot to (ids, unique prefixes or
 * "latest"), depth first in name order, each difference handed to fn;
 * subtrees with the same id on both sides are skipped unread.  res
 * counts the entries and the blobs only one side uses (a blob moved to
 * another file is neither added nor removed).  GFSB_ENOTFOUND for a
 * snapshot that does not exist; the errors of reading the trees.
 */
gfsb_err gfsb_ops_diff(struct gfsb_repo *r, const char *from, const char *to,
    gfsb_diff_fn *fn, void *cookie, struct gfsb_diff_result *res) GFSB_WUR;

/*
 * gfsb_ops_diff_json(r, from, to, out, res):
 * The diff as restic's diff --json prints it: one JSON object a line,
 * {message_type: "change", path (a directory's ending in /), modifier}
 * for each difference, then {message_type: "statistics",
 * source_snapshot, target_snapshot, changed_files, added: {files, dirs,
 * others, data_blobs, tree_blobs, bytes}, removed: {...}}; *out is
 * malloc'd.  As gfsb_ops_diff.
 */
gfsb_err gfsb_ops_diff_json(struct gfsb_repo *r, const char *from,
    const char *to, char **out, struct gfsb_diff_result *res) GFSB_WUR;

/* The line gfsbackup diff prints for a difference: "M    /path" (a
 * directory's path ending in /), into buf (truncated to len). */
void gfsb_ops_diff_change_line(char mod, const char *path,
    const struct gfsb_node *a, const struct gfsb_node *b, char *buf,
    size_t len);

/* The statistics gfsbackup diff prints after the changes: files, dirs,
 * others, data and tree blobs new and removed, the bytes added and
 * removed.  GFSB_ENOMEM. */
gfsb_err gfsb_ops_diff_lines(const struct gfsb_diff_result *res,
    gfsb_ops_line_fn *fn, void *cookie) GFSB_WUR;

/* ---- stats ---- */

struct gfsb_stats {
	uint64_t snapshots;
	/* What restoring each snapshot would write (summed over them). */
	uint64_t files, dirs, others;
	uint64_t restore_bytes;
	/* The blobs they use, each counted once. */
	uint64_t data_blobs, tree_blobs;
	uint64_t data_raw;	/* the data blobs' plaintext */
	uint64_t data_stored;	/* ... compressed and sealed */
	uint64_t tree_stored;	/* the tree blobs', stored */
	uint64_t packs;		/* the packs holding them */
	/* The whole repository, from its index. */
	uint64_t repo_packs, repo_pack_bytes, repo_blobs;
	/* The index in memory: its blobs and the bytes it takes. */
	uint64_t index_blobs, index_bytes;
};

/*
 * gfsb_ops_stats(r, snapshots, n, st):
 * What the snapshots named (n of them; n 0: every snapshot) hold and
 * cost: restore size, the blobs they use counted once (deduplication is
 * restore_bytes / data_raw, compression data_raw / data_stored), the packs
 * holding them, and the repository's packs.  GFSB_ENOTFOUND for a name
 * that matches no snapshot; the errors of reading the trees.
 */
gfsb_err gfsb_ops_stats(struct gfsb_repo *r, const char *const *snapshots,
    size_t n, struct gfsb_stats *st) GFSB_WUR;

/*
 * gfsb_ops_stats_json(st):
 * st as a malloc'd JSON object, with restic's stats names where they
 * mean the same (snapshots_count, total_size, total_file_count,
 * total_blob_count, total_uncompressed_size) and ours (total_dir_count,
 * total_other_count, data_blobs, tree_blobs, total_stored_size, packs,
 * dedup_ratio, compression_ratio, repository_packs,
 * repository_pack_bytes, index_blobs, index_memory_bytes).  NULL: no
 * memory.
 */
char *gfsb_ops_stats_json(const struct gfsb_stats *st);

/* st as gfsbackup stats prints it: snapshots, restore size, data and its
 * deduplication, what is stored and its compression, the repository.
 * GFSB_ENOMEM. */
gfsb_err gfsb_ops_stats_lines(const struct gfsb_stats *st,
    gfsb_ops_line_fn *fn, void *cookie) GFSB_WUR;

/* ---- find ---- */

struct gfsb_find_opts {
	const char *const *patterns;	/* as gfsb_ops_patterns_new */
	size_t npatterns;
	const char *const *snapshots;	/* ids, prefixes, "latest"; */
	size_t nsnapshots;		/* 0: every snapshot */
	const char *host;		/* only its snapshots; NULL: all */
};

struct gfsb_find_result {
	uint64_t snapshots;		/* searched */
	uint64_t snapshots_matched;	/* with a match */
	uint64_t matches;
	uint64_t trees_read, trees_skipped; /* skipped: searched before */
};

/* A match: the path in snapshot s and its entry. */
typedef gfsb_err gfsb_find_fn(void *cookie, const struct gfsb_snapshot *s,
    const char *path, const struct gfsb_node *n);

/*
 * gfsb_ops_find(r, o, fn, cookie, res):
 * Every path matching a pattern in the snapshots chosen (oldest first;
 * depth first in name order within each), handed to fn.  A directory is
 * entered only when a pattern could match below it, and a subtree that
 * held no match at the same path in an earlier snapshot is not read
 * again.  GFSB_EINVAL for no pattern or a bad one, GFSB_ENOTFOUND for a
 * snapshot that does not exist; the errors of reading the trees.
 */
gfsb_err gfsb_ops_find(struct gfsb_repo *r, const struct gfsb_find_opts *o,
    gfsb_find_fn *fn, void *cookie, struct gfsb_find_result *res) GFSB_WUR;

/*
 * gfsb_ops_find_json(r, o, out, res):
 * gfsb_ops_find's matches as restic's find --json prints them: a
 * malloc'd array of {hits, snapshot, matches: [entry...]}, each entry
 * {path, name, type, mode (permission bits), permissions, mtime, ctime,
 * uid, gid, size, links, inode, user, group, linktarget}.  As
 * gfsb_ops_find.
 */
gfsb_err gfsb_ops_find_json(struct gfsb_repo *r, const struct gfsb_find_opts *o,
    char **out, struct gfsb_find_result *res) GFSB_WUR;

/*
 * gfsb_ops_find_lines(r, o, fn, cookie, res):
 * gfsb_ops_find's matches as gfsbackup find prints them, each a result
 * line to fn: "snapshot ID8 of HOST, TIME:" before a snapshot's first
 * match, then each match as ls -l shows it (gfsb_ops_ls_entry), then
 * "N matches in M of T snapshots".  As gfsb_ops_find.
 */
gfsb_err gfsb_ops_find_lines(struct gfsb_repo *r,
    const struct gfsb_find_opts *o, gfsb_ops_line_fn *fn, void *cookie,
    struct gfsb_find_result *res) GFSB_WUR;

/* ---- dump ---- */

struct gfsb_dump_opts {
	const char *snapshot;	/* id prefix or "latest" */
	const char *host;	/* for "latest" */
	const char *path;	/* in the snapshot; NULL or "/": all of it */
	int fd;			/* where it goes */
	int no_lock;		/* an archive: take no lock */
};

struct gfsb_dump_result {
	char snapshot_id[GFSB_ID_HEX];
	int archive;		/* written as a pax archive */
	uint64_t bytes;		/* file content written */
	uint64_t damaged_files;	/* in an archive: files that failed */
};

/*
 * gfsb_ops_dump(r, o, res):
 * Write o->path of the snapshot to o->fd: a file's content (holes as
 * zeros, every blob checked), or a directory (the whole snapshot when
 * path is "/") as a pax archive made by the restore engine.
 * GFSB_ENOTFOUND for a snapshot or path that does not exist, GFSB_EINVAL
 * for a path that is neither a file nor a directory, GFSB_ECORRUPT for
 * a damaged blob (what was written before it stays written), GFSB_EIO
 * when fd refuses the bytes.
 */
gfsb_err gfsb_ops_dump(struct gfsb_repo *r, const struct gfsb_dump_opts *o,
    struct gfsb_dump_result *res) GFSB_WUR;

/* ---- mount ---- */

/*
 * The file system mount shows (gfsb_mfs_*, for the FUSE loop and for
 * tests): a read-only tree of every snapshot, by id (ids/<short id>/,
 * the snapshot's root), and as symlinks to those: snapshots/<time>,
 * hosts/<host>/<time>, tags/<tag>/<time>, daily/, weekly/, monthly/ and
 * yearly/<time> (the roles under a policy, or without one the newest of
 * each day, week, month, year), and latest.  <time> is the local time,
 * 2026-12-06T01:30:00, with "-<short id>" after a second snapshot of the
 * same second.  A read loads only the blobs its range covers.  Not
 * thread-safe.  Each call returns 0 or -errno (read: the bytes read).
 */
struct gfsb_mfs;
struct stat;
typedef int gfsb_mfs_fill_fn(void *cookie, const char *name); /* 1: stop */

gfsb_err gfsb_mfs_open(struct gfsb_repo *r, const struct gfsb_policy *policy,
    struct gfsb_mfs **out) GFSB_WUR;
void gfsb_mfs_close(struct gfsb_mfs *m);
int gfsb_mfs_stat(struct gfsb_mfs *m, const char *path, struct stat *st);
int gfsb_mfs_readdir(struct gfsb_mfs *m, const char *path,
    gfsb_mfs_fill_fn *fill, void *cookie);
int gfsb_mfs_readlink(struct gfsb_mfs *m, const char *path, char *buf,
    size_t len);
long gfsb_mfs_read(struct gfsb_mfs *m, const char *path, uint64_t off,
    char *buf, size_t size);

struct gfsb_mount_opts {
	const char *mountpoint;		/* an existing, empty directory */
	const struct gfsb_policy *policy; /* the roles; NULL: calendar */
	int allow_other;		/* others may read (FUSE allow_other) */
	int no_lock;			/* take no lock (read-only credentials;
					   a prune meanwhile fails reads) */
	void (*ready)(void *cookie);	/* once mounted, before serving */
	void *cookie;
};

/*
 * gfsb_ops_mount(r, o):
 * Mount the snapshots' file system (gfsb_mfs) at o->mountpoint with
 * FUSE, read only, under a shared lock (as restore: no prune removes what
 * it shows; unless o->no_lock), and serve it until it is unmounted
 * (fusermount3 -u)
 * or SIGINT, SIGTERM or SIGHUP arrives (the caller leaves them at their
 * default: FUSE's own handlers then end the loop and unmount).
 * GFSB_EIO when it cannot be mounted.
 */
gfsb_err gfsb_ops_mount(struct gfsb_repo *r, const struct gfsb_mount_opts *o)
    GFSB_WUR;

/* ---- forget ---- */

/* What snapshots are grouped by (bits); restic's default is host,paths. */
#define GFSB_GROUP_HOST 1u
#define GFSB_GROUP_PATHS 2u
#define GFSB_GROUP_TAGS 4u

struct gfsb_forget_opts {
	const struct gfsb_policy *policy;
	unsigned group_by;  /* GFSB_GROUP_* bits; 0 = one group */
	const char *host;   /* consider only this host's snapshots */
	int dry_run;	    /* decide, remove nothing */
	int locked;	    /* the caller holds the exclusive lock */
	int has_now;	    /* decide as if at `now` (else the clock) */
	struct gfsb_time now;
};

/* One group and its decisions, newest snapshot first. */
struct gfsb_forget_group {
	const char *host;	/* NULL when not grouped by host */
	char *const *paths;	/* NULL when not grouped by paths */
	size_t npaths;
	char *const *tags;	/* NULL when not grouped by tags */
	size_t ntags;
	struct gfsb_snapshot **snaps; /* borrowed from the result */
	struct gfsb_gfs_decision *dec;
	size_t n, nkeep;
};

struct gfsb_forget_result {
	struct gfsb_snapshot **all;
	size_t nall;
	struct gfsb_forget_group *groups;
	size_t ngroups;
	size_t kept, removed;
	size_t waiting;	       /* removed, but held by their Object Lock
				  until waiting_until: a later forget
				  removes them */
	int64_t waiting_until;
};

/*
 * gfsb_ops_forget(r, opts, res):
 * Group the snapshots, apply the policy to each group, and (unless
 * dry_run) remove the snapshot objects the policy does not keep, under an
 * exclusive lock.  Only snapshot objects are removed; their data stays
 * until a prune.  In a locked repository a snapshot whose Object Lock
 * date has not passed is not removed yet (res->waiting).  GFSB_EINVAL
 * (nothing removed) for an empty policy or one that would remove every
 * snapshot of a group.  Free res with
 * gfsb_ops_forget_fini, even on error.
 */
gfsb_err gfsb_ops_forget(struct gfsb_repo *r,
    const struct gfsb_forget_opts *opts, struct gfsb_forget_result *res)
    GFSB_WUR;
void gfsb_ops_forget_fini(struct gfsb_forget_result *res);

/* tag: what to change of the snapshots' tags. */
struct gfsb_tag_opts {
	const char *const *ids;	/* unique id prefixes or "latest"; none:
				   every snapshot (of host) */
	size_t nids;
	const char *host;	/* only this host's; NULL: any */
	const char *const *add, *const *remove, *const *set;
	size_t nadd, nremove, nset;
	int has_set;		/* set the tags to exactly set[] (none: no
				   tags), not with add or remove */
	int dry_run;		/* say what would change; change nothing */
};

/*
 * gfsb_ops_tag_check(ctx, o):
 * Do o's settings agree?  --set, or --add and --remove, not both nor
 * neither; no tag empty or holding a comma.  GFSB_EINVAL with one line
 * in ctx naming gfsbackup tag's options; checked again by gfsb_ops_tag.
 */
gfsb_err gfsb_ops_tag_check(struct gfsb_ctx *ctx,
    const struct gfsb_tag_opts *o) GFSB_WUR;

/* One snapshot whose tags changed: its old and new ids, and the tags. */
struct gfsb_tag_change {
	char old_id[GFSB_ID_HEX], new_id[GFSB_ID_HEX];
	char **before, **after;
	size_t nbefore, nafter;
};

struct gfsb_tag_result {
	struct gfsb_tag_change *changed;
	size_t nchanged;
	size_t unchanged;	/* already as asked */
};

/*
 * gfsb_ops_tag(r, o, res):
 * Add, remove or set the tags of the snapshots o names, under an
 * exclusive lock.  A snapshot is immutable: one whose tags change is
 * written anew (its id changes; "original" names the first snapshot it
 * replaced, as restic does) and then the old one removed, so a failure
 * in between leaves both, never neither.  Every name is resolved and
 * every snapshot checked first: a name that matches nothing or several,
 * or a snapshot its Object Lock still holds (it could not be removed:
 * both would stay), changes nothing (GFSB_ENOTFOUND, GFSB_EINVAL,
 * GFSB_EDENIED, naming it).  A tag must not be empty nor hold a comma
 * (GFSB_EINVAL).  Free res with gfsb_ops_tag_fini.
 */
gfsb_err gfsb_ops_tag(struct gfsb_repo *r, const struct gfsb_tag_opts *o,
    struct gfsb_tag_result *res) GFSB_WUR;
void gfsb_ops_tag_fini(struct gfsb_tag_result *res);

/* tag's account: a line per snapshot changed ("snapshot 1a2b3c4d is now
 * 5e6f7a8b: daily,legal-hold (was: daily)"), then how many.  ENOMEM. */
gfsb_err gfsb_ops_tag_lines(const struct gfsb_tag_result *res, int dry_run,
    gfsb_ops_line_fn *fn, void *cookie) GFSB_WUR;

/* Snapshots named one by one (a snapshot taken by mistake). */
struct gfsb_forget_ids_result {
	struct gfsb_snapshot **snaps;	/* the named ones, in the order given */
	size_t n;
	size_t removed;
	size_t waiting;		/* kept by their Object Lock for now */
	int64_t waiting_until;
};

/*
 * gfsb_ops_forget_ids(r, ids, n, dry_run, res):
 * Remove the snapshots named by ids (unique id prefixes; a snapshot named
 * twice counts once) under an exclusive lock: every name is resolved
 * first, and one that matches no snapshot or several removes nothing
 * (GFSB_ENOTFOUND, GFSB_EINVAL, naming it).  As gfsb_ops_forget, only
 * the snapshot objects go, and a snapshot still under its Object Lock
 * waits (res->waiting).  Free res with gfsb_ops_forget_ids_fini.
 */
gfsb_err gfsb_ops_forget_ids(struct gfsb_repo *r, const char *const *ids,
    size_t n, int dry_run, struct gfsb_forget_ids_result *res) GFSB_WUR;
void gfsb_ops_forget_ids_fini(struct gfsb_forget_ids_result *res);

/*
 * gfsb_ops_forget_check(ctx, nids, policy_file, rules, json, host):
 * Whether what gfsbackup forget was given goes together: nids snapshot
 * ids, or else one policy: a file (policy_file) or the rules given as
 * options (rules, may be NULL: none).  Ids go with no policy, no --json
 * and no --host (those are a policy's); a policy must be one of the two
 * and never empty (it would keep nothing).  GFSB_OK, or GFSB_EINVAL
 * with the line that says what to give in ctx; nothing is read.
 * Thread-safe.
 */
gfsb_err gfsb_ops_forget_check(struct gfsb_ctx *ctx, size_t nids,
    const char *policy_file, const struct gfsb_policy *rules, int json,
    const char *host) GFSB_WUR;

/*
 * gfsb_ops_forget_json(res):
 * A malloc'd JSON array in restic's shape: per group {tags, host, paths,
 * keep, remove, reasons: [{snapshot, matches, counters}]}.
 */
char *gfsb_ops_forget_json(const struct gfsb_forget_result *res);

/*
 * gfsb_ops_forget_lines(res, policy, dry_run, fn, cookie):
 * The decisions as gfsbackup forget prints them: "policy: ..." (the
 * policy's description) and an empty line; per group, what it groups
 * ("snapshots of host H, paths P:"), a table of every snapshot with its
 * action, roles and reasons, "keep K, remove R of N snapshots" and an
 * empty line; the totals (with dry_run: "(dry run: nothing was
 * removed)"); and the snapshots waiting on their Object Lock
 * (gfsb_ops_prune_waiting_line).  GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_forget_lines(const struct gfsb_forget_result *res,
    const struct gfsb_policy *policy, int dry_run, gfsb_ops_line_fn *fn,
    void *cookie) GFSB_WUR;

/*
 * gfsb_ops_forget_ids_lines(res, dry_run, fn, cookie):
 * A line per named snapshot: "removed snapshot 1a2b3c4d of HOST, TIME,
 * FIRST-PATH" ("would remove" with dry_run).  The snapshots still under
 * their Object Lock are not told here: gfsb_ops_prune_waiting_line.
 * GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_forget_ids_lines(const struct gfsb_forget_ids_result *res,
    int dry_run, gfsb_ops_line_fn *fn, void *cookie) GFSB_WUR;

/*
 * gfsb_ops_forget_told(res, policy, dry_run, json, fn, cookie),
 * gfsb_ops_forget_ids_told(res, dry_run, quiet, fn, cookie):
 * What gfsbackup forget says, to fn: the policy's decisions
 * (gfsb_ops_forget_lines), or with json restic's document as one result
 * (gfsb_ops_forget_json); for named snapshots, their lines (not when
 * quiet), then, even when quiet, those their Object Lock holds back
 * (gfsb_ops_prune_waiting_line).  GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_forget_told(const struct gfsb_forget_result *res,
    const struct gfsb_policy *policy, int dry_run, int json,
    gfsb_ops_line_fn *fn, void *cookie) GFSB_WUR;
gfsb_err gfsb_ops_forget_ids_told(const struct gfsb_forget_ids_result *res,
    int dry_run, int quiet, gfsb_ops_line_fn *fn, void *cookie) GFSB_WUR;

/*
 * gfsb_ops_role_names(roles, buf, len):
 * "son/daily, father/weekly, ..." for GFSB_ROLE_* bits.  Returns buf.
 */
char *gfsb_ops_role_names(unsigned roles, char *buf, size_t len);

/*
 * gfsb_ops_policy_show(p, name, days, end, fn, cookie):
 * What the policy p (read from the file name) holds, as gfsbackup policy
 * show prints it: simulate days daily backups up to end (days 0:
 * gfsb_gfs_sim_days(p)), forgetting after each, then tell the policy,
 * the simulation, what is held at the end and at most, per role how many
 * with their ages in days, and that tagged snapshots are kept too.
 * GFSB_EINVAL for an empty policy, GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_policy_show(const struct gfsb_policy *p, const char *name,
    size_t days, const struct gfsb_time *end, gfsb_ops_line_fn *fn,
    void *cookie) GFSB_WUR;

/* ---- prune ---- */

struct gfsb_prune_opts {
	double max_unused; /* per pack, as a fraction (0.05 = 5%) */
	int dry_run;
	int locked;	   /* the caller holds a prune lock */
	int64_t grace;	   /* seconds a pack marked for deletion waits at
			      least (--grace) */
	void (*marked)(void *cookie); /* the first phase is done (as
					 gfsb_compact_opts) */
	void *marked_cookie;
};

struct gfsb_prune_result {
	struct gfsb_compact_stats st;
	size_t snapshots, trees;
	uint64_t leftovers; /* temporary files / multipart uploads removed */
	double seconds;
};

/*
 * gfsb_ops_prune(r, opts, res):
 * Take a prune lock (not for a dry run; backups may run meanwhile), mark
 * every blob the snapshots use (walking all their trees), then compact
 * the repository in two phases (gfsb_repo_compact: what no snapshot uses
 * is marked for deletion, and deleted once no backup that began before
 * may still use it), then, if no other process holds a lock, remove what
 * interrupted writes left behind (gfsb_backend_cleanup: temporary files,
 * unfinished multipart uploads).  If a snapshot needs a blob no index
 * names, the repository is damaged and nothing is deleted (GFSB_ECORRUPT
 * naming the snapshot and blob).
 */
gfsb_err gfsb_ops_prune(struct gfsb_repo *r, const struct gfsb_prune_opts *o,
    struct gfsb_prune_result *res) GFSB_WUR;

/*
 * gfsb_ops_prune_lines(res, max_unused, dry_run, fn, cookie):
 * The prune as gfsbackup prune prints it: the blobs the snapshots use,
 * the packs deleted and repacked, the space freed and left (max_unused as
 * given to gfsb_ops_prune), the leftovers of interrupted writes removed,
 * and the objects waiting on their Object Lock.  With dry_run, what would
 * be done.  GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_prune_lines(const struct gfsb_prune_result *res,
    double max_unused, int dry_run, gfsb_ops_line_fn *fn, void *cookie)
    GFSB_WUR;

/*
 * gfsb_ops_prune_waiting_line(what, n, until, buf, len):
 * "N WHAT wait on their Object Lock, until DATE at the latest; a later
 * run deletes them" (local time), or without a date (until 0) "N WHAT
 * the storage would not delete yet; a later run deletes them".
 * Truncated to len.
 */
void gfsb_ops_prune_waiting_line(const char *what, uint64_t n,
    int64_t until, char *buf, size_t len);

/* ---- repairing the index ---- */

/*
 * gfsb_ops_repair_index(r, o, st):
 * gfsb_repo_index_repair under the lock it needs: exclusive, or shared
 * for a dry run (nothing changes, but a backup writing meanwhile would
 * make the counts wrong).  GFSB_ELOCKED; the repair's errors.
 */
gfsb_err gfsb_ops_repair_index(struct gfsb_repo *r,
    const struct gfsb_index_repair_opts *o,
    struct gfsb_index_repair_stats *st) GFSB_WUR;

/*
 * gfsb_ops_repair_lines(st, dry_run, fn, cookie):
 * gfsb_repo_index_repair's outcome as gfsbackup repair index prints it:
 * what the index names now and before, what was damaged, taken in or left
 * out, the packs salvaged, and what was written and removed (with
 * dry_run: "dry run: nothing was changed").  GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_repair_lines(const struct gfsb_index_repair_stats *st,
    int dry_run, gfsb_ops_line_fn *fn, void *cookie) GFSB_WUR;

/* ---- Object Lock dates ---- */

/* How the dates of a locked repository's objects are derived. */
struct gfsb_lock_opts {
	const struct gfsb_policy *policy; /* the retention policy; NULL:
					     every object gets the margin */
	unsigned group_by;	/* GFSB_GROUP_*; 0: host and paths */
	struct gfsb_time now;
	int64_t margin;		/* seconds beyond the earliest drop */
	const char *ledger;	/* file of the dates known to be set (kept
				   per copy); NULL: read them from storage */
	unsigned threads;	/* requests at once; 0: 4 */
};

struct gfsb_lock_result {
	uint64_t extended;     /* locks extended (PutObjectRetention) */
	uint64_t checked;      /* dates read from storage (HEAD) */
	uint64_t requests;     /* all requests spent on locks */
	uint64_t walked;       /* snapshots walked for their packs */
	uint64_t trees;	       /* trees read on the way */
	uint64_t waiting;      /* objects kept only by their lock */
	int64_t waiting_until; /* the latest of those locks */
	double seconds;
};

/*
 * gfsb_ops_lock_extend(r, lo, res):
 * For a repository locked with S3 Object Lock (gfsb_repo_lock_mode):
 * extend every object's retain-until date to what the retention policy
 * needs (docs/RETENTION.md, "Object Lock dates"): a snapshot until the
 * policy could first drop it, plus lo->margin; a pack until the latest of
 * the snapshots that use it; an index file until the latest of its
 * packs; key files and the config the longest the policy can ask.  Only
 * dates that fall short are extended, one son window beyond the need (so
 * an object in use is extended once per window, not every night); the
 * dates known to be set are remembered in lo->ledger.  Nothing for an
 * unlocked repository.  GFSB_EDENIED if the storage refuses an extension,
 * the storage's errors.
 */
gfsb_err gfsb_ops_lock_extend(struct gfsb_repo *r,
    const struct gfsb_lock_opts *lo, struct gfsb_lock_result *res)
    GFSB_WUR;

/* ---- sync ---- */

struct gfsb_sync_progress {
	uint64_t objects_done, objects_total;
	uint64_t bytes_done, bytes_total;
	double seconds;
};

typedef void gfsb_sync_progress_fn(void *cookie,
    const struct gfsb_sync_progress *p);

/* What a mirror does with what its source deleted. */
enum gfsb_sync_delete {
	GFSB_SYNC_DELETE_AFTER_LOCK = 0, /* delete it too, once no lock
					    holds it (unlocked: at once) */
	GFSB_SYNC_DELETE_NEVER = 1	 /* keep it: an append-only mirror */
};

/* Objects copied at once, at most. */
#define GFSB_SYNC_THREADS_MAX 64
/* Worker threads a backup or restore may be given, at most. */
#define GFSB_THREADS_MAX 64
/* Packs a verification reads at once, at most. */
#define GFSB_VERIFY_THREADS_MAX 16

struct gfsb_sync_opts {
	unsigned threads;   /* objects copied at once; 0 = 4 */
	enum gfsb_sync_delete delete_mode;
	int dry_run;	    /* count what would be done */
	/* A new mirror is locked in this mode (its bucket must have Object
	 * Lock enabled); an existing one must already be (GFSB_LOCK_NONE:
	 * a new mirror is not locked, an existing one as it is). */
	enum gfsb_lock_mode object_lock;
	/* How a locked mirror's dates are derived (policy, margin, ledger,
	 * now); NULL: every object gets GFSB_LOCK_MARGIN_DEFAULT. */
	const struct gfsb_lock_opts *locks;
	/* Cache of a remote mirror's index files: NULL none, "" the default
	 * (as gfsb_repo_set_cache), else that directory. */
	const char *mirror_cache;
	gfsb_sync_progress_fn *progress;
	void *progress_cookie;
};

struct gfsb_sync_result {
	uint64_t copied, copied_bytes; /* objects and bytes copied */
	uint64_t present;	       /* already at the destination */
	uint64_t deleted;	       /* mirrored deletions */
	uint64_t kept;		       /* objects the source no longer has
					  that the mirror keeps */
	uint64_t keys_kept;	       /* key files only the mirror has */
	uint64_t index_written;	       /* index files written for the
					  mirror alone */
	uint64_t failed;	       /* objects that could not be copied */
	uint64_t delete_refused;       /* deletions the storage refused (the
					  objects are kept) */
	int initialized;	       /* the destination was created */
	int upgraded;		       /* its config was given the source's
					  reader keys (version 2) */
	enum gfsb_lock_mode locked;    /* the mirror's Object Lock mode */
	struct gfsb_lock_result locks; /* its locks: extended, waiting */
	double seconds;
	/* Where the time went: each side's requests during the sync. */
	struct gfsb_backend_io src_io, dst_io;
};

/*
 * gfsb_ops_sync(src, dst, opts, res):
 * Make dst (another backend) a copy of src's repository: copy every
 * object dst lacks, checking each one's SHA-256 against its name, and
 * apply what src deleted as opts->delete_mode says.  A destination
 * without a repository is created from src's config and keys.  Key files
 * are only ever added and the config is never written again (but once, to
 * give a mirror made before src became version 2 src's reader keys:
 * res->upgraded, gfsb_repo_mirror_upgrade), so a key
 * added at the mirror alone survives and a passphrase changed at the
 * source leaves the old key at the mirror (res->keys_kept counts keys
 * only the mirror has).  The mirror is consistent at every instant: the
 * snapshots src forgot are deleted (or kept) before src's new index is
 * copied, and a mirror that keeps snapshots src has dropped gets an
 * index file of its own naming their packs before src's new index
 * supersedes the files that named them (res->index_written); superseded
 * index files, then packs, go last.  A pack that src's index still names
 * is never deleted from the mirror, even if src lost it.  Takes a shared
 * lock on src and an exclusive one on dst.  Interrupted, it leaves dst
 * consistent; run again, it copies only what is missing.  An object that
 * cannot be copied stops the sync after its phase (nothing that depends
 * on it is copied, nothing is deleted) with GFSB_ECORRUPT or GFSB_ENET.
 * When src has no snapshot left but dst has some, nothing is deleted and
 * the call ends with GFSB_EINVAL after copying (a wiped source must not
 * wipe its mirror).
 */
gfsb_err gfsb_ops_sync(struct gfsb_repo *src, struct gfsb_backend *dst,
    const struct gfsb_sync_opts *opts, struct gfsb_sync_result *res)
    GFSB_WUR;

/*
 * gfsb_ops_sync_progress_line(p, buf, len):
 * The progress line of a sync ("[0:42] 120 of 400 objects, 412 MiB of
 * 1.0 GiB, 9.8 MB/s").  Truncated to len.
 */
void gfsb_ops_sync_progress_line(const struct gfsb_sync_progress *p,
    char *buf, size_t len);

/*
 * gfsb_ops_sync_lines(res, dry_run, fn, cookie):
 * The sync as gfsbackup sync prints it: what was copied, already present,
 * deleted and failed (with dry_run: what would be copied and deleted,
 * alone); the objects the mirror keeps that the source no longer has,
 * the deletions the storage refused, the key files only at the mirror,
 * and the mirror's Object Lock (locks extended, objects waiting).
 * GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_sync_lines(const struct gfsb_sync_result *res,
    int dry_run, gfsb_ops_line_fn *fn, void *cookie) GFSB_WUR;

/*
 * gfsb_ops_sync_told(e, res, dry_run, quiet, verbose, fn, cookie):
 * What gfsbackup sync says after a sync that returned e: its lines
 * (gfsb_ops_sync_lines) when it succeeded (not when quiet), or when it
 * failed after it had begun (not when refused before: the error alone);
 * with verbose, each side's requests (gfsb_ops_io_line, "source" and
 * "mirror").  GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_sync_told(gfsb_err e, const struct gfsb_sync_result *res,
    int dry_run, int quiet, int verbose, gfsb_ops_line_fn *fn,
    void *cookie) GFSB_WUR;

/* What gfsbackup sync's command line gave besides the options it puts
 * straight into struct gfsb_sync_opts and struct gfsb_lock_opts. */
struct gfsb_sync_args {
	int delete_mode;	/* an enum gfsb_sync_delete; -1: not given */
	int64_t as_of;		/* the source as it stood then; 0: now */
	int connections;	/* transfers at once (--connections); 0:
				   not given */
	const char *cache_dir;	/* NULL: the default cache */
	int no_cache;		/* no cache at all */
	const struct gfsb_policy *policy; /* a locked mirror's dates; NULL:
					     the margin alone */
	const char *ledger;	/* the mirror's ledger of lock dates */
};

/*
 * gfsb_ops_sync_opts_init(a, so, lo):
 * sync's settings before its command line: nothing given (a's delete
 * mode -1), lo's margin GFSB_LOCK_MARGIN_DEFAULT, the rest 0.
 */
void gfsb_ops_sync_opts_init(struct gfsb_sync_args *a,
    struct gfsb_sync_opts *so, struct gfsb_lock_opts *lo);

/*
 * gfsb_ops_sync_settle(a, so, lo):
 * sync's settings once its command line is parsed: the delete mode given,
 * else never for a look at the past (a->as_of: a mirror that holds newer
 * snapshots keeps them) and so's own otherwise; threads as given, else
 * a->connections, else 4; the mirror's cache (none with a->no_cache,
 * else a->cache_dir, else the default); a locked mirror's dates under
 * a->policy, with a->ledger, from now (the clock), so->locks = lo.
 * Thread-safe.
 */
void gfsb_ops_sync_settle(const struct gfsb_sync_args *a,
    struct gfsb_sync_opts *so, struct gfsb_lock_opts *lo);

/* ---- verify ---- */

/* Which packs a verification reads (all of them are checked for
 * structure: present, right size, indexed, every snapshot's tree whole). */
enum gfsb_verify_read {
	GFSB_VERIFY_READ_NONE = 0, /* structure only */
	GFSB_VERIFY_READ_ALL,	   /* every pack */
	GFSB_VERIFY_READ_SLICE,	   /* slice `slice` (1-based) of `slices` */
	GFSB_VERIFY_READ_ROTATE,   /* today's slice of `slices` */
	GFSB_VERIFY_READ_PERCENT   /* `percent` of the packs, at random */
};

/*
 * gfsb_ops_verify_parse_subset(s, read, slice, slices, percent):
 * Parse a --read-data-subset value: "N/T" (1 <= N <= T <= 100000),
 * "rotate/T", or "P%" (0 < P <= 100).  GFSB_EINVAL when malformed.
 */
gfsb_err gfsb_ops_verify_parse_subset(const char *s,
    enum gfsb_verify_read *read, uint32_t *slice, uint32_t *slices,
    double *percent) GFSB_WUR;

/*
 * gfsb_ops_verify_slice_of(pack, slices):
 * The slice (0-based) a pack belongs to: its id's first 8 bytes modulo
 * slices.  A pack keeps its slice for life, so `rotate/T` on T
 * consecutive days reads every pack once, new packs included.
 */
uint32_t gfsb_ops_verify_slice_of(const uint8_t pack[GFSB_ID_LEN],
    uint32_t slices);

/*
 * gfsb_ops_verify_day(t):
 * The local calendar day of t as a day number (days since 1970-01-01),
 * the clock that `rotate/T` and the state file count in.
 */
int64_t gfsb_ops_verify_day(const struct gfsb_time *t);

struct gfsb_verify_progress {
	const char *phase;	 /* "index", "snapshots", "trees", "read" */
	uint64_t done, total;	 /* in the phase's own unit */
	uint64_t bytes;		 /* read so far */
	double seconds;
};

typedef void gfsb_verify_progress_fn(void *cookie,
    const struct gfsb_verify_progress *p);

/*
 * gfsb_ops_verify_progress_line(p, buf, len):
 * The progress line of a verification: "[0:42] reading packs: 12 of 40,
 * 412 MiB" while reading, "[0:03] checking trees: 120 of 400" in a phase
 * with a known total, "[0:01] checking index" otherwise.  Truncated to
 * len.
 */
void gfsb_ops_verify_progress_line(const struct gfsb_verify_progress *p,
    char *buf, size_t len);

struct gfsb_verify_opts {
	enum gfsb_verify_read read;
	uint32_t slice, slices;
	double percent;
	struct gfsb_time now;	/* "today" for rotate/T and the state file */
	const char *state_file; /* read dates and nightly sizes; NULL: none */
	unsigned threads;	/* packs read at once; 0: 2 */
	size_t max_files;	/* broken files listed; 0: 1000 */
	/* The retention policy, to tell snapshots the policy dropped from
	 * snapshots that vanished (NULL: gone snapshots are a warning), and
	 * how it groups snapshots (GFSB_GROUP_*; 0: host and paths). */
	const struct gfsb_policy *policy;
	unsigned group_by;
	int no_lock;		/* take no lock (read-only credentials) */
	/* Object Lock: the mode the repository must be locked in (its
	 * config saying otherwise is a finding; GFSB_LOCK_NONE: whatever it
	 * says), and the margin its dates were derived with.  With a policy,
	 * a locked repository's dates are read (HEAD) for the config, keys,
	 * index files, snapshots and the packs read tonight, and each that
	 * falls short of what the policy needed a day ago is a finding. */
	enum gfsb_lock_mode expect_lock;
	int64_t lock_margin;	/* 0: GFSB_LOCK_MARGIN_DEFAULT */
	gfsb_verify_progress_fn *progress;
	void *progress_cookie;
};

/* A damaged object. */
struct gfsb_verify_damage {
	char kind[12];	      /* "key", "index", "snapshot", "pack", "blob" */
	char id[GFSB_ID_HEX]; /* its name */
	char *why;
};

/* A file (or directory) a damaged object breaks. */
struct gfsb_verify_broken {
	char snapshot[GFSB_ID_HEX];
	char *path;
	char *why;
};

/* A night in the state file's history. */
struct gfsb_verify_night {
	int64_t day;	    /* gfsb_ops_verify_day */
	uint64_t repo_size; /* bytes stored */
	uint64_t packs, snapshots;
	uint64_t new_data;  /* packed bytes the day's snapshots added */
};

struct gfsb_verify_result {
	size_t keys, index_files, snapshots, trees;
	uint64_t data_blobs;		/* distinct data blobs used */
	uint64_t packs, pack_bytes;	/* stored packs the index names */
	uint64_t repo_bytes;		/* everything stored */
	uint64_t packs_read, bytes_read, blobs_read;
	uint64_t duplicates, orphaned;
	size_t locks_live, locks_stale;
	char mode[64];			/* "rotate/7: slice 3 of 7", ... */

	struct gfsb_verify_damage *damage;
	size_t ndamage;
	char **warnings;
	size_t nwarnings;
	struct gfsb_verify_broken *broken; /* at most opts.max_files */
	size_t nbroken;
	uint64_t broken_total;
	char (*broken_snapshots)[GFSB_ID_HEX];
	size_t nbroken_snapshots;
	char (*read)[GFSB_ID_HEX];	/* the packs read, sorted */
	size_t nread;

	/* Tamper evidence: changes to the history since the state file's
	 * last verification (snapshots gone that the policy keeps, key
	 * files added or removed, the config changed, new snapshots that
	 * claim to be old).  Each is a failure, like damage. */
	char **tamper;
	size_t ntamper;
	uint64_t locks_checked;		/* Object Lock dates read */
	uint64_t locks_short;		/* ... that fell short */

	/* Coverage, from the state file (have_state 0: none given). */
	int have_state;
	int64_t days_since_all_read;	/* -1: a pack overdue, or (not
					   rotate/T) never read */
	uint64_t never_read;
	uint64_t overdue;		/* rotate/T: never read though
					   their night came since */
	struct gfsb_verify_night *nights; /* oldest first */
	size_t nnights;

	double seconds;
};

/*
 * gfsb_ops_verify(r, opts, res):
 * Check the repository (with its index not yet loaded): every key file,
 * index file and snapshot opens; every tree of every snapshot opens and
 * every blob it uses is indexed; every pack the index names is stored
 * with the size its entries imply.  Then read the packs opts selects,
 * each whole from storage (never from the cache): its SHA-256 against its
 * name, its header against the index, and every blob in it.  What is
 * damaged is mapped to the snapshots and files it breaks.  Orphaned packs,
 * duplicate blobs and stale locks are warnings.  Takes a shared lock (a
 * prune cannot delete what is being read).  With a state file, packs read
 * cleanly are recorded with today's date and tonight's repository size is
 * added to the history, for coverage and the report.  On a read-only view
 * of the past (gfsb_backend_as_of) locks are neither taken nor counted,
 * and a state file is refused (GFSB_EINVAL): it records the present.
 * Returns GFSB_OK when the check ran, damage or not (res says); an error
 * only when it could not run (storage unreachable: GFSB_ENET/GFSB_EIO,
 * GFSB_ELOCKED, GFSB_ENOMEM, GFSB_ECANCELED).  Free res with
 * gfsb_ops_verify_result_fini.
 */
gfsb_err gfsb_ops_verify(struct gfsb_repo *r,
    const struct gfsb_verify_opts *opts, struct gfsb_verify_result *res)
    GFSB_WUR;
void gfsb_ops_verify_result_fini(struct gfsb_verify_result *res);

/* ---- the report's facts ---- */

/*
 * gfsb_ops_report_verify(rep, res, now):
 * Put a verification's outcome in the report: packs and bytes read, the
 * read mode, the coverage, the repository size, every damage and broken
 * file and warning (as gfsb_ops_report_verify_problems with no prefix),
 * and the last GFSB_REPORT_DAYS nights of res's history, the newest being
 * now's local calendar day (now: the opts.now the verification ran with).
 * Reads nothing else of rep, so it may come before or after the other
 * facts are filled.  GFSB_ENOMEM (rep then holds part of it, and is still
 * freed by gfsb_report_fini).
 */
gfsb_err gfsb_ops_report_verify(struct gfsb_report *rep,
    const struct gfsb_verify_result *res, const struct gfsb_time *now)
    GFSB_WUR;

/*
 * gfsb_ops_report_verify_problems(rep, res, prefix):
 * Add a verification's damage, broken files (with a last line for those
 * beyond res->nbroken) and warnings to the report, each line starting
 * with prefix ("offsite: " for a mirror; "" for none).  GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_report_verify_problems(struct gfsb_report *rep,
    const struct gfsb_verify_result *res, const char *prefix) GFSB_WUR;

/*
 * gfsb_ops_report_verify_stage(res, summary, len):
 * The verification's row in the report's stages: its status (FAILED for
 * damage, WARNING for warnings, else OK), returned, and its one-line
 * summary, written to summary (truncated to len).
 */
enum gfsb_report_status gfsb_ops_report_verify_stage(
    const struct gfsb_verify_result *res, char *summary, size_t len);

/* A verification's findings clean: no damage, no broken file, no change
 * to the history. */
int gfsb_ops_verify_clean(const struct gfsb_verify_result *res);

/*
 * gfsb_ops_verify_lines(res, fn, cookie):
 * The verification told as gfsbackup verify prints it, a line at a time
 * (no newline): warnings, what was checked and read, coverage, each
 * damaged object and broken file, the Object Lock dates, the history's
 * changes, and the verdict with what to do.  GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_verify_lines(const struct gfsb_verify_result *res,
    gfsb_ops_line_fn *fn, void *cookie) GFSB_WUR;

/*
 * gfsb_ops_verify_json(res, now):
 * The verification as a malloc'd JSON object (gfsbackup verify --json:
 * status, time, mode, counts, damage, broken, broken_snapshots,
 * warnings, history_changed, packs_read, coverage).  NULL: no memory.
 */
char *gfsb_ops_verify_json(const struct gfsb_verify_result *res,
    const struct gfsb_time *now);

/* ---- the offsite bucket's policy ---- */

/* Days a replaced or deleted version is kept by the lifecycle rule, by
 * default and at most; days before an unfinished upload is aborted. */
#define GFSB_BUCKET_NONCURRENT_DAYS 30
#define GFSB_BUCKET_NONCURRENT_DAYS_MAX 36500
#define GFSB_BUCKET_ABORT_UPLOAD_DAYS 7

struct gfsb_bucket_policy_opts {
	const char *url;	  /* s3://BUCKET[/PREFIX] of the offsite copy */
	const char *server;	  /* ARN of the user or role the backed-up
				     server writes with */
	const char *verifier;	  /* ARN of the verifier's read-only
				     principal; NULL: none */
	unsigned noncurrent_days; /* lifecycle; 0: the default */
};

struct gfsb_bucket_policy {
	char *policy;	 /* the bucket policy, JSON */
	char *lifecycle; /* the lifecycle configuration, JSON in the form of
			    aws s3api put-bucket-lifecycle-configuration */
	char *guide;	 /* the owner's steps on AWS and Ceph RGW: a shell
			    script, explained in its comments */
};

/*
 * gfsb_ops_bucket_policy(ctx, o, out):
 * What the owner of the offsite bucket applies so that the copy outlives
 * an attacker who owns the server (docs/OFFSITE-SECURITY.md), as text:
 * nothing is sent.  The policy allows the server exactly the requests the
 * S3 backend makes on the prefix (reads, writes, delete markers, lock
 * extensions, listings of keys and versions under the prefix, the
 * bucket's Object Lock and versioning settings, unfinished uploads),
 * denies the server and the verifier everything that could shorten or
 * remove history (deleting versions, bypassing GOVERNANCE locks, legal
 * holds, versioning, Object Lock and lifecycle settings, the policy
 * itself, ACLs, the bucket), and allows the verifier reads only, denying
 * it every object write.  The lifecycle rule expires replaced and
 * deleted versions under the prefix after o->noncurrent_days (Object
 * Lock keeps locked ones longer), lone delete markers, and unfinished
 * uploads after GFSB_BUCKET_ABORT_UPLOAD_DAYS.  The same options give
 * the same bytes.  GFSB_EINVAL, with a one-line message in ctx, for a
 * URL that is not s3://BUCKET[/PREFIX], a prefix with '*', '?' or '${'
 * (a policy's wildcards and variables), a missing server, an ARN that is
 * not arn:PARTITION:iam::ACCOUNT:user/NAME or role/NAME (or
 * arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION), a verifier that
 * is the server, or more than GFSB_BUCKET_NONCURRENT_DAYS_MAX days.
 * GFSB_ENOMEM.  On success the caller frees *out with
 * gfsb_ops_bucket_policy_fini; on failure *out is untouched.
 * Thread-safe.
 */
gfsb_err gfsb_ops_bucket_policy(struct gfsb_ctx *ctx,
    const struct gfsb_bucket_policy_opts *o, struct gfsb_bucket_policy *out)
    GFSB_WUR;
void gfsb_ops_bucket_policy_fini(struct gfsb_bucket_policy *bp);

/* ---- the state directory ---- */

/*
 * gfsb_ops_state_base(ctx, dir, base, len):
 * The state directory: dir, else $GFSBACKUP_STATE_DIR, $STATE_DIRECTORY
 * (systemd's; the first of several), $XDG_STATE_HOME/gfsbackup or
 * ~/.local/state/gfsbackup.  GFSB_EINVAL (said in ctx) when none is set.
 */
gfsb_err gfsb_ops_state_base(struct gfsb_ctx *ctx, const char *dir,
    char *base, size_t len) GFSB_WUR;

/* What a state file holds, for one copy of a repository. */
enum gfsb_state_kind {
	GFSB_STATE_VERIFY = 0,	/* verification history (verify-*.json) */
	GFSB_STATE_LOCKS,	/* Object Lock ledger (locks-*.bin) */
	GFSB_STATE_DRILL	/* restore drill record (drill-*.json) */
};

/*
 * gfsb_ops_state_file(ctx, dir, r, be, kind, out):
 * The state file of that kind for repository r at backend be (a mirror has
 * the repository's id, and files of its own):
 * STATE/<repository id>/<kind>-<hash of be's location>.<ext>, STATE from
 * gfsb_ops_state_base(dir).  *out is malloc'd.  GFSB_EINVAL, GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_state_file(struct gfsb_ctx *ctx, const char *dir,
    struct gfsb_repo *r, struct gfsb_backend *be, enum gfsb_state_kind kind,
    char **out) GFSB_WUR;

/* ---- the report: its facts, and its delivery ---- */

/*
 * gfsb_ops_report_fill_repo(r, rep, name, pol, now):
 * The report's host, repository (name, else the backend's location),
 * newest backup (a warning when it is older than 30 hours or skipped
 * files) and each snapshot's GFS roles under pol (may be NULL).  What
 * cannot be read is an error line of the report, not a failure: only
 * GFSB_ENOMEM is returned.
 */
gfsb_err gfsb_ops_report_fill_repo(struct gfsb_repo *r,
    struct gfsb_report *rep, const char *name, const struct gfsb_policy *pol,
    const struct gfsb_time *now) GFSB_WUR;

/*
 * gfsb_ops_report_fill_offsite(r, rep, dst, url, threads):
 * Compare repository r with its mirror at dst (a dry-run sync with that
 * many transfers): in sync, behind (a warning: how much), or unknown (an
 * error line saying why).  Only GFSB_ENOMEM is returned.
 */
gfsb_err gfsb_ops_report_fill_offsite(struct gfsb_repo *r,
    struct gfsb_report *rep, struct gfsb_backend *dst, const char *url,
    unsigned threads) GFSB_WUR;

/* Where a report goes. */
struct gfsb_report_delivery {
	const char *dir;		 /* saved here; NULL: not saved */
	unsigned keep_days;		 /* older saved reports go; 0: none */
	const struct gfsb_mail_opts *mail; /* NULL or url NULL: not mailed */
	int failures_only;		 /* mail only reports that are not OK */
};

/*
 * gfsb_ops_report_deliver(ctx, rep, d):
 * Render the report; save it as DIR/report-<local time>.{txt,html} (mode
 * 0600, through temporary names) and remove saved reports dated more
 * than keep_days calendar days back; mail it when d says so.  A report
 * that cannot be mailed is still saved.  GFSB_OK, or the failure with one
 * line in ctx: GFSB_EIO (not saved), or gfsb_mail_send's error ("the
 * report was not mailed: ...; it is kept in DIR"); when both failed the
 * first is logged as an error.  Thread-safe for distinct contexts.
 */
gfsb_err gfsb_ops_report_deliver(struct gfsb_ctx *ctx,
    const struct gfsb_report *rep, const struct gfsb_report_delivery *d)
    GFSB_WUR;

/* ---- the daily job's configuration ---- */

/* When the job prunes (after its forget stage). */
enum gfsb_prune_when {
	GFSB_PRUNE_NEVER = 0,
	GFSB_PRUNE_DAILY,
	GFSB_PRUNE_WEEKLY
};

/* Saved reports: days kept by default, and at most. */
#define GFSB_CONFIG_KEEP_DAYS 90
#define GFSB_CONFIG_KEEP_DAYS_MAX 36500

/* gfsbackup.conf(5), checked: every path absolute, every secret file
 * private, the settings that need each other given together. */
struct gfsb_config {
	char *path;

	/* [repository] */
	char *repo_url;
	char *password_file;
	char *cache_dir;
	char *state_dir;
	int64_t retry_lock;		/* seconds; 0: fail at once */

	/* [offsite] (offsite_url NULL: none) */
	char *offsite_url;
	char *offsite_endpoint;
	char *offsite_region;
	char *offsite_credentials;
	char *offsite_cacert;
	enum gfsb_lock_mode offsite_lock;	/* a new mirror's mode */
	enum gfsb_sync_delete offsite_delete;
	int64_t lock_margin;			/* seconds */

	/* [backup] */
	char **paths;
	size_t npaths;
	char **excludes;
	size_t nexcludes;
	char *exclude_file;
	int exclude_caches;
	char **exclude_if_present;
	size_t nexclude_if_present;
	uint64_t exclude_larger_than;	/* 0: none */
	int one_file_system;
	char *host;
	char **tags;
	size_t ntags;

	/* [retention] (policy NULL: no retention stage) */
	struct gfsb_policy *policy;
	char *policy_file;
	enum gfsb_prune_when prune;

	/* [verify] */
	enum gfsb_verify_read read;
	uint32_t slice, slices;
	double percent;
	char *subset;
	uint64_t drill;			/* sample bytes; 0: no drill */
	unsigned drill_every;		/* days between drills */
	char *drill_scratch;		/* NULL: $TMPDIR or /var/tmp */

	/* [report] */
	char *smtp_url;
	char *mail_from;
	char **mail_to;
	size_t nmail_to;
	char *smtp_user;
	char *smtp_password_file;
	char *smtp_cacert;
	int send_failures_only;
	char *report_dir;
	unsigned report_keep_days;	/* 0: keep every saved report */
	int64_t rto;			/* recovery-time objective, s; 0: none */

	/* [databases]: each dumped into a file of one snapshot a night */
	char **pg_databases;		/* pg_dump */
	size_t npg_databases;
	char **pg_options;		/* pg_dump's options, before the name */
	size_t npg_options;
	char **mysql_databases;		/* mysqldump */
	size_t nmysql_databases;
	char **mysql_options;
	size_t nmysql_options;

	/* [hooks] (NULL: none) */
	char *hook_before;		/* before the backup */
	char *hook_after;		/* after it, whatever its outcome */
	char *hook_on_error;		/* at the end, when a stage failed */
	int64_t hook_timeout;		/* seconds; 0: GFSB_HOOK_TIMEOUT */

	/* [monitor] (NULL: none) */
	char *ping_url;			/* a Healthchecks-style check */
	char *metrics_file;		/* Prometheus text exposition */
};

/*
 * gfsb_config_load(ctx, path, cfg):
 * Read and check the configuration file at path (INI, libinih).  The file,
 * and every passphrase, password or credentials file it names, must be a
 * regular file of the user running gfsbackup (or root) that nobody else
 * can read or write.  A list value (paths, exclude, tags, to) is split on
 * blanks; an item in double quotes may hold blanks, with \" and \\ for a
 * quote and a backslash.  GFSB_EINVAL, with one line in ctx
 * ("FILE:LINE: [section] key: what is wrong", or "FILE: what is missing"),
 * for a file that is missing, unreadable, not private or wrong in any
 * way; GFSB_EIO if reading it fails midway; GFSB_ENOMEM.  On failure cfg
 * is left empty; else free it with gfsb_config_fini.  Thread-safe.
 */
gfsb_err gfsb_config_load(struct gfsb_ctx *ctx, const char *path,
    struct gfsb_config *cfg) GFSB_WUR;
void gfsb_config_fini(struct gfsb_config *cfg);

/* An empty configuration with the defaults gfsb_config_load starts
 * from (weekly prune, rotate/7, drills every 7 days...). */
void gfsb_config_init(struct gfsb_config *cfg);

/* ---- the daily job ---- */

#define GFSB_RUN_MAX_STAGES 16

/* How to open a repository (gfsb_ops_open). */
struct gfsb_pass_source;
struct gfsb_open_opts {
	const char *url;	/* a directory or s3://BUCKET/PREFIX */
	const struct gfsb_backend_opts *remote; /* NULL: the defaults */
	int64_t as_of;		/* read it as it stood then; 0: now */
	const struct gfsb_pass_source *pass; /* the passphrase's sources */
	int64_t retry_lock;	/* seconds to wait for a conflicting lock */
	const char *cache_dir;	/* the metadata cache (remote only); NULL:
				   the default */
	int no_cache;		/* no cache at all */
};

/* What gfsb_ops_open was doing when it failed. */
enum gfsb_open_step {
	GFSB_OPEN_BACKEND,	/* the URL, the server, --as-of's past */
	GFSB_OPEN_PROBE,	/* is a repository there? */
	GFSB_OPEN_PASS,		/* reading the passphrase (gfsb_pass_read) */
	GFSB_OPEN_KEY,		/* the key and the repository */
	GFSB_OPEN_CACHE		/* the metadata cache */
};

/*
 * gfsb_ops_open(ctx, o, be, r, step):
 * Open the repository at o->url as every command does: the backend (as
 * of o->as_of), a probe that a repository is there (GFSB_ENOREPO before
 * any passphrase is asked for), the passphrase from o->pass, the key it
 * opens (GFSB_EAUTH), then the lock wait and the cache.  On failure
 * *step says at which step, *be is what was opened so far (or NULL; the
 * caller closes it) and *r is NULL.
 */
gfsb_err gfsb_ops_open(struct gfsb_ctx *ctx, const struct gfsb_open_opts *o,
    struct gfsb_backend **be, struct gfsb_repo **r,
    enum gfsb_open_step *step) GFSB_WUR;

/*
 * gfsb_ops_repo_url(ctx, given, url):
 * The repository a command works on: given (-r), else
 * $GFSBACKUP_REPOSITORY.  *url is one of them (borrowed), set only on
 * success.  GFSB_EINVAL, with "no repository: give -r REPO or set
 * GFSBACKUP_REPOSITORY" as the context's only line (a usage error:
 * nothing was done), when neither names one (unset or empty).
 * Thread-safe when ctx is not shared.
 */
gfsb_err gfsb_ops_repo_url(struct gfsb_ctx *ctx, const char *given,
    const char **url) GFSB_WUR;

/*
 * gfsb_ops_open_exit(ctx, e, step):
 * The exit status of a repository that could not be opened
 * (gfsb_ops_open failed with e at step; GFSB_OPEN_PASS also for
 * gfsb_pass_read on its own).  2, nothing was done: a malformed URL or
 * endpoint, or an --as-of where there is no past (GFSB_EINVAL at
 * GFSB_OPEN_BACKEND); no passphrase source (GFSB_ENOTFOUND reading it:
 * the context's only line then names the sources there are) or a
 * passphrase file that cannot be used (GFSB_EINVAL).  1 for any other
 * failure reading the passphrase.  Else gfsb_ops_exit_status(e).
 */
int gfsb_ops_open_exit(struct gfsb_ctx *ctx, gfsb_err e,
    enum gfsb_open_step step);

/* One stage of the job, as it ended. */
struct gfsb_run_stage {
	const char *name;	/* open, backup, forget, prune, locks, sync,
				   verify, verify-offsite, drill */
	gfsb_err err;		/* why it failed; GFSB_OK if it did not */
	int partial;		/* backup: some source files were not read */
	enum gfsb_report_status status;
	char summary[512];	/* one line: what it did, or why not */
	double seconds;
};

typedef void gfsb_run_stage_fn(void *cookie, const struct gfsb_run_stage *st,
    int dry_run);

struct gfsb_run_opts {
	const struct gfsb_config *cfg;
	struct gfsb_ctx *ctx;
	/* The repository at cfg->repo_url: opened by the job with open's
	 * settings (its url aside; gfsb_ops_open) and closed at its end, or
	 * else given by the caller (repo; NULL if it could not be opened,
	 * with why in open_err and open_error).  When it cannot be opened,
	 * every stage that needs it fails, and the report says so. */
	const struct gfsb_open_opts *open;
	struct gfsb_repo *repo;
	gfsb_err open_err;
	const char *open_error;
	/* The offsite copy at cfg->offsite_url: opened by the job when
	 * open is given (open->remote under the [offsite] settings,
	 * gfsb_ops_run_open_offsite), else the caller's; NULL with why in
	 * offsite_error when it could not be. */
	struct gfsb_backend *offsite;
	const char *offsite_error;
	const char *state_base;	/* gfsb_ops_state_base(cfg->state_dir) */
	const char *cache_dir;	/* NULL: the default cache */
	int no_cache;		/* no cache at all */
	unsigned connections;	/* transfers at once (sync, locks); 0: 4 */
	int dry_run;		/* say what each stage would do */
	struct gfsb_time now;	/* the job's time (snapshots, retention,
				   slices, drills, the report) */
	int has_time;		/* now was given, not read from the clock */
	gfsb_run_stage_fn *stage_done;	/* each stage as it ends, or NULL */
	gfsb_restore_progress_fn *drill_progress;
	void *cookie;		/* for both */
};

struct gfsb_run_result {
	struct gfsb_run_stage stages[GFSB_RUN_MAX_STAGES];
	size_t nstages;
	/* The job's outcome: the first stage that failed (its error), else
	 * partial if the backup missed files.  Also a report that could not
	 * be delivered (report_err). */
	const struct gfsb_run_stage *failed;
	int partial;
	char snapshot[GFSB_ID_HEX];	/* the night's snapshot, or "" */
	struct gfsb_report rep;		/* the report's facts */
	char report_dir[4200];		/* where it is saved */
	gfsb_err report_err;		/* delivery failed: why (in ctx) */
	double report_seconds;		/* assembling and delivering it */
	/* [monitor]: a ping not answered, or a metrics file not written
	 * (GFSB_OK: fine); neither fails the job. */
	gfsb_err ping_err, metrics_err;
	char ping_error[600], metrics_error[600];
};

/*
 * gfsb_ops_run(o, res):
 * The daily job: backup; forget and prune under cfg->policy (prune on its
 * schedule, weekly by default, remembered in the state directory);
 * extend the repository's Object Lock dates; sync to the offsite copy;
 * verify the repository and the offsite copy (cfg's slice of the data);
 * the restore drill when it is due; the report, saved and mailed as cfg
 * says.  A stage that fails does not stop the others: each runs if what
 * it needs is there.  Each ends in res->stages (and o->stage_done); a dry
 * run changes nothing and says what each stage would do.  Returns
 * GFSB_OK once every stage has had its turn (their failures are in res),
 * or GFSB_ENOMEM.  Free res with gfsb_ops_run_result_fini.
 */
gfsb_err gfsb_ops_run(const struct gfsb_run_opts *o,
    struct gfsb_run_result *res) GFSB_WUR;
void gfsb_ops_run_result_fini(struct gfsb_run_result *res);

/* The exit statuses (ARCHITECTURE.md, the command-line surface). */
#define GFSB_EXIT_OK 0
#define GFSB_EXIT_FATAL 1
#define GFSB_EXIT_USAGE 2
#define GFSB_EXIT_PARTIAL 3	/* a backup that missed files */
#define GFSB_EXIT_NOREPO 10
#define GFSB_EXIT_LOCKED 11
#define GFSB_EXIT_WRONGPASS 12
#define GFSB_EXIT_INTERRUPTED 130 /* SIGINT, SIGTERM or SIGHUP; restic's */

/*
 * gfsb_ops_exit_status(e):
 * The exit status of a command that failed with e (GFSB_OK: 0).
 * Thread-safe.
 */
int gfsb_ops_exit_status(gfsb_err e);

/*
 * gfsb_ops_config_exit(e):
 * The exit status of a command whose configuration file or policy
 * could not be used (it failed with e): 2, nothing was done; 1 only
 * when memory ran out.  Thread-safe.
 */
int gfsb_ops_config_exit(gfsb_err e);

/*
 * gfsb_ops_run_stage_exit(st), gfsb_ops_run_exit(res):
 * A stage's exit status: its failure's, else 3 for a partial backup.
 * The job's: its first failed stage's, else 1 for a report not
 * delivered, else 3 for a partial backup, else 0.  Thread-safe.
 */
int gfsb_ops_run_stage_exit(const struct gfsb_run_stage *st);
int gfsb_ops_run_exit(const struct gfsb_run_result *res);

/*
 * gfsb_ops_run_json(res, now, dry_run):
 * The job's outcome as JSON (run --json): its status, exit status, time
 * (now), whether it was a dry run, the snapshot, and each stage's name,
 * status, exit status, summary and seconds.  malloc'd; NULL when out of
 * memory.
 */
char *gfsb_ops_run_json(const struct gfsb_run_result *res,
    const struct gfsb_time *now, int dry_run);

/*
 * gfsb_ops_run_report_lines(cfg, res, dry_run, fn, cookie):
 * Where the report went, as warning lines (the journal's): "report:
 * STATUS: saved in DIR (S s)", or NOT DELIVERED (the error itself is the
 * context's), or what a dry run would do; then one "monitor: ..." line
 * for each [monitor] action that failed.  GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_run_report_lines(const struct gfsb_config *cfg,
    const struct gfsb_run_result *res, int dry_run, gfsb_ops_line_fn *fn,
    void *cookie) GFSB_WUR;

/*
 * gfsb_ops_run_lock(ctx, cfg, state_base, fd):
 * Two runs of one configuration never overlap: an exclusive flock on
 * STATE/run-<hash of the configuration's real path>.lock, which records
 * "pid N since TIME".  *fd holds it until closed.  GFSB_ELOCKED ("another
 * run of FILE is in progress (pid N since T)"), GFSB_EIO.
 */
gfsb_err gfsb_ops_run_lock(struct gfsb_ctx *ctx, const struct gfsb_config *cfg,
    const char *state_base, int *fd) GFSB_WUR;

/* The daily job's settings, made once (gfsb_ops_run_settle).  run's
 * pointers point into it: keep it in place until the job has run. */
struct gfsb_run_settings {
	struct gfsb_config cfg;		/* the job's configuration */
	struct gfsb_pass_source pass;	/* its passphrase's sources */
	struct gfsb_open_opts open;	/* how the job opens its repository */
	char state_base[4096];		/* its state directory */
	int lockfd;			/* the run lock (gfsb_ops_run_lock) */
	struct gfsb_run_opts run;	/* for gfsb_ops_run */
	int exit;			/* on failure: the exit status */
	int usage;			/* ... and it is a usage error */
};

/*
 * gfsb_ops_run_settle(ctx, config, g, s):
 * gfsbackup run --config's settings, made once, in this order: a
 * configuration must be named (config; "": "--config: no file given")
 * and be the repository's (g->url NULL: -r conflicts with it); the
 * file is loaded (gfsb_config_load); its state directory
 * (gfsb_ops_state_base(cfg.state_dir)) and the run lock there
 * (gfsb_ops_run_lock) are taken.  Then the configuration is laid over
 * the global options g (the command line's; g->pass its passphrase
 * sources): the passphrase file is the configuration's (none if it
 * names none), its cache directory wins when it names one, and the
 * command line's --retry-lock when given.  s->run is gfsb_ops_run's
 * options for them (cfg, ctx, state_base, open, cache, connections
 * from g->remote); its time, dry run and callbacks are the caller's.
 * On failure the context holds one line and s->exit the exit status:
 * 2 with s->usage for a configuration not named or the conflict
 * (GFSB_EINVAL) and for no state directory (GFSB_EINVAL, the line ends
 * "(--state-dir)"); 2 for a file that cannot be used (GFSB_EINVAL);
 * 1 when reading it fails midway (GFSB_EIO) or memory runs out; the
 * lock's (11 for GFSB_ELOCKED, 1 for GFSB_EIO).  Release s with
 * gfsb_ops_run_settings_fini in every case.
 */
gfsb_err gfsb_ops_run_settle(struct gfsb_ctx *ctx, const char *config,
    const struct gfsb_open_opts *g, struct gfsb_run_settings *s) GFSB_WUR;
void gfsb_ops_run_settings_fini(struct gfsb_run_settings *s);

/*
 * gfsb_ops_run_open_offsite(ctx, cfg, base, out):
 * The offsite copy cfg->offsite_url names, opened with the remote
 * settings base (the global ones, may be NULL) but with the [offsite]
 * section's endpoint, region, credentials and CA certificates (unset:
 * the defaults, not base's).  As gfsb_backend_open_opts.
 */
gfsb_err gfsb_ops_run_open_offsite(struct gfsb_ctx *ctx,
    const struct gfsb_config *cfg, const struct gfsb_backend_opts *base,
    struct gfsb_backend **out) GFSB_WUR;

/* ---- the daily job's hooks ---- */

/* Seconds a hook may run, by default. */
#define GFSB_HOOK_TIMEOUT 600

/*
 * gfsb_ops_hook_run(ctx, name, cmd, timeout, env):
 * Run cmd with /bin/sh in a process group of its own, env's "NAME=value"
 * strings (NULL-terminated; may be NULL) added to its environment, its
 * output read (the last line kept), and the group killed when it runs
 * longer than timeout seconds (0: GFSB_HOOK_TIMEOUT).  GFSB_OK when it
 * exits 0; else GFSB_EIO with "NAME hook: exit status N: its last line"
 * (or "killed after N s", "killed by signal N") in ctx.
 */
gfsb_err gfsb_ops_hook_run(struct gfsb_ctx *ctx, const char *name,
    const char *cmd, int64_t timeout, char *const *env) GFSB_WUR;

/* ---- monitoring ---- */

/* What a ping says: the job started, ended well, or failed. */
enum gfsb_ping {
	GFSB_PING_START,
	GFSB_PING_SUCCESS,
	GFSB_PING_FAIL
};

/*
 * gfsb_ops_monitor_ping(ctx, url, what, body):
 * A Healthchecks-style dead-man's switch: GET url/start, url, or POST
 * url/fail with body (the first error line).  Three tries (1 s, then 2 s
 * apart), 10 s each; a 2xx answer is success.  GFSB_ENET with why in ctx
 * when no try was answered, GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_monitor_ping(struct gfsb_ctx *ctx, const char *url,
    enum gfsb_ping what, const char *body) GFSB_WUR;

/*
 * gfsb_ops_monitor_metrics(ctx, path, res, last_success):
 * The job's outcome as Prometheus's text exposition format (every sample
 * labelled with the host): when it ran and last succeeded, its status,
 * each stage's duration and failure, the newest backup's files and bytes
 * added, the repository's size, snapshots per GFS role, the
 * verification's coverage, overdue packs and damage, the offsite copy's
 * lag, the drill's projected restore time.  Written to a temporary file
 * beside path (mode 0644), synced and renamed over it, so a reader never
 * sees half of it.  GFSB_EIO ("metrics file PATH: ...") when it cannot
 * be written, GFSB_ENOMEM.
 */
gfsb_err gfsb_ops_monitor_metrics(struct gfsb_ctx *ctx, const char *path,
    const struct gfsb_run_result *res, int64_t last_success) GFSB_WUR;

/* ---- the morning check: verify, drill and report on their own ---- */

/*
 * What a verification's command line gave (NULL or 0: not given), to be
 * laid over the daily job's configuration: gfsbackup verify's options,
 * whose names the errors use.
 */
struct gfsb_check_args {
	const char *config;		/* --config FILE, or NULL */
	const char *repo_url;		/* -r */
	const char *password_file;
	const char *cache_dir;
	const char *state_dir;
	int64_t retry_lock;
	int no_state;
	int as_of;			/* the past is read: no state */
	int have_read;			/* read..percent were given */
	enum gfsb_verify_read read;
	uint32_t slice, slices;
	double percent;
	const char *policy_file;
	int64_t lock_margin;
	const char *offsite_url;	/* then the global S3 options apply */
	const char *report_dir;
	int mail;			/* --mail */
	const char *smtp_url;
	const char *mail_from;
	const char *const *mail_to;
	size_t nmail_to;
	const char *smtp_user;
	const char *smtp_password_file;
	const char *smtp_cacert;
	int mail_on;			/* 0: not given; 1: always; 2: failure */
	uint64_t drill;			/* --drill SIZE; 0: no drill */
	const char *drill_scratch;
	int64_t rto;
};

/*
 * gfsb_ops_check_settle(ctx, a, cfg):
 * The settings a verification runs with, made once: the configuration
 * file a->config (gfsb_config_load) or, without one, the defaults with
 * no data read; then what a gave, which wins.  The mail settings are the
 * command line's when it gives --smtp-url, else the file's; none unless
 * a->mail.  A drill is made only when a asks (a->drill), and always then
 * (cfg->drill_every 0).  GFSB_EINVAL with one line in ctx for a file
 * that cannot be used or settings that do not go together (nothing was
 * done); GFSB_EIO, GFSB_ENOMEM.  On failure cfg is left empty; else free
 * it with gfsb_config_fini.
 */
gfsb_err gfsb_ops_check_settle(struct gfsb_ctx *ctx,
    const struct gfsb_check_args *a, struct gfsb_config *cfg) GFSB_WUR;

struct gfsb_check_opts {
	/* cfg (from gfsb_ops_check_settle), ctx, repo (open, its index not
	 * yet loaded), offsite (cfg->offsite_url opened, else NULL with why
	 * in offsite_error), state_base, now, drill_progress, cookie and
	 * stage_done, as for the daily job; the rest is not used. */
	struct gfsb_run_opts run;
	unsigned threads;		/* packs read at once; 0: 2, remote 4 */
	int no_lock;			/* read-only credentials */
	int no_state;			/* no verification state */
	enum gfsb_lock_mode expect_lock; /* the repository's lock mode */
	gfsb_verify_progress_fn *progress;
	void *progress_cookie;
};

struct gfsb_check_result {
	struct gfsb_run_result run;	/* stages verify and drill; report */
	struct gfsb_verify_result verify; /* when verify_err is GFSB_OK */
	gfsb_err verify_err;
	int reported;			/* a report was made */
};

/*
 * gfsb_ops_check(o, res):
 * gfsbackup verify with its settings made: the verification (the
 * "verify" stage; the result kept in res->verify), the restore drill
 * when cfg->drill asks (from the offsite copy when cfg names one, else
 * from the repository), and, when cfg mails it or names a report
 * directory, the report: the repository's GFS roles, the verification,
 * the drill, the offsite copy's lag, saved (cfg->report_dir, else
 * reports/ beside the verification state) and mailed.  Each stage ends
 * in res->run.stages and o->run.stage_done, where its failure is said
 * (the context still holds the detail then).  GFSB_OK once every stage
 * has had its turn, or GFSB_ENOMEM.  Free res with
 * gfsb_ops_check_result_fini.
 */
gfsb_err gfsb_ops_check(const struct gfsb_check_opts *o,
    struct gfsb_check_result *res) GFSB_WUR;
void gfsb_ops_check_result_fini(struct gfsb_check_result *res);

/* What gfsb_ops_check_open found and opened, for the options it fills to
 * point to; close it with gfsb_ops_check_close after gfsb_ops_check. */
struct gfsb_check_copies {
	char state_base[4200];		/* "" when no state is kept */
	struct gfsb_backend *offsite;	/* NULL: none needed, or not opened */
	gfsb_err offsite_err;		/* why not (GFSB_OK: fine) */
	char offsite_error[1100];	/* ... in one line */
};

/*
 * gfsb_ops_check_open(ctx, a, cfg, r, url, remote, co, cp):
 * The copies a check needs, and gfsb_ops_check's options for them:
 * cfg (from gfsb_ops_check_settle) names the repository url when it did
 * not (r is the repository opened from url); the state directory
 * (gfsb_ops_state_base) when state is kept (not a->no_state), a
 * report is made or a drill; the
 * offsite copy when cfg names one and a report or a drill needs it:
 * a->offsite_url under remote (the global options; NULL: the defaults),
 * else cfg's [offsite] section (gfsb_ops_run_open_offsite).  An offsite
 * copy that cannot be opened does not stop the check: cp->offsite_err
 * and cp->offsite_error say why (and the context still holds the
 * detail), and the stages that needed it say so.  Fills co->run's cfg,
 * ctx, repo, offsite, offsite_error, state_base and connections (from
 * remote), and co->no_state (also with a->as_of: a look at the past
 * keeps no state); the rest of co is the caller's.  Returns
 * GFSB_OK; GFSB_EINVAL (said in ctx) when there is no state directory;
 * GFSB_ENOMEM.  Then close cp with gfsb_ops_check_close (NULL-safe
 * inside).
 */
gfsb_err gfsb_ops_check_open(struct gfsb_ctx *ctx,
    const struct gfsb_check_args *a, struct gfsb_config *cfg,
    struct gfsb_repo *r, const char *url,
    const struct gfsb_backend_opts *remote, struct gfsb_check_opts *co,
    struct gfsb_check_copies *cp) GFSB_WUR;
void gfsb_ops_check_close(struct gfsb_check_copies *cp);

/*
 * gfsb_ops_check_exit(res):
 * gfsbackup verify's exit status for what gfsb_ops_check did: the first
 * stage's that is not 0 (verify: 1 when it found damage, else the
 * status of its error when it could not run; the drill: its error's,
 * 1 when a file came back wrong); else 1 when a report was made and
 * not delivered; else 0.  Thread-safe.
 */
int gfsb_ops_check_exit(const struct gfsb_check_result *res);

/* ---- options whose values are the engines' settings ---- */

/*
 * Callbacks for gfsb_opt_parse (gfsb_opt_fn: see opt.h), each with
 * o->value where its value goes.  Each returns GFSB_OK, or GFSB_EINVAL
 * with one line in ctx naming the option and what it takes.  Thread-safe
 * (they touch only o->value).
 *
 * gfsb_ops_opt_lock_mode: an Object Lock mode into an enum
 * gfsb_lock_mode: compliance or governance ("invalid --NAME X: give
 * compliance or governance").
 *
 * gfsb_ops_opt_read_data: verify's --read-data (arg NULL: every pack)
 * or --read-data-subset ARG (gfsb_ops_verify_parse_subset) into a struct
 * gfsb_check_args; one of them, once.
 *
 * gfsb_ops_opt_keep: a retention rule into a struct gfsb_policy, the
 * option's name being the rule's (keep-daily ...: gfsb_gfs_policy_set,
 * its errors naming --NAME); GFSB_ENOMEM too.
 */
struct gfsb_opt;
gfsb_err gfsb_ops_opt_lock_mode(struct gfsb_ctx *ctx,
    const struct gfsb_opt *o, const char *arg, void *cookie);
gfsb_err gfsb_ops_opt_read_data(struct gfsb_ctx *ctx,
    const struct gfsb_opt *o, const char *arg, void *cookie);
gfsb_err gfsb_ops_opt_keep(struct gfsb_ctx *ctx, const struct gfsb_opt *o,
    const char *arg, void *cookie);

/* ---- helpers shared by the engines and the CLI ---- */

/*
 * gfsb_ops_path_clean(path, out, len):
 * Make path absolute (relative to the working directory) and lexically
 * clean: no "." or ".." components, no doubled or trailing slashes.
 * GFSB_EINVAL if it does not fit in len.
 */
gfsb_err gfsb_ops_path_clean(const char *path, char *out, size_t len)
    GFSB_WUR;

#endif /* !GFSBACKUP_OPS_H */
