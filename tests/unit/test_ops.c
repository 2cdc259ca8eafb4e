/* ops: exclude/include pattern semantics and path cleaning. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <gfsbackup/ops.h>

#include "ops/ops_internal.h"

static struct gfsb_patterns *
compile(const char *a, const char *b)
{
	const char *v[2] = { a, b };
	struct gfsb_patterns *p;

	assert_int_equal(gfsb_ops_patterns_new(v, b ? 2 : 1, &p), GFSB_OK);
	return p;
}

static void
test_unanchored(void **state)
{
	struct gfsb_patterns *p = compile("*.tmp", "cache");

	(void)state;
	assert_true(gfsb_ops_patterns_match(p, "/a.tmp"));
	assert_true(gfsb_ops_patterns_match(p, "/home/u/x/b.tmp"));
	assert_true(gfsb_ops_patterns_match(p, "/home/u/cache"));
	assert_false(gfsb_ops_patterns_match(p, "/home/u/cache2"));
	assert_false(gfsb_ops_patterns_match(p, "/home/u/a.tmp.gz"));
	assert_false(gfsb_ops_patterns_match(p, "/home/u/tmp"));
	gfsb_ops_patterns_free(p);
}

static void
test_anchored_and_globstar(void **state)
{
	struct gfsb_patterns *p = compile("/var/cache", "/home/*/.cache");
	struct gfsb_patterns *q = compile("/srv/**/logs/*.log", NULL);

	(void)state;
	assert_true(gfsb_ops_patterns_match(p, "/var/cache"));
	assert_false(gfsb_ops_patterns_match(p, "/x/var/cache"));
	assert_false(gfsb_ops_patterns_match(p, "/var/cache2"));
	assert_true(gfsb_ops_patterns_match(p, "/home/alice/.cache"));
	assert_false(gfsb_ops_patterns_match(p, "/home/alice/x/.cache"));
	assert_true(gfsb_ops_patterns_match(q, "/srv/logs/a.log"));
	assert_true(gfsb_ops_patterns_match(q, "/srv/a/b/c/logs/a.log"));
	assert_false(gfsb_ops_patterns_match(q, "/srv/a/logs/sub/a.log"));
	/* Directories on the way to a possible match. */
	assert_true(gfsb_ops_patterns_may_match_below(p, "/home"));
	assert_true(gfsb_ops_patterns_may_match_below(p, "/home/bob"));
	assert_false(gfsb_ops_patterns_may_match_below(p, "/etc"));
	assert_true(gfsb_ops_patterns_may_match_below(q, "/srv/deep/er"));
	gfsb_ops_patterns_free(p);
	gfsb_ops_patterns_free(q);
}

static void
test_bad_patterns(void **state)
{
	const char *empty[1] = { "" }, *slash[1] = { "///" };
	struct gfsb_patterns *p;

	(void)state;
	assert_int_equal(gfsb_ops_patterns_new(empty, 1, &p), GFSB_EINVAL);
	assert_int_equal(gfsb_ops_patterns_new(slash, 1, &p), GFSB_EINVAL);
	assert_int_equal(gfsb_ops_patterns_new(NULL, 0, &p), GFSB_OK);
	assert_false(gfsb_ops_patterns_match(p, "/anything"));
	gfsb_ops_patterns_free(p);
	/* Trailing slashes do not matter. */
	p = compile("/var/tmp/", NULL);
	assert_true(gfsb_ops_patterns_match(p, "/var/tmp"));
	gfsb_ops_patterns_free(p);
}

static void
test_pattern_file(void **state)
{
	char path[] = "/tmp/gfsb-excl-XXXXXX", **v;
	struct gfsb_ctx *ctx;
	size_t n, i;
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_true((fd = mkstemp(path)) >= 0);
	f = fdopen(fd, "w");
	fputs("# comment\n\n*.iso  \r\n/var/cache\n", f);
	fclose(f);
	assert_int_equal(gfsb_ops_patterns_read_file(ctx, path, &v, &n),
	    GFSB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "*.iso");
	assert_string_equal(v[1], "/var/cache");
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	unlink(path);
	assert_int_equal(gfsb_ops_patterns_read_file(ctx, path, &v, &n),
	    GFSB_ENOTFOUND);
	assert_non_null(strstr(gfsb_ctx_errmsg(ctx), path));
	gfsb_ctx_free(ctx);
}

static void
test_path_clean(void **state)
{
	char out[256], cwd[200];

	(void)state;
	assert_int_equal(gfsb_ops_path_clean("/a//b/./c/../d/", out,
	    sizeof(out)), GFSB_OK);
	assert_string_equal(out, "/a/b/d");
	assert_int_equal(gfsb_ops_path_clean("/../..", out, sizeof(out)),
	    GFSB_OK);
	assert_string_equal(out, "/");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(gfsb_ops_path_clean("x/y", out, sizeof(out)),
	    GFSB_OK);
	assert_int_equal(strncmp(out, cwd, strlen(cwd)), 0);
	assert_string_equal(out + strlen(out) - 4, "/x/y");
	assert_int_equal(gfsb_ops_path_clean("/abcdef", out, 4), GFSB_EINVAL);
}

/* The hard-link map: many entries, collisions, growth. */
static void
test_linkmap(void **state)
{
	struct linkmap m = { NULL, 0, 0 };
	uintptr_t i;

	(void)state;
	assert_null(ops_linkmap_find(&m, 1, 1));
	for (i = 1; i <= 20000; i++)
		assert_int_equal(ops_linkmap_add(&m, i % 3, i * 4096,
		    (void *)i), GFSB_OK);
	for (i = 1; i <= 20000; i++)
		assert_true(ops_linkmap_find(&m, i % 3, i * 4096) ==
		    (void *)i);
	assert_null(ops_linkmap_find(&m, 1, 3 * 4096));
	assert_null(ops_linkmap_find(&m, 7, 4096));
	ops_linkmap_fini(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unanchored),
		cmocka_unit_test(test_anchored_and_globstar),
		cmocka_unit_test(test_bad_patterns),
		cmocka_unit_test(test_pattern_file),
		cmocka_unit_test(test_path_clean),
		cmocka_unit_test(test_linkmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
