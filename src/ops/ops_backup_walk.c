/*
 * The backup producer, the walk (metadata: ops_backup_meta.c; reading
 * and chunking: ops_backup_read.c).
 *
 * The walk never follows a symlink inside the tree: every directory is
 * opened relative to its parent's descriptor with O_NOFOLLOW and checked
 * (device, inode) against the lstat that listed it, and every entry is
 * examined with fstatat(AT_SYMLINK_NOFOLLOW) relative to that descriptor.
 * A directory replaced by a symlink mid-walk is therefore noticed, not
 * followed.  Only the components of the paths the operator named are
 * resolved as the system resolves them.
 *
 * A file unchanged since the parent snapshot (same size, mtime, ctime and
 * inode, all its blobs indexed) is not opened: its chunk list and xattrs
 * are taken from the parent.  Small files (at most the minimum chunk size)
 * are read whole by the workers, so many small files are read in parallel;
 * larger ones are read here, chunked as they stream in, and their chunks
 * queued.  Sparse files are read region by region (SEEK_DATA/SEEK_HOLE):
 * holes are recorded, never read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gfsbackup/chunker.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

/*
 * Log lines are capped (1 KiB) and a path in a deep tree is longer than
 * that: the reason, at the end of the message, was cut off.  A long
 * message keeps its start and its end, with "..." for the middle.
 */
#define WARN_HEAD 300
#define WARN_TAIL 600

/* The same test without a word (the size scan: the walk says it). */
static int
own_quiet(const struct bk *b, const struct stat *st)
{
	int i;

	for (i = 0; i < b->nown; i++)
		if (b->own[i].dev == st->st_dev && b->own[i].ino == st->st_ino)
			return 1;
	return 0;
}

int
bk_own_dir(struct bk *b, const char *path, const struct stat *st)
{
	int i;

	if (!S_ISDIR(st->st_mode))
		return 0;
	for (i = 0; i < b->nown; i++)
		if (b->own[i].dev == st->st_dev && b->own[i].ino == st->st_ino) {
			/* Said, not counted as a warning: nothing is lost. */
			gfsb_ctx_log(b->ctx, GFSB_LOG_WARN, "%s left out: it "
			    "is %s", path, b->own[i].what);
			return 1;
		}
	return 0;
}

/* The CACHEDIR.TAG standard's signature (bford.info/cachedir). */
#define CACHEDIR_SIG "Signature: 8a477f597d28d172789f06886806bc55"

/* Whether directory name (of dirfd) holds tag, a regular file starting
 * with text (NULL: any). */
static int
has_tag(int dirfd, const char *name, const char *tag, size_t taglen,
    const char *text)
{
	char rel[4096 + 256], head[128];
	struct stat st;
	ssize_t n;
	int fd, yes;

	if ((size_t)snprintf(rel, sizeof(rel), "%s/%.*s", name, (int)taglen,
	    tag) >= sizeof(rel) || fstatat(dirfd, rel, &st,
	    AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if (text == NULL)
		return 1;
	if ((fd = openat(dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) < 0)
		return 0;
	n = pread(fd, head, sizeof(head), 0);
	close(fd);
	yes = n >= 0 && strlen(text) <= (size_t)n &&
	    memcmp(head, text, strlen(text)) == 0;
	return yes;
}

/* A directory holding one of the tag files: left out, whole. */
static const char *
tagged(struct bk *b, int dirfd, const char *name)
{
	const struct gfsb_backup_opts *o = b->o;
	const char *t, *colon;
	size_t i;

	if (o->exclude_caches && has_tag(dirfd, name, "CACHEDIR.TAG", 12,
	    CACHEDIR_SIG))
		return "CACHEDIR.TAG";
	for (i = 0; i < o->nexclude_if_present; i++) {
		t = o->exclude_if_present[i];
		colon = strchr(t, ':');
		if (has_tag(dirfd, name, t, colon ? (size_t)(colon - t) :
		    strlen(t), colon ? colon + 1 : NULL))
			return t;
	}
	return NULL;
}

int
bk_excluded(struct bk *b, int dirfd, const char *name, const char *path,
    const struct stat *st, int quiet)
{
	const char *tag;

	if (gfsb_ops_patterns_match(b->excl, path))
		return 1;
	if (S_ISDIR(st->st_mode)) {
		if (quiet ? own_quiet(b, st) : bk_own_dir(b, path, st))
			return 1;
		if ((tag = tagged(b, dirfd, name)) == NULL)
			return 0;
		if (!quiet)
			gfsb_ctx_log(b->ctx, GFSB_LOG_INFO, "%s left out: it "
			    "holds %s", path, tag);
		return 1;
	}
	return S_ISREG(st->st_mode) && b->o->exclude_larger_than > 0 &&
	    (uint64_t)st->st_size > b->o->exclude_larger_than;
}

void
bk_warn(struct bk *b, const char *fmt, ...)
{
	char small[1024], *msg = small;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (len >= (int)sizeof(small) && (msg = malloc((size_t)len + 1)) !=
	    NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)len + 1, fmt, ap);
		va_end(ap);
		memcpy(msg + WARN_HEAD, "...", 3);
		memmove(msg + WARN_HEAD + 3, msg + len - WARN_TAIL,
		    WARN_TAIL + 1);
	}
	atomic_fetch_add(&b->warnings, 1);
	gfsb_ctx_log(b->ctx, GFSB_LOG_WARN, "%s", msg ? msg : small);
	if (msg != small)
		free(msg);
}

/* The limit and one longest chunk's buffer (space_for). */
size_t
bk_inflight_bound(const struct bk *b)
{
	return b->inflight_limit + bk_big_cap(b);
}

/*
 * Room for `need` more bytes in flight: within the limit, or nothing in
 * flight, or nothing queued.  With nothing queued a worker is idle (or
 * about to be) while the others finish what holds the bytes, as when
 * one longest chunk takes half the limit; then a job may go over the
 * limit by at most one longest chunk's buffer, so the bound stays.
 */
static int
space_for(const struct bk *b, uint64_t need)
{
	if (b->inflight == 0 || b->inflight + need <= b->inflight_limit)
		return 1;
	return b->wq_head == NULL && b->inflight + need <= bk_inflight_bound(b);
}

/* Wait until `need` more bytes may be in flight. */
void
bk_wait_space_locked(struct bk *b, uint64_t need)
{
	while (!space_for(b, need) && b->err == GFSB_OK) {
		b->space_waiters++;
		pthread_cond_wait(&b->cv_space, &b->mu);
		b->space_waiters--;
	}
}

void
bk_queue_job_locked(struct bk *b, struct cjob *j)
{
	b->inflight += j->charge;
	if (b->inflight > b->inflight_peak)
		b->inflight_peak = b->inflight;
	if (b->wq_tail != NULL)
		b->wq_tail->next = j;
	else
		b->wq_head = j;
	b->wq_tail = j;
	pthread_cond_signal(&b->cv_work);
}

void
bk_fail(struct bk *b, gfsb_err e)
{
	pthread_mutex_lock(&b->mu);
	if (b->err == GFSB_OK)
		b->err = e;
	pthread_cond_broadcast(&b->cv_work);
	pthread_cond_broadcast(&b->cv_space);
	pthread_cond_broadcast(&b->cv_done);
	pthread_cond_broadcast(&b->cv_ev);
	pthread_cond_broadcast(&b->cv_evspace);
	pthread_mutex_unlock(&b->mu);
}

int
bk_stopping(struct bk *b)
{
	int s;

	if (gfsb_ctx_canceled(b->ctx))
		return 1;
	pthread_mutex_lock(&b->mu);
	s = b->err != GFSB_OK;
	pthread_mutex_unlock(&b->mu);
	return s;
}

void
bk_dirref_release(struct bk *b, struct dirref *d)
{
	int last;

	if (d == NULL)
		return;
	pthread_mutex_lock(&b->mu);
	last = --d->refs == 0;
	pthread_mutex_unlock(&b->mu);
	if (last) {
		close(d->fd);
		free(d);
	}
}

void
bk_xattrs_free(struct gfsb_xattr *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(x[i].name);
		free(x[i].value);
	}
	free(x);
}

void
bk_fjob_release(struct bk *b, struct fjob *f)
{
	int last;

	pthread_mutex_lock(&b->mu);
	last = --f->refs == 0;
	pthread_mutex_unlock(&b->mu);
	if (!last)
		return;
	bk_dirref_release(b, f->dir);
	free(f->name);
	free(f->path);
	free(f->ext);
	bk_xattrs_free(f->xattrs, f->nxattrs);
	free(f);
}

gfsb_err
bk_emit(struct bk *b, struct event *ev)
{
	gfsb_err e;

	pthread_mutex_lock(&b->mu);
	while (b->nev >= b->ev_limit && b->err == GFSB_OK) {
		b->ev_waiters++;
		pthread_cond_wait(&b->cv_evspace, &b->mu);
		b->ev_waiters--;
	}
	e = b->err;
	if (e == GFSB_OK) {
		ev->next = NULL;
		if (b->ev_tail != NULL)
			b->ev_tail->next = ev;
		else
			b->ev_head = ev;
		b->ev_tail = ev;
		b->nev++;
		pthread_cond_signal(&b->cv_ev);
	}
	pthread_mutex_unlock(&b->mu);
	if (e != GFSB_OK) {
		if (ev->job != NULL)
			bk_fjob_release(b, ev->job);
		gfsb_repo_node_fini(&ev->node);
		free(ev);
	}
	return e;
}

static gfsb_err
emit_simple(struct bk *b, int type, struct gfsb_node *node, int status,
    struct fjob *job, const uint8_t *old)
{
	struct event *ev;

	if ((ev = calloc(1, sizeof(*ev))) == NULL) {
		if (job != NULL)
			bk_fjob_release(b, job);
		gfsb_repo_node_fini(node);
		bk_fail(b, GFSB_ENOMEM);
		return GFSB_ENOMEM;
	}
	ev->type = type;
	ev->status = status;
	ev->job = job;
	if (node != NULL) {
		ev->node = *node;
		memset(node, 0, sizeof(*node));
	}
	if (old != NULL)
		memcpy(ev->old_subtree, old, GFSB_ID_LEN);
	return bk_emit(b, ev);
}

struct dent {
	char *name;
	struct stat st;
};

static int
dentcmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name,
	    ((const struct dent *)b)->name);
}

static void
dents_free(struct dent *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* List a directory with each entry's lstat, sorted by name. */
static gfsb_err
list_dir(struct bk *b, int dirfd, const char *path, struct dent **out,
    size_t *nout)
{
	struct dent *v = NULL, *grown;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	*out = NULL;
	*nout = 0;
	if ((fd = dup(dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		bk_warn(b, "%s: cannot list: %s", path, strerror(errno));
		return GFSB_OK;
	}
	rewinddir(d);
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			if ((grown = realloc(v, cap * sizeof(*v))) == NULL)
				goto nomem;
			v = grown;
		}
		if (fstatat(dirfd, de->d_name, &v[n].st,
		    AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				bk_warn(b, "%s/%s: cannot stat: %s", path,
				    de->d_name, strerror(errno));
			continue; /* vanished since readdir */
		}
		if ((v[n].name = strdup(de->d_name)) == NULL)
			goto nomem;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), dentcmp);
	*out = v;
	*nout = n;
	return GFSB_OK;
nomem:
	closedir(d);
	dents_free(v, n);
	return GFSB_ENOMEM;
}

static gfsb_err do_entry(struct bk *b, struct dirref *dir, const char *path,
    const char *name, const struct stat *st, const struct gfsb_node *pnode,
    dev_t fsdev);

static int
same_time(const struct gfsb_time *t, const struct timespec *ts)
{
	return t->sec == ts->tv_sec && t->nsec == ts->tv_nsec;
}

/* Can the parent's node stand for this file without reading it? */
static int
unchanged(struct bk *b, const struct gfsb_node *pn, const struct stat *st)
{
	size_t i;

	if (b->o->force || pn == NULL || pn->kind != GFSB_NODE_FILE ||
	    pn->size != (uint64_t)st->st_size ||
	    pn->inode != (uint64_t)st->st_ino ||
	    !same_time(&pn->mtime, &st->st_mtim) ||
	    !same_time(&pn->ctime, &st->st_ctim))
		return 0;
	/* Not a blob in a pack a prune marked for deletion: the file is
	 * read again, and its blobs stored anew. */
	for (i = 0; i < pn->nextents; i++)
		if (!pn->extents[i].hole && !gfsb_repo_index_live(b->r,
		    GFSB_BLOB_DATA, pn->extents[i].id))
			return 0;
	return 1;
}

static gfsb_err
link_add(struct bk *b, struct fjob *f)
{
	gfsb_err e;

	if ((e = ops_linkmap_add(&b->links, (uint64_t)f->dev,
	    (uint64_t)f->ino, f)) != GFSB_OK)
		return e;
	pthread_mutex_lock(&b->mu);
	f->refs++; /* the link map's reference, dropped at the end */
	pthread_mutex_unlock(&b->mu);
	return GFSB_OK;
}

static gfsb_err
do_file(struct bk *b, struct dirref *dir, const char *path, const char *name,
    const struct stat *st, const struct gfsb_node *pn)
{
	struct gfsb_node node;
	struct fjob *f;
	struct cjob *j;
	gfsb_err e;
	int fd, status;

	if ((e = bk_node_from_stat(b, name, st, &node)) != GFSB_OK)
		return e;
	if (unchanged(b, pn, st)) {
		/* Unchanged ctime: the xattrs (and ACLs) are unchanged too. */
		if (ops_extents_copy(pn->extents, pn->nextents, &node) !=
		    GFSB_OK || ops_xattrs_copy(pn->xattrs, pn->nxattrs,
		    &node) != GFSB_OK)
			goto nomem;
		return emit_simple(b, EV_NODE, &node, ST_UNMODIFIED, NULL,
		    NULL);
	}
	status = (pn != NULL && pn->kind == GFSB_NODE_FILE) ? ST_CHANGED :
	    ST_NEW;
	/* A second name of a file read in this backup: share its content. */
	if (st->st_nlink > 1 && (f = ops_linkmap_find(&b->links,
	    (uint64_t)st->st_dev, (uint64_t)st->st_ino)) != NULL) {
		pthread_mutex_lock(&b->mu);
		f->refs++;
		pthread_mutex_unlock(&b->mu);
		return emit_simple(b, EV_NODE, &node, status, f, NULL);
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->path = strdup(path)) == NULL) {
		free(f);
		goto nomem;
	}
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->size_hint = (uint64_t)st->st_size;
	f->pending = 1;
	f->refs = 2; /* the event's and ours */
	if (st->st_nlink > 1 && link_add(b, f) != GFSB_OK) {
		bk_fjob_release(b, f);
		bk_fjob_release(b, f);
		goto nomem;
	}
	if ((e = emit_simple(b, EV_NODE, &node, status, f, NULL)) !=
	    GFSB_OK) {
		bk_fjob_release(b, f);
		return e;
	}
	if ((uint64_t)st->st_size <= b->chunk_min &&
	    (uint64_t)st->st_blocks * 512 >= (uint64_t)st->st_size) {
		/* Small: a worker opens and reads it (in parallel). */
		if ((j = calloc(1, sizeof(*j))) == NULL ||
		    (f->name = strdup(name)) == NULL) {
			free(j);
			f->failed = 1;
			e = GFSB_ENOMEM;
			goto done;
		}
		pthread_mutex_lock(&b->mu);
		dir->refs++;
		f->dir = dir;
		f->refs++; /* the job's */
		bk_wait_space_locked(b, f->size_hint);
		j->f = f;
		j->small = 1;
		j->charge = (size_t)f->size_hint;
		bk_queue_job_locked(b, j);
		pthread_mutex_unlock(&b->mu);
		bk_fjob_release(b, f);
		return GFSB_OK;
	}
	fd = bk_open_nofollow(dir->fd, name, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		bk_warn(b, "%s: cannot open: %s", path, strerror(errno));
		f->failed = 1;
	} else {
		bk_read_content(b, NULL, f, fd);
		close(fd);
	}
	e = GFSB_OK;
done:
	pthread_mutex_lock(&b->mu);
	if (--f->pending == 0 && f == b->done_wait)
		pthread_cond_broadcast(&b->cv_done);
	pthread_mutex_unlock(&b->mu);
	bk_fjob_release(b, f);
	if (e != GFSB_OK)
		bk_fail(b, e);
	return e;
nomem:
	gfsb_repo_node_fini(&node);
	bk_fail(b, GFSB_ENOMEM);
	return GFSB_ENOMEM;
}

/* Load the parent snapshot's tree for directory node pn, if any.  A
 * storage failure (not a damaged tree) stops the backup: bk_fail. */
static void
parent_subtree(struct bk *b, const struct gfsb_node *pn, struct gfsb_tree *t,
    int *have)
{
	gfsb_err e;

	*have = 0;
	gfsb_repo_tree_init(t);
	if (pn == NULL || pn->kind != GFSB_NODE_DIR)
		return;
	if ((e = gfsb_repo_tree_load(b->prod_io, pn->subtree, t)) !=
	    GFSB_OK) {
		if (!gfsb_err_is_damage(e)) {
			bk_fail(b, e);
			return;
		}
		/* Not fatal: the directory is simply read in full. */
		gfsb_ctx_log(b->ctx, GFSB_LOG_WARN,
		    "parent snapshot tree unreadable (%s); reading all files",
		    gfsb_ctx_errmsg(b->ctx));
		gfsb_ctx_clearerr(b->ctx);
		return;
	}
	*have = 1;
}

/*
 * The walk below a directory is iterative, over a stack of frames on the
 * heap, not recursive: a recursive walk put about 12 KiB of the caller's
 * stack per level (path buffers) and crashed (SIGSEGV) on a tree some 700
 * levels deep, which any user can make in a directory we back up.  Paths
 * are allocated, so a tree deeper than PATH_MAX characters is walked too
 * (through the directory descriptors, never by its full path).  Depth is
 * bounded by the descriptors the walk may hold (one per level): it leaves
 * WALK_FD_RESERVE of the process's limit to the workers, the progress
 * count (SCAN_MAX_DEPTH) and the repository, and stops at WALK_MAX_DEPTH
 * levels from "/" (restore and ls refuse deeper snapshots); a directory
 * beyond either bound is saved empty, with a warning.
 * (tests/e2e/22-hostile-source.sh backs up a 10,000-level tree.)
 */
#define WALK_FD_RESERVE 512
#define WALK_MAX_DEPTH 65000

struct wframe {
	struct dirref *d;	  /* open directory (a reference) */
	char *path;		  /* its path, for messages and excludes */
	struct dent *v;		  /* its entries, sorted */
	size_t n, i;		  /* entries, next one */
	struct gfsb_tree pt;	  /* the parent snapshot's tree of it */
	int have_pt;
};

static void
wframe_fini(struct bk *b, struct wframe *f)
{
	bk_dirref_release(b, f->d);
	free(f->path);
	dents_free(f->v, f->n);
	gfsb_repo_tree_fini(&f->pt);
	memset(f, 0, sizeof(*f));
}

/* How many levels below a directory at `path` the walk may hold open. */
static size_t
walk_depth_limit(const char *path)
{
	struct rlimit rl;
	size_t base = 0, lim = WALK_MAX_DEPTH;
	const char *p;

	for (p = path; *p != '\0'; p++)
		if (*p == '/' && p[1] != '/' && p[1] != '\0')
			base++;
	lim = base < lim ? lim - base : 1;
	/* The named path's own levels hold a descriptor each, too. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur !=
	    RLIM_INFINITY) {
		if (rl.rlim_cur < 2 * WALK_FD_RESERVE + base)
			rl.rlim_cur = 2 * WALK_FD_RESERVE + base;
		if (rl.rlim_cur - WALK_FD_RESERVE - base < lim)
			lim = (size_t)(rl.rlim_cur - WALK_FD_RESERVE - base);
	}
	return lim;
}

/* "path/name" (path "/" gives "/name"); NULL when out of memory. */
static char *
path_join(const char *path, const char *name)
{
	size_t lp = strlen(path), ln = strlen(name);
	char *c;

	if (lp == 1 && path[0] == '/')
		lp = 0;
	if ((c = malloc(lp + ln + 2)) == NULL)
		return NULL;
	memcpy(c, path, lp);
	c[lp] = '/';
	memcpy(c + lp + 1, name, ln + 1);
	return c;
}

/*
 * Enter directory `name` (listed with *st) of parent: emit its EV_ENTER
 * and, when its entries are to be walked, fill fr (taking `path`) and
 * leave its EV_LEAVE to the caller; otherwise (cannot be opened, replaced,
 * another file system, too deep) it is saved empty: EV_LEAVE is emitted
 * here and fr->d stays NULL.  `path` is freed unless taken.
 */
static gfsb_err
enter_dir(struct bk *b, struct dirref *parent, char *path, const char *name,
    const struct stat *st, const struct gfsb_node *pn, dev_t fsdev,
    int too_deep, struct wframe *fr)
{
	struct gfsb_node node;
	struct dirref *d = NULL;
	struct stat fst;
	int fd = -1;
	gfsb_err e;

	memset(fr, 0, sizeof(*fr));
	gfsb_repo_tree_init(&fr->pt);
	if ((e = bk_node_from_stat(b, name, st, &node)) != GFSB_OK)
		goto nomem;
	if (too_deep) {
		bk_warn(b, "%s: directory too deep to walk; saved empty",
		    path);
		goto empty;
	}
	fd = bk_open_nofollow(parent->fd, name, O_RDONLY | O_DIRECTORY);
	if (fd >= 0 && (fstat(fd, &fst) != 0 || fst.st_dev != st->st_dev ||
	    fst.st_ino != st->st_ino)) {
		close(fd);
		fd = -1;
		errno = ESTALE;
	}
	if (fd < 0) {
		bk_warn(b, "%s: cannot open directory: %s; saved empty", path,
		    errno == ESTALE ? "replaced during the backup" :
		    strerror(errno));
		goto empty;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		close(fd);
		goto nomem;
	}
	d->fd = fd;
	d->refs = 1;
	bk_read_xattrs(b, fd, NULL, path, &node.xattrs, &node.nxattrs);
	parent_subtree(b, pn, &fr->pt, &fr->have_pt);
	e = emit_simple(b, EV_ENTER, &node, fr->have_pt, NULL,
	    fr->have_pt ? pn->subtree : NULL);
	if (e == GFSB_OK && (!b->o->one_file_system ||
	    st->st_dev == fsdev)) {
		fr->d = d;
		fr->path = path;
		return GFSB_OK;
	}
	bk_dirref_release(b, d);
	gfsb_repo_tree_fini(&fr->pt);
	gfsb_repo_tree_init(&fr->pt);
	free(path);
	if (e != GFSB_OK)
		return e;
	return emit_simple(b, EV_LEAVE, NULL, 0, NULL, NULL);
empty:
	free(path);
	if ((e = emit_simple(b, EV_ENTER, &node, 0, NULL, NULL)) != GFSB_OK)
		return e;
	return emit_simple(b, EV_LEAVE, NULL, 0, NULL, NULL);
nomem:
	free(path);
	gfsb_repo_node_fini(&node);
	bk_fail(b, GFSB_ENOMEM);
	return GFSB_ENOMEM;
}

/*
 * Walk everything below the open directory d (already entered by the
 * caller, who emits its EV_LEAVE): every entry in name order, depth first.
 */
static gfsb_err
walk_below(struct bk *b, struct dirref *d, const char *path,
    const struct gfsb_tree *pt, dev_t fsdev)
{
	struct wframe *stack = NULL, *grown, *top, fr;
	size_t depth = 0, cap = 0, limit = walk_depth_limit(path);
	const struct gfsb_tree *tpt;
	const char *tpath;
	struct dirref *td;
	struct dent *de;
	char *child;
	gfsb_err e;

	/* The base frame borrows d, path and pt. */
	if ((stack = calloc(1, sizeof(*stack))) == NULL) {
		bk_fail(b, GFSB_ENOMEM);
		return GFSB_ENOMEM;
	}
	cap = depth = 1;
	gfsb_repo_tree_init(&stack[0].pt);
	e = list_dir(b, d->fd, path, &stack[0].v, &stack[0].n);
	while (e == GFSB_OK && depth > 0) {
		top = &stack[depth - 1];
		td = depth == 1 ? d : top->d;
		tpath = depth == 1 ? path : top->path;
		tpt = depth == 1 ? pt : top->have_pt ? &top->pt : NULL;
		if (top->i == top->n) {
			if (depth > 1)
				e = emit_simple(b, EV_LEAVE, NULL, 0, NULL,
				    NULL);
			wframe_fini(b, top);
			depth--;
			continue;
		}
		de = &top->v[top->i++];
		if ((child = path_join(tpath, de->name)) == NULL) {
			e = GFSB_ENOMEM;
			break;
		}
		if (bk_excluded(b, td->fd, de->name, child, &de->st, 0)) {
			free(child);
			continue;
		}
		if (!S_ISDIR(de->st.st_mode)) {
			e = do_entry(b, td, child, de->name, &de->st,
			    tpt ? gfsb_repo_tree_find(tpt, de->name) : NULL,
			    fsdev);
			free(child);
		} else {
			e = enter_dir(b, td, child, de->name, &de->st,
			    tpt ? gfsb_repo_tree_find(tpt, de->name) : NULL,
			    fsdev, depth >= limit, &fr);
			if (e == GFSB_OK && fr.d != NULL) {
				e = list_dir(b, fr.d->fd, fr.path, &fr.v,
				    &fr.n);
				if (e == GFSB_OK && depth == cap) {
					grown = realloc(stack, 2 * cap *
					    sizeof(*stack));
					if (grown == NULL)
						e = GFSB_ENOMEM;
					else {
						stack = grown;
						cap *= 2;
					}
				}
				if (e != GFSB_OK)
					wframe_fini(b, &fr);
				else
					stack[depth++] = fr; /* top moved */
			}
		}
		if (e == GFSB_OK && bk_stopping(b))
			e = b->err != GFSB_OK ? b->err : GFSB_ECANCELED;
	}
	/* After a failure: drop what is still open (no more events). */
	while (depth > 1)
		wframe_fini(b, &stack[--depth]);
	if (depth == 1)
		dents_free(stack[0].v, stack[0].n);
	free(stack);
	if (e != GFSB_OK)
		bk_fail(b, e);
	return e;
}

/* A directory named on the command line (or "/"'s own subdirectories). */
static gfsb_err
do_dir(struct bk *b, struct dirref *parent, const char *path,
    const char *name, const struct stat *st, const struct gfsb_node *pn,
    dev_t fsdev)
{
	struct wframe fr;
	char *copy;
	gfsb_err e;

	if ((copy = strdup(path)) == NULL) {
		bk_fail(b, GFSB_ENOMEM);
		return GFSB_ENOMEM;
	}
	e = enter_dir(b, parent, copy, name, st, pn, fsdev, 0, &fr);
	if (e != GFSB_OK || fr.d == NULL)
		return e;
	e = walk_below(b, fr.d, fr.path, fr.have_pt ? &fr.pt : NULL, fsdev);
	if (e == GFSB_OK)
		e = emit_simple(b, EV_LEAVE, NULL, 0, NULL, NULL);
	wframe_fini(b, &fr);
	return e;
}

static gfsb_err
do_entry(struct bk *b, struct dirref *dir, const char *path, const char *name,
    const struct stat *st, const struct gfsb_node *pn, dev_t fsdev)
{
	struct gfsb_node node;
	char proc[PATH_MAX], target[PATH_MAX + 1];
	ssize_t tl;
	gfsb_err e;

	if (S_ISDIR(st->st_mode))
		return do_dir(b, dir, path, name, st, pn, fsdev);
	if (S_ISREG(st->st_mode))
		return do_file(b, dir, path, name, st, pn);
	if ((e = bk_node_from_stat(b, name, st, &node)) != GFSB_OK) {
		bk_fail(b, e);
		return e;
	}
	if (S_ISLNK(st->st_mode)) {
		tl = readlinkat(dir->fd, name, target, sizeof(target) - 1);
		if (tl <= 0) {
			bk_warn(b, "%s: cannot read symlink: %s", path,
			    tl < 0 ? strerror(errno) : "empty");
			gfsb_repo_node_fini(&node);
			return GFSB_OK;
		}
		target[tl] = '\0';
		if ((node.target = strdup(target)) == NULL) {
			gfsb_repo_node_fini(&node);
			bk_fail(b, GFSB_ENOMEM);
			return GFSB_ENOMEM;
		}
		node.size = 0;
	} else {
		bk_proc_path(proc, sizeof(proc), dir->fd, name);
		bk_read_xattrs(b, -1, proc, path, &node.xattrs, &node.nxattrs);
	}
	return emit_simple(b, EV_NODE, &node,
	    pn != NULL ? ST_CHANGED : ST_NEW, NULL, NULL);
}

/* ---- the paths named on the command line ---- */

/* A trie of the requested paths: /srv/www and /etc give / -> srv -> www
 * and / -> etc, so the snapshot's root tree mirrors the file system. */
struct trie {
	char *name;
	int selected; /* this path itself is backed up (whole) */
	struct trie *kids;
	size_t nkids;
};

static void
trie_free(struct trie *t)
{
	size_t i;

	for (i = 0; i < t->nkids; i++)
		trie_free(&t->kids[i]);
	free(t->kids);
	free(t->name);
}

static gfsb_err
trie_add(struct trie *t, const char *path)
{
	const char *p = path, *end;
	struct trie *k, *grown;
	size_t len, i;

	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0') {
			t->selected = 1;
			return GFSB_OK;
		}
		if (t->selected)
			return GFSB_OK; /* already under a selected path */
		end = strchr(p, '/');
		len = end ? (size_t)(end - p) : strlen(p);
		k = NULL;
		for (i = 0; i < t->nkids; i++)
			if (strlen(t->kids[i].name) == len &&
			    strncmp(t->kids[i].name, p, len) == 0)
				k = &t->kids[i];
		if (k == NULL) {
			grown = realloc(t->kids, (t->nkids + 1) *
			    sizeof(*grown));
			if (grown == NULL)
				return GFSB_ENOMEM;
			t->kids = grown;
			k = &t->kids[t->nkids++];
			memset(k, 0, sizeof(*k));
			if ((k->name = strndup(p, len)) == NULL)
				return GFSB_ENOMEM;
		}
		t = k;
		p += len;
	}
}

static int
triecmp(const void *a, const void *b)
{
	return strcmp(((const struct trie *)a)->name,
	    ((const struct trie *)b)->name);
}

static void
trie_sort(struct trie *t)
{
	size_t i;

	if (t->nkids > 1)
		qsort(t->kids, t->nkids, sizeof(t->kids[0]), triecmp);
	for (i = 0; i < t->nkids; i++)
		trie_sort(&t->kids[i]);
}

/* Walk the children of trie node t, whose directory is open as d. */
static gfsb_err
walk_trie(struct bk *b, struct trie *t, struct dirref *d, const char *path,
    const struct gfsb_tree *pt)
{
	char child[PATH_MAX];
	struct gfsb_node node;
	struct gfsb_tree sub;
	struct dirref *cd;
	struct stat st;
	const struct gfsb_node *pn;
	size_t i;
	int fd, have;
	gfsb_err e = GFSB_OK;

	for (i = 0; i < t->nkids && e == GFSB_OK; i++) {
		struct trie *k = &t->kids[i];

		snprintf(child, sizeof(child), "%s/%s",
		    strcmp(path, "/") == 0 ? "" : path, k->name);
		pn = pt ? gfsb_repo_tree_find(pt, k->name) : NULL;
		if (k->selected) {
			if (fstatat(d->fd, k->name, &st,
			    AT_SYMLINK_NOFOLLOW) != 0) {
				bk_warn(b, "%s: %s", child, strerror(errno));
				continue;
			}
			if (bk_excluded(b, d->fd, k->name, child, &st, 0))
				continue;
			e = do_entry(b, d, child, k->name, &st, pn, st.st_dev);
			continue;
		}
		/* An intermediate directory of a requested path: resolved
		 * as the system resolves the path the operator named, and
		 * needing only search permission (O_PATH), as a path does. */
		fd = openat(d->fd, k->name, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) != 0) {
			bk_warn(b, "%s: %s", child, strerror(errno));
			if (fd >= 0)
				close(fd);
			continue;
		}
		if ((cd = calloc(1, sizeof(*cd))) == NULL) {
			close(fd);
			bk_fail(b, GFSB_ENOMEM);
			return GFSB_ENOMEM;
		}
		cd->fd = fd;
		cd->refs = 1;
		if ((e = bk_node_from_stat(b, k->name, &st, &node)) !=
		    GFSB_OK) {
			bk_dirref_release(b, cd);
			bk_fail(b, e);
			return e;
		}
		parent_subtree(b, pn, &sub, &have);
		e = emit_simple(b, EV_ENTER, &node, have, NULL,
		    have ? pn->subtree : NULL);
		if (e == GFSB_OK)
			e = walk_trie(b, k, cd, child, have ? &sub : NULL);
		if (e == GFSB_OK)
			e = emit_simple(b, EV_LEAVE, NULL, 0, NULL, NULL);
		gfsb_repo_tree_fini(&sub);
		bk_dirref_release(b, cd);
	}
	return e;
}

gfsb_err
bk_walk(struct bk *b, char *const *paths, size_t npaths,
    const struct gfsb_tree *parent_root)
{
	struct trie root;
	struct dirref *d;
	struct stat st;
	size_t i;
	int fd;
	gfsb_err e = GFSB_OK;

	memset(&root, 0, sizeof(root));
	for (i = 0; i < npaths && e == GFSB_OK; i++)
		e = trie_add(&root, paths[i]);
	if (e != GFSB_OK)
		goto out;
	trie_sort(&root);
	if ((fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (d = calloc(1, sizeof(*d))) == NULL) {
		if (fd >= 0)
			close(fd);
		e = gfsb_ctx_seterr(b->ctx, GFSB_EIO, "cannot open /");
		goto out;
	}
	d->fd = fd;
	d->refs = 1;
	e = emit_simple(b, EV_ENTER, NULL, parent_root != NULL, NULL, NULL);
	if (e == GFSB_OK) {
		if (root.selected) {
			/* Backing up "/" itself: its entries are the root. */
			if (fstat(fd, &st) == 0)
				e = walk_below(b, d, "/", parent_root,
				    st.st_dev);
		} else {
			e = walk_trie(b, &root, d, "/", parent_root);
		}
	}
	if (e == GFSB_OK)
		e = emit_simple(b, EV_LEAVE, NULL, 0, NULL, NULL);
	bk_dirref_release(b, d);
out:
	trie_free(&root);
	if (e != GFSB_OK)
		bk_fail(b, e);
	return e;
}

/* ---- counting for the ETA ---- */

/*
 * The count is only for the ETA, so it stops at SCAN_MAX_DEPTH levels: it
 * holds one descriptor per level while the walk holds its own (see
 * WALK_FD_RESERVE), and each level used to put a PATH_MAX buffer on this
 * thread's stack, which a deep tree overflowed (SIGSEGV at about 1,900
 * levels, with progress shown on a terminal).  Paths are allocated now.
 */
#define SCAN_MAX_DEPTH 128

static void
scan_dir(struct bk *b, int dirfd, const char *path, dev_t fsdev, int depth)
{
	struct dirent *de;
	struct stat st;
	char *child;
	DIR *d;
	int fd;

	if (depth > SCAN_MAX_DEPTH || atomic_load(&b->scan_done)) {
		close(dirfd);
		return;
	}
	if ((d = fdopendir(dirfd)) == NULL) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d)) != NULL && !gfsb_ctx_canceled(b->ctx) &&
	    !atomic_load(&b->scan_done)) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if ((child = path_join(path, de->d_name)) == NULL)
			break;
		if (bk_excluded(b, dirfd, de->d_name, child, &st, 1)) {
			free(child);
			continue;
		}
		if (S_ISREG(st.st_mode)) {
			atomic_fetch_add(&b->scan_files, 1);
			atomic_fetch_add(&b->scan_bytes, (uint64_t)st.st_size);
		} else if (S_ISDIR(st.st_mode) && (!b->o->one_file_system ||
		    st.st_dev == fsdev)) {
			fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0)
				scan_dir(b, fd, child, fsdev, depth + 1);
		}
		free(child);
	}
	closedir(d);
}

void
bk_scan(struct bk *b, char *const *paths, size_t npaths)
{
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < npaths && !gfsb_ctx_canceled(b->ctx); i++) {
		if (lstat(paths[i], &st) != 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			atomic_fetch_add(&b->scan_files, 1);
			atomic_fetch_add(&b->scan_bytes, (uint64_t)st.st_size);
		} else if (S_ISDIR(st.st_mode)) {
			fd = open(paths[i], O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0)
				scan_dir(b, fd, paths[i], st.st_dev, 0);
		}
	}
}

