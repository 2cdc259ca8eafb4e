/*
 * What a command decides before it does anything, in the library so
 * that each case is seen here: the repository it names (-r, else
 * GFSBACKUP_REPOSITORY), the exit status of each way opening one fails
 * (ops_open.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gfsbackup/ops.h>

static int
setup(void **state)
{
	struct gfsb_ctx *ctx;

	if (gfsb_ctx_new(&ctx) != GFSB_OK)
		return -1;
	*state = ctx;
	return 0;
}

static int
teardown(void **state)
{
	gfsb_ctx_free(*state);
	unsetenv("GFSBACKUP_REPOSITORY");
	return 0;
}

static void
test_repo_url(void **state)
{
	struct gfsb_ctx *ctx = *state;
	const char *url = "unset";

	/* -r wins over the environment. */
	setenv("GFSBACKUP_REPOSITORY", "/env/repo", 1);
	assert_int_equal(gfsb_ops_repo_url(ctx, "/given", &url), GFSB_OK);
	assert_string_equal(url, "/given");
	assert_int_equal(gfsb_ops_repo_url(ctx, NULL, &url), GFSB_OK);
	assert_string_equal(url, "/env/repo");
	/* An empty -r is not a reason to look at the environment. */
	url = "unset";
	assert_int_equal(gfsb_ops_repo_url(ctx, "", &url), GFSB_EINVAL);
	assert_string_equal(url, "unset");
	assert_string_equal(gfsb_ctx_errmsg(ctx), "no repository: give -r "
	    "REPO or set GFSBACKUP_REPOSITORY");
}

static void
test_repo_url_none(void **state)
{
	struct gfsb_ctx *ctx = *state;
	const char *url = "unset";

	/* The line is this decision's, whatever came before. */
	gfsb_ctx_seterr(ctx, GFSB_EIO, "an earlier failure");
	unsetenv("GFSBACKUP_REPOSITORY");
	assert_int_equal(gfsb_ops_repo_url(ctx, NULL, &url), GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(ctx), "no repository: give -r "
	    "REPO or set GFSBACKUP_REPOSITORY");
	setenv("GFSBACKUP_REPOSITORY", "", 1);
	assert_int_equal(gfsb_ops_repo_url(ctx, NULL, &url), GFSB_EINVAL);
	assert_string_equal(url, "unset");
}

static void
test_open_exit_backend(void **state)
{
	struct gfsb_ctx *ctx = *state;

	/* A malformed URL, or no past to read: nothing was done. */
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_EINVAL,
	    GFSB_OPEN_BACKEND), GFSB_EXIT_USAGE);
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_ENET,
	    GFSB_OPEN_BACKEND), GFSB_EXIT_FATAL);
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_EAUTH,
	    GFSB_OPEN_BACKEND), GFSB_EXIT_WRONGPASS);
	/* After the backend, the error's own status. */
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_ENOREPO,
	    GFSB_OPEN_PROBE), GFSB_EXIT_NOREPO);
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_EINVAL,
	    GFSB_OPEN_PROBE), GFSB_EXIT_FATAL);
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_EAUTH,
	    GFSB_OPEN_KEY), GFSB_EXIT_WRONGPASS);
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_ELOCKED,
	    GFSB_OPEN_KEY), GFSB_EXIT_LOCKED);
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_ECANCELED,
	    GFSB_OPEN_KEY), GFSB_EXIT_INTERRUPTED);
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_EIO,
	    GFSB_OPEN_CACHE), GFSB_EXIT_FATAL);
}

static void
test_open_exit_pass(void **state)
{
	struct gfsb_ctx *ctx = *state;

	/* No source: the line says what to do about it. */
	gfsb_ctx_seterr(ctx, GFSB_ENOTFOUND, "no passphrase source");
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_ENOTFOUND,
	    GFSB_OPEN_PASS), GFSB_EXIT_USAGE);
	assert_string_equal(gfsb_ctx_errmsg(ctx), "no passphrase: use "
	    "--password-file, GFSBACKUP_PASSWORD_FILE, --password-command "
	    "or a terminal");
	/* A file that cannot be used keeps its own line. */
	gfsb_ctx_clearerr(ctx);
	gfsb_ctx_seterr(ctx, GFSB_EINVAL, "password file F: readable by "
	    "others");
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_EINVAL,
	    GFSB_OPEN_PASS), GFSB_EXIT_USAGE);
	assert_string_equal(gfsb_ctx_errmsg(ctx), "password file F: "
	    "readable by others");
	/* Anything else reading it, even a cancel: 1. */
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_EIO, GFSB_OPEN_PASS),
	    GFSB_EXIT_FATAL);
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_ENOMEM,
	    GFSB_OPEN_PASS), GFSB_EXIT_FATAL);
	assert_int_equal(gfsb_ops_open_exit(ctx, GFSB_ECANCELED,
	    GFSB_OPEN_PASS), GFSB_EXIT_FATAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_repo_url, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_repo_url_none, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_exit_backend, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_exit_pass, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
