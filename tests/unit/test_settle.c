/*
 * What a command decides before it does anything, in the library so
 * that each case is seen here: the repository it names (-r, else
 * GFSBACKUP_REPOSITORY), the exit status of each way opening one fails
 * (ops_open.c), and of a configuration or policy that cannot be used;
 * gfsbackup run's settings, the configuration laid over
 * the global options, and each way making them fails with its exit
 * status (ops_run_settle.c).
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

#include <gfsbackup/ops.h>
#include <gfsbackup/pass.h>

#include "fixture.h"

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

static void
test_config_exit(void **state)
{
	(void)state;
	/* A file or policy that cannot be used: nothing was done. */
	assert_int_equal(gfsb_ops_config_exit(GFSB_EINVAL), GFSB_EXIT_USAGE);
	assert_int_equal(gfsb_ops_config_exit(GFSB_EIO), GFSB_EXIT_USAGE);
	assert_int_equal(gfsb_ops_config_exit(GFSB_ENOTFOUND),
	    GFSB_EXIT_USAGE);
	assert_int_equal(gfsb_ops_config_exit(GFSB_ENOMEM), GFSB_EXIT_FATAL);
}

/* A configuration in a fresh directory (conf_init), with a passphrase
 * file and extra lines for [repository] (conf_write). */
struct conf {
	char dir[64], path[128], pw[128], state[128];
};

static void
conf_init(struct conf *k)
{
	fx_tmpdir(k->dir, sizeof(k->dir), "settle");
	snprintf(k->path, sizeof(k->path), "%s/gfsbackup.conf", k->dir);
	snprintf(k->pw, sizeof(k->pw), "%s/pw", k->dir);
	snprintf(k->state, sizeof(k->state), "%s/state", k->dir);
}

static void
conf_write(struct conf *k, const char *repo_extra)
{
	FILE *f;

	assert_non_null(f = fopen(k->pw, "w"));
	fputs("pass\n", f);
	fclose(f);
	assert_int_equal(chmod(k->pw, 0600), 0);
	assert_non_null(f = fopen(k->path, "w"));
	fprintf(f, "[repository]\nurl = %s/repo\npassword-file = %s\n%s"
	    "[backup]\npaths = %s\n", k->dir, k->pw, repo_extra, k->dir);
	fclose(f);
	assert_int_equal(chmod(k->path, 0600), 0);
}

/* The global options of a command line that gave none but these. */
static void
globals(struct gfsb_open_opts *g, struct gfsb_pass_source *src,
    struct gfsb_backend_opts *remote)
{
	memset(g, 0, sizeof(*g));
	memset(src, 0, sizeof(*src));
	memset(remote, 0, sizeof(*remote));
	src->file = "/cli/pw";
	src->command = "echo cli";
	src->use_env = 1;
	src->prompt = "repository passphrase: ";
	g->pass = src;
	g->remote = remote;
}

/* Settling fails with e, said as line, exit status ex, usage or not. */
static void
refused(struct gfsb_ctx *ctx, const char *config,
    const struct gfsb_open_opts *g, gfsb_err e, const char *line, int ex,
    int usage)
{
	struct gfsb_run_settings s;

	assert_int_equal(gfsb_ops_run_settle(ctx, config, g, &s), e);
	if (strstr(gfsb_ctx_errmsg(ctx), line) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", gfsb_ctx_errmsg(ctx), line);
	assert_int_equal(s.exit, ex);
	assert_int_equal(s.usage, usage);
	assert_int_equal(s.lockfd, -1);
	gfsb_ops_run_settings_fini(&s);
	gfsb_ctx_clearerr(ctx);
}

static void
test_run_settle_usage(void **state)
{
	struct gfsb_ctx *ctx = *state;
	struct gfsb_backend_opts remote;
	struct gfsb_pass_source src;
	struct gfsb_open_opts g;
	struct conf k;

	globals(&g, &src, &remote);
	conf_init(&k);
	conf_write(&k, "");
	refused(ctx, NULL, &g, GFSB_EINVAL, "no configuration: give --config "
	    "FILE", GFSB_EXIT_USAGE, 1);
	refused(ctx, "", &g, GFSB_EINVAL, "--config: no file given",
	    GFSB_EXIT_USAGE, 1);
	/* The repository is the configuration's: -r is refused first. */
	g.url = "/given";
	refused(ctx, "", &g, GFSB_EINVAL, "-r conflicts with --config: the "
	    "repository is the configuration's", GFSB_EXIT_USAGE, 1);
	g.url = NULL;
	/* A file that cannot be used is no usage error, yet exit 2. */
	refused(ctx, "/nonexistent/gfsbackup.conf", &g, GFSB_EINVAL,
	    "/nonexistent/gfsbackup.conf", GFSB_EXIT_USAGE, 0);
	/* No state directory anywhere. */
	unsetenv("GFSBACKUP_STATE_DIR");
	unsetenv("STATE_DIRECTORY");
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	refused(ctx, k.path, &g, GFSB_EINVAL, "no state directory: set HOME "
	    "or GFSBACKUP_STATE_DIR, or give one (--state-dir)",
	    GFSB_EXIT_USAGE, 1);
	fx_rm_rf(k.dir);
}

static void
test_run_settle_lay_over(void **state)
{
	struct gfsb_ctx *ctx = *state;
	struct gfsb_backend_opts remote;
	struct gfsb_pass_source src;
	struct gfsb_run_settings s;
	struct gfsb_open_opts g;
	struct conf k;
	char extra[512];

	globals(&g, &src, &remote);
	conf_init(&k);
	snprintf(extra, sizeof(extra), "state-dir = %s/state\n"
	    "cache-dir = %s/cache\nretry-lock = 10m\n", k.dir, k.dir);
	conf_write(&k, extra);
	g.cache_dir = "/cli/cache";
	g.no_cache = 1;
	remote.connections = 8;
	assert_int_equal(gfsb_ops_run_settle(ctx, k.path, &g, &s), GFSB_OK);
	/* The file's passphrase file, cache and lock wait win ... */
	assert_string_equal(s.pass.file, k.pw);
	assert_string_equal(s.open.cache_dir, s.cfg.cache_dir);
	assert_true(s.open.retry_lock == 600);
	/* ... the rest is the command line's. */
	assert_string_equal(s.pass.command, "echo cli");
	assert_string_equal(s.pass.prompt, "repository passphrase: ");
	assert_ptr_equal(s.open.pass, &s.pass);
	assert_ptr_equal(s.open.remote, &remote);
	assert_null(s.open.url);
	assert_string_equal(s.state_base, k.state);
	assert_true(s.lockfd >= 0);
	assert_ptr_equal(s.run.cfg, &s.cfg);
	assert_ptr_equal(s.run.ctx, ctx);
	assert_ptr_equal(s.run.open, &s.open);
	assert_ptr_equal(s.run.state_base, s.state_base);
	assert_ptr_equal(s.run.cache_dir, s.open.cache_dir);
	assert_int_equal(s.run.no_cache, 1);
	assert_int_equal(s.run.connections, 8);
	/* A second run of the same configuration waits for none. */
	refused(ctx, k.path, &g, GFSB_ELOCKED, "another run of",
	    GFSB_EXIT_LOCKED, 0);
	gfsb_ops_run_settings_fini(&s);
	assert_int_equal(s.lockfd, -1);
	fx_rm_rf(k.dir);
}

static void
test_run_settle_command_line(void **state)
{
	struct gfsb_ctx *ctx = *state;
	struct gfsb_backend_opts remote;
	struct gfsb_pass_source src;
	struct gfsb_run_settings s;
	struct gfsb_open_opts g;
	struct conf k;
	char extra[512];

	globals(&g, &src, &remote);
	conf_init(&k);
	snprintf(extra, sizeof(extra), "state-dir = %s/state\n"
	    "retry-lock = 10m\n", k.dir);
	conf_write(&k, extra);
	/* No cache in the file: the command line's; --retry-lock wins. */
	g.cache_dir = "/cli/cache";
	g.retry_lock = 30;
	assert_int_equal(gfsb_ops_run_settle(ctx, k.path, &g, &s), GFSB_OK);
	assert_string_equal(s.open.cache_dir, "/cli/cache");
	assert_string_equal(s.run.cache_dir, "/cli/cache");
	assert_true(s.open.retry_lock == 30);
	assert_int_equal(s.run.connections, 0);
	gfsb_ops_run_settings_fini(&s);
	fx_rm_rf(k.dir);
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
		cmocka_unit_test(test_config_exit),
		cmocka_unit_test_setup_teardown(test_run_settle_usage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_run_settle_lay_over,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_settle_command_line,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
