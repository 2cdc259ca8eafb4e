/*
 * The restore drill: restore a random sample of the newest snapshot into a
 * scratch directory, check every file against what the snapshot records,
 * remove the scratch directory, and project from the measured rate how
 * long restoring the whole snapshot would take.
 *
 * The sample is a few windows of consecutive bytes of the snapshot in its
 * own order (depth first, by name), at random places.  Backup packs files
 * in that order, so a window reads packs the way a full restore does: long
 * range reads, not one request per scattered file.  A sample of random
 * single files would instead measure request latency and project a
 * recovery several times slower than the real one.  A file that overlaps
 * a window is restored whole, so the sample can exceed the size asked.
 *
 * The check does not trust the restore: it reads each file back from the
 * scratch directory and recomputes the id of every extent the snapshot
 * records (holes must read as zeros), then compares size, mode, mtime and
 * symlink targets.
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sodium.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define DRILL_WINDOW_MIN (32ULL << 20)
#define DRILL_WINDOWS_MAX 16
#define DRILL_FAILED_MAX 100
#define DRILL_HOLE_READ (1U << 20)
#define DRILL_EXTENT_MAX (256ULL << 20) /* no blob is larger */

/* An entry of the sample, checked after the restore. */
struct picked {
	char *path;
	struct gfsb_node node;
};

struct drill {
	struct gfsb_repo *r;
	const struct gfsb_drill_opts *o;
	struct gfsb_drill_result *res;
	/* The windows: [start[k], start[k] + width) of the snapshot's bytes,
	 * sorted.  all: the sample is the whole snapshot. */
	uint64_t start[DRILL_WINDOWS_MAX], width;
	unsigned nwin;
	int all;
	int oom;		/* an entry could not be kept for the check */
	uint64_t at;		/* bytes of the snapshot before this entry */
	struct picked *picked;
	size_t npicked, cap;
	uint64_t rng;
	struct gfsb_buf buf;	/* an extent read back */
};

/* splitmix64: the windows' places (seeded for tests). */
static uint64_t
next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Pass one: the snapshot's size, over every entry. */
static gfsb_err
count_entry(void *cookie, const char *path, const struct gfsb_node *n)
{
	struct drill *d = cookie;

	(void)path;
	if (n->kind == GFSB_NODE_DIR)
		return GFSB_OK;
	d->res->total_files++;
	if (n->kind == GFSB_NODE_FILE)
		d->res->total_bytes += n->size;
	return GFSB_OK;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Place the windows: about size bytes in all, each at least
 * DRILL_WINDOW_MIN, at most DRILL_WINDOWS_MAX of them. */
static void
place_windows(struct drill *d)
{
	uint64_t total = d->res->total_bytes, size = d->o->size;
	unsigned k;

	if (size >= total) {
		d->all = 1;
		return;
	}
	d->nwin = (unsigned)(size / DRILL_WINDOW_MIN);
	if (d->nwin < 1)
		d->nwin = 1;
	if (d->nwin > DRILL_WINDOWS_MAX)
		d->nwin = DRILL_WINDOWS_MAX;
	d->width = size / d->nwin;
	for (k = 0; k < d->nwin; k++)
		d->start[k] = next_random(&d->rng) % (total - d->width + 1);
	qsort(d->start, d->nwin, sizeof(d->start[0]), cmp_u64);
}

/* Does [at, at + len) touch a window?  A file of no bytes counts when
 * its place lies in one. */
static int
in_window(const struct drill *d, uint64_t at, uint64_t len)
{
	unsigned k;

	if (d->all)
		return 1;
	for (k = 0; k < d->nwin; k++)
		if (at < d->start[k] + d->width &&
		    (len > 0 ? at + len > d->start[k] : at >= d->start[k]))
			return 1;
	return 0;
}

/* Pass two, the restore's: the same order, so the same offsets. */
static int
select_entry(void *cookie, const char *path, const struct gfsb_node *n)
{
	struct drill *d = cookie;
	uint64_t len = n->kind == GFSB_NODE_FILE ? n->size : 0;
	struct picked *p, *grown;
	int take = in_window(d, d->at, len);

	d->at += len;
	if (!take)
		return 0;
	if (d->npicked == d->cap) {
		size_t ncap = d->cap ? 2 * d->cap : 256;

		if ((grown = realloc(d->picked, ncap * sizeof(*grown))) ==
		    NULL) {
			d->oom = 1; /* the drill fails: it checks everything */
			return 0;
		}
		d->picked = grown;
		d->cap = ncap;
	}
	p = &d->picked[d->npicked];
	memset(p, 0, sizeof(*p));
	if ((p->path = strdup(path)) == NULL ||
	    ops_node_copy(n, &p->node) != GFSB_OK) {
		free(p->path);
		gfsb_repo_node_fini(&p->node);
		d->oom = 1;
		return 0;
	}
	d->npicked++;
	d->res->files++;
	d->res->bytes += len;
	return 1;
}

/* ---- the check ---- */

/* Read n bytes at fd's position into buf: NULL, or a reason. */
static const char *
read_full(int fd, uint8_t *buf, size_t n)
{
	ssize_t got;
	size_t off = 0;

	while (off < n) {
		got = read(fd, buf + off, n - off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return "cannot be read back";
		if (got == 0)
			return "is shorter than the snapshot says";
		off += (size_t)got;
	}
	return NULL;
}

/* The bytes of one extent against its id (or zeros, for a hole). */
static const char *
check_extent(struct drill *d, int fd, const struct gfsb_extent *x)
{
	uint8_t id[GFSB_ID_LEN], *b;
	uint64_t left = x->len;
	const char *why;
	size_t i, n;

	if (x->len > DRILL_EXTENT_MAX)
		return "has an extent larger than any blob";
	if (gfsb_buf_reserve(&d->buf, x->hole ? DRILL_HOLE_READ : x->len) !=
	    GFSB_OK)
		return "cannot be checked (out of memory)";
	b = d->buf.data;
	if (x->hole) {
		for (; left > 0; left -= n) {
			n = left < DRILL_HOLE_READ ? left : DRILL_HOLE_READ;
			if ((why = read_full(fd, b, n)) != NULL)
				return why;
			for (i = 0; i < n; i++)
				if (b[i] != 0)
					return "has data where the snapshot "
					    "has a hole";
		}
		return NULL;
	}
	if ((why = read_full(fd, b, x->len)) != NULL)
		return why;
	gfsb_repo_blob_id(d->r, b, x->len, id);
	if (sodium_memcmp(id, x->id, GFSB_ID_LEN) != 0)
		return "content differs from the snapshot";
	return NULL;
}

static const char *
check_file(struct drill *d, const char *at, const struct gfsb_node *n)
{
	uint8_t id[1];
	const char *why = NULL;
	size_t i;
	int fd;

	if ((fd = open(at, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return "cannot be opened";
	for (i = 0; i < n->nextents && why == NULL; i++)
		why = check_extent(d, fd, &n->extents[i]);
	if (why == NULL && read(fd, id, 1) != 0)
		why = "is longer than the snapshot says";
	close(fd);
	return why;
}

/* One entry of the sample, restored at `at`: NULL when it is what the
 * snapshot records, else why not. */
static const char *
check_entry(struct drill *d, const char *at, const struct gfsb_node *n)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t len;

	if (lstat(at, &st) != 0)
		return "was not restored";
	switch (n->kind) {
	case GFSB_NODE_FILE:
		if (!S_ISREG(st.st_mode))
			return "is not a regular file";
		if ((uint64_t)st.st_size != n->size)
			return "has the wrong size";
		if ((st.st_mode & 0777) != (n->mode & 0777))
			return "has the wrong mode";
		if (st.st_mtim.tv_sec != n->mtime.sec)
			return "has the wrong modification time";
		return check_file(d, at, n);
	case GFSB_NODE_SYMLINK:
		if (!S_ISLNK(st.st_mode))
			return "is not a symbolic link";
		len = readlink(at, target, sizeof(target) - 1);
		if (len < 0 || n->target == NULL ||
		    (size_t)len != strlen(n->target) ||
		    memcmp(target, n->target, (size_t)len) != 0)
			return "points elsewhere than the snapshot says";
		return NULL;
	default:
		return (st.st_mode & S_IFMT) == (n->mode & S_IFMT) ? NULL :
		    "has the wrong type";
	}
}

static gfsb_err
add_failure(struct drill *d, const char *path, const char *why)
{
	struct gfsb_drill_result *res = d->res;
	size_t max = d->o->max_files ? d->o->max_files : DRILL_FAILED_MAX;
	struct gfsb_drill_failure *grown;
	char *p;

	res->failed++;
	gfsb_ctx_log(gfsb_repo_ctx(d->r), GFSB_LOG_ERROR, "drill: %s: %s",
	    path, why);
	if (res->nfailures >= max)
		return GFSB_OK;
	if ((grown = realloc(res->failures, (res->nfailures + 1) *
	    sizeof(*grown))) == NULL)
		return GFSB_ENOMEM;
	res->failures = grown;
	if ((p = strdup(path)) == NULL)
		return GFSB_ENOMEM;
	grown[res->nfailures].path = p;
	grown[res->nfailures].why = why;
	res->nfailures++;
	return GFSB_OK;
}

static gfsb_err
check_all(struct drill *d, const char *scratch)
{
	char at[PATH_MAX + 64];
	const char *why;
	size_t i;
	gfsb_err e;

	for (i = 0; i < d->npicked; i++) {
		const struct picked *p = &d->picked[i];

		if ((size_t)snprintf(at, sizeof(at), "%s%s", scratch,
		    p->path) >= sizeof(at))
			why = "has a path too long to check";
		else
			why = check_entry(d, at, &p->node);
		if (why == NULL) {
			d->res->checked++;
			continue;
		}
		if ((e = add_failure(d, p->path, why)) != GFSB_OK)
			return e;
	}
	return GFSB_OK;
}

/* ---- the scratch directory ---- */

static int
open_up(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)f;
	if (type == FTW_D && (st->st_mode & 0700) != 0700)
		(void)chmod(path, (st->st_mode & 07777) | 0700);
	return 0;
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_DP)
		return rmdir(path) != 0 ? -1 : 0;
	return unlink(path) != 0 ? -1 : 0;
}

/* rm -rf of what the drill made: never following a link, never leaving
 * the file system (restored directories may be read-only). */
static int
remove_scratch(const char *dir)
{
	if (nftw(dir, open_up, 32, FTW_PHYS | FTW_MOUNT) != 0)
		return -1;
	return nftw(dir, remove_one, 32, FTW_PHYS | FTW_MOUNT | FTW_DEPTH);
}

/* The scratch directory: a new directory under opts->scratch. */
static gfsb_err
make_scratch(struct drill *d, char *dir, size_t len)
{
	const char *parent = d->o->scratch;

	if (parent == NULL && (parent = getenv("TMPDIR")) == NULL)
		parent = "/var/tmp";
	if ((size_t)snprintf(dir, len, "%s/gfsbackup-drill.XXXXXX", parent) >=
	    len || mkdtemp(dir) == NULL)
		return gfsb_ctx_seterr(gfsb_repo_ctx(d->r), GFSB_EIO, "drill: "
		    "cannot make a scratch directory in %s: %s", parent,
		    strerror(errno));
	return GFSB_OK;
}

/* Room for the sample (and an eighth more, for metadata and the cache). */
static gfsb_err
check_room(struct drill *d, const char *dir)
{
	struct statvfs vfs;
	uint64_t room, need = d->res->bytes + d->res->bytes / 8 + (16ULL << 20);

	if (statvfs(dir, &vfs) != 0)
		return gfsb_ctx_seterr(gfsb_repo_ctx(d->r), GFSB_EIO, "drill: "
		    "%s: %s", dir, strerror(errno));
	room = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (room < need)
		return gfsb_ctx_seterr(gfsb_repo_ctx(d->r), GFSB_EIO, "drill: "
		    "the scratch directory's file system has %llu MiB free, "
		    "the sample needs %llu MiB", (unsigned long long)(room >>
		    20), (unsigned long long)(need >> 20));
	return GFSB_OK;
}

/* ---- the drill ---- */

/* Pass one: pick the snapshot, load the index, walk its trees, and size
 * the sample (the same walk a full restore starts with). */
static gfsb_err
survey(struct drill *d)
{
	struct gfsb_drill_result *res = d->res;
	struct gfsb_snapshot *snap = NULL;
	gfsb_err e;

	if ((e = gfsb_ops_ls(d->r, "latest", d->o->host, "/", count_entry, d,
	    &snap)) != GFSB_OK)
		return e;
	snprintf(res->snapshot, sizeof(res->snapshot), "%s", snap->id);
	res->snapshot_time = snap->time;
	gfsb_repo_snapshot_free(snap);
	place_windows(d);
	/* What the sample will hold, for the space check: the windows'
	 * bytes (the restore counts the real sample). */
	res->bytes = d->all ? res->total_bytes : d->nwin * d->width;
	return GFSB_OK;
}

/*
 * In the scratch directory: cache/, the repository's cache as a new server
 * starts it (empty), and data/, the sample.
 */
static gfsb_err
drill_run(struct drill *d, char *scratch, size_t len)
{
	struct gfsb_drill_result *res = d->res;
	struct gfsb_restore_opts ro;
	char sub[PATH_MAX + 16];
	double t0, t1;
	gfsb_err e;

	if ((e = make_scratch(d, scratch, len)) != GFSB_OK)
		return e;
	if ((size_t)snprintf(sub, sizeof(sub), "%s/cache", scratch) >=
	    sizeof(sub))
		return GFSB_ENOMEM;
	if (d->o->fresh_cache && (e = gfsb_repo_set_cache(d->r, sub)) !=
	    GFSB_OK)
		return e;
	t0 = gfsb_monotonic_seconds();
	if ((e = survey(d)) != GFSB_OK || (e = check_room(d, scratch)) !=
	    GFSB_OK)
		return e;
	snprintf(sub, sizeof(sub), "%s/data", scratch);
	res->files = res->bytes = 0;
	t1 = gfsb_monotonic_seconds();
	res->setup = t1 - t0;
	memset(&ro, 0, sizeof(ro));
	ro.snapshot = res->snapshot;
	ro.target = sub;
	ro.threads = d->o->threads;
	ro.no_lock = d->o->no_lock;
	ro.select = select_entry;
	ro.select_cookie = d;
	ro.progress = d->o->progress;
	ro.progress_cookie = d->o->progress_cookie;
	e = gfsb_ops_restore(d->r, &ro, &res->restore);
	/* Damage is found again, file by file, by the check. */
	if (e == GFSB_ECORRUPT) {
		gfsb_ctx_clearerr(gfsb_repo_ctx(d->r));
		e = GFSB_OK;
	}
	if (e == GFSB_OK && d->oom)
		e = gfsb_ctx_seterr(gfsb_repo_ctx(d->r), GFSB_ENOMEM, "drill: "
		    "out of memory keeping the sample's entries");
	if (e == GFSB_OK)
		e = check_all(d, sub);
	res->seconds = gfsb_monotonic_seconds() - t1;
	/* The cache goes with the scratch directory. */
	if (d->o->fresh_cache && gfsb_repo_set_cache(d->r, NULL) != GFSB_OK &&
	    e == GFSB_OK)
		e = GFSB_ENOMEM;
	return e;
}

/* The measured rate, and the whole snapshot at that rate after the same
 * setup (index, snapshot, trees). */
static void
project(struct gfsb_drill_result *res)
{
	double restore = res->restore.seconds > 0 ? res->restore.seconds :
	    res->seconds;

	res->rate = restore > 0 ? (double)res->bytes / restore : 0;
	if (res->bytes >= res->total_bytes || res->rate <= 0)
		res->projected = res->setup + restore;
	else
		res->projected = res->setup + (double)res->total_bytes /
		    res->rate;
}

gfsb_err
gfsb_ops_drill(struct gfsb_repo *r, const struct gfsb_drill_opts *o,
    struct gfsb_drill_result *res)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(r);
	char scratch[PATH_MAX];
	struct drill d;
	size_t i;
	gfsb_err e, e2;

	memset(res, 0, sizeof(*res));
	memset(&d, 0, sizeof(d));
	scratch[0] = '\0';
	if (o->size == 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "drill: the sample "
		    "size must be more than 0");
	d.r = r;
	d.o = o;
	d.res = res;
	d.rng = o->seed;
	gfsb_buf_init(&d.buf);
	if (d.rng == 0)
		randombytes_buf(&d.rng, sizeof(d.rng));
	e = drill_run(&d, scratch, sizeof(scratch));
	if (scratch[0] != '\0' && remove_scratch(scratch) != 0) {
		e2 = gfsb_ctx_seterr(ctx, GFSB_EIO, "drill: cannot remove "
		    "the scratch directory %s: %s", scratch, strerror(errno));
		if (e == GFSB_OK)
			e = e2;
	}
	if (e == GFSB_OK)
		project(res);
	for (i = 0; i < d.npicked; i++) {
		free(d.picked[i].path);
		gfsb_repo_node_fini(&d.picked[i].node);
	}
	free(d.picked);
	gfsb_buf_fini(&d.buf);
	return e;
}

gfsb_err
gfsb_ops_drill_copy(struct gfsb_repo *src, struct gfsb_backend *be,
    const struct gfsb_drill_opts *opts, const char *record,
    const struct gfsb_time *now, struct gfsb_drill_result *res)
{
	struct gfsb_drill_opts o = *opts;
	struct gfsb_repo *m = NULL;
	gfsb_err e;

	memset(res, 0, sizeof(*res));
	o.fresh_cache = 1;
	if ((e = gfsb_repo_open_mirror(src, be, &m)) == GFSB_OK &&
	    (e = gfsb_ops_drill(m, &o, res)) == GFSB_OK)
		e = gfsb_ops_drill_record(gfsb_repo_ctx(src), record, res, now,
		    gfsb_backend_location(be));
	gfsb_repo_close(m);
	return e;
}

void
gfsb_ops_drill_summary(const struct gfsb_drill_result *res, const char *from,
    char *buf, size_t len)
{
	char got[32], all[32], rate[32], took[32];

	if (res->failed > 0) {
		snprintf(buf, len, "%llu of %llu files of snapshot %.8s did "
		    "not come back intact from %s (first: %s: %s)",
		    (unsigned long long)res->failed,
		    (unsigned long long)res->files, res->snapshot, from,
		    res->nfailures > 0 ? res->failures[0].path : "?",
		    res->nfailures > 0 ? res->failures[0].why : "?");
		return;
	}
	gfsb_size_format(res->bytes, got, sizeof(got));
	gfsb_size_format(res->total_bytes, all, sizeof(all));
	gfsb_size_format((uint64_t)res->rate, rate, sizeof(rate));
	gfsb_duration_format(res->projected, took, sizeof(took));
	snprintf(buf, len, "restored %s (%llu files) of snapshot %.8s from %s "
	    "at %s/s, all intact; a full restore (%llu files, %s) would take "
	    "about %s", got, (unsigned long long)res->files, res->snapshot,
	    from, rate, (unsigned long long)res->total_files, all, took);
}

void
gfsb_ops_drill_result_fini(struct gfsb_drill_result *res)
{
	size_t i;

	for (i = 0; i < res->nfailures; i++)
		free(res->failures[i].path);
	free(res->failures);
	memset(res, 0, sizeof(*res));
}
