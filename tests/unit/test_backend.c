/* backend: the local directory backend and the in-memory one behave the
 * same; names are checked; puts are atomic and private; Object Lock is
 * emulated by the mem backend (locks hold until its clock passes them, and
 * are never shortened) and refused or ignored by a directory, as
 * documented; listings carry each object's mtime. */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/util.h>

static const char *ID1 =
    "1111111111111111111111111111111111111111111111111111111111111111";
static const char *ID2 =
    "abababababababababababababababababababababababababababababababab";

struct counter {
	int n;
	uint64_t bytes;
};

static gfsb_err
count(void *cookie, const char *name, uint64_t size)
{
	struct counter *c = cookie;

	(void)name;
	c->n++;
	c->bytes += size;
	return GFSB_OK;
}

static void
exercise(struct gfsb_backend *be)
{
	struct gfsb_buf b;
	struct counter c = { 0, 0 };
	uint8_t part[4];
	uint64_t size;

	gfsb_buf_init(&b);
	assert_int_equal(gfsb_backend_create(be), GFSB_OK);
	assert_int_equal(gfsb_backend_put(be, GFSB_OBJ_PACK, ID1,
	    (const uint8_t *)"hello world", 11), GFSB_OK);
	assert_int_equal(gfsb_backend_put(be, GFSB_OBJ_PACK, ID2,
	    (const uint8_t *)"xy", 2), GFSB_OK);
	assert_int_equal(gfsb_backend_put(be, GFSB_OBJ_INDEX, ID1,
	    (const uint8_t *)"i", 1), GFSB_OK);
	assert_int_equal(gfsb_backend_get(be, GFSB_OBJ_PACK, ID1, &b),
	    GFSB_OK);
	assert_int_equal(b.len, 11);
	assert_memory_equal(b.data, "hello world", 11);
	/* A limit: an object of exactly that size is read, a larger one is
	 * refused and nothing is appended. */
	b.len = 0;
	assert_int_equal(gfsb_backend_get_max(be, GFSB_OBJ_PACK, ID1, 11, &b),
	    GFSB_OK);
	assert_int_equal(b.len, 11);
	assert_int_equal(gfsb_backend_get_max(be, GFSB_OBJ_PACK, ID1, 10, &b),
	    GFSB_ECORRUPT);
	assert_int_equal(b.len, 11);
	assert_int_equal(gfsb_backend_get_max(be, GFSB_OBJ_PACK, ID2, 0, &b),
	    GFSB_ECORRUPT);
	assert_int_equal(gfsb_backend_get_max(be, GFSB_OBJ_SNAPSHOT, ID1, 99,
	    &b), GFSB_ENOTFOUND);
	assert_int_equal(b.len, 11);
	assert_int_equal(gfsb_backend_read(be, GFSB_OBJ_PACK, ID1, 6, part, 4),
	    GFSB_OK);
	assert_memory_equal(part, "worl", 4);
	/* Reading past the end is corruption, not a short read. */
	assert_int_equal(gfsb_backend_read(be, GFSB_OBJ_PACK, ID1, 9, part, 4),
	    GFSB_ECORRUPT);
	assert_int_equal(gfsb_backend_stat(be, GFSB_OBJ_PACK, ID2, &size),
	    GFSB_OK);
	assert_true(size == 2);
	assert_int_equal(gfsb_backend_list(be, GFSB_OBJ_PACK, count, &c),
	    GFSB_OK);
	assert_int_equal(c.n, 2);
	assert_true(c.bytes == 13);
	assert_int_equal(gfsb_backend_remove(be, GFSB_OBJ_PACK, ID2), GFSB_OK);
	assert_int_equal(gfsb_backend_stat(be, GFSB_OBJ_PACK, ID2, &size),
	    GFSB_ENOTFOUND);
	assert_int_equal(gfsb_backend_remove(be, GFSB_OBJ_PACK, ID2),
	    GFSB_ENOTFOUND);
	b.len = 0;
	assert_int_equal(gfsb_backend_get(be, GFSB_OBJ_SNAPSHOT, ID1, &b),
	    GFSB_ENOTFOUND);
	/* Names that could escape the repository are refused. */
	assert_int_equal(gfsb_backend_put(be, GFSB_OBJ_PACK, "../../etc/x",
	    (const uint8_t *)"x", 1), GFSB_EINVAL);
	assert_int_equal(gfsb_backend_get(be, GFSB_OBJ_KEY, "config", &b),
	    GFSB_EINVAL);
	assert_int_equal(gfsb_backend_put(be, GFSB_OBJ_CONFIG, ID1,
	    (const uint8_t *)"x", 1), GFSB_EINVAL);
	assert_int_equal(gfsb_backend_put(be, GFSB_OBJ_CONFIG, "config",
	    (const uint8_t *)"cfg", 3), GFSB_OK);
	assert_int_equal(gfsb_backend_create(be), GFSB_EEXIST);
	gfsb_buf_fini(&b);
}

static void
test_mem(void **state)
{
	struct gfsb_ctx *ctx;
	struct gfsb_backend *be;

	(void)state;
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_int_equal(gfsb_backend_mem_new(ctx, &be), GFSB_OK);
	exercise(be);
	gfsb_backend_close(be);
	gfsb_ctx_free(ctx);
}

/* Write dir/repo/REL, last modified AGO seconds ago. */
static void
aged(const char *dir, const char *rel, int ago)
{
	struct timespec t[2];
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/repo/%s", dir, rel);
	assert_non_null(f = fopen(path, "w"));
	fputs("partial", f);
	fclose(f);
	t[0].tv_sec = t[1].tv_sec = time(NULL) - ago;
	t[0].tv_nsec = t[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

/*
 * Cleanup removes the temporary files last written before the moment it
 * is given, in every kind of directory, and nothing newer (a writer at
 * work) nor anything that is not a temporary file.
 */
static void
leftovers(struct gfsb_backend *be, const char *dir)
{
	char path[512];
	uint64_t removed = 9;
	struct stat st;

	/* index/.tmp-0123456789abcdef is fresh (test_local wrote it). */
	aged(dir, "index/.tmp-aaaa", 3600);
	aged(dir, "data/11/.tmp-bbbb", 120);
	aged(dir, "locks/.tmp-cccc", 5);
	aged(dir, "snapshots/.tmp-dddd", 0);
	aged(dir, "data/11/kept-not-tmp", 3600);
	assert_int_equal(gfsb_backend_cleanup(be, time(NULL) - 30, &removed),
	    GFSB_OK);
	assert_int_equal(removed, 2);
	snprintf(path, sizeof(path), "%s/repo/index/.tmp-aaaa", dir);
	assert_int_not_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/repo/data/11/.tmp-bbbb", dir);
	assert_int_not_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/repo/locks/.tmp-cccc", dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/repo/snapshots/.tmp-dddd", dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/repo/index/.tmp-0123456789abcdef",
	    dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/repo/data/11/kept-not-tmp", dir);
	assert_int_equal(stat(path, &st), 0);
	/* A later moment takes the rest of the temporary files. */
	assert_int_equal(gfsb_backend_cleanup(be, time(NULL) + 1, &removed),
	    GFSB_OK);
	assert_int_equal(removed, 3);
}

static void
test_local(void **state)
{
	char dir[] = "/tmp/gfsb-test-XXXXXX", path[512], cmd[600];
	struct gfsb_ctx *ctx;
	struct gfsb_backend *be;
	struct counter c = { 0, 0 };
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/repo", dir);
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_int_equal(gfsb_backend_open(ctx, path, &be), GFSB_OK);
	exercise(be);
	/* Objects are private to their owner. */
	snprintf(path, sizeof(path), "%s/repo/data/11/%s", dir, ID1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/repo/data", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* A leftover temporary file of an interrupted put is not listed. */
	snprintf(path, sizeof(path), "%s/repo/index/.tmp-0123456789abcdef",
	    dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("partial", f);
	fclose(f);
	assert_int_equal(gfsb_backend_list(be, GFSB_OBJ_INDEX, count, &c),
	    GFSB_OK);
	assert_int_equal(c.n, 1);
	leftovers(be, dir);
	gfsb_backend_close(be);
	/* Unknown schemes are refused. */
	assert_int_equal(gfsb_backend_open(ctx, "ftp://x/y", &be),
	    GFSB_EINVAL);
	gfsb_ctx_free(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static const char *ID3 =
    "3333333333333333333333333333333333333333333333333333333333333333";

/* Calls every backend answers the same way, whatever it stores on. */
static void
common_lock_calls(struct gfsb_backend *be)
{
	struct gfsb_retention bad = { (enum gfsb_lock_mode)7, 100 };
	struct gfsb_retention nodate = { GFSB_LOCK_COMPLIANCE, 0 };
	struct gfsb_retention r;

	assert_int_equal(gfsb_backend_put_locked(be, GFSB_OBJ_PACK, ID1,
	    (const uint8_t *)"x", 1, &bad), GFSB_EINVAL);
	assert_int_equal(gfsb_backend_put_locked(be, GFSB_OBJ_PACK, ID1,
	    (const uint8_t *)"x", 1, &nodate), GFSB_EINVAL);
	assert_int_equal(gfsb_backend_put_locked(be, GFSB_OBJ_PACK, "../x",
	    (const uint8_t *)"x", 1, NULL), GFSB_EINVAL);
	assert_int_equal(gfsb_backend_retention_set(be, GFSB_OBJ_PACK, ID1,
	    NULL), GFSB_EINVAL);
	assert_int_equal(gfsb_backend_retention_set(be, GFSB_OBJ_PACK, ID1,
	    &nodate), GFSB_EINVAL);
	assert_int_equal(gfsb_backend_retention_get(be, GFSB_OBJ_PACK, ID3,
	    &r), GFSB_ENOTFOUND);
}

static void
test_mem_lock(void **state)
{
	struct gfsb_retention c2000 = { GFSB_LOCK_COMPLIANCE, 2000 };
	struct gfsb_retention c1500 = { GFSB_LOCK_COMPLIANCE, 1500 };
	struct gfsb_retention c3000 = { GFSB_LOCK_COMPLIANCE, 3000 };
	struct gfsb_retention g3000 = { GFSB_LOCK_GOVERNANCE, 3000 };
	struct gfsb_retention g2000 = { GFSB_LOCK_GOVERNANCE, 2000 };
	struct gfsb_retention none = { GFSB_LOCK_NONE, 0 };
	struct gfsb_retention r;
	struct gfsb_objlist l;
	struct gfsb_ctx *ctx;
	struct gfsb_backend *be;
	int v;

	(void)state;
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_int_equal(gfsb_backend_mem_new(ctx, &be), GFSB_OK);
	common_lock_calls(be);
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_backend_lock_enabled(be, &v), GFSB_OK);
	assert_int_equal(v, 0);
	gfsb_backend_mem_set_lock(be, 1);
	gfsb_backend_mem_set_time(be, 1000);
	assert_int_equal(gfsb_backend_lock_enabled(be, &v), GFSB_OK);
	assert_int_equal(v, 1);
	v = -1;
	assert_int_equal(gfsb_backend_versioning(be, &v), GFSB_OK);
	assert_int_equal(v, 0);

	/* Locked until 2000: removal refused until the clock passes it. */
	assert_int_equal(gfsb_backend_put_locked(be, GFSB_OBJ_PACK, ID1,
	    (const uint8_t *)"p1", 2, &c2000), GFSB_OK);
	assert_int_equal(gfsb_backend_retention_get(be, GFSB_OBJ_PACK, ID1,
	    &r), GFSB_OK);
	assert_int_equal(r.mode, GFSB_LOCK_COMPLIANCE);
	assert_true(r.until == 2000);
	assert_int_equal(gfsb_backend_remove(be, GFSB_OBJ_PACK, ID1),
	    GFSB_EDENIED);
	assert_non_null(strstr(gfsb_ctx_errmsg(ctx), "locked until "
	    "1970-01-01T00:33:20Z"));
	gfsb_ctx_clearerr(ctx);
	/* Shortening refused; so is weakening to GOVERNANCE; extending is
	 * fine. */
	assert_int_equal(gfsb_backend_retention_set(be, GFSB_OBJ_PACK, ID1,
	    &c1500), GFSB_EDENIED);
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_backend_retention_set(be, GFSB_OBJ_PACK, ID1,
	    &g3000), GFSB_EDENIED);
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_backend_retention_set(be, GFSB_OBJ_PACK, ID1,
	    &c3000), GFSB_OK);
	/* A plain put over it (same bytes, as for a hash-named object)
	 * keeps the lock: on S3 the locked version would survive. */
	assert_int_equal(gfsb_backend_put(be, GFSB_OBJ_PACK, ID1,
	    (const uint8_t *)"p1", 2), GFSB_OK);
	assert_int_equal(gfsb_backend_put_locked(be, GFSB_OBJ_PACK, ID1,
	    (const uint8_t *)"p1", 2, &c2000), GFSB_OK);
	assert_int_equal(gfsb_backend_retention_get(be, GFSB_OBJ_PACK, ID1,
	    &r), GFSB_OK);
	assert_true(r.mode == GFSB_LOCK_COMPLIANCE && r.until == 3000);
	gfsb_backend_mem_set_time(be, 2999);
	assert_int_equal(gfsb_backend_remove(be, GFSB_OBJ_PACK, ID1),
	    GFSB_EDENIED);
	gfsb_ctx_clearerr(ctx);
	gfsb_backend_mem_set_time(be, 3000);
	assert_int_equal(gfsb_backend_remove(be, GFSB_OBJ_PACK, ID1), GFSB_OK);

	/* GOVERNANCE: held the same (we never bypass). */
	gfsb_backend_mem_set_time(be, 1000);
	assert_int_equal(gfsb_backend_put_locked(be, GFSB_OBJ_INDEX, ID2,
	    (const uint8_t *)"i", 1, &g2000), GFSB_OK);
	assert_int_equal(gfsb_backend_remove(be, GFSB_OBJ_INDEX, ID2),
	    GFSB_EDENIED);
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_backend_retention_set(be, GFSB_OBJ_INDEX, ID2,
	    &c1500), GFSB_EDENIED);
	gfsb_ctx_clearerr(ctx);
	/* GOVERNANCE may become COMPLIANCE, as on S3. */
	assert_int_equal(gfsb_backend_retention_set(be, GFSB_OBJ_INDEX, ID2,
	    &c2000), GFSB_OK);
	/* After expiry, a retention may be set anew, shorter or not. */
	gfsb_backend_mem_set_time(be, 2500);
	assert_int_equal(gfsb_backend_retention_set(be, GFSB_OBJ_INDEX, ID2,
	    &g3000), GFSB_OK);
	assert_int_equal(gfsb_backend_remove(be, GFSB_OBJ_INDEX, ID2),
	    GFSB_EDENIED);
	gfsb_ctx_clearerr(ctx);

	/* The default retention of plain puts; mode NONE is a plain put. */
	gfsb_backend_set_put_retention(be, &c3000);
	assert_int_equal(gfsb_backend_put(be, GFSB_OBJ_SNAPSHOT, ID1,
	    (const uint8_t *)"s", 1), GFSB_OK);
	assert_int_equal(gfsb_backend_put_locked(be, GFSB_OBJ_SNAPSHOT, ID2,
	    (const uint8_t *)"s", 1, &none), GFSB_OK);
	gfsb_backend_set_put_retention(be, NULL);
	assert_int_equal(gfsb_backend_put(be, GFSB_OBJ_SNAPSHOT, ID3,
	    (const uint8_t *)"s", 1), GFSB_OK);
	assert_int_equal(gfsb_backend_retention_get(be, GFSB_OBJ_SNAPSHOT, ID1,
	    &r), GFSB_OK);
	assert_true(r.mode == GFSB_LOCK_COMPLIANCE && r.until == 3000);
	assert_int_equal(gfsb_backend_retention_get(be, GFSB_OBJ_SNAPSHOT, ID2,
	    &r), GFSB_OK);
	assert_true(r.mode == GFSB_LOCK_NONE && r.until == 0);
	assert_int_equal(gfsb_backend_retention_get(be, GFSB_OBJ_SNAPSHOT, ID3,
	    &r), GFSB_OK);
	assert_int_equal(r.mode, GFSB_LOCK_NONE);
	assert_int_equal(gfsb_backend_remove(be, GFSB_OBJ_SNAPSHOT, ID1),
	    GFSB_EDENIED);
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_backend_remove(be, GFSB_OBJ_SNAPSHOT, ID3),
	    GFSB_OK);

	/* mtime: the mem clock at each put. */
	assert_int_equal(gfsb_backend_list_all(be, GFSB_OBJ_SNAPSHOT, &l),
	    GFSB_OK);
	assert_int_equal(l.n, 2);
	assert_true(l.v[0].mtime == 2500 && l.v[1].mtime == 2500);
	gfsb_objlist_fini(&l);

	/* Without the lock switched on, retentions are kept, not enforced. */
	gfsb_backend_mem_set_lock(be, 0);
	assert_int_equal(gfsb_backend_remove(be, GFSB_OBJ_SNAPSHOT, ID1),
	    GFSB_OK);
	gfsb_backend_close(be);
	gfsb_ctx_free(ctx);
}

/* A directory has no locks and no history: what each call says. */
static void
test_local_lock(void **state)
{
	char dir[] = "/tmp/gfsb-test-XXXXXX", path[512], cmd[600];
	struct gfsb_retention c = { GFSB_LOCK_COMPLIANCE, 4102444800LL };
	struct gfsb_backend_opts o;
	struct gfsb_retention r;
	struct gfsb_objlist l;
	struct gfsb_ctx *ctx;
	struct gfsb_backend *be;
	time_t t0 = time(NULL);
	int v;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/repo", dir);
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_int_equal(gfsb_backend_open(ctx, path, &be), GFSB_OK);
	assert_int_equal(gfsb_backend_create(be), GFSB_OK);
	common_lock_calls(be);
	gfsb_ctx_clearerr(ctx);
	/* The retention is ignored: the object is stored, and removable. */
	assert_int_equal(gfsb_backend_put_locked(be, GFSB_OBJ_PACK, ID1,
	    (const uint8_t *)"p", 1, &c), GFSB_OK);
	assert_int_equal(gfsb_backend_retention_get(be, GFSB_OBJ_PACK, ID1,
	    &r), GFSB_OK);
	assert_int_equal(r.mode, GFSB_LOCK_NONE);
	assert_int_equal(gfsb_backend_retention_set(be, GFSB_OBJ_PACK, ID1,
	    &c), GFSB_EUNSUPPORTED);
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_backend_lock_enabled(be, &v), GFSB_OK);
	assert_int_equal(v, 0);
	v = -1;
	assert_int_equal(gfsb_backend_versioning(be, &v), GFSB_OK);
	assert_int_equal(v, 0);
	gfsb_backend_set_put_retention(be, &c);
	assert_int_equal(gfsb_backend_put(be, GFSB_OBJ_PACK, ID2,
	    (const uint8_t *)"q", 1), GFSB_OK);
	/* mtime: the file's. */
	assert_int_equal(gfsb_backend_list_all(be, GFSB_OBJ_PACK, &l), GFSB_OK);
	assert_int_equal(l.n, 2);
	assert_true(l.v[0].mtime >= (int64_t)t0 - 1 &&
	    l.v[0].mtime <= (int64_t)time(NULL) + 1);
	gfsb_objlist_fini(&l);
	assert_int_equal(gfsb_backend_remove(be, GFSB_OBJ_PACK, ID1), GFSB_OK);
	gfsb_backend_close(be);
	/* No past to look into. */
	memset(&o, 0, sizeof(o));
	o.as_of = 1000;
	assert_int_equal(gfsb_backend_open_opts(ctx, path, &o, &be),
	    GFSB_EINVAL);
	assert_non_null(strstr(gfsb_ctx_errmsg(ctx), "--as-of needs an S3 "
	    "repository on a versioned bucket"));
	gfsb_ctx_clearerr(ctx);
	o.as_of = -5;
	assert_int_equal(gfsb_backend_open_opts(ctx, "s3://bucket/x", &o, &be),
	    GFSB_EINVAL);
	gfsb_ctx_free(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* set_put_retention while puts run: each put takes one whole retention,
 * the old or the new, never half of each. */
struct racer {
	struct gfsb_backend *be;
	int base;
};

static void *
put_many(void *arg)
{
	struct racer *rc = arg;
	char name[65];
	int i;

	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "%064x", rc->base + i);
		if (gfsb_backend_put(rc->be, GFSB_OBJ_PACK, name,
		    (const uint8_t *)"x", 1) != GFSB_OK)
			return (void *)1;
	}
	return NULL;
}

static void
test_put_retention_threads(void **state)
{
	struct gfsb_retention a = { GFSB_LOCK_GOVERNANCE, 1111 };
	struct gfsb_retention b = { GFSB_LOCK_COMPLIANCE, 2222 };
	struct gfsb_retention r;
	struct gfsb_objlist l;
	struct racer rc[3];
	pthread_t t[3];
	struct gfsb_ctx *ctx;
	struct gfsb_backend *be;
	void *ret;
	size_t i;
	int k;

	(void)state;
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_int_equal(gfsb_backend_mem_new(ctx, &be), GFSB_OK);
	for (k = 0; k < 3; k++) {
		rc[k].be = be;
		rc[k].base = k * 1000;
		assert_int_equal(pthread_create(&t[k], NULL, put_many, &rc[k]),
		    0);
	}
	for (k = 0; k < 3000; k++)
		gfsb_backend_set_put_retention(be, k % 3 == 0 ? &a :
		    k % 3 == 1 ? &b : NULL);
	for (k = 0; k < 3; k++) {
		assert_int_equal(pthread_join(t[k], &ret), 0);
		assert_null(ret);
	}
	assert_int_equal(gfsb_backend_list_all(be, GFSB_OBJ_PACK, &l), GFSB_OK);
	assert_int_equal(l.n, 600);
	for (i = 0; i < l.n; i++) {
		assert_int_equal(gfsb_backend_retention_get(be, GFSB_OBJ_PACK,
		    l.v[i].name, &r), GFSB_OK);
		assert_true((r.mode == GFSB_LOCK_NONE && r.until == 0) ||
		    (r.mode == a.mode && r.until == a.until) ||
		    (r.mode == b.mode && r.until == b.until));
	}
	gfsb_objlist_fini(&l);
	gfsb_backend_close(be);
	gfsb_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_mem_lock),
		cmocka_unit_test(test_local_lock),
		cmocka_unit_test(test_put_retention_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
