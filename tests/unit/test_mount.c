/*
 * mount's file system, without FUSE, on an in-memory repository: the
 * virtual directories and their symlinks (by time, host, tag, role,
 * latest; a second snapshot of the same second named apart), a
 * snapshot's files walked through its trees (attributes, symlinks,
 * errors for what is not there or not a directory), and reads at any
 * offset and length (across chunks, holes, past the end) that fetch only
 * the blobs their range covers.
 */
#include <errno.h>
#include <fcntl.h>
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

#include <gfsbackup/backend.h>
#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "fixture.h"

#define PASS "mount pass"
#define BIG (3u << 20)

struct fixture {
	char src[64];
	struct fx_repo x;
	struct gfsb_mfs *m;
	char ids[3][GFSB_ID_HEX];
	uint8_t *big;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct gfsb_repo_params params;
	char p[256];
	FILE *fp;
	int fd;

	assert_non_null(f);
	setenv("TZ", "UTC", 1);
	fx_tmpdir(f->src, sizeof(f->src), "mount-src");
	snprintf(p, sizeof(p), "%s/d", f->src);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/d/big", f->src);
	fx_write(p, BIG, 2);	/* several chunks */
	assert_non_null(f->big = malloc(BIG));
	assert_non_null(fp = fopen(p, "r"));
	assert_int_equal(fread(f->big, 1, BIG, fp), BIG);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/small", f->src);
	assert_non_null(fp = fopen(p, "w"));
	fputs("small\n", fp);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/sparse", f->src);
	assert_true((fd = open(p, O_WRONLY | O_CREAT, 0644)) >= 0);
	assert_int_equal(pwrite(fd, "x", 1, 8 << 20), 1);
	close(fd);
	snprintf(p, sizeof(p), "%s/link", f->src);
	assert_int_equal(symlink("small", p), 0);
	/* Chunks of at most 1 MiB: the 3 MiB file is several, whatever the
	 * repository's chunker seed (test_reads' last read). */
	assert_int_equal(gfsb_ctx_new(&f->x.ctx), GFSB_OK);
	assert_int_equal(gfsb_backend_mem_new(f->x.ctx, &f->x.be), GFSB_OK);
	gfsb_repo_params_default(&params);
	params.kdf_ops = 1;
	params.kdf_mem = 8 << 20;
	params.chunk.min = 256 << 10;
	params.chunk.avg = 512 << 10;
	params.chunk.max = 1 << 20;
	assert_int_equal(gfsb_repo_init(f->x.ctx, f->x.be, PASS, strlen(PASS),
	    &params, &f->x.r), GFSB_OK);
	fx_backup(&f->x, f->src, "2026-11-01 01:00:00", NULL, "hold",
	    f->ids[0]);
	fx_backup(&f->x, f->src, "2026-12-01 01:00:00", NULL, NULL, f->ids[1]);
	/* Another of the same second (a database dump's, say). */
	snprintf(p, sizeof(p), "%s/more", f->src);
	fx_write(p, 10, 3);
	fx_backup(&f->x, f->src, "2026-12-01 01:00:00", NULL, NULL, f->ids[2]);
	assert_int_equal(gfsb_mfs_open(f->x.r, NULL, &f->m), GFSB_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	gfsb_mfs_close(f->m);
	fx_repo_free(&f->x);
	fx_rm_rf(f->src);
	free(f->big);
	free(f);
	return 0;
}

struct names {
	char all[2048];
	size_t n;
};

static int
collect(void *cookie, const char *name)
{
	struct names *w = cookie;
	size_t l = strlen(w->all);

	snprintf(w->all + l, sizeof(w->all) - l, "%s%s", w->n++ ? " " : "",
	    name);
	return 0;
}

static const char *
list(struct fixture *f, const char *path)
{
	static struct names w;

	memset(&w, 0, sizeof(w));
	assert_int_equal(gfsb_mfs_readdir(f->m, path, collect, &w), 0);
	return w.all;
}

static const char *
link_of(struct fixture *f, const char *path)
{
	static char buf[256];

	assert_int_equal(gfsb_mfs_readlink(f->m, path, buf, sizeof(buf)), 0);
	return buf;
}

/* Path p inside snapshot k. */
static const char *
in(struct fixture *f, int k, const char *p)
{
	static char buf[2][400];
	static int w;
	char *b = buf[w ^= 1];

	snprintf(b, sizeof(buf[0]), "/ids/%.8s%s%s", f->ids[k], f->src, p);
	return b;
}

static void
test_layout(void **state)
{
	struct fixture *f = *state;
	char want[200];
	struct stat st;

	assert_string_equal(list(f, "/"), "ids snapshots hosts tags daily "
	    "weekly monthly yearly latest");
	snprintf(want, sizeof(want), "%.8s %.8s %.8s", f->ids[0], f->ids[1],
	    f->ids[2]);
	/* ids/ lists by time, then id: the two of 12-01 in id order. */
	if (strcmp(f->ids[1], f->ids[2]) > 0)
		snprintf(want, sizeof(want), "%.8s %.8s %.8s", f->ids[0],
		    f->ids[2], f->ids[1]);
	assert_string_equal(list(f, "/ids"), want);
	assert_int_equal(strncmp(list(f, "/snapshots"), "2026-11-01T01:00:00 "
	    "2026-12-01T01:00:00 2026-12-01T01:00:00-", 60), 0);
	snprintf(want, sizeof(want), "../ids/%.8s", f->ids[0]);
	assert_string_equal(link_of(f, "/snapshots/2026-11-01T01:00:00"), want);
	snprintf(want, sizeof(want), "../../ids/%.8s", f->ids[0]);
	assert_string_equal(link_of(f, "/tags/hold/2026-11-01T01:00:00"), want);
	assert_string_equal(list(f, "/tags"), "hold");
	assert_int_equal(gfsb_mfs_stat(f->m, "/latest", &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(strncmp(link_of(f, "/latest"), "ids/", 4), 0);
	/* Without a policy: the newest of each month is monthly. */
	assert_int_equal(strncmp(list(f, "/monthly"), "2026-11-01T01:00:00 "
	    "2026-12-01T01:00:00", 39), 0);
	assert_int_equal(gfsb_mfs_stat(f->m, "/ids", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(gfsb_mfs_stat(f->m, "/nope", &st), -ENOENT);
	assert_int_equal(gfsb_mfs_stat(f->m, "/ids/ffffffff", &st), -ENOENT);
	assert_int_equal(gfsb_mfs_stat(f->m, "/hosts/x/y", &st), -ENOENT);
}

static void
test_files(void **state)
{
	struct fixture *f = *state;
	char buf[64];
	struct stat st;

	assert_int_equal(gfsb_mfs_stat(f->m, in(f, 0, "/d"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_string_equal(list(f, in(f, 0, "")), "d link small sparse");
	assert_string_equal(list(f, in(f, 2, "")), "d link more small sparse");
	assert_int_equal(gfsb_mfs_stat(f->m, in(f, 0, "/d/big"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, BIG);
	assert_int_equal(gfsb_mfs_stat(f->m, in(f, 0, "/link"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(gfsb_mfs_readlink(f->m, in(f, 0, "/link"), buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "small");
	assert_int_equal(gfsb_mfs_read(f->m, in(f, 0, "/small"), 0, buf,
	    sizeof(buf)), 6);
	assert_memory_equal(buf, "small\n", 6);
	assert_int_equal(gfsb_mfs_read(f->m, in(f, 0, "/small"), 6, buf,
	    sizeof(buf)), 0);
	assert_int_equal(gfsb_mfs_stat(f->m, in(f, 0, "/small/x"), &st),
	    -ENOTDIR);
	assert_int_equal(gfsb_mfs_stat(f->m, in(f, 0, "/d/none"), &st),
	    -ENOENT);
	assert_int_equal(gfsb_mfs_read(f->m, in(f, 0, "/d"), 0, buf, 1),
	    -EISDIR);
	assert_int_equal(gfsb_mfs_readdir(f->m, in(f, 0, "/small"), collect,
	    NULL), -ENOTDIR);
	/* A hole reads as zeros. */
	assert_int_equal(gfsb_mfs_read(f->m, in(f, 0, "/sparse"), 4 << 20,
	    buf, 4), 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	assert_int_equal(gfsb_mfs_read(f->m, in(f, 0, "/sparse"),
	    (8 << 20) - 1, buf, 4), 2);
	assert_memory_equal(buf, "\0x", 2);
}

/* Reads of every size at awkward offsets, and what they cost. */
static void
test_reads(void **state)
{
	struct fixture *f = *state;
	static const uint64_t offs[] = { 0, 1, 4095, 65536, 1048575,
	    (BIG / 2) + 7, BIG - 10, BIG };
	static const size_t sizes[] = { 1, 10, 4096, 131072, 1 << 20 };
	struct gfsb_backend_io io0, io;
	struct stat st;
	size_t i, k, want;
	char *buf;
	long n;

	assert_non_null(buf = malloc(1 << 20));
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			n = gfsb_mfs_read(f->m, in(f, 1, "/d/big"), offs[i],
			    buf, sizes[k]);
			want = offs[i] >= BIG ? 0 : BIG - offs[i] < sizes[k] ?
			    BIG - offs[i] : sizes[k];
			assert_int_equal(n, (long)want);
			assert_memory_equal(buf, f->big + offs[i], want);
		}
	/* A small read at the end of a file fetches one blob: one read, and
	 * far less than the file.  (The trees on the way are loaded by a
	 * stat first.) */
	gfsb_mfs_close(f->m);
	assert_int_equal(gfsb_mfs_open(f->x.r, NULL, &f->m), GFSB_OK);
	assert_int_equal(gfsb_mfs_stat(f->m, in(f, 1, "/d/big"), &st), 0);
	gfsb_backend_io_get(f->x.be, &io0);
	assert_int_equal(gfsb_mfs_read(f->m, in(f, 1, "/d/big"), BIG - 10,
	    buf, 10), 10);
	gfsb_backend_io_get(f->x.be, &io);
	assert_int_equal(io.requests - io0.requests, 1);
	assert_true(io.bytes_in - io0.bytes_in < BIG / 2);
	free(buf);
}

/* With a policy, the roles are its: keep-last 1 makes no daily/. */
static void
test_policy(void **state)
{
	struct fixture *f = *state;
	struct gfsb_policy *p;
	struct stat st;

	assert_int_equal(gfsb_gfs_policy_new(&p), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(f->x.ctx, p, "keep-monthly",
	    "1", "t"), GFSB_OK);
	gfsb_mfs_close(f->m);
	assert_int_equal(gfsb_mfs_open(f->x.r, p, &f->m), GFSB_OK);
	gfsb_gfs_policy_free(p);
	assert_int_equal(gfsb_mfs_stat(f->m, "/daily", &st), -ENOENT);
	assert_string_equal(list(f, "/"), "ids snapshots hosts tags monthly "
	    "latest");
	assert_int_equal(strncmp(list(f, "/monthly"), "2026-12-01T01:00:00",
	    19), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
