/* backend: the local directory backend and the in-memory one behave the
 * same; names are checked; puts are atomic and private. */
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
	gfsb_backend_close(be);
	/* Unknown schemes are refused. */
	assert_int_equal(gfsb_backend_open(ctx, "ftp://x/y", &be),
	    GFSB_EINVAL);
	gfsb_ctx_free(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem),
		cmocka_unit_test(test_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
