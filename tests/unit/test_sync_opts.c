/*
 * gfsbackup sync's settings (ops_sync_opts.c): what its command line
 * leaves to the library, decided the same every time: the delete mode
 * under --as-of, how many copies at once, the mirror's cache, a locked
 * mirror's dates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <gfsbackup/ops.h>

static void
test_nothing_given(void **state)
{
	struct gfsb_sync_args a;
	struct gfsb_sync_opts so;
	struct gfsb_lock_opts lo;
	struct gfsb_time before;

	(void)state;
	gfsb_ops_sync_opts_init(&a, &so, &lo);
	assert_int_equal(a.delete_mode, -1);
	assert_int_equal(lo.margin, GFSB_LOCK_MARGIN_DEFAULT);
	gfsb_time_now(&before);
	gfsb_ops_sync_settle(&a, &so, &lo);
	/* The engine's own: deletions mirrored once no lock holds them. */
	assert_int_equal(so.delete_mode, GFSB_SYNC_DELETE_AFTER_LOCK);
	assert_int_equal(so.threads, 4);
	/* "" is the default cache; NULL would be none. */
	assert_non_null(so.mirror_cache);
	assert_string_equal(so.mirror_cache, "");
	assert_ptr_equal(so.locks, &lo);
	assert_null(lo.policy);
	assert_null(lo.ledger);
	assert_true(lo.now.sec >= before.sec);
	assert_true(lo.now.sec <= before.sec + 5);
}

static void
test_as_of_keeps(void **state)
{
	struct gfsb_sync_args a;
	struct gfsb_sync_opts so;
	struct gfsb_lock_opts lo;

	(void)state;
	/* A look at the past deletes nothing at the mirror ... */
	gfsb_ops_sync_opts_init(&a, &so, &lo);
	a.as_of = 1700000000;
	gfsb_ops_sync_settle(&a, &so, &lo);
	assert_int_equal(so.delete_mode, GFSB_SYNC_DELETE_NEVER);
	/* ... unless asked to. */
	gfsb_ops_sync_opts_init(&a, &so, &lo);
	a.as_of = 1700000000;
	a.delete_mode = GFSB_SYNC_DELETE_AFTER_LOCK;
	gfsb_ops_sync_settle(&a, &so, &lo);
	assert_int_equal(so.delete_mode, GFSB_SYNC_DELETE_AFTER_LOCK);
	/* --no-delete without --as-of. */
	gfsb_ops_sync_opts_init(&a, &so, &lo);
	a.delete_mode = GFSB_SYNC_DELETE_NEVER;
	gfsb_ops_sync_settle(&a, &so, &lo);
	assert_int_equal(so.delete_mode, GFSB_SYNC_DELETE_NEVER);
}

static void
test_threads_cache_locks(void **state)
{
	struct gfsb_sync_args a;
	struct gfsb_sync_opts so;
	struct gfsb_lock_opts lo;
	struct gfsb_policy *p;

	(void)state;
	assert_int_equal(gfsb_gfs_policy_new(&p), GFSB_OK);
	/* --connections sets the copies at once ... */
	gfsb_ops_sync_opts_init(&a, &so, &lo);
	a.connections = 12;
	a.cache_dir = "/var/cache/gfsb";
	a.policy = p;
	a.ledger = "/state/locks.bin";
	lo.margin = 3600;
	gfsb_ops_sync_settle(&a, &so, &lo);
	assert_int_equal(so.threads, 12);
	assert_string_equal(so.mirror_cache, "/var/cache/gfsb");
	assert_ptr_equal(lo.policy, p);
	assert_string_equal(lo.ledger, "/state/locks.bin");
	/* The margin given stays. */
	assert_int_equal(lo.margin, 3600);
	/* ... unless --threads did; --no-cache wins over --cache-dir. */
	gfsb_ops_sync_opts_init(&a, &so, &lo);
	a.connections = 12;
	a.cache_dir = "/var/cache/gfsb";
	a.no_cache = 1;
	so.threads = 3;
	gfsb_ops_sync_settle(&a, &so, &lo);
	assert_int_equal(so.threads, 3);
	assert_null(so.mirror_cache);
	gfsb_gfs_policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_given),
		cmocka_unit_test(test_as_of_keeps),
		cmocka_unit_test(test_threads_cache_locks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
