/*
 * verify on an in-memory repository finds each kind of damage, names the
 * object and what it breaks, and finds nothing on a whole repository or
 * once the damage is undone: a byte flipped in a pack (read with the
 * data), a pack gone, an index file, a snapshot and a key file changed.
 */
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
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "fixture.h"

#define PASS "verify damage"

struct fixture {
	char src[64];
	struct fx_repo x;
	struct gfsb_verify_result res;
};

/* Ten files of 200 KiB (several packs of 1 MiB), backed up twice. */
static int
setup(void **state)
{
	const char *paths[1];
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result br;
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128];
	unsigned i;

	assert_non_null(f);
	fx_tmpdir(f->src, sizeof(f->src), "vd");
	for (i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "%s/file%u", f->src, i);
		fx_write(path, 200 << 10, i);
	}
	fx_repo_new(&f->x, PASS, 1 << 20);
	memset(&bo, 0, sizeof(bo));
	paths[0] = f->src;
	bo.paths = paths;
	bo.npaths = 1;
	bo.threads = 1;
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &br), GFSB_OK);
	snprintf(path, sizeof(path), "%s/file0", f->src);
	fx_write(path, 200 << 10, 77);
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &br), GFSB_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	gfsb_ops_verify_result_fini(&f->res);
	fx_repo_free(&f->x);
	fx_rm_rf(f->src);
	free(f);
	return 0;
}

/* The repository opened again, as a new process opens it: nothing of it
 * in memory (verify reads the index itself).  Done before the damage, so
 * that a damaged key file is still found by a repository open. */
static void
fresh(struct fixture *f)
{
	gfsb_repo_close(f->x.r);
	f->x.r = NULL;
	assert_int_equal(gfsb_repo_open(f->x.ctx, f->x.be, PASS, strlen(PASS),
	    &f->x.r), GFSB_OK);
}

/* verify reading every pack; the damage found, in f->res. */
static size_t
verify(struct fixture *f)
{
	struct gfsb_verify_opts vo;

	gfsb_ops_verify_result_fini(&f->res);
	memset(&vo, 0, sizeof(vo));
	vo.read = GFSB_VERIFY_READ_ALL;
	vo.max_files = 100;
	gfsb_time_now(&vo.now);
	gfsb_ctx_clearerr(f->x.ctx);
	if (gfsb_ops_verify(f->x.r, &vo, &f->res) != GFSB_OK)
		fail_msg("verify: %s", gfsb_ctx_errmsg(f->x.ctx));
	return f->res.ndamage;
}

/* The damage found names kind and the object (a prefix of its name). */
static void
found(struct fixture *f, const char *kind, const char *name)
{
	size_t i;

	for (i = 0; i < f->res.ndamage; i++)
		if (strcmp(f->res.damage[i].kind, kind) == 0 &&
		    strncmp(f->res.damage[i].id, name, 16) == 0)
			return;
	fail_msg("no damage of %s %.16s among %zu found", kind, name,
	    f->res.ndamage);
}

/* The name of the largest object of type (for packs, one of data: tree
 * packs are small), and its bytes. */
static void
first(struct fixture *f, enum gfsb_obj type, char name[GFSB_ID_HEX],
    struct gfsb_buf *b)
{
	struct gfsb_objlist l;
	size_t i, k = 0;

	assert_int_equal(gfsb_backend_list_all(f->x.be, type, &l), GFSB_OK);
	assert_true(l.n > 0);
	for (i = 1; i < l.n; i++)
		if (l.v[i].size > l.v[k].size)
			k = i;
	snprintf(name, GFSB_ID_HEX, "%s", l.v[k].name);
	gfsb_objlist_fini(&l);
	gfsb_buf_init(b);
	assert_int_equal(gfsb_backend_get(f->x.be, type, name, b), GFSB_OK);
}

/* Flip one byte of the object at off, verify, put it back. */
static void
flipped(struct fixture *f, enum gfsb_obj type, size_t off, const char *kind)
{
	char name[GFSB_ID_HEX];
	struct gfsb_buf b;

	fresh(f);
	first(f, type, name, &b);
	b.data[off % b.len] ^= 0x20;
	assert_int_equal(gfsb_backend_put(f->x.be, type, name, b.data, b.len),
	    GFSB_OK);
	if (verify(f) < 1)
		fail_msg("%s %.16s changed at byte %zu: no damage found", kind,
		    name, off % b.len);
	found(f, kind, name);
	b.data[off % b.len] ^= 0x20;
	assert_int_equal(gfsb_backend_put(f->x.be, type, name, b.data, b.len),
	    GFSB_OK);
	gfsb_buf_fini(&b);
	fresh(f);
	assert_int_equal(verify(f), 0);
}

static void
test_whole(void **state)
{
	struct fixture *f = *state;

	fresh(f);
	assert_int_equal(verify(f), 0);
	assert_int_equal(f->res.snapshots, 2);
	assert_true(f->res.packs >= 2);
	assert_int_equal(f->res.packs_read, f->res.packs);
	assert_int_equal(f->res.nbroken, 0);
}

static void
test_pack_byte(void **state)
{
	struct fixture *f = *state;
	char name[GFSB_ID_HEX];
	struct gfsb_buf b;
	size_t i;

	first(f, GFSB_OBJ_PACK, name, &b);
	gfsb_buf_fini(&b);
	flipped(f, GFSB_OBJ_PACK, 1000, "pack");
	/* Again, to see what it broke: files of the snapshots. */
	fresh(f);
	first(f, GFSB_OBJ_PACK, name, &b);
	b.data[1000] ^= 1;
	assert_int_equal(gfsb_backend_put(f->x.be, GFSB_OBJ_PACK, name, b.data,
	    b.len), GFSB_OK);
	assert_true(verify(f) >= 1);
	assert_true(f->res.nbroken >= 1);
	for (i = 0; i < f->res.nbroken; i++)
		assert_non_null(strstr(f->res.broken[i].path, f->src));
	gfsb_buf_fini(&b);
}

static void
test_pack_gone(void **state)
{
	struct fixture *f = *state;
	char name[GFSB_ID_HEX];
	struct gfsb_buf b;

	fresh(f);
	first(f, GFSB_OBJ_PACK, name, &b);
	assert_int_equal(gfsb_backend_remove(f->x.be, GFSB_OBJ_PACK, name),
	    GFSB_OK);
	assert_true(verify(f) >= 1);
	found(f, "pack", name);
	assert_true(f->res.nbroken >= 1);
	assert_int_equal(gfsb_backend_put(f->x.be, GFSB_OBJ_PACK, name, b.data,
	    b.len), GFSB_OK);
	gfsb_buf_fini(&b);
	fresh(f);
	assert_int_equal(verify(f), 0);
}

static void
test_index_snapshot_key(void **state)
{
	struct fixture *f = *state;

	flipped(f, GFSB_OBJ_INDEX, 40, "index");
	flipped(f, GFSB_OBJ_SNAPSHOT, 30, "snapshot");
	flipped(f, GFSB_OBJ_KEY, 10, "key");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_byte, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pack_gone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_index_snapshot_key, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
