/*
 * backup and restore, round trip, on an in-memory repository: a generated
 * tree with every kind of entry (nested directories, empty files and
 * directories, files of many sizes, a sparse file, symlinks, a dangling
 * one, hard links, a FIFO, odd names, modes, nanosecond times) comes back
 * identical; an incremental backup reads only what changed and leaves
 * the first snapshot restoring as before; a path inside the snapshot and
 * exclude patterns restore exactly their part; ls lists what the tree
 * holds, depth first and in name order; dump writes a file (holes as
 * zeros) or a directory as an archive.  Which options go with a
 * stream (--stdin, --stdin-from-command), each refusal exactly.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "fixture.h"

#define PASS "round trip"

struct fixture {
	char base[64], src[128];
	struct fx_repo x;
	int nrestores;
};

/* n bytes of xorshift (compressible: odd seeds repeat a 4 KiB block). */
static void
write_file(const char *path, size_t n, unsigned seed, mode_t mode)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL * (seed + 1);
	FILE *fp;
	size_t i;

	assert_non_null(fp = fopen(path, "w"));
	for (i = 0; i < n; i++) {
		if ((seed & 1) && i % 4096 == 0)
			x = 0x9e3779b97f4a7c15ULL * (seed + 1);
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		fputc((int)(x & 0xff), fp);
	}
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
at(const char *dir, const char *name, char *out, size_t len)
{
	if (snprintf(out, len, "%s/%s", dir, name) >= (int)len)
		fail_msg("path too long: %s/%s", dir, name);
}

static void
set_time(const char *path, long sec, long nsec)
{
	struct timespec ts[2] = { { sec, nsec }, { sec, nsec } };

	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* The tree: 3 levels, 40 files from 0 bytes to 3 MiB, and the rest. */
static void
make_tree(const char *s)
{
	static const size_t sizes[] = { 0, 1, 100, 4095, 4096, 65537,
	    300000, 1 << 20, 3 << 20 };
	char p[512], q[512], name[64];
	unsigned i;
	int fd;

	assert_int_equal(mkdir(s, 0755), 0);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "dir%u", i);
		at(s, name, p, sizeof(p));
		assert_int_equal(mkdir(p, 0750 + i), 0);
		at(p, "sub", q, sizeof(q));
		assert_int_equal(mkdir(q, 0755), 0);
	}
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "dir%u/%sf%02u.%s", i % 4,
		    i % 3 ? "" : "sub/", i, i % 5 ? "txt" : "bin");
		at(s, name, p, sizeof(p));
		write_file(p, sizes[i % 9], i, i % 7 ? 0644 : 0600);
		set_time(p, 1700000000 + i, 123456789);
	}
	at(s, "empty-dir", p, sizeof(p));
	assert_int_equal(mkdir(p, 0700), 0);
	at(s, "read-only", p, sizeof(p));
	write_file(p, 10, 3, 0444);
	at(s, "odd name \t with\nnewline \xe9", p, sizeof(p));
	write_file(p, 7, 4, 0644);
	/* 64 MiB, a byte in the middle and a tail. */
	at(s, "sparse.img", p, sizeof(p));
	assert_true((fd = open(p, O_WRONLY | O_CREAT, 0644)) >= 0);
	assert_int_equal(pwrite(fd, "x", 1, 32 << 20), 1);
	assert_int_equal(ftruncate(fd, 64 << 20), 0);
	close(fd);
	at(s, "link", p, sizeof(p));
	assert_int_equal(symlink("dir0/f04.txt", p), 0);
	at(s, "dangling", p, sizeof(p));
	assert_int_equal(symlink("/nonexistent/x", p), 0);
	at(s, "dir1/f01.txt", p, sizeof(p));
	at(s, "hard", q, sizeof(q));
	assert_int_equal(link(p, q), 0);
	at(s, "fifo", p, sizeof(p));
	assert_int_equal(mkfifo(p, 0640), 0);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "dir%u", i);
		at(s, name, p, sizeof(p));
		set_time(p, 1600000000 + i, 5);
	}
}

static int
same_bytes(const char *a, const char *b)
{
	char ba[65536], bb[65536];
	size_t na, nb;
	FILE *fa, *fb;
	int same = 1;

	assert_non_null(fa = fopen(a, "r"));
	assert_non_null(fb = fopen(b, "r"));
	do {
		na = fread(ba, 1, sizeof(ba), fa);
		nb = fread(bb, 1, sizeof(bb), fb);
		if (na != nb || memcmp(ba, bb, na) != 0)
			same = 0;
	} while (same && na > 0);
	fclose(fa);
	fclose(fb);
	return same;
}

/* a and b hold the same entries with the same type, mode, size, times
 * (not for symlinks' own), bytes and targets; with links, hard links stay
 * linked (a part of the tree may hold one name of a pair); names of a
 * ending in skip (NULL: none) are not looked for in b.  Returns the
 * number of entries compared. */
static int
same_tree(const char *a, const char *b, int links, const char *skip)
{
	struct dirent *de;
	struct stat sa, sb;
	char pa[1024], pb[1024], ta[256], tb[256];
	int n = 0, na = 0, nb = 0;
	ssize_t la, lb;
	DIR *d;

	assert_non_null(d = opendir(b));
	while ((de = readdir(d)) != NULL)
		nb += strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0;
	closedir(d);
	assert_non_null(d = opendir(a));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") ==
		    0)
			continue;
		if (skip != NULL && strlen(de->d_name) > strlen(skip) &&
		    strcmp(de->d_name + strlen(de->d_name) - strlen(skip),
		    skip) == 0)
			continue;
		na++;
		at(a, de->d_name, pa, sizeof(pa));
		at(b, de->d_name, pb, sizeof(pb));
		assert_int_equal(lstat(pa, &sa), 0);
		if (lstat(pb, &sb) != 0)
			fail_msg("%s: not restored", pb);
		if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT) ||
		    (!S_ISLNK(sa.st_mode) && sa.st_mode != sb.st_mode))
			fail_msg("%s: mode %o, not %o", pb, sb.st_mode,
			    sa.st_mode);
		n++;
		if (S_ISDIR(sa.st_mode)) {
			n += same_tree(pa, pb, links, skip);
		} else if (S_ISLNK(sa.st_mode)) {
			la = readlink(pa, ta, sizeof(ta));
			lb = readlink(pb, tb, sizeof(tb));
			assert_true(la > 0 && la == lb && memcmp(ta, tb,
			    (size_t)la) == 0);
			continue;
		} else if (S_ISREG(sa.st_mode)) {
			if (sa.st_size != sb.st_size || !same_bytes(pa, pb))
				fail_msg("%s: other bytes", pb);
			if (links && sa.st_nlink != sb.st_nlink)
				fail_msg("%s: %lu links, not %lu", pb,
				    (unsigned long)sb.st_nlink,
				    (unsigned long)sa.st_nlink);
			if (sa.st_size > (8 << 20) &&
			    sb.st_blocks > sa.st_blocks + 64)
				fail_msg("%s: holes not restored", pb);
		}
		if (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec ||
		    sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec)
			fail_msg("%s: mtime differs", pb);
	}
	closedir(d);
	if (na != nb)
		fail_msg("%s: %d entries, %s has %d", b, nb, a, na);
	return n;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fx_tmpdir(f->base, sizeof(f->base), "rt");
	snprintf(f->src, sizeof(f->src), "%s/src", f->base);
	make_tree(f->src);
	fx_repo_new(&f->x, PASS, 1 << 20);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	fx_repo_free(&f->x);
	fx_rm_rf(f->base);
	free(f);
	return 0;
}

static void
backup(struct fixture *f, struct gfsb_backup_result *res)
{
	const char *paths[1] = { f->src };
	struct gfsb_backup_opts bo;

	memset(&bo, 0, sizeof(bo));
	bo.paths = paths;
	bo.npaths = 1;
	if (gfsb_ops_backup(f->x.r, &bo, res) != GFSB_OK)
		fail_msg("backup: %s", gfsb_ctx_errmsg(f->x.ctx));
	assert_int_equal(res->summary.warnings, 0);
}

/* Restore (snapshot, subpath, excludes) into a new directory: *out. */
static void
restore(struct fixture *f, const char *snap, const char *subpath,
    const char *const *excl, size_t nexcl, char *out, size_t len,
    struct gfsb_restore_result *res)
{
	struct gfsb_restore_opts o;

	snprintf(out, len, "%s/restore%d", f->base, f->nrestores++);
	memset(&o, 0, sizeof(o));
	o.snapshot = snap;
	o.subpath = subpath;
	o.target = out;
	o.excludes = excl;
	o.nexcludes = nexcl;
	if (gfsb_ops_restore(f->x.r, &o, res) != GFSB_OK)
		fail_msg("restore: %s", gfsb_ctx_errmsg(f->x.ctx));
	assert_int_equal(res->damaged_files, 0);
	assert_int_equal(res->warnings, 0);
}

/* restic's backup --json records: a status, and the summary of b. */
static void
summary_json(const struct gfsb_backup_result *b)
{
	struct gfsb_backup_progress p = { 5, 500, 10, 1000, 1, 2.0 };
	json_t *j;
	char *s;

	assert_non_null(s = gfsb_ops_backup_status_json(&p));
	assert_null(strchr(s, '\n'));
	assert_non_null(j = json_loads(s, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(j,
	    "message_type")), "status");
	assert_true(json_real_value(json_object_get(j, "percent_done")) ==
	    0.5);
	assert_int_equal(json_integer_value(json_object_get(j,
	    "seconds_remaining")), 2);
	json_decref(j);
	free(s);
	assert_non_null(s = gfsb_ops_backup_summary_json(b));
	assert_non_null(j = json_loads(s, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(j,
	    "snapshot_id")), b->snapshot_id);
	assert_int_equal(json_integer_value(json_object_get(j, "files_new")),
	    b->summary.files_new);
	assert_int_equal(json_integer_value(json_object_get(j,
	    "total_bytes_processed")), b->summary.total_bytes_processed);
	json_decref(j);
	free(s);
}

/*
 * A file of zeros is all longest chunks (no cut point), each about half
 * the in-flight budget.  With four workers the walk goes over the budget
 * to keep a worker busy, by at most one longest chunk (the bound), and
 * the file restores.
 */
static void
test_inflight_bound(void **state)
{
	struct fixture *f = *state;
	static uint8_t zeros[1 << 20];
	const char *paths[1] = { f->src };
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result b;
	struct gfsb_restore_result r;
	char p[512], dir[256], root[512];
	int fd, i;

	snprintf(p, sizeof(p), "%s/zeros", f->src);
	assert_true((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
	for (i = 0; i < 64; i++)
		assert_int_equal(write(fd, zeros, sizeof(zeros)),
		    (ssize_t)sizeof(zeros));
	assert_int_equal(close(fd), 0);
	memset(&bo, 0, sizeof(bo));
	bo.paths = paths;
	bo.npaths = 1;
	bo.threads = 4;
	if (gfsb_ops_backup(f->x.r, &bo, &b) != GFSB_OK)
		fail_msg("backup: %s", gfsb_ctx_errmsg(f->x.ctx));
	assert_true(b.inflight_peak >= (8U << 20));
	if (b.inflight_peak > b.inflight_bound)
		fail_msg("%zu bytes in flight, bound %zu", b.inflight_peak,
		    b.inflight_bound);
	restore(f, "latest", NULL, NULL, 0, dir, sizeof(dir), &r);
	snprintf(root, sizeof(root), "%s%s", dir, f->src);
	assert_int_equal(same_tree(f->src, root, 1, NULL), 57);
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct gfsb_backup_result b;
	struct gfsb_restore_result r;
	char dir[256], root[512];

	backup(f, &b);
	assert_int_equal(b.summary.files_new, 44);
	summary_json(&b);
	restore(f, "latest", NULL, NULL, 0, dir, sizeof(dir), &r);
	assert_string_equal(r.snapshot_id, b.snapshot_id);
	snprintf(root, sizeof(root), "%s%s", dir, f->src);
	assert_int_equal(same_tree(f->src, root, 1, NULL), 56);
	assert_int_equal(r.files, 44);	/* the hard link's two names */
}

static void
test_incremental(void **state)
{
	struct fixture *f = *state;
	struct gfsb_backup_result b1, b2;
	struct gfsb_restore_result r;
	char one[256], again[256], now[256], p[512], q[512];

	backup(f, &b1);
	restore(f, b1.snapshot_id, NULL, NULL, 0, one, sizeof(one), &r);
	/* Same size, same mtime, other bytes (the ctime tells); a new file;
	 * a file gone. */
	at(f->src, "dir2/f02.txt", p, sizeof(p));
	write_file(p, 100, 99, 0644);
	set_time(p, 1700000002, 123456789);
	at(f->src, "dir0/new.txt", p, sizeof(p));
	write_file(p, 5000, 7, 0644);
	at(f->src, "dir3/sub/f03.txt", p, sizeof(p));
	assert_int_equal(unlink(p), 0);
	backup(f, &b2);
	assert_string_equal(b2.parent, b1.snapshot_id);
	assert_int_equal(b2.summary.files_new, 1);
	assert_int_equal(b2.summary.files_changed, 1);
	assert_int_equal(b2.summary.files_unmodified, 42);
	restore(f, "latest", NULL, NULL, 0, now, sizeof(now), &r);
	snprintf(q, sizeof(q), "%s%s", now, f->src);
	same_tree(f->src, q, 1, NULL);
	/* The first snapshot restores as it did. */
	restore(f, b1.snapshot_id, NULL, NULL, 0, again, sizeof(again), &r);
	same_tree(one, again, 1, NULL);
}

static void
test_part_and_excludes(void **state)
{
	struct fixture *f = *state;
	struct gfsb_backup_result b;
	struct gfsb_restore_result r;
	const char *excl[1] = { "*.bin" };
	char dir[256], sub[512], path[512];
	struct stat st;

	backup(f, &b);
	snprintf(sub, sizeof(sub), "%s/dir1", f->src);
	restore(f, "latest", sub, NULL, 0, dir, sizeof(dir), &r);
	same_tree(sub, dir, 0, NULL);
	/* Without the .bin files, the rest as it is. */
	restore(f, "latest", NULL, excl, 1, dir, sizeof(dir), &r);
	snprintf(path, sizeof(path), "%s%s/dir0/f05.bin", dir, f->src);
	assert_int_not_equal(lstat(path, &st), 0);
	snprintf(path, sizeof(path), "%s%s", dir, f->src);
	same_tree(f->src, path, 1, ".bin");
}

/* Restore into dir, which holds files: mode, delete; the error. */
static gfsb_err
restore_over(struct fixture *f, const char *dir, enum gfsb_restore_overwrite
    mode, int del, const char *const *excl, size_t nexcl,
    struct gfsb_restore_result *res)
{
	struct gfsb_restore_opts o;

	memset(&o, 0, sizeof(o));
	o.snapshot = "latest";
	o.target = dir;
	o.overwrite = mode;
	o.delete_extra = del;
	o.excludes = excl;
	o.nexcludes = nexcl;
	gfsb_ctx_clearerr(f->x.ctx);
	return gfsb_ops_restore(f->x.r, &o, res);
}

/* The first bytes of path, as a string. */
static const char *
head(const char *path)
{
	static char buf[32];
	FILE *fp;
	size_t n;

	assert_non_null(fp = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* After an attack on a restored tree (files encrypted, one with its size
 * and time kept, a note and a directory dropped, a symlink out of the
 * tree planted): a non-empty target is refused unless --overwrite says
 * what to do; never, if-changed and always keep what they should;
 * --delete then removes exactly what the snapshot does not hold (not an
 * excluded name, nothing through the symlink), and the tree is the
 * snapshot's again. */
static void
test_in_place(void **state)
{
	struct fixture *f = *state;
	const char *keep[1] = { "*.keep" };
	struct gfsb_backup_result b;
	struct gfsb_restore_result r;
	char dir[256], root[512], a[600], bb[600], p[600], out[300];
	struct stat st;

	backup(f, &b);
	restore(f, "latest", NULL, NULL, 0, dir, sizeof(dir), &r);
	snprintf(root, sizeof(root), "%s%s", dir, f->src);
	at(root, "dir0/f04.txt", a, sizeof(a));	/* 4096 bytes */
	write_file(a, 10, 77, 0644);
	at(root, "dir2/f02.txt", bb, sizeof(bb));	/* 100 bytes */
	write_file(bb, 100, 78, 0644);
	set_time(bb, 1700000002, 123456789);
	at(root, "README-RANSOM.txt", p, sizeof(p));
	write_file(p, 50, 1, 0644);
	at(root, "dir1/junk", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	at(root, "dir1/junk/x", p, sizeof(p));
	write_file(p, 50, 2, 0644);
	snprintf(out, sizeof(out), "%s/outside", f->base);
	assert_int_equal(mkdir(out, 0755), 0);
	at(out, "victim", p, sizeof(p));
	write_file(p, 5, 3, 0644);
	at(root, "dir3/escape", p, sizeof(p));
	assert_int_equal(symlink(out, p), 0);
	at(root, "notes.keep", p, sizeof(p));
	write_file(p, 5, 4, 0644);
	/* A directory of the snapshot made a symlink out of the tree. */
	at(root, "dir2/sub", p, sizeof(p));
	at(f->base, "moved", a, sizeof(a));
	assert_int_equal(rename(p, a), 0);
	assert_int_equal(symlink(out, p), 0);
	at(root, "dir0/f04.txt", a, sizeof(a));

	assert_int_equal(restore_over(f, dir, GFSB_OVERWRITE_REFUSE, 0, NULL,
	    0, &r), GFSB_EEXIST);
	assert_int_equal(restore_over(f, dir, GFSB_OVERWRITE_REFUSE, 1, NULL,
	    0, &r), GFSB_EINVAL);
	assert_int_equal(restore_over(f, dir, GFSB_OVERWRITE_NEVER, 0, NULL,
	    0, &r), GFSB_OK);
	/* 44 files, 2 symlinks and the FIFO, but dir2/sub's 3 files: the
	 * symlink there is replaced by the directory, and they by theirs. */
	assert_int_equal(r.files, 3);
	assert_int_equal(r.kept, 44);
	assert_int_equal(lstat(a, &st), 0);
	assert_int_equal(st.st_size, 10);	/* as the attack left it */
	assert_int_equal(restore_over(f, dir, GFSB_OVERWRITE_IF_CHANGED, 0,
	    NULL, 0, &r), GFSB_OK);
	at(f->src, "dir0/f04.txt", p, sizeof(p));
	assert_true(same_bytes(p, a));
	at(f->src, "dir2/f02.txt", p, sizeof(p));
	assert_false(same_bytes(p, bb));	/* same size and time: kept */
	assert_int_equal(restore_over(f, dir, GFSB_OVERWRITE_ALWAYS, 1, keep, 1,
	    &r), GFSB_OK);
	assert_int_equal(r.kept, 0);
	assert_int_equal(r.deleted, 3);	/* the note, junk/, escape */
	assert_int_equal(r.not_deleted, 0);
	assert_true(same_bytes(p, bb));
	at(out, "victim", p, sizeof(p));
	assert_int_equal(strlen(head(p)), 5);
	at(root, "notes.keep", p, sizeof(p));	/* excluded: not ours */
	assert_int_equal(unlink(p), 0);
	same_tree(f->src, root, 1, NULL);
}

/* Restore the latest snapshot as an archive to path (replace: --force). */
static gfsb_err
restore_tar(struct fixture *f, const char *path, int replace)
{
	struct gfsb_restore_result res;
	struct gfsb_restore_opts o;

	memset(&o, 0, sizeof(o));
	o.snapshot = "latest";
	o.tar = path;
	o.tar_replace = replace;
	gfsb_ctx_clearerr(f->x.ctx);
	return gfsb_ops_restore(f->x.r, &o, &res);
}

/* --to-tar over a file that exists: refused; with --force replaced only
 * by a whole archive (a restore that fails leaves the file as it was,
 * and no temporary file behind). */
static void
test_tar_replace(void **state)
{
	struct fixture *f = *state;
	struct gfsb_backup_result b;
	char dir[256], path[300], magic[5];
	FILE *fp;

	backup(f, &b);
	snprintf(dir, sizeof(dir), "%s/tars", f->base);
	assert_int_equal(mkdir(dir, 0755), 0);
	at(dir, "precious", path, sizeof(path));
	assert_non_null(fp = fopen(path, "w"));
	fputs("not an archive", fp);
	fclose(fp);
	assert_int_equal(restore_tar(f, path, 0), GFSB_EEXIST);
	assert_string_equal(head(path), "not an archive");
	gfsb_backend_mem_fault(f->x.be, GFSB_OBJ_PACK, NULL, GFSB_EIO);
	assert_int_not_equal(restore_tar(f, path, 1), GFSB_OK);
	gfsb_backend_mem_fault(f->x.be, GFSB_OBJ_PACK, NULL, GFSB_OK);
	assert_string_equal(head(path), "not an archive");
	assert_int_equal(fx_count(dir, "precious", ""), 1);
	assert_int_equal(restore_tar(f, path, 1), GFSB_OK);
	assert_int_equal(fx_count(dir, "precious", ""), 1);
	/* A tar archive: "ustar" at offset 257 of its first header. */
	assert_non_null(fp = fopen(path, "r"));
	assert_int_equal(fseek(fp, 257, SEEK_SET), 0);
	assert_int_equal(fread(magic, 1, 5, fp), 5);
	fclose(fp);
	assert_memory_equal(magic, "ustar", 5);
}

/* Patterns from a file leave out what they match, and the snapshot
 * records them after those given one by one; a file that cannot be read
 * stops the backup before anything is stored. */
static void
test_exclude_file(void **state)
{
	struct fixture *f = *state;
	const char *paths[1] = { f->src }, *excl[1] = { "*.bin" };
	char list[256], *files[1] = { list }, dir[256], path[512];
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result b;
	struct gfsb_restore_result r;
	struct gfsb_snapshot *s;
	struct stat st;
	FILE *fp;

	snprintf(list, sizeof(list), "%s/excludes", f->base);
	assert_non_null(fp = fopen(list, "w"));
	fputs("# the second directory\n\n*/dir2\n", fp);
	fclose(fp);
	memset(&bo, 0, sizeof(bo));
	bo.paths = paths;
	bo.npaths = 1;
	bo.excludes = excl;
	bo.nexcludes = 1;
	bo.exclude_files = (const char *const *)files;
	bo.nexclude_files = 1;
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &b), GFSB_OK);
	assert_int_equal(gfsb_repo_snapshot_find(f->x.r, "latest", NULL, &s),
	    GFSB_OK);
	assert_int_equal(s->nexcludes, 2);
	assert_string_equal(s->excludes[0], "*.bin");
	assert_string_equal(s->excludes[1], "*/dir2");
	gfsb_repo_snapshot_free(s);
	restore(f, "latest", NULL, NULL, 0, dir, sizeof(dir), &r);
	snprintf(path, sizeof(path), "%s%s/dir2", dir, f->src);
	assert_int_not_equal(lstat(path, &st), 0);
	snprintf(path, sizeof(path), "%s%s/dir0/f05.bin", dir, f->src);
	assert_int_not_equal(lstat(path, &st), 0);
	snprintf(path, sizeof(path), "%s%s/dir1", dir, f->src);
	assert_int_equal(lstat(path, &st), 0);

	snprintf(list, sizeof(list), "%s/no-such-list", f->base);
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &b), GFSB_ENOTFOUND);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx), "no-such-list"));
}

/* A file of text at dir/name. */
static void
put_text(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_non_null(fp = fopen(p, "w"));
	fputs(text, fp);
	fclose(fp);
}

/* Cache directories (CACHEDIR.TAG with its signature, not without),
 * directories holding a tag file (any, or one starting with a text), and
 * files over a size are left out; the rest is whole. */
static void
test_exclude_tags_and_size(void **state)
{
	struct fixture *f = *state;
	const char *paths[1] = { f->base }, *tags[2] = { ".nobackup",
	    "KEEPOUT:no" };
	static const char *const out[] = { "cache", "marked", "keepout",
	    "big" };
	static const char *const in[] = { "fakecache", "keepout-yes",
	    "keepout-yes/KEEPOUT", "fakecache/CACHEDIR.TAG" };
	static const char *const dirs[] = { "cache", "fakecache", "marked",
	    "keepout", "keepout-yes" };
	char p[512], dir[256];
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result b;
	struct gfsb_restore_result r;
	struct stat st;
	size_t i;

	for (i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "%s/%s", f->base, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	put_text(f->base, "cache/CACHEDIR.TAG", "Signature: "
	    "8a477f597d28d172789f06886806bc55\n# a cache\n");
	put_text(f->base, "cache/data", "cached");
	put_text(f->base, "fakecache/CACHEDIR.TAG", "not the signature\n");
	put_text(f->base, "marked/.nobackup", "");
	put_text(f->base, "keepout/KEEPOUT", "no thanks");
	put_text(f->base, "keepout-yes/KEEPOUT", "yes, keep it");
	/* 80 MiB and a byte (sparse); src's 64 MiB sparse.img stays. */
	snprintf(p, sizeof(p), "%s/big", f->base);
	put_text(f->base, "big", "");
	assert_int_equal(truncate(p, (80 << 20) + 1), 0);
	memset(&bo, 0, sizeof(bo));
	bo.paths = paths;
	bo.npaths = 1;
	bo.exclude_caches = 1;
	bo.exclude_if_present = tags;
	bo.nexclude_if_present = 2;
	bo.exclude_larger_than = 80 << 20;
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &b), GFSB_OK);
	assert_int_equal(b.summary.warnings, 0);
	restore(f, "latest", f->base, NULL, 0, dir, sizeof(dir), &r);
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, out[i]);
		if (lstat(p, &st) == 0)
			fail_msg("%s was backed up", out[i]);
		snprintf(p, sizeof(p), "%s/%s", dir, in[i]);
		if (lstat(p, &st) != 0)
			fail_msg("%s was left out", in[i]);
	}
	/* The rest, whole. */
	snprintf(p, sizeof(p), "%s/src", dir);
	same_tree(f->src, p, 1, NULL);
}

/* Every object the in-memory repository holds. */
static size_t
nobjects(struct fixture *f)
{
	struct gfsb_objlist l;
	size_t n = 0;
	int t;

	for (t = 0; t < GFSB_OBJ_NTYPES; t++) {
		assert_int_equal(gfsb_backend_list_all(f->x.be,
		    (enum gfsb_obj)t, &l), GFSB_OK);
		n += l.n;
		gfsb_objlist_fini(&l);
	}
	return n;
}

/* The repository opened anew (a dry run's must not be used again). */
static void
reopen(struct fixture *f)
{
	gfsb_repo_close(f->x.r);
	assert_int_equal(gfsb_repo_open(f->x.ctx, f->x.be, PASS, strlen(PASS),
	    &f->x.r), GFSB_OK);
}

/* A dry run stores nothing and says what the backup would add: what the
 * real one then adds; again after it, nothing. */
static void
test_dry_run(void **state)
{
	struct fixture *f = *state;
	const char *paths[1] = { f->src };
	struct gfsb_backup_result dry, real;
	struct gfsb_backup_opts bo;
	size_t before = nobjects(f);

	memset(&bo, 0, sizeof(bo));
	bo.paths = paths;
	bo.npaths = 1;
	bo.dry_run = 1;
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &dry), GFSB_OK);
	assert_int_equal(nobjects(f), before);
	assert_int_equal(dry.dry_run, 1);
	assert_string_equal(dry.snapshot_id, "");
	assert_int_equal(dry.summary.files_new, 44);
	assert_true(dry.summary.data_added > 0);
	reopen(f);
	bo.dry_run = 0;
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &real), GFSB_OK);
	/* The same data blobs (the trees above the source, /tmp's among
	 * them, change with whatever else runs: not compared). */
	assert_int_equal(real.summary.data_blobs, dry.summary.data_blobs);
	assert_true(real.summary.data_blobs > 0);
	reopen(f);
	bo.dry_run = 1;
	before = nobjects(f);
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &dry), GFSB_OK);
	assert_int_equal(nobjects(f), before);
	assert_int_equal(dry.summary.data_blobs, 0);
	assert_int_equal(dry.summary.files_unmodified, 44);
}

/* ---- ls ---- */

struct listing {
	const char *root;
	size_t n;
	char last[4096];
};

static gfsb_err
listed(void *cookie, const char *path, const struct gfsb_node *node)
{
	struct listing *l = cookie;
	struct stat st;

	(void)node;
	if (strncmp(path, l->root, strlen(l->root)) != 0)
		fail_msg("%s listed outside %s", path, l->root);
	/* Depth first in name order: a path sorts after the one before. */
	if (l->n > 0 && strcmp(l->last, path) >= 0)
		fail_msg("%s listed after %s", path, l->last);
	if (lstat(path, &st) != 0)
		fail_msg("%s listed, not in the source", path);
	snprintf(l->last, sizeof(l->last), "%s", path);
	l->n++;
	return GFSB_OK;
}

static size_t walked;

static int
walk_one(const char *path, const struct stat *st, int flag, struct FTW *w)
{
	(void)path;
	(void)st;
	(void)flag;
	walked += w->level > 0;
	return 0;
}

static void
test_ls(void **state)
{
	struct fixture *f = *state;
	struct gfsb_backup_result b;
	struct gfsb_snapshot *snap = NULL;
	struct listing l;
	char sub[256];

	backup(f, &b);
	memset(&l, 0, sizeof(l));
	l.root = f->src;
	assert_int_equal(gfsb_ops_ls(f->x.r, "latest", NULL, f->src, listed,
	    &l, &snap), GFSB_OK);
	assert_string_equal(snap->id, b.snapshot_id);
	gfsb_repo_snapshot_free(snap);
	walked = 0;
	assert_int_equal(nftw(f->src, walk_one, 16, FTW_PHYS), 0);
	/* Every entry under the source (the path itself listed too). */
	assert_int_equal(l.n, walked + 1);
	snprintf(sub, sizeof(sub), "%s/no-such-dir", f->src);
	assert_int_equal(gfsb_ops_ls(f->x.r, "latest", NULL, sub, listed, &l,
	    NULL), GFSB_ENOTFOUND);
	assert_int_equal(gfsb_ops_ls(f->x.r, "ffffffff", NULL, NULL, listed,
	    &l, NULL), GFSB_ENOTFOUND);
}

/* ---- dump ---- */

/* Dump path of the latest snapshot into file out; the error. */
static gfsb_err
dump_to(struct fixture *f, const char *path, const char *out,
    struct gfsb_dump_result *res)
{
	struct gfsb_dump_opts o;
	gfsb_err e;
	int fd;

	assert_true((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	memset(&o, 0, sizeof(o));
	o.snapshot = "latest";
	o.path = path;
	o.fd = fd;
	e = gfsb_ops_dump(f->x.r, &o, res);
	close(fd);
	return e;
}

static void
test_dump(void **state)
{
	struct fixture *f = *state;
	struct gfsb_backup_result b;
	struct gfsb_dump_result res;
	char in[256], out[256], tar[512];
	struct stat st;
	int fd;

	backup(f, &b);
	snprintf(out, sizeof(out), "%s/dumped", f->base);
	snprintf(in, sizeof(in), "%s/dir1/f01.txt", f->src);
	assert_int_equal(dump_to(f, in, out, &res), GFSB_OK);
	assert_true(same_bytes(in, out));
	assert_int_equal(res.archive, 0);
	assert_string_equal(res.snapshot_id, b.snapshot_id);
	/* 64 MiB, mostly a hole: the same bytes. */
	snprintf(in, sizeof(in), "%s/sparse.img", f->src);
	assert_int_equal(dump_to(f, in, out, &res), GFSB_OK);
	assert_int_equal(res.bytes, 64 << 20);
	assert_true(same_bytes(in, out));

	/* A directory: a pax archive. */
	snprintf(in, sizeof(in), "%s/dir2", f->src);
	assert_int_equal(dump_to(f, in, out, &res), GFSB_OK);
	assert_int_equal(res.archive, 1);
	assert_int_equal(stat(out, &st), 0);
	assert_true(st.st_size > 1024);
	assert_true((fd = open(out, O_RDONLY)) >= 0);
	assert_int_equal(pread(fd, tar, 8, 257), 8);
	close(fd);
	assert_memory_equal(tar, "ustar", 5);

	snprintf(in, sizeof(in), "%s/link", f->src);
	assert_int_equal(dump_to(f, in, out, &res), GFSB_EINVAL);
	snprintf(in, sizeof(in), "%s/no-such", f->src);
	assert_int_equal(dump_to(f, in, out, &res), GFSB_ENOTFOUND);
}

/* ---- streams ---- */

/* The number of snapshots. */
static size_t
nsnaps(struct fixture *f)
{
	struct gfsb_snapshot **v;
	size_t n;

	assert_int_equal(gfsb_repo_snapshot_list(f->x.r, &v, &n), GFSB_OK);
	gfsb_repo_snapshot_list_free(v, n);
	return n;
}

/* Two streams (a command's output, and a file's bytes through a
 * descriptor) in one snapshot, each back byte for byte; a command that
 * fails stores no snapshot; a bad or repeated name is refused. */
static void
test_streams(void **state)
{
	struct fixture *f = *state;
	static const char *const seq[] = { "sh", "-c", "seq 1 200000", NULL };
	static const char *const bad[] = { "sh", "-c", "seq 1 1000; exit 3",
	    NULL };
	struct gfsb_backup_stream st[2];
	struct gfsb_backup_result res;
	struct gfsb_backup_opts bo;
	struct gfsb_dump_result dr;
	struct gfsb_snapshot *snap;
	char in[256], out[256], want[256], cmd[300];
	int fd;

	memset(&bo, 0, sizeof(bo));
	memset(st, 0, sizeof(st));
	snprintf(in, sizeof(in), "%s/dir0/f04.txt", f->src);
	assert_true((fd = open(in, O_RDONLY)) >= 0);
	st[0].name = "numbers.txt";
	st[0].argv = seq;
	st[1].name = "copy";
	st[1].fd = fd;
	assert_int_equal(gfsb_ops_backup_streams(f->x.r, &bo, st, 2, &res),
	    GFSB_OK);
	close(fd);
	assert_int_equal(res.summary.files_new, 2);
	assert_int_equal(gfsb_repo_snapshot_find(f->x.r, "latest", NULL,
	    &snap), GFSB_OK);
	assert_int_equal(snap->npaths, 2);
	assert_string_equal(snap->paths[0], "/numbers.txt");
	gfsb_repo_snapshot_free(snap);
	snprintf(out, sizeof(out), "%s/out", f->base);
	assert_int_equal(dump_to(f, "/copy", out, &dr), GFSB_OK);
	assert_true(same_bytes(in, out));
	snprintf(want, sizeof(want), "%s/want", f->base);
	snprintf(cmd, sizeof(cmd), "seq 1 200000 >%s", want);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(dump_to(f, "/numbers.txt", out, &dr), GFSB_OK);
	assert_true(same_bytes(want, out));

	st[0].argv = bad;
	assert_int_equal(gfsb_ops_backup_streams(f->x.r, &bo, st, 1, &res),
	    GFSB_EIO);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx), "exited with status "
	    "3; no snapshot stored"));
	assert_int_equal(nsnaps(f), 1);
	st[0].name = "a/b";
	assert_int_equal(gfsb_ops_backup_streams(f->x.r, &bo, st, 1, &res),
	    GFSB_EINVAL);
	st[0].name = st[1].name;
	assert_int_equal(gfsb_ops_backup_streams(f->x.r, &bo, st, 2, &res),
	    GFSB_EINVAL);
	assert_int_equal(nsnaps(f), 1);
}

/*
 * SNAPSHOT[:PATH] split at the first colon; an archive to a terminal
 * refused (a pseudo-terminal here), to a file descriptor that is none
 * allowed; what a restore that ended so is worth saying.
 */
static void
restore_spec_and_told(struct fixture *f)
{
	struct gfsb_restore_opts o;
	struct gfsb_restore_result res;
	char a[] = "latest:/srv/a:b", b[] = "3f2a";
	int pty;

	assert_string_equal(gfsb_ops_spec_split(a), "/srv/a:b");
	assert_string_equal(a, "latest");
	assert_null(gfsb_ops_spec_split(b));
	assert_string_equal(b, "3f2a");
	memset(&o, 0, sizeof(o));
	o.tar = "-";
	o.tar_fd = -1;
	assert_int_equal(gfsb_ops_restore_check(f->x.ctx, &o), GFSB_OK);
	if ((pty = posix_openpt(O_RDWR | O_NOCTTY)) >= 0) {
		o.tar_fd = pty;
		gfsb_ctx_clearerr(f->x.ctx);
		assert_int_equal(gfsb_ops_restore_check(f->x.ctx, &o),
		    GFSB_EINVAL);
		assert_string_equal(gfsb_ctx_errmsg(f->x.ctx), "refusing to "
		    "write an archive to a terminal");
		gfsb_ctx_clearerr(f->x.ctx);
		close(pty);
	}
	memset(&res, 0, sizeof(res));
	assert_true(gfsb_ops_restore_told(GFSB_OK, &res));
	assert_false(gfsb_ops_restore_told(GFSB_ECORRUPT, &res));
	assert_false(gfsb_ops_restore_told(GFSB_ENOTFOUND, &res));
	snprintf(res.snapshot_id, sizeof(res.snapshot_id), "ab");
	assert_true(gfsb_ops_restore_told(GFSB_ECORRUPT, &res));
	assert_false(gfsb_ops_restore_told(GFSB_EIO, &res));
	res.not_deleted = 1;
	assert_true(gfsb_ops_restore_told(GFSB_EIO, &res));
}

/*
 * A path, host or tag that is not UTF-8 is refused before anything is
 * stored (the snapshot records them as JSON text: it was stored without
 * them and then read as malformed, breaking every listing); the names
 * below a path are bytes, kept as they are.
 */
static void
test_not_utf8(void **state)
{
	struct fixture *f = *state;
	const char *paths[1], *tags[1] = { "t\xe9" };
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result res;
	char dir[200];

	snprintf(dir, sizeof(dir), "%s/caf\xe9", f->base);
	assert_int_equal(mkdir(dir, 0700), 0);
	memset(&bo, 0, sizeof(bo));
	paths[0] = dir;
	bo.paths = paths;
	bo.npaths = 1;
	bo.threads = 1;
	gfsb_ctx_clearerr(f->x.ctx);
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &res), GFSB_EINVAL);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx), "is not UTF-8: "
	    "give a directory above it"));
	paths[0] = f->src;
	bo.host = "h\xe9";
	gfsb_ctx_clearerr(f->x.ctx);
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &res), GFSB_EINVAL);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx), "host name"));
	bo.host = NULL;
	bo.tags = tags;
	bo.ntags = 1;
	gfsb_ctx_clearerr(f->x.ctx);
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &res), GFSB_EINVAL);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx), "tag t"));
	gfsb_ctx_clearerr(f->x.ctx);
	assert_int_equal(nsnaps(f), 0);
	/* Its parent, with the Latin-1 name inside: stored, listed. */
	bo.ntags = 0;
	paths[0] = f->base;
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &res), GFSB_OK);
	assert_int_equal(nsnaps(f), 1);
}

/* Lines gathered, one after another. */
static void
gather_lines(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	char *buf = cookie;
	size_t len = strlen(buf);

	assert_int_equal(kind, GFSB_OPS_LINE_RESULT);
	snprintf(buf + len, 65536 - len, "%s\n", line);
}

/* ls's lines: paths; restic's --json, the snapshot's line first, and
 * every entry, a name that is not UTF-8 included. */
static void
test_ls_lines(void **state)
{
	struct fixture *f = *state;
	char *got, id[GFSB_ID_HEX], first[200];

	fx_backup(&f->x, f->src, NULL, NULL, NULL, id);
	assert_non_null(got = calloc(1, 65536));
	assert_int_equal(gfsb_ops_ls_lines(f->x.r, "latest", NULL, f->src, 0,
	    0, gather_lines, got), GFSB_OK);
	snprintf(first, sizeof(first), "%s\n", f->src);
	assert_memory_equal(got, first, strlen(first));
	got[0] = '\0';
	assert_int_equal(gfsb_ops_ls_lines(f->x.r, id, NULL, NULL, 0, 1,
	    gather_lines, got), GFSB_OK);
	assert_true(strncmp(got, "{", 1) == 0);
	assert_non_null(strstr(got, id));
	assert_true(strstr(got, "\"struct_type\":\"snapshot\"") <
	    strstr(got, "\"struct_type\":\"node\""));
	assert_null(strstr(strchr(got, '\n') + 1,
	    "\"struct_type\":\"snapshot\""));
	/* A name in Latin-1 (not UTF-8): its byte as U+FFFD, as restic. */
	assert_non_null(strstr(got, "\\nnewline \xef\xbf\xbd\""));
	/* No such snapshot: nothing told. */
	got[0] = '\0';
	assert_int_equal(gfsb_ops_ls_lines(f->x.r, "ffffffff", NULL, NULL, 0,
	    1, gather_lines, got), GFSB_ENOTFOUND);
	assert_string_equal(got, "");
	gfsb_ctx_clearerr(f->x.ctx);
	free(got);
}

/* snapshots --host, --tag, --path: what the filter keeps, in order. */
static void
test_snapshots_filter(void **state)
{
	struct fixture *f = *state;
	struct gfsb_snapshot **v;
	size_t n;

	fx_backup(&f->x, f->src, "2026-01-01 01:00:00", "h1", "t1", NULL);
	fx_backup(&f->x, f->src, "2026-01-02 01:00:00", "h2", "t1", NULL);
	fx_backup(&f->x, f->src, "2026-01-03 01:00:00", "h1", "t2", NULL);
	assert_int_equal(gfsb_ops_snapshots_list(f->x.r, &v, &n), GFSB_OK);
	assert_int_equal(n, 3);
	gfsb_ops_snapshots_filter(v, &n, "h1", NULL, f->src);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->tags[0], "t1");
	assert_string_equal(v[1]->tags[0], "t2");
	gfsb_ops_snapshots_filter(v, &n, NULL, "t2", NULL);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->hostname, "h1");
	gfsb_ops_snapshots_filter(v, &n, NULL, NULL, "/elsewhere");
	assert_int_equal(n, 0);
	gfsb_repo_snapshot_list_free(v, n);
}

/* Settings that disagree are refused before anything is written, each
 * in one line naming the options. */
static void
test_restore_settings(void **state)
{
	struct fixture *f = *state;
	struct gfsb_restore_opts o;
	struct gfsb_restore_result res;
	char target[160], archive[160];
	size_t i;
	static const struct {
		int target, tar, overwrite, del, force;
		const char *sub, *why;
	} bad[] = {
		{ 0, 0, 0, 0, 0, NULL, "give either --target DIR or --to-tar" },
		{ 1, 1, 0, 0, 0, NULL, "give either --target DIR or --to-tar" },
		{ 0, 1, 1, 0, 0, NULL, "--overwrite and --delete are for" },
		{ 0, 1, 0, 1, 0, NULL, "--overwrite and --delete are for" },
		{ 1, 0, 0, 0, 1, NULL, "--force goes with --to-tar FILE" },
		{ 1, 0, 0, 1, 0, NULL, "--delete goes with --overwrite" },
		{ 1, 0, 0, 0, 0, "", "empty path after ':'" },
	};

	snprintf(target, sizeof(target), "%s/never", f->base);
	snprintf(archive, sizeof(archive), "%s/never.tar", f->base);
	fx_backup(&f->x, f->src, NULL, NULL, NULL, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&o, 0, sizeof(o));
		o.snapshot = "latest";
		o.target = bad[i].target ? target : NULL;
		o.tar = bad[i].tar ? archive : NULL;
		o.overwrite = bad[i].overwrite ? GFSB_OVERWRITE_ALWAYS :
		    GFSB_OVERWRITE_REFUSE;
		o.delete_extra = bad[i].del;
		o.tar_replace = bad[i].force;
		o.subpath = bad[i].sub;
		gfsb_ctx_clearerr(f->x.ctx);
		assert_int_equal(gfsb_ops_restore_check(f->x.ctx, &o),
		    GFSB_EINVAL);
		gfsb_ctx_clearerr(f->x.ctx);
		assert_int_equal(gfsb_ops_restore(f->x.r, &o, &res),
		    GFSB_EINVAL);
		if (strstr(gfsb_ctx_errmsg(f->x.ctx), bad[i].why) == NULL)
			fail_msg("%zu: \"%s\"", i, gfsb_ctx_errmsg(f->x.ctx));
		assert_int_equal(access(target, F_OK), -1);
		assert_int_equal(access(archive, F_OK), -1);
	}
	memset(&o, 0, sizeof(o));
	o.target = target;
	assert_int_equal(gfsb_ops_restore_check(f->x.ctx, &o), GFSB_OK);
	o.overwrite = GFSB_OVERWRITE_IF_NEWER;
	o.delete_extra = 1;
	assert_int_equal(gfsb_ops_restore_check(f->x.ctx, &o), GFSB_OK);
	restore_spec_and_told(f);
}

/* What goes with a stream, and each refusal's line. */
static void
test_stream_check(void **state)
{
	struct gfsb_backup_opts bo;
	struct gfsb_ctx *ctx;
	struct {
		int use_stdin, from_cmd, nargs, dry, excl, files;
		const char *name, *want;
	} c[] = {
		{ 0, 0, 3, 0, 2, 1, NULL, "" },
		{ 1, 0, 0, 0, 0, 0, "db.sql", "" },
		{ 0, 1, 2, 0, 0, 0, NULL, "" },
		{ 1, 1, 0, 0, 0, 0, NULL, "give --stdin or "
		  "--stdin-from-command, not both" },
		{ 0, 0, 1, 0, 0, 0, "x", "--stdin-filename goes with --stdin "
		  "or --stdin-from-command" },
		{ 0, 1, 0, 0, 0, 0, NULL, "--stdin-from-command: give the "
		  "command after --" },
		{ 1, 0, 1, 0, 0, 0, NULL, "--stdin takes no paths" },
		{ 1, 0, 0, 1, 0, 0, NULL, "a stream goes whole: no --dry-run, "
		  "no exclusions" },
		{ 0, 1, 1, 0, 1, 0, NULL, "a stream goes whole: no --dry-run, "
		  "no exclusions" },
		{ 1, 0, 0, 0, 0, 1, NULL, "a stream goes whole: no --dry-run, "
		  "no exclusions" },
	};
	size_t i;

	(void)state;
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&bo, 0, sizeof(bo));
		bo.dry_run = c[i].dry;
		bo.nexcludes = (size_t)c[i].excl;
		bo.nexclude_files = (size_t)c[i].files;
		gfsb_ctx_clearerr(ctx);
		assert_int_equal(gfsb_ops_backup_stream_check(ctx,
		    c[i].use_stdin, c[i].from_cmd, c[i].nargs, c[i].name, &bo),
		    *c[i].want ? GFSB_EINVAL : GFSB_OK);
		assert_string_equal(gfsb_ctx_errmsg(ctx), c[i].want);
	}
	gfsb_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshots_filter, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ls_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_utf8, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_restore_settings, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclude_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_exclude_tags_and_size,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_place, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tar_replace, setup,
		    teardown),
		cmocka_unit_test(test_stream_check),
		cmocka_unit_test_setup_teardown(test_inflight_bound, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_incremental, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_part_and_excludes, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
