/*
 * Restore: a snapshot back to disk (through libarchive's disk writer) or
 * into a pax archive (libarchive's writer).
 *
 * Threads, one file each: a planner (ops_restore_plan.c) walks the
 * snapshot's trees in order and queues one item per entry, plus one fetch
 * per data extent for the workers; workers (ops_restore_fetch.c) fetch,
 * authenticate, decompress and check blobs; the caller's thread and the
 * file writers (ops_restore_write.c) write items as their blobs arrive.
 * Fetched bytes in flight are bounded, so memory does not grow with the
 * snapshot.  This file: the options, the target, starting and stopping
 * the threads, and the result.
 *
 * Reads: the planner gathers the blobs it queues into runs, one per pack
 * region: a blob joins an open run of its pack when it lies within a gap
 * (RS_RUN_GAP; RS_RUN_GAP_REMOTE from remote storage, where each request
 * costs a round trip) of the run's bytes and the run stays under
 * RS_RUN_MAX.  A run is one range read, then its blobs are opened one by
 * one.  Backup
 * interleaves the chunks of files it reads at once, and a directory's
 * small files sit among them, so runs span small gaps (read and dropped)
 * to turn thousands of small requests into a few large ones; the gap
 * bound keeps a partial restore from reading much it does not need.
 * Runs are handed to the workers when full, when more than RS_OPEN_RUNS
 * are open (oldest first), and all of them before the planner waits for
 * memory, which it then does until half the in-flight budget is free, so
 * that the next batch gathers long runs again.
 *
 * Safety: names in trees are single path components (the decoder refuses
 * "..", "/" and duplicates), and on top of that the disk writer runs with
 * ARCHIVE_EXTRACT_SECURE_NODOTDOT, _SECURE_SYMLINKS and
 * _SECURE_NOABSOLUTEPATHS relative to the target directory, so no entry
 * can make us write outside it.  A blob that fails its checks is a hole in
 * the file that uses it; the file is named and everything else restored.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#include "ops_restore.h"

void
rs_fail(struct rs *s, gfsb_err e)
{
	unsigned i;

	pthread_mutex_lock(&s->mu);
	if (s->err == GFSB_OK)
		s->err = e;
	pthread_cond_broadcast(&s->cv_fetch);
	for (i = 0; i < 1 + RS_FILE_WRITERS; i++)
		pthread_cond_broadcast(&s->cv_done[i]);
	pthread_cond_broadcast(&s->cv_item);
	pthread_cond_broadcast(&s->cv_space);
	pthread_cond_broadcast(&s->cv_file);
	pthread_mutex_unlock(&s->mu);
}

void
rs_item_free(struct ritem *it)
{
	size_t i;

	if (it == NULL)
		return;
	if (it->fx != NULL) {
		for (i = 0; i < it->node.nextents; i++) {
			if (it->fx[i] == NULL)
				continue;
			gfsb_buf_fini(&it->fx[i]->buf);
			free(it->fx[i]);
		}
		free(it->fx);
	}
	gfsb_repo_node_fini(&it->node);
	free(it->path);
	free(it->abspath);
	free(it->hardlink);
	free(it);
}

/*
 * A path for a message: log lines are capped at 1 KiB, and a path in a
 * deep tree is longer, so that the reason after it was cut off; keep the
 * start and the end of such a path.
 */
const char *
rs_shown(const char *path, char buf[2 * SHOWN_PART + 4])
{
	size_t len = strlen(path);

	if (len <= 2 * SHOWN_PART + 3)
		return path;
	memcpy(buf, path, SHOWN_PART);
	memcpy(buf + SHOWN_PART, "...", 3);
	memcpy(buf + SHOWN_PART + 3, path + len - SHOWN_PART, SHOWN_PART + 1);
	return buf;
}

static void
items_free(struct ritem *it)
{
	struct ritem *next;

	for (; it != NULL; it = next) {
		next = it->next;
		rs_item_free(it);
	}
}

/* A directory restored as SNAP:PATH into a target the restore made: the
 * target is that directory, so it takes its owner, mode and times (it
 * was made 0700, whatever the snapshot says).  The process is in it. */
static void
target_meta(struct rs *s, const struct gfsb_node *top)
{
	struct timespec ts[2];

	if (geteuid() == 0 && lchown(".", (uid_t)top->uid, (gid_t)top->gid) !=
	    0)
		gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "%s: cannot set the owner: "
		    "%s", s->o->target, strerror(errno));
	if (chmod(".", top->mode & 07777) != 0)
		gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "%s: cannot set the mode: "
		    "%s", s->o->target, strerror(errno));
	ts[0].tv_sec = ts[1].tv_sec = (time_t)top->mtime.sec;
	ts[0].tv_nsec = ts[1].tv_nsec = top->mtime.nsec;
	if (utimensat(AT_FDCWD, ".", ts, 0) != 0)
		gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "%s: cannot set the "
		    "times: %s", s->o->target, strerror(errno));
}

/* mkdir -p, new directories private (0700) until the restore is done. */
static int
mkdir_p(const char *path)
{
	char buf[PATH_MAX], *p;

	if (strlen(path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0700);
}

static gfsb_err
prepare_target(struct rs *s, const char *target)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int empty = 1;

	if (lstat(target, &st) != 0) {
		if (errno != ENOENT)
			return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: %s",
			    target, strerror(errno));
		if (mkdir_p(target) != 0)
			return gfsb_ctx_seterr(s->ctx, GFSB_EIO,
			    "cannot create target %s: %s", target,
			    strerror(errno));
		s->target_made = 1;
		return GFSB_OK;
	}
	if (!S_ISDIR(st.st_mode))
		return gfsb_ctx_seterr(s->ctx, GFSB_EEXIST,
		    "target %s exists and is not a directory", target);
	if ((d = opendir(target)) == NULL)
		return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: %s", target,
		    strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	if (!empty && s->o->overwrite == GFSB_OVERWRITE_REFUSE)
		return gfsb_ctx_seterr(s->ctx, GFSB_EEXIST,
		    "target %s is not empty: restore into a new or empty "
		    "directory, or say what to do with the files there "
		    "(--overwrite)", target);
	return GFSB_OK;
}

void
gfsb_ops_restore_progress_line(const struct gfsb_restore_progress *p,
    char *buf, size_t len)
{
	char done[32], total[32];
	double rate = p->seconds > 0 ? (double)p->bytes / p->seconds : 0, left;
	unsigned t = (unsigned)p->seconds, eta;
	int n;

	gfsb_size_format(p->bytes, done, sizeof(done));
	gfsb_size_format(p->total_bytes, total, sizeof(total));
	if (!p->total_known || p->total_bytes == 0) {
		snprintf(buf, len, "[%u:%02u] %llu files, %s, %.1f MB/s", t / 60,
		    t % 60, (unsigned long long)p->files, done, rate / 1e6);
		return;
	}
	n = snprintf(buf, len, "[%u:%02u] %llu of %llu files, %s of %s "
	    "(%.0f%%), %.1f MB/s", t / 60, t % 60,
	    (unsigned long long)p->files, (unsigned long long)p->total_files,
	    done, total, 100.0 * (double)p->bytes / (double)p->total_bytes,
	    rate / 1e6);
	if (n < 0 || (size_t)n >= len || rate <= 0 || p->bytes >= p->total_bytes)
		return;
	left = (double)(p->total_bytes - p->bytes) / rate;
	eta = left > 359999 ? 359999 : (unsigned)left;
	snprintf(buf + n, len - (size_t)n, ", ETA %u:%02u:%02u", eta / 3600,
	    eta / 60 % 60, eta % 60);
}

void
gfsb_ops_restore_summary(const struct gfsb_restore_result *res, char *buf,
    size_t len)
{
	char bytes[32], kept[48] = "", deleted[80] = "";

	gfsb_size_format(res->bytes, bytes, sizeof(bytes));
	if (res->kept > 0)
		snprintf(kept, sizeof(kept), ", %llu kept as they were",
		    (unsigned long long)res->kept);
	if (res->deleted + res->not_deleted > 0)
		snprintf(deleted, sizeof(deleted), ", %llu removed%s",
		    (unsigned long long)res->deleted, res->not_deleted ?
		    " (some could not be, see above)" : "");
	snprintf(buf, len, "restored snapshot %.8s: %llu files, %llu "
	    "directories, %llu other entries, %s in %.1f s%s%s%s",
	    res->snapshot_id, (unsigned long long)res->files,
	    (unsigned long long)res->dirs, (unsigned long long)res->others,
	    bytes, res->seconds, kept, deleted,
	    res->damaged_files ? " (with damage, see above)" : "");
}

void
gfsb_ops_restore_io_line(const struct gfsb_restore_result *res, char *buf,
    size_t len)
{
	char rb[32];
	size_t n;

	gfsb_ops_io_line("storage", &res->io, buf, len);
	n = strlen(buf);
	gfsb_size_format(res->read_bytes, rb, sizeof(rb));
	snprintf(buf + n, len - n, "; %llu reads of pack data over %s",
	    (unsigned long long)res->reads, rb);
}

/*
 * Where the restore goes: a pax archive (extended attributes in
 * SCHILY.xattr, which GNU tar and libarchive both read; names that are not
 * UTF-8 kept as bytes, hdrcharset=BINARY, with a warning), or the target
 * directory, which the process enters (*cwd: where it was) so that the
 * disk writer works relative to it.
 */
/*
 * The archive's file: a new one, never over one that exists (an earlier
 * archive, or any file named by mistake) unless o->tar_replace says so,
 * and then a new file beside it, renamed over it once the archive is
 * whole (tar_close); a device or a FIFO that exists is written to.
 */
static gfsb_err
open_tar_file(struct rs *s)
{
	const char *tar = s->o->tar;
	struct stat st;
	int exists = lstat(tar, &st) == 0;
	size_t n;

	if (exists && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		if ((s->tar_fd = open(tar, O_WRONLY | O_CLOEXEC)) < 0)
			return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "cannot "
			    "write %s: %s", tar, strerror(errno));
		return GFSB_OK;
	}
	if (exists && (!s->o->tar_replace || S_ISDIR(st.st_mode)))
		return gfsb_ctx_seterr(s->ctx, GFSB_EEXIST, "%s exists: "
		    "restore --to-tar writes a new file (remove it, name "
		    "another, or replace it with --force)", tar);
	if (!exists) {
		s->tar_fd = open(tar, O_WRONLY | O_CLOEXEC | O_CREAT | O_EXCL,
		    0600);
	} else {
		n = strlen(tar) + sizeof(".gfsb-XXXXXX");
		if ((s->tar_tmp = malloc(n)) == NULL)
			return GFSB_ENOMEM;
		snprintf(s->tar_tmp, n, "%s.gfsb-XXXXXX", tar);
		s->tar_fd = mkostemp(s->tar_tmp, O_CLOEXEC);
	}
	if (s->tar_fd < 0)
		return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "cannot write %s: %s",
		    s->tar_tmp != NULL ? s->tar_tmp : tar, strerror(errno));
	s->tar_made = 1;
	return GFSB_OK;
}

static gfsb_err
open_writer(struct rs *s, struct archive **ap, int *cwd)
{
	const struct gfsb_restore_opts *o = s->o;
	struct archive *a;
	gfsb_err e;
	int r;

	if (o->tar == NULL) {
		if ((e = prepare_target(s, o->target)) != GFSB_OK)
			return e;
		if ((*cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		    chdir(o->target) != 0)
			return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "cannot enter "
			    "%s: %s", o->target, strerror(errno));
		return (*ap = rs_disk_writer()) != NULL ? GFSB_OK : GFSB_ENOMEM;
	}
	if ((*ap = a = archive_write_new()) == NULL ||
	    archive_write_set_format_pax(a) != ARCHIVE_OK ||
	    archive_write_set_format_option(a, "pax", "xattrheader",
	    "SCHILY") != ARCHIVE_OK)
		return gfsb_ctx_seterr(s->ctx, GFSB_ENOMEM, "cannot set up the "
		    "archive writer");
	archive_write_set_bytes_in_last_block(a, 1);
	if (strcmp(o->tar, "-") == 0) {
		r = archive_write_open_fd(a, o->tar_fd);
	} else {
		if ((e = open_tar_file(s)) != GFSB_OK)
			return e;
		r = archive_write_open_fd(a, s->tar_fd);
	}
	if (r != ARCHIVE_OK)
		return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "cannot write %s: %s",
		    o->tar, archive_error_string(a));
	return GFSB_OK;
}

/* A restore of the whole snapshot knows its total from the snapshot's
 * summary; any other learns it as the planner goes. */
static void
whole_total(struct rs *s, const struct gfsb_snapshot *snap)
{
	const struct gfsb_snapshot_summary *m = &snap->summary;

	if (!snap->has_summary || s->o->subpath != NULL ||
	    s->o->nincludes > 0 || s->o->nexcludes > 0 ||
	    s->o->select != NULL)
		return;
	s->prog.total_known = 1;
	s->prog.total_files = m->total_files_processed + m->dirs_new +
	    m->dirs_changed + m->dirs_unmodified;
	s->prog.total_bytes = m->total_bytes_processed;
}

/* The options checked, the lock, the snapshot, the index, and the path
 * to restore found in it. */
gfsb_err
gfsb_ops_restore_check(struct gfsb_ctx *ctx, const struct gfsb_restore_opts *o)
{
	const char *why = NULL;

	if ((o->target == NULL) == (o->tar == NULL))
		why = "give either --target DIR or --to-tar FILE";
	else if (o->tar != NULL && (o->overwrite || o->delete_extra))
		why = "--overwrite and --delete are for --target DIR";
	else if (o->tar_replace && (o->tar == NULL || strcmp(o->tar, "-") ==
	    0))
		why = "--force goes with --to-tar FILE";
	else if (o->delete_extra && !o->overwrite)
		why = "--delete goes with --overwrite MODE";
	else if (o->delete_extra && o->select != NULL)
		why = "--delete restores a whole snapshot, not a selection";
	else if (o->target != NULL && *o->target == '\0')
		why = "empty target";
	else if (o->subpath != NULL && *o->subpath == '\0')
		why = "empty path after ':'";
	else if (o->tar != NULL && strcmp(o->tar, "-") == 0 &&
	    isatty(o->tar_fd))
		why = "refusing to write an archive to a terminal";
	return why == NULL ? GFSB_OK : gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%s",
	    why);
}

int
gfsb_ops_restore_told(gfsb_err e, const struct gfsb_restore_result *res)
{
	return e == GFSB_OK || ((e == GFSB_ECORRUPT || res->not_deleted > 0) &&
	    res->snapshot_id[0] != '\0');
}

char *
gfsb_ops_spec_split(char *arg)
{
	char *colon = strchr(arg, ':');

	if (colon == NULL)
		return NULL;
	*colon = '\0';
	return colon + 1;
}

static gfsb_err
prepare(struct rs *s, struct planarg *pa, struct gfsb_snapshot **snap,
    struct gfsb_lock **lock)
{
	const struct gfsb_restore_opts *o = s->o;
	gfsb_err e;

	if ((e = gfsb_ops_restore_check(s->ctx, o)) != GFSB_OK)
		return e;
	if (o->nincludes > 0 && (e = gfsb_ops_patterns_new(o->includes,
	    o->nincludes, &s->incl)) != GFSB_OK)
		return gfsb_ctx_seterr(s->ctx, e, "invalid include pattern");
	if ((e = gfsb_ops_patterns_new(o->excludes, o->nexcludes, &s->excl)) !=
	    GFSB_OK)
		return gfsb_ctx_seterr(s->ctx, e, "invalid exclude pattern");
	if ((e = gfsb_pool_new(RS_POOL, SIZE_MAX, 0, &s->bufs)) != GFSB_OK ||
	    (!o->no_lock && (e = gfsb_repo_lock(s->r, 0, lock)) != GFSB_OK) ||
	    (e = gfsb_repo_snapshot_find(s->r, o->snapshot, o->host, snap)) !=
	    GFSB_OK || (e = gfsb_repo_index_load(s->r)) != GFSB_OK ||
	    (e = gfsb_repo_io_new(s->r, &s->plan_io)) != GFSB_OK)
		return e;
	snprintf(s->res->snapshot_id, sizeof(s->res->snapshot_id), "%s",
	    (*snap)->id);
	whole_total(s, *snap);
	snprintf(pa->abs, sizeof(pa->abs), "%s", o->subpath ? o->subpath : "/");
	if (gfsb_ops_path_clean(pa->abs, pa->abs, sizeof(pa->abs)) != GFSB_OK)
		return gfsb_ctx_seterr(s->ctx, GFSB_EINVAL, "invalid path %s",
		    o->subpath);
	if ((e = ops_find_path(s->plan_io, (*snap)->tree, pa->abs, &pa->top,
	    &pa->is_root)) != GFSB_OK) {
		if (e == GFSB_ENOTFOUND)
			gfsb_ctx_seterr(s->ctx, e, "%s: not in snapshot %.8s",
			    pa->abs, (*snap)->id);
		return e;
	}
	pa->s = s;
	return GFSB_OK;
}

static void
rs_init(struct rs *s, struct gfsb_repo *r, const struct gfsb_restore_opts *o,
    struct gfsb_restore_result *res, int remote)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	s->tar_fd = -1;
	s->r = r;
	s->ctx = gfsb_repo_ctx(r);
	s->o = o;
	s->res = res;
	/* Remote reads wait on the network: longer runs over wider gaps
	 * (fewer, larger requests) and as many reads in flight as the
	 * backend has connections (4 by default). */
	s->limit = remote ? 2 * RS_INFLIGHT : RS_INFLIGHT;
	s->gap = remote ? RS_RUN_GAP_REMOTE : RS_RUN_GAP;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv_fetch, NULL);
	for (i = 0; i < 1 + RS_FILE_WRITERS; i++)
		pthread_cond_init(&s->cv_done[i], NULL);
	pthread_cond_init(&s->cv_item, NULL);
	pthread_cond_init(&s->cv_space, NULL);
	pthread_cond_init(&s->cv_file, NULL);
}

/* Close the archive file we opened.  One cut short by a failure (not by
 * damage, which leaves zeros where the damaged bytes were and names
 * them) is removed: it would pass for a whole one. */
static gfsb_err
tar_close(struct rs *s, gfsb_err e)
{
	const char *made = s->tar_tmp != NULL ? s->tar_tmp : s->o->tar;

	/* One that replaces another is on disk before it does. */
	if (s->tar_fd >= 0 && s->tar_tmp != NULL && e == GFSB_OK &&
	    fsync(s->tar_fd) != 0)
		e = gfsb_ctx_seterr(s->ctx, GFSB_EIO, "cannot write %s: %s",
		    made, strerror(errno));
	if (s->tar_fd >= 0 && close(s->tar_fd) != 0 && e == GFSB_OK)
		e = gfsb_ctx_seterr(s->ctx, GFSB_EIO, "cannot write %s: %s",
		    made, strerror(errno));
	s->tar_fd = -1;
	if (s->tar_tmp != NULL && (e == GFSB_OK || e == GFSB_ECORRUPT)) {
		if (rename(s->tar_tmp, s->o->tar) == 0)
			s->tar_made = 0; /* it is the archive now */
		else
			e = gfsb_ctx_seterr(s->ctx, GFSB_EIO, "cannot replace "
			    "%s: %s", s->o->tar, strerror(errno));
	}
	if (s->tar_made && (s->tar_tmp != NULL || (e != GFSB_OK &&
	    e != GFSB_ECORRUPT)))
		unlink(made);
	free(s->tar_tmp);
	s->tar_tmp = NULL;
	return e;
}

gfsb_err
gfsb_ops_restore(struct gfsb_repo *r, const struct gfsb_restore_opts *o,
    struct gfsb_restore_result *res)
{
	struct gfsb_snapshot *snap = NULL;
	struct gfsb_lock *lock = NULL;
	struct archive *a = NULL;
	struct planarg pa;
	struct filewriter fw[RS_FILE_WRITERS];
	pthread_t plan, *workers = NULL;
	unsigned nw, started = 0, i;
	int plan_started = 0, cwd = -1, tar = o->tar != NULL, remote;
	double t0 = gfsb_monotonic_seconds();
	struct gfsb_backend_io io0;
	struct rs s;
	gfsb_err e, e2;

	memset(res, 0, sizeof(*res));
	gfsb_backend_io_get(gfsb_repo_backend(r), &io0);
	remote = gfsb_backend_is_remote(gfsb_repo_backend(r));
	rs_init(&s, r, o, res, remote);
	memset(&pa, 0, sizeof(pa));
	memset(fw, 0, sizeof(fw));
	if ((e = prepare(&s, &pa, &snap, &lock)) != GFSB_OK)
		goto out;

	if ((e = open_writer(&s, &a, &cwd)) != GFSB_OK)
		goto out;

	nw = o->threads ? o->threads : ops_ncpus(16);
	if (o->threads == 0 && remote && nw < 4)
		nw = 4;
	if ((workers = calloc(nw, sizeof(*workers))) == NULL) {
		e = GFSB_ENOMEM;
		goto out;
	}
	started = rs_workers_start(&s, workers, nw);
	if (started == 0 ||
	    pthread_create(&plan, NULL, rs_plan_main, &pa) != 0) {
		e = GFSB_ENOMEM;
		rs_fail(&s, e);
	} else {
		plan_started = 1;
	}
	if (plan_started) {
		rs_files_start(&s, fw, tar ? 0 : RS_FILE_WRITERS);
		rs_write_all(&s, a, tar, t0);
		pthread_join(plan, NULL);
		rs_files_stop(&s, fw);
	}
	rs_workers_stop(&s, workers, started);
	/* Closing applies the deferred directory modes and times. */
	if (archive_write_close(a) != ARCHIVE_OK) {
		e2 = gfsb_ctx_seterr(s.ctx, GFSB_EIO, "cannot finish: %s",
		    archive_error_string(a));
		if (s.err == GFSB_OK)
			s.err = e2;
	}
	if (s.target_made && !pa.is_root && pa.top.kind == GFSB_NODE_DIR &&
	    (s.err == GFSB_OK || s.err == GFSB_ECORRUPT))
		target_meta(&s, &pa.top);
	if (o->progress != NULL)
		rs_progress(&s, t0, 1);
	e = s.err;
	/* The planner has finished (joined) by now. */
	res->damaged_files += s.lost_dirs;
	res->kept = s.kept;
	e = rs_inplace_end(&s, e);
	if (e == GFSB_OK && res->damaged_files > 0)
		e = gfsb_ctx_seterr(s.ctx, GFSB_ECORRUPT,
		    "%llu file(s) could not be restored intact (named above)",
		    (unsigned long long)res->damaged_files);
out:
	if (a != NULL)
		archive_write_free(a);
	e = tar_close(&s, e);
	if (cwd >= 0) {
		if (fchdir(cwd) != 0 && e == GFSB_OK)
			e = GFSB_EIO;
		close(cwd);
	}
	/* Anything still queued after a failure (workers have stopped). */
	items_free(s.dead);
	items_free(s.iq_head);
	items_free(s.fq_items);
	for (i = 0; i < s.links.cap; i++)
		free(s.links.v[i].val);
	ops_linkmap_fini(&s.links);
	for (i = 0; i < s.npending; i++)
		rs_item_free(s.pending[i]);
	free(s.pending);
	rs_extras_free(&s);
	free(workers);
	gfsb_repo_node_fini(&pa.top);
	gfsb_repo_io_free(s.plan_io);
	gfsb_pool_free(s.bufs);
	gfsb_ops_patterns_free(s.incl);
	gfsb_ops_patterns_free(s.excl);
	gfsb_repo_snapshot_free(snap);
	gfsb_repo_unlock(lock);
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.cv_fetch);
	for (i = 0; i < 1 + RS_FILE_WRITERS; i++)
		pthread_cond_destroy(&s.cv_done[i]);
	pthread_cond_destroy(&s.cv_item);
	pthread_cond_destroy(&s.cv_space);
	pthread_cond_destroy(&s.cv_file);
	res->seconds = gfsb_monotonic_seconds() - t0;
	gfsb_ops_backend_io_since(gfsb_repo_backend(r), &io0, &res->io);
	return e;
}

