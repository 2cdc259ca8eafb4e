/* config: the daily job's configuration file as the library reads it
 * (gfsb_config_load): defaults, every section, quoted list items, and
 * each kind of mistake refused with the file, line and key named and
 * nothing kept. */
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

static char dir[64], conf[128], secret[128], policy[128];
static struct gfsb_ctx *ctx;

static int
setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gfsb-test-config-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(conf, sizeof(conf), "%s/gfsbackup.conf", dir);
	snprintf(secret, sizeof(secret), "%s/pw", dir);
	snprintf(policy, sizeof(policy), "%s/gfs.policy", dir);
	if ((f = fopen(secret, "w")) == NULL)
		return -1;
	fputs("passphrase\n", f);
	fclose(f);
	chmod(secret, 0600);
	if ((f = fopen(policy, "w")) == NULL)
		return -1;
	fputs("keep-daily = 7\nkeep-weekly = 4\n", f);
	fclose(f);
	return gfsb_ctx_new(&ctx) == GFSB_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(conf);
	unlink(secret);
	unlink(policy);
	rmdir(dir);
	gfsb_ctx_free(ctx);
	return 0;
}

/* Write the configuration (printf-style; "%1$s" is the secret file),
 * mode 0600. */
static void
write_conf(const char *fmt, ...)
{
	va_list ap;
	FILE *f;

	unlink(conf);
	assert_non_null(f = fopen(conf, "w"));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	assert_int_equal(chmod(conf, 0600), 0);
}

/* The load fails with e and a message holding what; cfg is left empty. */
static void
refused(gfsb_err e, const char *what)
{
	struct gfsb_config cfg, zero;

	memset(&zero, 0, sizeof(zero));
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_config_load(ctx, conf, &cfg), e);
	if (strstr(gfsb_ctx_errmsg(ctx), what) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", gfsb_ctx_errmsg(ctx),
		    what);
	assert_memory_equal(&cfg, &zero, sizeof(cfg));
}

static void
test_minimal_defaults(void **state)
{
	struct gfsb_config cfg;

	(void)state;
	write_conf("[repository]\nurl = /srv/repo\npassword-file = %s\n"
	    "[backup]\npaths = /srv/data\n", secret);
	assert_int_equal(gfsb_config_load(ctx, conf, &cfg), GFSB_OK);
	assert_string_equal(cfg.path, conf);
	assert_string_equal(cfg.repo_url, "/srv/repo");
	assert_string_equal(cfg.password_file, secret);
	assert_int_equal(cfg.npaths, 1);
	assert_string_equal(cfg.paths[0], "/srv/data");
	/* No retention: nothing to prune; the documented defaults. */
	assert_null(cfg.policy);
	assert_int_equal(cfg.prune, GFSB_PRUNE_NEVER);
	assert_int_equal(cfg.read, GFSB_VERIFY_READ_ROTATE);
	assert_int_equal(cfg.slices, 7);
	assert_int_equal(cfg.drill, 0);
	assert_int_equal(cfg.drill_every, 7);
	assert_int_equal(cfg.report_keep_days, GFSB_CONFIG_KEEP_DAYS);
	assert_true(cfg.lock_margin == GFSB_LOCK_MARGIN_DEFAULT);
	assert_null(cfg.offsite_url);
	assert_null(cfg.smtp_url);
	gfsb_config_fini(&cfg);
}

static void
test_every_section(void **state)
{
	struct gfsb_config cfg;

	(void)state;
	write_conf("; every section\n"
	    "[repository]\nurl = /srv/repo\npassword-file = %1$s\n"
	    "cache-dir = /var/cache/g\nstate-dir = /var/lib/g\n"
	    "retry-lock = 10m\n"
	    "[offsite]\nurl = s3://bucket/host1\n"
	    "endpoint = https://s3.example.net\nregion = eu-west-1\n"
	    "credentials-file = %1$s\nobject-lock = compliance\n"
	    "delete = after-lock\nlock-margin = 36h\n"
	    "[backup]\npaths = /etc /srv/data\nexclude = *.tmp /srv/data/cache\n"
	    "one-file-system = yes\nhost = web1\ntags = nightly,db\n"
	    "[retention]\npolicy = %2$s\nprune = daily\n"
	    "[verify]\nread-data-subset = 10%%\ndrill = 256MiB\n"
	    "drill-every = 3\ndrill-scratch = /var/tmp/drill\n"
	    "[report]\nsmtp-url = smtp://127.0.0.1:2525\n"
	    "from = backup@example.net\nto = a@example.net, b@example.net\n"
	    "send = failure\ndir = /var/lib/g/reports\nkeep-days = 30\n"
	    "recovery-time-objective = 4h\n", secret, policy);
	assert_int_equal(gfsb_config_load(ctx, conf, &cfg), GFSB_OK);
	assert_true(cfg.retry_lock == 600);
	assert_string_equal(cfg.offsite_url, "s3://bucket/host1");
	assert_int_equal(cfg.offsite_lock, GFSB_LOCK_COMPLIANCE);
	assert_int_equal(cfg.offsite_delete, GFSB_SYNC_DELETE_AFTER_LOCK);
	assert_true(cfg.lock_margin == 36 * 3600);
	assert_int_equal(cfg.npaths, 2);
	assert_string_equal(cfg.paths[1], "/srv/data");
	assert_int_equal(cfg.nexcludes, 2);
	assert_int_equal(cfg.one_file_system, 1);
	assert_int_equal(cfg.ntags, 2);
	assert_string_equal(cfg.tags[1], "db");
	assert_non_null(cfg.policy);
	assert_int_equal(cfg.prune, GFSB_PRUNE_DAILY);
	assert_int_equal(cfg.read, GFSB_VERIFY_READ_PERCENT);
	assert_true(cfg.drill == 256ULL << 20);
	assert_int_equal(cfg.drill_every, 3);
	assert_int_equal(cfg.nmail_to, 2);
	assert_string_equal(cfg.mail_to[1], "b@example.net");
	assert_int_equal(cfg.send_failures_only, 1);
	assert_int_equal(cfg.report_keep_days, 30);
	assert_true(cfg.rto == 4 * 3600);
	gfsb_config_fini(&cfg);
}

static void
test_quoted_paths(void **state)
{
	struct gfsb_config cfg;

	(void)state;
	write_conf("[repository]\nurl = /srv/repo\npassword-file = %s\n"
	    "[backup]\npaths = \"/srv/my data\" /srv/plain "
	    "\"/srv/say \\\"hi\\\"\" \"/srv/back\\\\slash\"\t\"/srv/tab\"\n"
	    "exclude = \"*.old copy\" *.tmp\n", secret);
	assert_int_equal(gfsb_config_load(ctx, conf, &cfg), GFSB_OK);
	assert_int_equal(cfg.npaths, 5);
	assert_string_equal(cfg.paths[0], "/srv/my data");
	assert_string_equal(cfg.paths[1], "/srv/plain");
	assert_string_equal(cfg.paths[2], "/srv/say \"hi\"");
	assert_string_equal(cfg.paths[3], "/srv/back\\slash");
	assert_string_equal(cfg.paths[4], "/srv/tab");
	assert_int_equal(cfg.nexcludes, 2);
	assert_string_equal(cfg.excludes[0], "*.old copy");
	gfsb_config_fini(&cfg);
}

/* The backup's other exclusions; a size that is not one is refused. */
static void
test_exclusions(void **state)
{
	struct gfsb_config cfg;

	(void)state;
	write_conf("[repository]\nurl = /srv/repo\npassword-file = %s\n"
	    "[backup]\npaths = /srv\nexclude-caches = yes\n"
	    "exclude-if-present = .nobackup \"KEEP OUT:no\"\n"
	    "exclude-larger-than = 2GiB\n", secret);
	assert_int_equal(gfsb_config_load(ctx, conf, &cfg), GFSB_OK);
	assert_int_equal(cfg.exclude_caches, 1);
	assert_int_equal(cfg.nexclude_if_present, 2);
	assert_string_equal(cfg.exclude_if_present[1], "KEEP OUT:no");
	assert_int_equal(cfg.exclude_larger_than, 2ULL << 30);
	gfsb_config_fini(&cfg);
	write_conf("[repository]\nurl = /srv/repo\npassword-file = %s\n"
	    "[backup]\npaths = /srv\nexclude-larger-than = big\n", secret);
	refused(GFSB_EINVAL, "[backup] exclude-larger-than: give a size");
}

static void
test_mistakes(void **state)
{
	char path[200];

	(void)state;
	write_conf("[repository]\nurl = /srv/repo\npassword-file = %s\n"
	    "[backup]\npaths = \"/srv/open\n", secret);
	snprintf(path, sizeof(path), "%s:5: [backup] paths: a quote is not "
	    "closed", conf);
	refused(GFSB_EINVAL, path);
	write_conf("[repository]\nurl = /srv/repo\npassword-file = %s\n"
	    "[backup]\npaths = \"/srv/a\"b\n", secret);
	refused(GFSB_EINVAL, "text right after a closing quote");
	write_conf("[repository]\nurl = /srv/repo\npassword-file = %s\n"
	    "[backup]\npaths = /srv/a \"\"\n", secret);
	refused(GFSB_EINVAL, "[backup] paths: an empty item");
	write_conf("[repository]\nurl = /srv/repo\npassword-file = %s\n"
	    "[backup]\npaths = \"srv/relative\"\n", secret);
	refused(GFSB_EINVAL, "\"srv/relative\" is not an absolute path");
	write_conf("[repository]\nurl = /srv/repo\npassword-file = %s\n"
	    "[backup]\npaths = /srv\ncolour = blue\n", secret);
	snprintf(path, sizeof(path), "%s:6: [backup] colour: unknown key",
	    conf);
	refused(GFSB_EINVAL, path);
	write_conf("[repository]\nurl = /a\nretry-lock = soon\n");
	refused(GFSB_EINVAL, ":3: [repository] retry-lock: \"soon\" is not a "
	    "duration");
	write_conf("[repository]\nurl = /a\nurl = /b\n");
	refused(GFSB_EINVAL, ":3: [repository] url: given twice");
	write_conf("[backup]\npaths = /srv\n");
	refused(GFSB_EINVAL, ": [repository] url: missing");
	write_conf("[repository]\nurl = /srv/repo\npassword-file = %s\n"
	    "[backup]\npaths = /srv\n[retention]\nprune = daily\n", secret);
	refused(GFSB_EINVAL, "[retention] prune: needs a policy");
	write_conf("[repository\nurl = /srv/repo\n");
	refused(GFSB_EINVAL, ":1: expected \"key = value\" or \"[section]\"");
	/* A secret that others can read, and the file itself. */
	chmod(secret, 0644);
	write_conf("[repository]\nurl = /srv/repo\npassword-file = %s\n",
	    secret);
	refused(GFSB_EINVAL, "accessible to other users (mode 0644)");
	chmod(secret, 0600);
	write_conf("[repository]\nurl = /srv/repo\npassword-file = %s\n"
	    "[backup]\npaths = /srv\n", secret);
	chmod(conf, 0640);
	refused(GFSB_EINVAL, "configuration refused");
	unlink(conf);
	refused(GFSB_EINVAL, "cannot read the configuration");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_every_section),
		cmocka_unit_test(test_quoted_paths),
		cmocka_unit_test(test_exclusions),
		cmocka_unit_test(test_mistakes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
